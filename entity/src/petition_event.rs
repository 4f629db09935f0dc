//! `petition_event`: the immutable history of an item; rows are only ever inserted.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "petition_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub petition_id: i64,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_account_id: Option<i64>,
    pub actor_role: Option<String>,
    pub department_id: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
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
        belongs_to = "super::account::Entity",
        from = "Column::ActorAccountId",
        to = "super::account::Column::Id",
        on_delete = "SetNull"
    )]
    ActorAccount,
    #[sea_orm(
        belongs_to = "super::department::Entity",
        from = "Column::DepartmentId",
        to = "super::department::Column::Id",
        on_delete = "SetNull"
    )]
    Department,
}

impl Related<super::petition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Petition.def()
    }
}

impl Related<super::account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ActorAccount.def()
    }
}

impl Related<super::department::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Department.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
