//! `petition`: an opinion item (社情民意) and where it stands in the closed loop (闭环).
//!
//! `merged_into_id` points back at `petition`; use [`MergedIntoLink`] / [`MergedFromLink`].
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::{Channel, HandlingLevel, PetitionState, Satisfaction, Urgency};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "petition")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub tracking_code: String,
    /// Hash of the secret that lets an anonymous citizen follow the item.
    pub follow_secret_hash: Option<String>,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    pub channel: Channel,
    pub state: PetitionState,
    pub submitter_account_id: Option<i64>,
    pub submitter_name: Option<String>,
    pub submitter_phone: Option<String>,
    /// The submitter agreed to progress notices by SMS at `submitter_phone`.
    pub sms_consent: bool,
    pub deputy_id: Option<i64>,
    pub station_id: Option<i64>,
    pub township_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub category_id: Option<i64>,
    pub urgency: Option<Urgency>,
    pub handling_level: Option<HandlingLevel>,
    /// The lead department (主办).
    pub lead_department_id: Option<i64>,
    /// Set when `state` is `Merged`; never the item itself.
    pub merged_into_id: Option<i64>,
    /// JSON array, `[]` by default.
    #[sea_orm(column_type = "Text")]
    pub attachments: String,
    pub deadline: Option<DateTimeUtc>,
    pub is_overdue: bool,
    pub escalation_level: i32,
    /// Times urged (督办).
    pub urge_count: i32,
    /// Handling round, from 1; a new round starts when the citizen is unsatisfied.
    pub round: i32,
    #[sea_orm(column_type = "Text")]
    pub result: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub decline_reason: Option<String>,
    /// The latest rating (满意度评价).
    pub satisfaction: Option<Satisfaction>,
    /// Optimistic-locking counter.
    pub version: i32,
    pub collected_at: DateTimeUtc,
    pub registered_at: Option<DateTimeUtc>,
    pub accepted_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Where the item is about (WGS-84, 1e-7 degree); both set or both null.
    pub latitude_e7: Option<i32>,
    pub longitude_e7: Option<i32>,
    /// The reported accuracy radius in metres.
    pub location_accuracy_m: Option<i32>,
    /// The place as the submitter named it.
    pub location_address: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::account::Entity",
        from = "Column::SubmitterAccountId",
        to = "super::account::Column::Id",
        on_delete = "SetNull"
    )]
    SubmitterAccount,
    #[sea_orm(
        belongs_to = "super::deputy::Entity",
        from = "Column::DeputyId",
        to = "super::deputy::Column::Id",
        on_delete = "SetNull"
    )]
    Deputy,
    #[sea_orm(
        belongs_to = "super::station::Entity",
        from = "Column::StationId",
        to = "super::station::Column::Id",
        on_delete = "SetNull"
    )]
    Station,
    #[sea_orm(
        belongs_to = "super::township::Entity",
        from = "Column::TownshipId",
        to = "super::township::Column::Id",
        on_delete = "SetNull"
    )]
    Township,
    #[sea_orm(
        belongs_to = "super::grid::Entity",
        from = "Column::GridId",
        to = "super::grid::Column::Id",
        on_delete = "SetNull"
    )]
    Grid,
    #[sea_orm(
        belongs_to = "super::category::Entity",
        from = "Column::CategoryId",
        to = "super::category::Column::Id",
        on_delete = "SetNull"
    )]
    Category,
    #[sea_orm(
        belongs_to = "super::department::Entity",
        from = "Column::LeadDepartmentId",
        to = "super::department::Column::Id",
        on_delete = "SetNull"
    )]
    LeadDepartment,
    /// The item this one was merged into (self-reference; no `Related` impl).
    #[sea_orm(
        belongs_to = "Entity",
        from = "Column::MergedIntoId",
        to = "Column::Id",
        on_delete = "SetNull"
    )]
    MergedInto,
    #[sea_orm(has_many = "super::petition_department::Entity")]
    PetitionDepartment,
    #[sea_orm(has_many = "super::petition_event::Entity")]
    PetitionEvent,
    #[sea_orm(has_many = "super::petition_rating::Entity")]
    PetitionRating,
}

impl Related<super::account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SubmitterAccount.def()
    }
}

impl Related<super::deputy::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Deputy.def()
    }
}

impl Related<super::station::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Station.def()
    }
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

impl Related<super::category::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Category.def()
    }
}

impl Related<super::department::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::LeadDepartment.def()
    }
}

impl Related<super::petition_department::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PetitionDepartment.def()
    }
}

impl Related<super::petition_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PetitionEvent.def()
    }
}

impl Related<super::petition_rating::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PetitionRating.def()
    }
}

/// From an item to the item it was merged into.
#[derive(Clone, Copy, Debug)]
pub struct MergedIntoLink;

impl Linked for MergedIntoLink {
    type FromEntity = Entity;
    type ToEntity = Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![Relation::MergedInto.def()]
    }
}

/// From an item to the items merged into it.
#[derive(Clone, Copy, Debug)]
pub struct MergedFromLink;

impl Linked for MergedFromLink {
    type FromEntity = Entity;
    type ToEntity = Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![Relation::MergedInto.def().rev()]
    }
}

impl ActiveModelBehavior for ActiveModel {}
