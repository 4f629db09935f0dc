//! `pairing`: a pairing (三联结对) of a senior deputy with a junior deputy, or a
//! standing-committee leader's coverage (包联) of a township. Ended pairings stay as history.
//!
//! Two foreign keys point at `deputy`, so there is no `Related<deputy::Entity>`:
//! join through [`Relation::SeniorDeputy`] / [`Relation::JuniorDeputy`] or use
//! [`SeniorDeputyLink`] / [`JuniorDeputyLink`].
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::PairingKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "pairing")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: PairingKind,
    pub senior_deputy_id: i64,
    /// Set unless `kind` is `ScLeaderTownship`; never `senior_deputy_id`.
    pub junior_deputy_id: Option<i64>,
    /// Set exactly when `kind` is `ScLeaderTownship`.
    pub township_id: Option<i64>,
    pub started_on: Date,
    /// NULL while the pairing is active.
    pub ended_on: Option<Date>,
    #[sea_orm(column_type = "Text")]
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::deputy::Entity",
        from = "Column::SeniorDeputyId",
        to = "super::deputy::Column::Id",
        on_delete = "Cascade"
    )]
    SeniorDeputy,
    #[sea_orm(
        belongs_to = "super::deputy::Entity",
        from = "Column::JuniorDeputyId",
        to = "super::deputy::Column::Id",
        on_delete = "Cascade"
    )]
    JuniorDeputy,
    #[sea_orm(
        belongs_to = "super::township::Entity",
        from = "Column::TownshipId",
        to = "super::township::Column::Id",
        on_delete = "Cascade"
    )]
    Township,
}

impl Related<super::township::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Township.def()
    }
}

/// From a pairing to its senior deputy.
#[derive(Clone, Copy, Debug)]
pub struct SeniorDeputyLink;

impl Linked for SeniorDeputyLink {
    type FromEntity = Entity;
    type ToEntity = super::deputy::Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![Relation::SeniorDeputy.def()]
    }
}

/// From a pairing to its junior deputy.
#[derive(Clone, Copy, Debug)]
pub struct JuniorDeputyLink;

impl Linked for JuniorDeputyLink {
    type FromEntity = Entity;
    type ToEntity = super::deputy::Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![Relation::JuniorDeputy.def()]
    }
}

impl ActiveModelBehavior for ActiveModel {}
