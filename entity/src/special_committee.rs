//! `special_committee`: a special committee, linked with deputies of its professional field.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "special_committee")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The natural key import files name the committee by (2-32 of a-z 0-9 _ -).
    #[sea_orm(unique)]
    pub code: String,
    #[sea_orm(unique)]
    pub name: String,
    pub professional_field: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::committee_deputy::Entity")]
    CommitteeDeputy,
}

impl Related<super::committee_deputy::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CommitteeDeputy.def()
    }
}

/// Member deputies, through `committee_deputy`.
impl Related<super::deputy::Entity> for Entity {
    fn to() -> RelationDef {
        super::committee_deputy::Relation::Deputy.def()
    }

    fn via() -> Option<RelationDef> {
        Some(
            super::committee_deputy::Relation::SpecialCommittee
                .def()
                .rev(),
        )
    }
}

impl ActiveModelBehavior for ActiveModel {}
