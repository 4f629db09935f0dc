//! The replica's one Redis subscription: every event any replica's relay publishes
//! arrives here once and goes to the hub, which fans it out in-process. Lost
//! connections are re-established with backoff; after each (re)subscription the hub
//! reads from the outbox whatever was published while it was not listening.
//!
//! The same subscription carries the [`control`](super::control) channel; control
//! messages are not stored, so after each (re)subscription every signed-in connection
//! of this replica re-checks its session instead.
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::StreamExt;
use sea_orm::DatabaseConnection;
use tokio::sync::{watch, Notify};

use super::control::{AccessWatchers, Envelope};
use super::event::LiveEvent;
use super::hub::Hub;
use super::relay::{backoff, AbortOnDrop};
use super::{store, RedisBus};

/// How often the subscription connection is pinged to notice a silent Redis.
const PING_EVERY: Duration = Duration::from_secs(5);
const TIMEOUT: Duration = Duration::from_secs(3);

async fn catch_up(db: &DatabaseConnection, hub: &Hub) {
    match store::max_published(db).await {
        Ok(Some(upto)) => {
            if let Err(e) = hub.catch_up_to(upto).await {
                tracing::warn!(error = %e, "hub could not catch up from the outbox");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read the outbox watermark"),
    }
}

/// Events read from Redis that the hub has not taken yet. The hub paces its fan-out
/// (see `hub.rs`), so it takes them in a task of its own: the subscription keeps
/// reading, control messages (revocations) and pings are never held up by fan-out,
/// and what waits here is bounded. Past [`Backlog::MAX_EVENTS`] the waiting events are
/// dropped and the hub reads them again from the outbox (`catch_up_to`).
#[derive(Default)]
struct Backlog {
    state: Mutex<Waiting>,
    ready: Notify,
}

#[derive(Default)]
struct Waiting {
    events: Vec<LiveEvent>,
    /// Set once events were dropped: the hub catches up to here from the outbox.
    catch_up_to: Option<i64>,
}

impl Backlog {
    const MAX_EVENTS: usize = 4096;

    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn push(&self, events: Vec<LiveEvent>) {
        let mut waiting = self.lock();
        if waiting.catch_up_to.is_some() || waiting.events.len() + events.len() > Self::MAX_EVENTS {
            let before = waiting.catch_up_to;
            let upto = waiting
                .events
                .drain(..)
                .chain(events)
                .map(|e| e.seq)
                .chain(before)
                .max();
            waiting.catch_up_to = upto;
        } else {
            waiting.events.extend(events);
        }
        drop(waiting);
        self.ready.notify_one();
    }

    fn take(&self) -> Waiting {
        std::mem::take(&mut *self.lock())
    }
}

/// Hands what the subscription read to the hub, until the subscription ends.
async fn feed_hub(backlog: Arc<Backlog>, hub: Hub) {
    loop {
        backlog.ready.notified().await;
        let Waiting {
            events,
            catch_up_to,
        } = backlog.take();
        if !events.is_empty() {
            if let Err(e) = hub.ingest(events).await {
                tracing::warn!(error = %e, "hub could not take events from redis");
            }
        }
        if let Some(upto) = catch_up_to {
            tracing::warn!(
                upto,
                "fan-out fell behind the bus; catching up from the outbox"
            );
            if let Err(e) = hub.catch_up_to(upto).await {
                tracing::warn!(error = %e, "hub could not catch up from the outbox");
            }
        }
    }
}

/// Where control messages from other replicas go.
pub struct ControlSink {
    pub access: AccessWatchers,
    /// This process's own messages, already delivered, are ignored.
    pub origin: u64,
}

impl ControlSink {
    fn take(&self, payload: &[u8]) {
        match serde_json::from_slice::<Envelope>(payload) {
            Ok(envelope) if envelope.origin == self.origin => {}
            Ok(envelope) => self.access.deliver(&envelope.control),
            Err(e) => tracing::warn!(error = %e, "unreadable message on the control channel"),
        }
    }
}

pub async fn run(
    bus: RedisBus,
    db: DatabaseConnection,
    hub: Hub,
    control: ControlSink,
    mut shutdown: watch::Receiver<bool>,
) {
    let channel = bus.channel();
    let control_channel = bus.control_channel();
    let mut failures: u32 = 0;
    let backlog = Arc::new(Backlog::default());
    let _feeding = AbortOnDrop(tokio::spawn(feed_hub(backlog.clone(), hub.clone())));
    loop {
        let connected = tokio::time::timeout(TIMEOUT, async {
            let mut pubsub = bus.client.get_async_pubsub().await?;
            pubsub.subscribe(&[&channel, &control_channel]).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        match connected {
            Ok(Ok(pubsub)) => {
                if failures > 0 {
                    tracing::info!(%channel, "redis subscription restored");
                }
                let (mut sink, mut messages) = pubsub.split();
                catch_up(&db, &hub).await;
                control.access.recheck_all();
                let mut ping = tokio::time::interval(PING_EVERY);
                ping.tick().await;
                loop {
                    tokio::select! {
                        message = messages.next() => {
                            let Some(message) = message else { break };
                            if message.get_channel_name() == control_channel {
                                control.take(message.get_payload_bytes());
                                continue;
                            }
                            match serde_json::from_slice::<Vec<LiveEvent>>(message.get_payload_bytes()) {
                                Ok(events) => backlog.push(events),
                                Err(e) => tracing::warn!(error = %e, "unreadable message on the event channel"),
                            }
                        }
                        _ = ping.tick() => {
                            // In subscribed mode Redis answers PING with an array, not a string.
                            let alive = tokio::time::timeout(TIMEOUT, sink.ping::<redis::Value>()).await;
                            if !matches!(alive, Ok(Ok(_))) {
                                break;
                            }
                        }
                        _ = shutdown.changed() => return,
                    }
                }
                failures = 1;
                tracing::warn!(%channel, "redis subscription lost; reconnecting");
            }
            Ok(Err(e)) => {
                failures += 1;
                if failures == 1 || failures % 50 == 0 {
                    tracing::warn!(error = %e.category(), failures, "cannot subscribe to redis; retrying");
                }
            }
            Err(_) => {
                failures += 1;
                if failures == 1 || failures % 50 == 0 {
                    tracing::warn!(failures, "redis subscribe timed out; retrying");
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff(failures.max(1))) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// The periodic safety net: anything published that the hub has not seen (a message
/// the bus dropped, an event relayed by another process on the in-process bus)
/// reaches subscribers within one interval.
pub async fn reconcile(
    db: DatabaseConnection,
    hub: Hub,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => catch_up(&db, &hub).await,
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn events(seqs: std::ops::RangeInclusive<i64>) -> Vec<LiveEvent> {
        seqs.map(LiveEvent::accepted_for_test).collect()
    }

    /// What waits for the hub is bounded: past the limit the waiting events give way
    /// to one catch-up from the outbox that covers them all, and later ones join it.
    #[test]
    fn the_backlog_is_bounded_and_overflows_into_a_catch_up() {
        let backlog = Backlog::default();
        backlog.push(events(1..=10));
        let waiting = backlog.take();
        assert_eq!(waiting.events.len(), 10);
        assert_eq!(waiting.catch_up_to, None);

        backlog.push(events(11..=4000));
        backlog.push(events(4001..=4200));
        let waiting = backlog.lock();
        assert!(waiting.events.is_empty(), "dropped once over the limit");
        assert_eq!(waiting.catch_up_to, Some(4200));
        drop(waiting);
        backlog.push(events(4201..=4201));
        let waiting = backlog.take();
        assert!(waiting.events.is_empty());
        assert_eq!(waiting.catch_up_to, Some(4201));
        assert!(backlog.take().events.is_empty() && backlog.lock().catch_up_to.is_none());
    }
}
