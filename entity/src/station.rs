//! `station`: a station (站点): liaison station (联络站), service point (代表服务点),
//! service post (代表服务岗) or demonstration base (示范基地).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::StationKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "station")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    /// Unique within the township.
    pub name: String,
    pub kind: StationKind,
    pub township_id: i64,
    /// The station this one reports to, if any.
    pub parent_id: Option<i64>,
    /// A brand station (一站一品牌); `brand_name` is then set.
    pub is_brand: bool,
    pub brand_name: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub feature: Option<String>,
    pub address: Option<String>,
    pub reception_hours: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Where the station is (WGS-84, 1e-7 degree); both set or both null.
    pub latitude_e7: Option<i32>,
    pub longitude_e7: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::township::Entity",
        from = "Column::TownshipId",
        to = "super::township::Column::Id",
        on_delete = "Restrict"
    )]
    Township,
    /// The parent station (self-reference; no `Related` impl, use [`ParentLink`]).
    #[sea_orm(
        belongs_to = "Entity",
        from = "Column::ParentId",
        to = "Column::Id",
        on_delete = "SetNull"
    )]
    Parent,
    #[sea_orm(has_many = "super::grid::Entity")]
    Grid,
    #[sea_orm(has_many = "super::deputy_station::Entity")]
    DeputyStation,
    #[sea_orm(has_many = "super::liaison::Entity")]
    Liaison,
    #[sea_orm(has_many = "super::activity_station::Entity")]
    ActivityStation,
    /// Roles scoped to this station.
    #[sea_orm(has_many = "super::account_role::Entity")]
    AccountRole,
    #[sea_orm(has_many = "super::petition::Entity")]
    Petition,
    #[sea_orm(has_many = "super::suggestion::Entity")]
    Suggestion,
    #[sea_orm(has_many = "super::story::Entity")]
    Story,
}

impl Related<super::township::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Township.def()
    }
}

impl Related<super::grid::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Grid.def()
    }
}

impl Related<super::deputy_station::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DeputyStation.def()
    }
}

impl Related<super::liaison::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Liaison.def()
    }
}

impl Related<super::activity_station::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ActivityStation.def()
    }
}

impl Related<super::account_role::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AccountRole.def()
    }
}

impl Related<super::petition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Petition.def()
    }
}

impl Related<super::suggestion::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Suggestion.def()
    }
}

impl Related<super::story::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Story.def()
    }
}

/// Resident deputies (驻站代表), through `deputy_station`.
impl Related<super::deputy::Entity> for Entity {
    fn to() -> RelationDef {
        super::deputy_station::Relation::Deputy.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::deputy_station::Relation::Station.def().rev())
    }
}

/// Activities held at the station, through `activity_station`.
impl Related<super::activity::Entity> for Entity {
    fn to() -> RelationDef {
        super::activity_station::Relation::Activity.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::activity_station::Relation::Station.def().rev())
    }
}

/// From a station to its parent station.
#[derive(Clone, Copy, Debug)]
pub struct ParentLink;

impl Linked for ParentLink {
    type FromEntity = Entity;
    type ToEntity = Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![Relation::Parent.def()]
    }
}

/// From a station to the stations whose parent it is.
#[derive(Clone, Copy, Debug)]
pub struct ChildrenLink;

impl Linked for ChildrenLink {
    type FromEntity = Entity;
    type ToEntity = Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![Relation::Parent.def().rev()]
    }
}

impl ActiveModelBehavior for ActiveModel {}
