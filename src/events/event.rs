//! One published outbox event as it travels on the bus and reaches subscribers, and
//! the opaque resume cursor that names its position.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// An outbox row, parsed once per process and shared by every subscriber.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveEvent {
    pub seq: i64,
    pub topic: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub petition_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub township_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<i64>,
    pub payload: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
}

impl From<entity::outbox_event::Model> for LiveEvent {
    fn from(row: entity::outbox_event::Model) -> Self {
        let payload =
            serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::String(row.payload));
        LiveEvent {
            seq: row.seq,
            topic: row.topic,
            kind: row.kind,
            petition_id: row.petition_id,
            station_id: row.station_id,
            township_id: row.township_id,
            department_id: row.department_id,
            account_id: row.account_id,
            payload,
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
        assert_eq!(event.payload["storyId"], 5);
        let wire = serde_json::to_string(&event).expect("serialises");
        assert_eq!(
            serde_json::from_str::<LiveEvent>(&wire).expect("parses"),
            event
        );
    }
}
