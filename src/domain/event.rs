//! Domain events: what a committed change tells the rest of the system (live
//! subscriptions, live statistics, and later notifications). Each event has a
//! [`Topic`], a kind (a stable snake_case string that clients filter on), an
//! [`EventScope`] (who it concerns, stored as columns so that readers filter without
//! the payload) and a typed payload.
//!
//! Serialisation lives here and nowhere else. Stored payloads carry a version (`"v"`);
//! rows written before it existed have none and the same shapes as version 1, so they
//! parse as version 1. What cannot be parsed — a kind or a version from a newer
//! release, a row written by hand — becomes [`EventBody::Unknown`] with its topic, kind
//! and payload kept verbatim: a reader never crashes on it, and it still reaches the
//! subscribers its scope columns name, exactly as before events were typed.
use entity::{petition, story, suggestion, Adoption, Channel, PetitionState};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::domain::petition_flow::{self, Capacity};

/// The payload version this code writes.
pub const PAYLOAD_VERSION: u64 = 1;
const VERSION_KEY: &str = "v";

/// What clients subscribe to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    Petition,
    Supervision,
    /// Published showcase stories: public.
    Story,
    /// Deputies' suggestions: made, answered.
    Suggestion,
    /// An in-app notice for one account (kind `notification`): only that account sees it.
    Notification,
}

impl Topic {
    pub const ALL: [Topic; 5] = [
        Topic::Petition,
        Topic::Supervision,
        Topic::Story,
        Topic::Suggestion,
        Topic::Notification,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Petition => "petition",
            Topic::Supervision => "supervision",
            Topic::Story => "story",
            Topic::Suggestion => "suggestion",
            Topic::Notification => "notification",
        }
    }

    pub fn parse(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Topics anyone may follow, signed in or not.
    pub fn is_public(self) -> bool {
        self == Topic::Story
    }
}

/// Whom an event concerns. For item events: the item, its station and township, the
/// department that acted or leads, and the submitter's account; for suggestions the
/// deputy's account and the department; for stories the publishing editor's account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventScope {
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
}

/// Supervision alerts (topic `supervision`), raised beside the step that caused them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alert {
    Overdue,
    Urged,
    Escalated,
    RatedUnsatisfied,
    Returned,
}

impl Alert {
    pub const ALL: [Alert; 5] = [
        Alert::Overdue,
        Alert::Urged,
        Alert::Escalated,
        Alert::RatedUnsatisfied,
        Alert::Returned,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Alert::Overdue => "overdue",
            Alert::Urged => "urged",
            Alert::Escalated => "escalated",
            Alert::RatedUnsatisfied => "rated_unsatisfied",
            Alert::Returned => "returned",
        }
    }

    fn parse(name: &str) -> Option<Alert> {
        Alert::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// A new item (kind `submitted`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PetitionSubmitted {
    pub petition_id: i64,
    pub state: PetitionState,
    /// Written as the variant's Rust name ("Wechat", "QrCode") since the first release.
    #[serde(with = "channel_name")]
    pub channel: Channel,
}

/// One step of the closed loop (kind: the step's name, e.g. `forward`), also the
/// payload of the alerts it raised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PetitionStepped {
    pub petition_id: i64,
    pub action: StepName,
    pub from: PetitionState,
    pub to: PetitionState,
    /// The item's version after the step.
    pub version: i32,
    /// The capacity the actor acted in.
    #[serde(with = "capacity_name")]
    pub role: Capacity,
}

/// A story published to the showcase (kind `story_published`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoryPublished {
    pub story_id: i64,
    pub deputy_id: i64,
    pub title: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SuggestionChange {
    Made,
    Answered,
}

impl SuggestionChange {
    pub fn name(self) -> &'static str {
        match self {
            SuggestionChange::Made => "suggestion_made",
            SuggestionChange::Answered => "suggestion_answered",
        }
    }
}

/// A suggestion made or answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuggestionEvent {
    pub suggestion_id: i64,
    pub title: String,
    pub adoption: Option<Adoption>,
}

