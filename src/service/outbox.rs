//! The event outbox: every state change writes its event here, in the same
//! transaction as the change; the relay publishes rows in `seq` order.
use chrono::Utc;
use entity::outbox_event;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::error::AppResult;

/// Topics clients subscribe to.
pub mod topic {
    pub const PETITION: &str = "petition";
    pub const SUPERVISION: &str = "supervision";
    pub const STORY: &str = "story";
    /// Deputies' suggestions: made, answered.
    pub const SUGGESTION: &str = "suggestion";
}

/// An event about to be written; the scope columns let subscribers filter without
/// reading the payload.
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    pub topic: &'static str,
    pub kind: &'static str,
    pub petition_id: Option<i64>,
    pub station_id: Option<i64>,
    pub township_id: Option<i64>,
    pub department_id: Option<i64>,
    pub account_id: Option<i64>,
    pub payload: serde_json::Value,
}

/// Appends the event and returns its sequence number.
pub async fn append<C: ConnectionTrait>(db: &C, event: NewEvent) -> AppResult<i64> {
    let row = outbox_event::ActiveModel {
        topic: Set(event.topic.to_owned()),
        kind: Set(event.kind.to_owned()),
        petition_id: Set(event.petition_id),
        station_id: Set(event.station_id),
        township_id: Set(event.township_id),
        department_id: Set(event.department_id),
        account_id: Set(event.account_id),
        payload: Set(event.payload.to_string()),
        created_at: Set(Utc::now()),
        published_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.seq)
}
