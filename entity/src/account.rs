//! `account`: a login.
//!
//! `account_role` has two foreign keys to `account` (`account_id`, `granted_by`), so there
//! is no `Related<account_role::Entity>`: use [`RolesLink`] / [`GrantedRolesLink`].
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "account")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub login: String,
    #[sea_orm(unique)]
    pub phone: Option<String>,
    pub display_name: String,
    pub password_hash: String,
    /// The deputy this account belongs to, if any.
    #[sea_orm(unique)]
    pub deputy_id: Option<i64>,
    pub disabled: bool,
    pub created_at: DateTimeUtc,
    pub password_changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::deputy::Entity",
        from = "Column::DeputyId",
        to = "super::deputy::Column::Id",
        on_delete = "SetNull"
    )]
    Deputy,
    #[sea_orm(has_many = "super::auth_session::Entity")]
    AuthSession,
    #[sea_orm(has_many = "super::audit_log::Entity")]
    AuditLog,
    /// Items this account submitted.
    #[sea_orm(has_many = "super::petition::Entity")]
    Petition,
    /// History entries this account acted in.
    #[sea_orm(has_many = "super::petition_event::Entity")]
    PetitionEvent,
    /// Stories this account wrote.
    #[sea_orm(has_many = "super::story::Entity")]
    Story,
}

impl Related<super::deputy::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Deputy.def()
    }
}

impl Related<super::auth_session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AuthSession.def()
    }
}

impl Related<super::audit_log::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AuditLog.def()
    }
}

impl Related<super::petition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Petition.def()
    }
}

impl Related<super::petition_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PetitionEvent.def()
    }
}

impl Related<super::story::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Story.def()
    }
}

/// Roles held by the account.
#[derive(Clone, Copy, Debug)]
pub struct RolesLink;

impl Linked for RolesLink {
    type FromEntity = Entity;
    type ToEntity = super::account_role::Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![super::account_role::Relation::Account.def().rev()]
    }
}

/// Roles the account granted to others.
#[derive(Clone, Copy, Debug)]
pub struct GrantedRolesLink;

impl Linked for GrantedRolesLink {
    type FromEntity = Entity;
    type ToEntity = super::account_role::Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![super::account_role::Relation::GrantedBy.def().rev()]
    }
}

impl ActiveModelBehavior for ActiveModel {}
