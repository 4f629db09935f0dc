//! `attachment`: one upload (a re-encoded photo or a checked PDF) and what it is
//! attached to (an item, a step of its history, a story or an activity); the bytes are in the object store under `sha256`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AttachmentPurpose;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "attachment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The id clients see (random, 22 characters): an anonymous uploader proves an
    /// upload is theirs by knowing it.
    pub public_id: String,
    pub purpose: AttachmentPurpose,
    /// Who uploaded it; `None` for an anonymous citizen.
    pub owner_account_id: Option<i64>,
    /// The item it is attached to; `None` until attached.
    pub petition_id: Option<i64>,
    /// SHA-256 (hex) of the stored bytes: the object store key.
    pub sha256: String,
    pub content_type: String,
    pub size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub has_thumbnail: bool,
    pub created_at: DateTimeUtc,
    pub attached_at: Option<DateTimeUtc>,
    /// The step of the item's history it belongs to (a department's result, progress
    /// or assisting report); `petition_id` names the item then too.
    pub petition_event_id: Option<i64>,
    /// The showcase story it illustrates.
    pub story_id: Option<i64>,
    /// The story's cover (one per story); otherwise in its gallery.
    pub story_cover: bool,
    /// The duty activity it is a photo of.
    pub activity_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
