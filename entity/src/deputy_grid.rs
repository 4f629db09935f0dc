//! `deputy_grid`: a deputy linking a grid (网格), together with its grid worker,
//! community police and property staff.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "deputy_grid")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub deputy_id: i64,
    pub grid_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::deputy::Entity",
        from = "Column::DeputyId",
        to = "super::deputy::Column::Id",
        on_delete = "Cascade"
    )]
    Deputy,
    #[sea_orm(
        belongs_to = "super::grid::Entity",
        from = "Column::GridId",
        to = "super::grid::Column::Id",
        on_delete = "Cascade"
    )]
    Grid,
}

impl Related<super::deputy::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Deputy.def()
    }
}

impl Related<super::grid::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Grid.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
