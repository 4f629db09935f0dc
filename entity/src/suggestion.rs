//! `suggestion`: a deputy's suggestion (意见建议) to government through a station.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::{Adoption, SuggestionStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "suggestion")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub deputy_id: i64,
    pub department_id: Option<i64>,
    pub station_id: Option<i64>,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    pub status: SuggestionStatus,
    /// Set exactly when `status` is `Answered`.
    pub adoption: Option<Adoption>,
    #[sea_orm(column_type = "Text")]
    pub answer: Option<String>,
    pub submitted_at: DateTimeUtc,
    pub answered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::deputy::Entity",
        from = "Column::DeputyId",
        to = "super::deputy::Column::Id",
        on_delete = "Cascade"
    )]
    Deputy,
    #[sea_orm(
        belongs_to = "super::department::Entity",
        from = "Column::DepartmentId",
        to = "super::department::Column::Id",
        on_delete = "SetNull"
    )]
    Department,
    #[sea_orm(
        belongs_to = "super::station::Entity",
        from = "Column::StationId",
        to = "super::station::Column::Id",
        on_delete = "SetNull"
    )]
    Station,
}

impl Related<super::deputy::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Deputy.def()
    }
}

impl Related<super::department::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Department.def()
    }
}

impl Related<super::station::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Station.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
