//! One published outbox event as it travels on the bus and reaches subscribers, and
//! the opaque resume cursor that names its position.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::event::{DomainEvent, EventScope};
use crate::error::{AppError, AppResult};

/// An outbox row, parsed once per process and shared by every subscriber.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "Wire", into = "Wire")]
pub struct LiveEvent {
    pub seq: i64,
    pub event: DomainEvent,
    pub occurred_at: DateTime<Utc>,
}

impl LiveEvent {
    pub fn scope(&self) -> &EventScope {
        self.event.scope()
    }
}

/// A [`LiveEvent`] on the bus between replicas: the format of the releases before
/// events were typed (topic, kind, scope, the client payload), so that replicas of
/// either release read each other's events during a rolling update.
#[derive(Serialize, Deserialize)]
struct Wire {
    seq: i64,
    topic: String,
    kind: String,
    #[serde(flatten)]
    scope: EventScope,
    payload: serde_json::Value,
    occurred_at: DateTime<Utc>,
}

impl From<Wire> for LiveEvent {
    fn from(wire: Wire) -> Self {
        LiveEvent {
            seq: wire.seq,
            event: DomainEvent::parse(&wire.topic, &wire.kind, wire.scope, wire.payload),
            occurred_at: wire.occurred_at,
        }
    }
}

impl From<LiveEvent> for Wire {
    fn from(live: LiveEvent) -> Self {
        Wire {
            seq: live.seq,
            topic: live.event.topic_name().to_owned(),
            kind: live.event.kind().to_owned(),
            scope: *live.event.scope(),
            payload: live.event.payload(),
            occurred_at: live.occurred_at,
        }
    }
}

#[cfg(test)]
impl LiveEvent {
    /// An `accepted` petition event with no scope and sequence `seq`, for tests.
    pub(crate) fn accepted_for_test(seq: i64) -> Self {
        LiveEvent {
            seq,
            event: DomainEvent::parse(
                "petition",
                "accepted",
                EventScope::default(),
                serde_json::Value::Null,
            ),
            occurred_at: chrono::Utc::now(),
        }
    }
}

impl From<entity::outbox_event::Model> for LiveEvent {
    fn from(row: entity::outbox_event::Model) -> Self {
        let scope = EventScope {
            petition_id: row.petition_id,
            station_id: row.station_id,
            township_id: row.township_id,
            department_id: row.department_id,
            account_id: row.account_id,
        };
        LiveEvent {
            seq: row.seq,
            event: DomainEvent::parse_stored(&row.topic, &row.kind, scope, row.payload),
            occurred_at: row.created_at,
        }
    }
}

const CURSOR_PREFIX: &str = "seq:";

/// The opaque cursor of the event with sequence `seq`.
pub fn encode_cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{seq}"))
}

/// The sequence a cursor names (`after` arguments).
pub fn decode_cursor(field: &str, raw: &str) -> AppResult<i64> {
    let invalid = || {
        AppError::bad_input(
            field,
            format!("无效的游标 (invalid cursor {raw:?}: pass the cursor of an event received)"),
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let seq = text
        .strip_prefix(CURSOR_PREFIX)
        .and_then(|n| n.parse::<i64>().ok())
        .ok_or_else(invalid)?;
    if seq < 0 {
        return Err(invalid());
    }
    Ok(seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        for seq in [0, 1, 42, i64::MAX] {
            assert_eq!(decode_cursor("after", &encode_cursor(seq)), Ok(seq));
        }
        assert!(!encode_cursor(7).contains('7'), "opaque");
        for raw in ["", "!!", "c2VxOng", &URL_SAFE_NO_PAD.encode("seq:-1")] {
            let error = decode_cursor("after", raw).expect_err(raw);
            assert_eq!(error.code(), "BAD_USER_INPUT");
        }
    }

    #[test]
    fn rows_become_events_with_parsed_payloads() {
        let row = entity::outbox_event::Model {
            seq: 3,
            topic: "story".into(),
            kind: "story_published".into(),
            petition_id: None,
            station_id: Some(2),
            township_id: Some(1),
            department_id: None,
            account_id: None,
            payload: r#"{"storyId":5}"#.into(),
            created_at: Utc::now(),
            published_at: None,
        };
        let event = LiveEvent::from(row);
        assert_eq!(event.event.payload()["storyId"], 5);
        assert_eq!(event.scope().station_id, Some(2));
        let wire = serde_json::to_string(&event).expect("serialises");
        assert_eq!(
            serde_json::from_str::<LiveEvent>(&wire).expect("parses"),
            event
        );
    }

    #[test]
    fn the_wire_format_is_the_one_of_untyped_releases() {
        // As a replica running the previous release publishes it.
        let old = r#"{"seq":7,"topic":"petition","kind":"accept","petition_id":10,
            "station_id":3,"township_id":2,"department_id":7,"account_id":50,
            "payload":{"petitionId":10,"action":"accept","from":"forwarded","to":"accepted",
            "version":4,"role":"lead_handler"},"occurred_at":"2025-03-01T09:30:00Z"}"#;
        let event: LiveEvent = serde_json::from_str(old).expect("parses");
        assert!(matches!(
            event.event.body,
            crate::domain::event::EventBody::PetitionStepped(_)
        ));
        assert_eq!(event.scope().department_id, Some(7));
        let ours: serde_json::Value = serde_json::to_value(&event).expect("serialises");
        let theirs: serde_json::Value = serde_json::from_str(old).expect("json");
        assert_eq!(ours, theirs, "what the previous release reads");
    }
}