/// An in-app notice written for one account (kind `notification`): what
/// `myNotifications` delivers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationEvent {
    pub notification_id: i64,
    /// What the notice says happened (`registered`, `forwarded_to_department`, ...).
    pub notice: String,
    pub title: String,
    pub body: String,
    pub petition_id: Option<i64>,
}

/// A reminder for one account (kind `reminder`, topic `notification`): the supervision
/// job writes it once per period and person, and the notifier tells the account (in
/// the app, and by SMS where the reminder goes by SMS).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReminderEvent {
    /// `duty_month` (a deputy's "eight ones" of last month) or `due_soon` (an item's
    /// deadline within 24 hours, to a lead handler).
    pub reminder: String,
    pub petition_id: Option<i64>,
    pub title: String,
    pub body: String,
}

/// An event this code cannot (or need not) read: kept verbatim.
#[derive(Clone, Debug, PartialEq)]
pub struct RawEvent {
    pub topic: String,
    pub kind: String,
    pub payload: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EventBody {
    PetitionSubmitted(PetitionSubmitted),
    PetitionStepped(PetitionStepped),
    SupervisionAlert(Alert, PetitionStepped),
    StoryPublished(StoryPublished),
    Suggestion(SuggestionChange, SuggestionEvent),
    Notification(NotificationEvent),
    Reminder(ReminderEvent),
    Unknown(RawEvent),
}

/// One domain event: whom it concerns and what happened.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainEvent {
    pub scope: EventScope,
    pub body: EventBody,
}

impl DomainEvent {
    pub fn new(scope: EventScope, body: EventBody) -> Self {
        DomainEvent { scope, body }
    }

    /// The topic, when it is one this code knows (an unknown event's topic may be).
    pub fn topic(&self) -> Option<Topic> {
        match &self.body {
            EventBody::PetitionSubmitted(_) | EventBody::PetitionStepped(_) => {
                Some(Topic::Petition)
            }
            EventBody::SupervisionAlert(..) => Some(Topic::Supervision),
            EventBody::StoryPublished(_) => Some(Topic::Story),
            EventBody::Suggestion(..) => Some(Topic::Suggestion),
            EventBody::Notification(_) | EventBody::Reminder(_) => Some(Topic::Notification),
            EventBody::Unknown(raw) => Topic::parse(&raw.topic),
        }
    }

    /// The topic as stored and as clients name it.
    pub fn topic_name(&self) -> &str {
        match &self.body {
            EventBody::Unknown(raw) => &raw.topic,
            _ => self.topic().map_or("", Topic::as_str),
        }
    }

    /// The kind as stored and as clients filter on it.
    pub fn kind(&self) -> &str {
        match &self.body {
            EventBody::PetitionSubmitted(_) => "submitted",
            EventBody::PetitionStepped(step) => step.action.0,
            EventBody::SupervisionAlert(alert, _) => alert.name(),
            EventBody::StoryPublished(_) => "story_published",
            EventBody::Suggestion(change, _) => change.name(),
            EventBody::Notification(_) => "notification",
            EventBody::Reminder(_) => "reminder",
            EventBody::Unknown(raw) => &raw.kind,
        }
    }

    pub fn scope(&self) -> &EventScope {
        &self.scope
    }

    /// The payload as clients receive it (no version field).
    pub fn payload(&self) -> Value {
        let typed = match &self.body {
            EventBody::PetitionSubmitted(p) => serde_json::to_value(p),
            EventBody::PetitionStepped(p) | EventBody::SupervisionAlert(_, p) => {
                serde_json::to_value(p)
            }
            EventBody::StoryPublished(p) => serde_json::to_value(p),
            EventBody::Suggestion(_, p) => serde_json::to_value(p),
            EventBody::Notification(p) => serde_json::to_value(p),
            EventBody::Reminder(p) => serde_json::to_value(p),
            EventBody::Unknown(raw) => return raw.payload.clone(),
        };
        // Plain structs of numbers, strings and enums always serialise.
        typed.unwrap_or(Value::Null)
    }

    /// The payload as stored: the client payload with its version.
    pub fn stored_payload(&self) -> String {
        let mut payload = self.payload();
        if let (false, Value::Object(fields)) =
            (matches!(self.body, EventBody::Unknown(_)), &mut payload)
        {
            fields.insert(VERSION_KEY.into(), PAYLOAD_VERSION.into());
        }
        payload.to_string()
    }

