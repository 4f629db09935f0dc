//! `department`: a handling department (承办部门) at township or county level.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::DepartmentLevel;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "department")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    #[sea_orm(unique)]
    pub name: String,
    /// `Township` exactly when `township_id` is set.
    pub level: DepartmentLevel,
    pub township_id: Option<i64>,
    pub phone: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::township::Entity",
        from = "Column::TownshipId",
        to = "super::township::Column::Id",
        on_delete = "Restrict"
    )]
    Township,
    /// Handler roles scoped to this department.
    #[sea_orm(has_many = "super::account_role::Entity")]
    AccountRole,
    /// Items this department leads (`petition.lead_department_id`).
    #[sea_orm(has_many = "super::petition::Entity")]
    Petition,
    /// Every forwarding to this department, lead (主办) or assisting (协办).
    #[sea_orm(has_many = "super::petition_department::Entity")]
    PetitionDepartment,
    #[sea_orm(has_many = "super::petition_event::Entity")]
    PetitionEvent,
    #[sea_orm(has_many = "super::suggestion::Entity")]
    Suggestion,
}

impl Related<super::township::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Township.def()
    }
}

impl Related<super::account_role::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AccountRole.def()
    }
}

impl Related<super::petition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Petition.def()
    }
}

impl Related<super::petition_department::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PetitionDepartment.def()
    }
}

impl Related<super::petition_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PetitionEvent.def()
    }
}

impl Related<super::suggestion::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Suggestion.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
