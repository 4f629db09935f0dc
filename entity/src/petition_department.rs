//! `petition_department`: a department an item was forwarded to, as lead (主办) or
//! assisting (协办) department.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::{DepartmentRole, ForwardStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "petition_department")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub petition_id: i64,
    pub department_id: i64,
    pub role: DepartmentRole,
    pub status: ForwardStatus,
    #[sea_orm(column_type = "Text")]
    pub report: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub return_reason: Option<String>,
    pub forwarded_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub reported_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::petition::Entity",
        from = "Column::PetitionId",
        to = "super::petition::Column::Id",
        on_delete = "Cascade"
    )]
    Petition,
    #[sea_orm(
        belongs_to = "super::department::Entity",
        from = "Column::DepartmentId",
        to = "super::department::Column::Id",
        on_delete = "Restrict"
    )]
    Department,
}

impl Related<super::petition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Petition.def()
    }
}

impl Related<super::department::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Department.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
