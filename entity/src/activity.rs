//! `activity`: a logged duty activity, counted towards the "eight ones" (八个一).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::ActivityKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "activity")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: ActivityKind,
    pub title: String,
    pub occurred_on: Date,
    pub campaign_id: Option<i64>,
    /// A joint inspection or research across townships (联合视察、联动调研).
    pub is_joint: bool,
    pub citizens_heard: i32,
    #[sea_orm(column_type = "Text")]
    pub notes: Option<String>,
    /// Who recorded the activity; not a foreign key in the schema.
    pub recorded_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::campaign::Entity",
        from = "Column::CampaignId",
        to = "super::campaign::Column::Id",
        on_delete = "SetNull"
    )]
    Campaign,
    #[sea_orm(has_many = "super::activity_participant::Entity")]
    ActivityParticipant,
    #[sea_orm(has_many = "super::activity_station::Entity")]
    ActivityStation,
}

impl Related<super::campaign::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Campaign.def()
    }
}

impl Related<super::activity_participant::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ActivityParticipant.def()
    }
}

impl Related<super::activity_station::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ActivityStation.def()
    }
}

/// Participating deputies, through `activity_participant`.
impl Related<super::deputy::Entity> for Entity {
    fn to() -> RelationDef {
        super::activity_participant::Relation::Deputy.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::activity_participant::Relation::Activity.def().rev())
    }
}

/// Stations involved, through `activity_station`.
impl Related<super::station::Entity> for Entity {
    fn to() -> RelationDef {
        super::activity_station::Relation::Station.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::activity_station::Relation::Activity.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
