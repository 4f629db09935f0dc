//! `activity_participant`: a deputy taking part in an activity.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "activity_participant")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub activity_id: i64,
    pub deputy_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::activity::Entity",
        from = "Column::ActivityId",
        to = "super::activity::Column::Id",
        on_delete = "Cascade"
    )]
    Activity,
    #[sea_orm(
        belongs_to = "super::deputy::Entity",
        from = "Column::DeputyId",
        to = "super::deputy::Column::Id",
        on_delete = "Cascade"
    )]
    Deputy,
}

impl Related<super::activity::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Activity.def()
    }
}

impl Related<super::deputy::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Deputy.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