    /// Reads a stored (or relayed) event. Never fails: what does not parse is kept as
    /// [`EventBody::Unknown`].
    pub fn parse(topic: &str, kind: &str, scope: EventScope, payload: Value) -> DomainEvent {
        let body = parse_body(topic, kind, &payload).unwrap_or_else(|| {
            EventBody::Unknown(RawEvent {
                topic: topic.to_owned(),
                kind: kind.to_owned(),
                payload,
            })
        });
        DomainEvent { scope, body }
    }

    /// [`DomainEvent::parse`] of a stored payload text; text that is not JSON is kept
    /// as a JSON string.
    pub fn parse_stored(topic: &str, kind: &str, scope: EventScope, payload: String) -> Self {
        let payload = serde_json::from_str(&payload).unwrap_or(Value::String(payload));
        DomainEvent::parse(topic, kind, scope, payload)
    }
}

/// The events of the services outside the petition flow (whose events `decide` makes).
impl DomainEvent {
    /// A new item: it reaches the station, the township and the submitter.
    pub fn petition_submitted(item: &petition::Model) -> Self {
        DomainEvent::new(
            EventScope {
                petition_id: Some(item.id),
                station_id: item.station_id,
                township_id: item.township_id,
                department_id: None,
                account_id: item.submitter_account_id,
            },
            EventBody::PetitionSubmitted(PetitionSubmitted {
                petition_id: item.id,
                state: item.state,
                channel: item.channel,
            }),
        )
    }

    /// A story published by the editor with `editor_account_id`.
    pub fn story_published(story: &story::Model, editor_account_id: Option<i64>) -> Self {
        DomainEvent::new(
            EventScope {
                station_id: story.station_id,
                township_id: story.township_id,
                account_id: editor_account_id,
                ..EventScope::default()
            },
            EventBody::StoryPublished(StoryPublished {
                story_id: story.id,
                deputy_id: story.deputy_id,
                title: story.title.clone(),
            }),
        )
    }

    /// A change to a suggestion: it reaches the deputy's account, the station's staff,
    /// the township's supervisors and the department's handlers, and it moves the live
    /// statistics of the scope.
    pub fn suggestion(
        change: SuggestionChange,
        row: &suggestion::Model,
        township_id: Option<i64>,
        deputy_account_id: Option<i64>,
    ) -> Self {
        DomainEvent::new(
            EventScope {
                petition_id: None,
                station_id: row.station_id,
                township_id,
                department_id: row.department_id,
                account_id: deputy_account_id,
            },
            EventBody::Suggestion(
                change,
                SuggestionEvent {
                    suggestion_id: row.id,
                    title: row.title.clone(),
                    adoption: row.adoption,
                },
            ),
        )
    }
}

/// The event of a new in-app notice: it reaches its account only.
impl DomainEvent {
    pub fn notification(account_id: i64, notice: NotificationEvent) -> Self {
        DomainEvent::new(
            EventScope {
                petition_id: notice.petition_id,
                account_id: Some(account_id),
                ..EventScope::default()
            },
            EventBody::Notification(notice),
        )
    }

    /// A reminder for one account: it reaches that account only.
    pub fn reminder(account_id: i64, reminder: ReminderEvent) -> Self {
        DomainEvent::new(
            EventScope {
                petition_id: reminder.petition_id,
                account_id: Some(account_id),
                ..EventScope::default()
            },
            EventBody::Reminder(reminder),
        )
    }
}

