//! Live events on `/graphql/ws`: item updates, supervision alerts, new showcase
//! stories, and the generic feed they are cut from. Every subscription accepts a
//! resume cursor (`after`): it first replays from the outbox what the subscriber
//! missed, then continues live, with no gap and no duplicate. Each delivers only what
//! the subscriber may see (`events::visibility`).
use std::sync::Arc;

use async_graphql::{Context, Json, Object, Subscription, ID};
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;

use super::serving::{self, LiveItem, Source};
use crate::domain::event::{EventBody, Topic};
use crate::domain::node_id::{NodeId, NodeKind};
use crate::error::{AppError, AppResult};
use crate::events::{decode_cursor, encode_cursor, EventFilter, LiveEvent as Event, Viewer};
use crate::graphql::context;

/// Most topics one `liveEvents` subscription may name.
const MAX_TOPICS: usize = 10;

fn id_of(field: &str, id: Option<&ID>, kind: NodeKind) -> AppResult<Option<i64>> {
    NodeId::decode_optional(field, id.map(|id| id.as_str()), kind)
}

fn node_id(kind: NodeKind, id: Option<i64>) -> Option<ID> {
    id.map(|id| ID(NodeId::new(kind, id).encode()))
}

/// Declares an event type: the fields every live event has, plus `$extra`.
macro_rules! event_type {
    ($(#[$meta:meta])* $name:ident { $($extra:tt)* }) => {
        pub struct $name(pub Arc<Event>);

        $(#[$meta])*
        #[Object]
        impl $name {
            /// Opaque; pass it as `after` to resume just after this event.
            async fn cursor(&self) -> String {
                encode_cursor(self.0.seq)
            }
            /// The event's place in the county-wide outbox sequence: increasing, not
            /// necessarily contiguous.
            async fn seq(&self) -> i64 {
                self.0.seq
            }
            async fn kind(&self) -> &str {
                self.0.event.kind()
            }
            async fn petition_id(&self) -> Option<ID> {
                node_id(NodeKind::Petition, self.0.scope().petition_id)
            }
            async fn station_id(&self) -> Option<ID> {
                node_id(NodeKind::Station, self.0.scope().station_id)
            }
            async fn township_id(&self) -> Option<ID> {
                node_id(NodeKind::Township, self.0.scope().township_id)
            }
            async fn department_id(&self) -> Option<ID> {
                node_id(NodeKind::Department, self.0.scope().department_id)
            }
            /// When the change was committed.
            async fn occurred_at(&self) -> DateTime<Utc> {
                self.0.occurred_at
            }
            /// Details of the change, as its writer recorded them.
            async fn payload(&self) -> Json<serde_json::Value> {
                Json(self.0.event.payload())
            }
            $($extra)*
        }
    };
}

event_type!(
    /// Any live event: the generic feed the specific subscriptions are cut from.
    LiveEvent {
        /// `petition`, `supervision`, `story` or `suggestion`.
        async fn topic(&self) -> &str {
            self.0.event.topic_name()
        }
    }
);

event_type!(
    /// A change to a petition (an item of the closed loop).
    PetitionLiveEvent {}
);

event_type!(
    /// A supervision alert: `overdue`, `urged`, `escalated`, `rated_unsatisfied` or
    /// `returned`.
    SupervisionAlert {}
);

event_type!(
    /// A story published to the showcase (`story_published`).
    StoryLiveEvent {
        async fn story_id(&self) -> Option<ID> {
            let id = match &self.0.event.body {
                EventBody::StoryPublished(story) => Some(story.story_id),
                EventBody::Unknown(raw) => raw.payload.get("storyId").and_then(|v| v.as_i64()),
                _ => None,
            };
            id.map(|id| ID(NodeId::new(NodeKind::Story, id).encode()))
        }
        async fn title(&self) -> Option<&str> {
            match &self.0.event.body {
                EventBody::StoryPublished(story) => Some(&story.title),
                EventBody::Unknown(raw) => raw.payload.get("title").and_then(|v| v.as_str()),
                _ => None,
            }
        }
    }
);

/// The events `filter` selects that the subscriber may see, from just after `after`.
fn open(
    ctx: &Context<'_>,
    filter: EventFilter,
    after: Option<String>,
) -> AppResult<impl FnOnce() -> AppResult<Source>> {
    let state = context::state(ctx)?;
    let viewer = Viewer::of(context::actor(ctx));
    let after = after.map(|a| decode_cursor("after", &a)).transpose()?;
    let live = state.live.clone();
    Ok(move || {
        Ok(live
            .subscribe(viewer, filter, after)
            .map(|item| item.map(LiveItem::Event))
            .boxed())
    })
}

/// The events of a subscription, each wrapped as its GraphQL type (`None`: skipped).
pub(super) fn events<T: Send + 'static>(
    ctx: &Context<'_>,
    filter: EventFilter,
    after: Option<String>,
    wrap: fn(Arc<Event>) -> Option<T>,
) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<T>>> {
    let open = open(ctx, filter, after)?;
    serving::serve(ctx, open, move |item| match item {
        LiveItem::Event(event) => wrap(event),
        LiveItem::Statistics(_) => None,
    })
}

#[derive(Default)]
pub struct LiveSubscription;

#[Subscription]
impl LiveSubscription {
    /// Every live event the subscriber may see, optionally of some topics only.
    async fn live_events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        topics: Option<Vec<String>>,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<LiveEvent>>> {
        let topics = topics.unwrap_or_default();
        if topics.len() > MAX_TOPICS {
            return Err(AppError::bad_input("topics", "最多10个主题 (at most 10 topics)").into());
        }
        let filter = EventFilter {
            topics,
            ..Default::default()
        };
        events(ctx, filter, after, |e| Some(LiveEvent(e)))
    }

    /// Changes to petitions the subscriber may see, narrowed by item, station,
    /// township, department, or to the subscriber's own (`mine`).
    #[allow(clippy::too_many_arguments)]
    async fn petition_events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        petition_id: Option<ID>,
        station_id: Option<ID>,
        township_id: Option<ID>,
        department_id: Option<ID>,
        mine: Option<bool>,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<PetitionLiveEvent>>> {
        let principal = context::actor(ctx).require_signed_in()?;
        let filter = EventFilter {
            petition_id: id_of("petitionId", petition_id.as_ref(), NodeKind::Petition)?,
            station_id: id_of("stationId", station_id.as_ref(), NodeKind::Station)?,
            township_id: id_of("townshipId", township_id.as_ref(), NodeKind::Township)?,
            department_id: id_of("departmentId", department_id.as_ref(), NodeKind::Department)?,
            account_id: mine.unwrap_or(false).then_some(principal.account_id),
            ..EventFilter::topic(Topic::Petition.as_str())
        };
        events(ctx, filter, after, |e| Some(PetitionLiveEvent(e)))
    }

    /// Supervision alerts the subscriber may see (`overdue`, `urged`, `escalated`,
    /// `rated_unsatisfied`, `returned`), optionally of some kinds or one scope.
    async fn supervision_alerts(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        township_id: Option<ID>,
        department_id: Option<ID>,
        station_id: Option<ID>,
        kinds: Option<Vec<String>>,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<SupervisionAlert>>> {
        context::actor(ctx).require_signed_in()?;
        let kinds = kinds.unwrap_or_default();
        if kinds.len() > MAX_TOPICS {
            return Err(AppError::bad_input("kinds", "最多10种 (at most 10 kinds)").into());
        }
        let filter = EventFilter {
            kinds,
            station_id: id_of("stationId", station_id.as_ref(), NodeKind::Station)?,
            township_id: id_of("townshipId", township_id.as_ref(), NodeKind::Township)?,
            department_id: id_of("departmentId", department_id.as_ref(), NodeKind::Department)?,
            ..EventFilter::topic(Topic::Supervision.as_str())
        };
        events(ctx, filter, after, |e| Some(SupervisionAlert(e)))
    }

    /// Stories newly published to the showcase (public), optionally of one township
    /// or station.
    async fn showcase_stories(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        township_id: Option<ID>,
        station_id: Option<ID>,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<StoryLiveEvent>>> {
        let filter = EventFilter {
            kinds: vec!["story_published".into()],
            station_id: id_of("stationId", station_id.as_ref(), NodeKind::Station)?,
            township_id: id_of("townshipId", township_id.as_ref(), NodeKind::Township)?,
            ..EventFilter::topic(Topic::Story.as_str())
        };
        events(ctx, filter, after, |e| Some(StoryLiveEvent(e)))
    }
}
