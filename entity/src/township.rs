//! `township`: the county's townships and its urban district (乡镇/城区).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::TownshipKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "township")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    #[sea_orm(unique)]
    pub name: String,
    pub kind: TownshipKind,
    pub sort_order: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::station::Entity")]
    Station,
    #[sea_orm(has_many = "super::department::Entity")]
    Department,
    #[sea_orm(has_many = "super::deputy::Entity")]
    Deputy,
    /// Standing-committee leader coverage (包联) of this township.
    #[sea_orm(has_many = "super::pairing::Entity")]
    Pairing,
    /// Roles scoped to this township.
    #[sea_orm(has_many = "super::account_role::Entity")]
    AccountRole,
    #[sea_orm(has_many = "super::petition::Entity")]
    Petition,
    #[sea_orm(has_many = "super::story::Entity")]
    Story,
}

impl Related<super::station::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Station.def()
    }
}

impl Related<super::department::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Department.def()
    }
}

impl Related<super::deputy::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Deputy.def()
    }
}

impl Related<super::pairing::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Pairing.def()
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

impl Related<super::story::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Story.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
