//! `deputy`: a deputy (人大代表).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::{CongressLevel, Gender, TermStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "deputy")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// 6 to 16 characters.
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub gender: Gender,
    pub level: CongressLevel,
    pub township_id: Option<i64>,
    /// Leading-cadre deputy (领导干部代表); otherwise grassroots (基层代表).
    pub is_leading_cadre: bool,
    pub term_status: TermStatus,
    /// Standing-committee member (常委会组成人员).
    pub is_sc_member: bool,
    /// Standing-committee leader (常委会领导).
    pub is_sc_leader: bool,
    pub professional_field: Option<String>,
    pub occupation: Option<String>,
    pub phone: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub bio: Option<String>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::township::Entity",
        from = "Column::TownshipId",
        to = "super::township::Column::Id",
        on_delete = "SetNull"
    )]
    Township,
    #[sea_orm(has_many = "super::deputy_station::Entity")]
    DeputyStation,
    #[sea_orm(has_many = "super::deputy_grid::Entity")]
    DeputyGrid,
    #[sea_orm(has_many = "super::committee_deputy::Entity")]
    CommitteeDeputy,
    #[sea_orm(has_many = "super::activity_participant::Entity")]
    ActivityParticipant,
    /// The deputy's login account (`account.deputy_id` is unique).
    #[sea_orm(has_one = "super::account::Entity")]
    Account,
    /// Items addressed to or collected by the deputy.
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

impl Related<super::deputy_station::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DeputyStation.def()
    }
}

impl Related<super::deputy_grid::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DeputyGrid.def()
    }
}

impl Related<super::committee_deputy::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CommitteeDeputy.def()
    }
}

impl Related<super::activity_participant::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ActivityParticipant.def()
    }
}

impl Related<super::account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Account.def()
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

/// Stations the deputy is resident at (驻站), through `deputy_station`.
impl Related<super::station::Entity> for Entity {
    fn to() -> RelationDef {
        super::deputy_station::Relation::Station.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::deputy_station::Relation::Deputy.def().rev())
    }
}

/// Grids the deputy links, through `deputy_grid`.
impl Related<super::grid::Entity> for Entity {
    fn to() -> RelationDef {
        super::deputy_grid::Relation::Grid.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::deputy_grid::Relation::Deputy.def().rev())
    }
}

/// Special committees, through `committee_deputy`.
impl Related<super::special_committee::Entity> for Entity {
    fn to() -> RelationDef {
        super::committee_deputy::Relation::SpecialCommittee.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::committee_deputy::Relation::Deputy.def().rev())
    }
}

/// Activities the deputy took part in, through `activity_participant`.
impl Related<super::activity::Entity> for Entity {
    fn to() -> RelationDef {
        super::activity_participant::Relation::Activity.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::activity_participant::Relation::Deputy.def().rev())
    }
}

/// Pairings (三联结对) in which the deputy is the senior side.
///
/// `pairing` has two foreign keys to `deputy`, so there is no `Related<pairing::Entity>`.
#[derive(Clone, Copy, Debug)]
pub struct SeniorPairingsLink;

impl Linked for SeniorPairingsLink {
    type FromEntity = Entity;
    type ToEntity = super::pairing::Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![super::pairing::Relation::SeniorDeputy.def().rev()]
    }
}

/// Pairings (三联结对) in which the deputy is the junior side.
#[derive(Clone, Copy, Debug)]
pub struct JuniorPairingsLink;

impl Linked for JuniorPairingsLink {
    type FromEntity = Entity;
    type ToEntity = super::pairing::Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![super::pairing::Relation::JuniorDeputy.def().rev()]
    }
}

impl ActiveModelBehavior for ActiveModel {}