fn parse_body(topic: &str, kind: &str, payload: &Value) -> Option<EventBody> {
    let version = match payload.get(VERSION_KEY) {
        None => 1,
        Some(v) => v.as_u64()?,
    };
    if version > PAYLOAD_VERSION {
        return None;
    }
    fn typed<T: serde::de::DeserializeOwned>(payload: &Value) -> Option<T> {
        serde_json::from_value(payload.clone()).ok()
    }
    let stepped = || typed::<PetitionStepped>(payload);
    Some(match (Topic::parse(topic)?, kind) {
        (Topic::Petition, "submitted") => EventBody::PetitionSubmitted(typed(payload)?),
        (Topic::Petition, _) => {
            EventBody::PetitionStepped(stepped().filter(|s| s.action.0 == kind)?)
        }
        (Topic::Supervision, _) => EventBody::SupervisionAlert(Alert::parse(kind)?, stepped()?),
        (Topic::Story, "story_published") => EventBody::StoryPublished(typed(payload)?),
        (Topic::Suggestion, "suggestion_made") => {
            EventBody::Suggestion(SuggestionChange::Made, typed(payload)?)
        }
        (Topic::Suggestion, "suggestion_answered") => {
            EventBody::Suggestion(SuggestionChange::Answered, typed(payload)?)
        }
        (Topic::Notification, "notification") => EventBody::Notification(typed(payload)?),
        (Topic::Notification, "reminder") => EventBody::Reminder(typed(payload)?),
        _ => return None,
    })
}

mod channel_name {
    use sea_orm::Iterable;

    use super::*;

