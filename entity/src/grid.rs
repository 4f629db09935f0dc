//! `grid`: a grid (网格) a community is split into, served from a station.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "grid")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub station_id: i64,
    /// Unique within the station.
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub description: Option<String>,
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
    #[sea_orm(has_many = "super::deputy_grid::Entity")]
    DeputyGrid,
    #[sea_orm(has_many = "super::liaison::Entity")]
    Liaison,
    #[sea_orm(has_many = "super::petition::Entity")]
    Petition,
}

impl Related<super::station::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Station.def()
    }
}

impl Related<super::deputy_grid::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DeputyGrid.def()
    }
}

impl Related<super::liaison::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Liaison.def()
    }
}

impl Related<super::petition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Petition.def()
    }
}

/// Deputies linked to the grid, through `deputy_grid`.
impl Related<super::deputy::Entity> for Entity {
    fn to() -> RelationDef {
        super::deputy_grid::Relation::Deputy.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::deputy_grid::Relation::Grid.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
