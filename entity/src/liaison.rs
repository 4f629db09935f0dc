//! `liaison`: a part-time liaison (联络员) or station administrator.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::LiaisonKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "liaison")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub station_id: i64,
    pub grid_id: Option<i64>,
    pub name: String,
    pub kind: LiaisonKind,
    pub phone: Option<String>,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::station::Entity",
        from = "Column::StationId",
        to = "super::station::Column::Id",
        on_delete = "Cascade"
    )]
    Station,
    #[sea_orm(
        belongs_to = "super::grid::Entity",
        from = "Column::GridId",
        to = "super::grid::Column::Id",
        on_delete = "SetNull"
    )]
    Grid,
}

impl Related<super::station::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Station.def()
    }
}

impl Related<super::grid::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Grid.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
