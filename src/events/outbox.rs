//! The event outbox writer: every state change writes its event here, in the same
//! transaction as the change; the relay publishes rows in `seq` order.
use chrono::Utc;
use entity::outbox_event;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::domain::event::DomainEvent;
use crate::error::AppResult;

/// Appends the event and returns its sequence number. The scope columns let
/// subscribers filter without reading the payload.
pub async fn append<C: ConnectionTrait>(db: &C, event: &DomainEvent) -> AppResult<i64> {
    let scope = event.scope();
    let row = outbox_event::ActiveModel {
        topic: Set(event.topic_name().to_owned()),
        kind: Set(event.kind().to_owned()),
        petition_id: Set(scope.petition_id),
        station_id: Set(scope.station_id),
        township_id: Set(scope.township_id),
        department_id: Set(scope.department_id),
        account_id: Set(scope.account_id),
        payload: Set(event.stored_payload()),
        created_at: Set(Utc::now()),
        published_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.seq)
}
