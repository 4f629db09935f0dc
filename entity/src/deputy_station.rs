//! `deputy_station`: a deputy resident at a station (驻站代表).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "deputy_station")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub deputy_id: i64,
    pub station_id: i64,
    pub is_resident: bool,
    pub since: Date,
    /// On or after `since` when set.
    pub until: Option<Date>,
    pub created_at: DateTimeUtc,
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
        belongs_to = "super::station::Entity",
        from = "Column::StationId",
        to = "super::station::Column::Id",
        on_delete = "Cascade"
    )]
    Station,
}

impl Related<super::deputy::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Deputy.def()
    }
}

impl Related<super::station::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Station.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
