//! `account_role`: a role held by an account, optionally scoped to a station, department
//! or township.
//!
//! Two foreign keys point at `account`, so there is no `Related<account::Entity>`: use
//! [`AccountLink`] / [`GrantedByLink`].
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::Role;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "account_role")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub role: Role,
    /// Set exactly for `StationStaff`.
    pub station_id: Option<i64>,
    /// Set exactly for `DepartmentHandler`.
    pub department_id: Option<i64>,
    /// Optional scope of a `Supervisor`; NULL for other roles.
    pub township_id: Option<i64>,
    /// `*` for unscoped roles, `station:12`, `department:3` or `township:4` otherwise;
    /// makes `(account_id, role, scope_key)` unique without relying on NULLs.
    pub scope_key: String,
    pub granted_at: DateTimeUtc,
    pub granted_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::account::Entity",
        from = "Column::AccountId",
        to = "super::account::Column::Id",
        on_delete = "Cascade"
    )]
    Account,
    #[sea_orm(
        belongs_to = "super::account::Entity",
        from = "Column::GrantedBy",
        to = "super::account::Column::Id",
        on_delete = "SetNull"
    )]
    GrantedBy,
    #[sea_orm(
        belongs_to = "super::station::Entity",
        from = "Column::StationId",
        to = "super::station::Column::Id",
        on_delete = "Cascade"
    )]
    Station,
    #[sea_orm(
        belongs_to = "super::department::Entity",
        from = "Column::DepartmentId",
        to = "super::department::Column::Id",
        on_delete = "Cascade"
    )]
    Department,
    #[sea_orm(
        belongs_to = "super::township::Entity",
        from = "Column::TownshipId",
        to = "super::township::Column::Id",
        on_delete = "Cascade"
    )]
    Township,
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

impl Related<super::township::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Township.def()
    }
}

/// From a role to the account holding it.
#[derive(Clone, Copy, Debug)]
pub struct AccountLink;

impl Linked for AccountLink {
    type FromEntity = Entity;
    type ToEntity = super::account::Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![Relation::Account.def()]
    }
}

/// From a role to the account that granted it.
#[derive(Clone, Copy, Debug)]
pub struct GrantedByLink;

impl Linked for GrantedByLink {
    type FromEntity = Entity;
    type ToEntity = super::account::Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![Relation::GrantedBy.def()]
    }
}

impl ActiveModelBehavior for ActiveModel {}
