//! `petition_rating`: the citizen's satisfaction rating (满意度评价), one per handling round.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::Satisfaction;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "petition_rating")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub petition_id: i64,
    pub round: i32,
    pub rating: Satisfaction,
    #[sea_orm(column_type = "Text")]
    pub comment: Option<String>,
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
}

impl Related<super::petition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Petition.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