    pub fn serialize<S: Serializer>(channel: &Channel, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{channel:?}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Channel, D::Error> {
        let name = String::deserialize(d)?;
        Channel::iter()
            .find(|c| format!("{c:?}") == name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown channel {name}")))
    }
}

mod capacity_name {
    use super::*;

    pub fn serialize<S: Serializer>(role: &Capacity, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(role.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Capacity, D::Error> {
        let name = String::deserialize(d)?;
        Capacity::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown role {name}")))
    }
}

/// A step's name in a payload: one of [`petition_flow::STEP_NAMES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepName(pub &'static str);

impl Serialize for StepName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for StepName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        petition_flow::step_name(&name)
            .map(StepName)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown step {name}")))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn scope() -> EventScope {
        EventScope {
            petition_id: Some(10),
            station_id: Some(3),
            township_id: Some(2),
            department_id: Some(7),
            account_id: Some(50),
        }
    }

    /// Parses a payload exactly as the code before typed events wrote it, checks the
    /// typed reading, and that clients still receive the same payload.
    fn old_row(topic: &str, kind: &str, payload: Value) -> DomainEvent {
        let event = DomainEvent::parse_stored(topic, kind, scope(), payload.to_string());
        assert!(
            !matches!(event.body, EventBody::Unknown(_)),
            "{topic}/{kind} did not parse: {payload}"
        );
        assert_eq!(event.topic_name(), topic);
        assert_eq!(event.kind(), kind);
        assert_eq!(event.payload(), payload, "{topic}/{kind}");
        let stored = event.stored_payload();
        let again = DomainEvent::parse_stored(topic, kind, scope(), stored.clone());
        assert_eq!(again, event, "round trip of {stored}");
        event
    }

    #[test]
    fn old_submitted_rows_parse() {
        for (channel, name) in [
            (Channel::StationReception, "StationReception"),
            (Channel::DeputyVisit, "DeputyVisit"),
            (Channel::App, "App"),
            (Channel::QrCode, "QrCode"),
            (Channel::Wechat, "Wechat"),
        ] {
            let event = old_row(
                "petition",
                "submitted",
                json!({ "petitionId": 10, "state": "submitted", "channel": name }),
            );
            assert_eq!(
                event.body,
                EventBody::PetitionSubmitted(PetitionSubmitted {
                    petition_id: 10,
                    state: PetitionState::Submitted,
                    channel,
                })
            );
        }
    }

    #[test]
    fn old_step_rows_parse_for_every_step() {
        for name in petition_flow::STEP_NAMES {
            let event = old_row(
                "petition",
                name,
                json!({ "petitionId": 10, "action": name, "from": "forwarded",
                        "to": "accepted", "version": 4, "role": "lead_handler" }),
            );
            let EventBody::PetitionStepped(step) = event.body else {
                panic!("{name}");
            };
            assert_eq!(step.action, StepName(name));
            assert_eq!(
                (step.from, step.to, step.version, step.role),
                (
                    PetitionState::Forwarded,
                    PetitionState::Accepted,
                    4,
                    Capacity::LeadHandler
                )
            );
        }
    }

    #[test]
    fn old_alert_rows_parse_for_every_alert() {
        for alert in Alert::ALL {
            let event = old_row(
                "supervision",
                alert.name(),
                json!({ "petitionId": 10, "action": "urge", "from": "accepted",
                        "to": "accepted", "version": 9, "role": "supervisor" }),
            );
            assert!(matches!(event.body, EventBody::SupervisionAlert(a, _) if a == alert));
        }
    }

    #[test]
    fn old_story_and_suggestion_rows_parse() {
        let story = old_row(
            "story",
            "story_published",
            json!({ "storyId": 5, "deputyId": 8, "title": "社区议事会" }),
        );
        assert_eq!(
            story.body,
            EventBody::StoryPublished(StoryPublished {
                story_id: 5,
                deputy_id: 8,
                title: "社区议事会".into()
            })
        );
        for kind in ["suggestion_made", "suggestion_answered"] {
            for adoption in [
                json!(null),
                json!("adopted"),
                json!("partly_adopted"),
                json!("not_adopted"),
            ] {
                old_row(
                    "suggestion",
                    kind,
                    json!({ "suggestionId": 4, "title": "路灯", "adoption": adoption }),
                );
            }
        }
    }

    #[test]
    fn stored_payloads_carry_their_version() {
        let event = old_row(
            "story",
            "story_published",
            json!({ "storyId": 5, "deputyId": 8, "title": "t" }),
        );
        let stored: Value = serde_json::from_str(&event.stored_payload()).expect("json");
        assert_eq!(stored["v"], PAYLOAD_VERSION);
        assert!(event.payload().get("v").is_none(), "clients never see it");
    }

    #[test]
    fn what_cannot_be_read_is_kept_verbatim() {
        let cases = [
            ("petition", "tagged", json!({ "tag": 1 })),
            ("petition", "forward", json!({ "kind": "forward" })),
            ("story", "story_published", json!({ "storyId": 5 })),
            (
                "story",
                "story_published",
                json!({ "storyId": 5, "deputyId": 8, "title": "t", "v": 2 }),
            ),
            ("supervision", "future_alert", json!({})),
            ("future-topic", "x", json!([1, 2])),
            ("petition", "submitted", json!("not an object")),
        ];
        for (topic, kind, payload) in cases {
            let event = DomainEvent::parse(topic, kind, scope(), payload.clone());
            assert_eq!(
                event.body,
                EventBody::Unknown(RawEvent {
                    topic: topic.into(),
                    kind: kind.into(),
                    payload: payload.clone()
                }),
                "{topic}/{kind}"
            );
            assert_eq!((event.topic_name(), event.kind()), (topic, kind));
            assert_eq!(event.payload(), payload);
            assert_eq!(
                event.stored_payload(),
                payload.to_string(),
                "no version added"
            );
        }
        let garbage = DomainEvent::parse_stored("story", "k", scope(), "{oops".into());
        assert_eq!(garbage.payload(), json!("{oops"));
        assert_eq!(
            DomainEvent::parse("future-topic", "x", scope(), json!({})).topic(),
            None
        );
        assert_eq!(
            DomainEvent::parse("story", "x", scope(), json!({})).topic(),
            Some(Topic::Story)
        );
    }

    #[test]
    fn notification_rows_parse() {
        let event = old_row(
            "notification",
            "notification",
            json!({ "notificationId": 3, "notice": "registered", "title": "您的留言已登记",
                    "body": "b", "petitionId": 10 }),
        );
        assert!(matches!(event.body, EventBody::Notification(n) if n.notification_id == 3));
        let reminder = old_row(
            "notification",
            "reminder",
            json!({ "reminder": "due_soon", "petitionId": 10, "title": "事项即将到期",
                    "body": "b" }),
        );
        assert!(matches!(reminder.body, EventBody::Reminder(r) if r.reminder == "due_soon"));
    }

    #[test]
    fn topics_round_trip() {
        for topic in Topic::ALL {
            assert_eq!(Topic::parse(topic.as_str()), Some(topic));
            assert_eq!(topic.is_public(), topic == Topic::Story);
        }
    }
}
