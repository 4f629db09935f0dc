//! `committee_deputy`: a deputy linked with a special committee.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "committee_deputy")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub committee_id: i64,
    pub deputy_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::special_committee::Entity",
        from = "Column::CommitteeId",
        to = "super::special_committee::Column::Id",
        on_delete = "Cascade"
    )]
    SpecialCommittee,
    #[sea_orm(
        belongs_to = "super::deputy::Entity",
        from = "Column::DeputyId",
        to = "super::deputy::Column::Id",
        on_delete = "Cascade"
    )]
    Deputy,
}

impl Related<super::special_committee::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SpecialCommittee.def()
    }
}

impl Related<super::deputy::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Deputy.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
