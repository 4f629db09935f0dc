//! The in-process fan-out: every event this replica learns about (from its own relay
//! or from its one Redis subscription) enters here once, in sequence order, and is
//! handed to the subscribers that want it.
//!
//! Order and completeness: the hub keeps a watermark, the highest sequence it has
//! dispatched. Events at or below it are duplicates and dropped. An event above
//! `watermark + 1` means the hub missed some (a Redis message lost in a reconnect, an
//! event relayed by another replica that has not arrived yet): the relay only
//! publishes an event once every lower sequence is committed or can no longer
//! appear, so the missing ones are read from the outbox and dispatched first.
//!
//! Slow subscribers: each has a bounded queue. When it is full the event is not
//! queued and the subscriber is flagged as lagging; it then re-reads what it missed
//! from the database (see `stream.rs`), so nothing waits on it and nothing is lost.
//!
//! Requests before fan-out: waking every subscriber of an event at once would put
//! thousands of connection tasks in the runtime's queue ahead of the queries and
//! mutations waiting there. The hub wakes them `LIVE_FANOUT_BATCH` at a time and
//! yields to the runtime between batches, so whatever else is ready runs after at most
//! one batch; and it takes in the next event only once the last one's subscribers are
//! all woken. When the CPU cannot keep up, deliveries lag (events wait in the outbox
//! and the bus, subscribers' queues overflow and catch up from the outbox) while
//! requests keep their turn.
use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Poll, Waker};

use sea_orm::{DatabaseConnection, DbErr};

use super::event::LiveEvent;
use super::filter::{routes, Interest, Route};
use super::store;

#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubInner>,
}

struct HubInner {
    db: DatabaseConnection,
    registry: Mutex<Registry>,
    /// Serialises ingestion, which may read the outbox to fill a gap.
    ingest: tokio::sync::Mutex<()>,
    buffer: usize,
    /// Subscribers woken before the hub yields to the runtime.
    batch: usize,
}

#[derive(Default)]
struct Registry {
    watermark: i64,
    next_id: u64,
    /// Subscribers by their filter's route (see [`Route`]): an event visits only
    /// those under its own routes.
    routes: HashMap<Route, HashMap<u64, Entry>>,
    /// Each subscriber's route, to find it again when it leaves.
    route_of: HashMap<u64, Route>,
}

impl Registry {
    fn remove(&mut self, id: u64) {
        let Some(route) = self.route_of.remove(&id) else {
            return;
        };
        if let Some(entries) = self.routes.get_mut(&route) {
            entries.remove(&id);
            if entries.is_empty() {
                self.routes.remove(&route);
            }
        }
    }
}

struct Entry {
    interest: Arc<Interest>,
    queue: Arc<Queue>,
}

/// A subscriber's bounded queue. Hand-rolled rather than a channel: an idle one is a
/// few dozen bytes, which matters with ten thousand subscribers.
struct Queue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    events: VecDeque<Arc<LiveEvent>>,
    waker: Option<Waker>,
    lagged: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A registered subscriber; unregisters itself when dropped.
pub struct Subscription {
    id: u64,
    queue: Arc<Queue>,
    hub: Weak<HubInner>,
}

impl Subscription {
    /// Whether events were dropped for this subscriber since the last call.
    pub fn take_lagged(&self) -> bool {
        std::mem::take(&mut self.queue.lock().lagged)
    }

    /// The next queued event; `None` once the hub is gone.
    pub async fn recv(&mut self) -> Option<Arc<LiveEvent>> {
        poll_fn(|cx| {
            let mut state = self.queue.lock();
            if let Some(event) = state.events.pop_front() {
                return Poll::Ready(Some(event));
            }
            if self.hub.strong_count() == 0 {
                return Poll::Ready(None);
            }
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(hub) = self.hub.upgrade() {
            lock(&hub.registry).remove(self.id);
        }
    }
}

fn lock(registry: &Mutex<Registry>) -> MutexGuard<'_, Registry> {
    // A panic while holding the lock cannot leave the registry half-updated in a way
    // that matters (each operation is one insert, remove or loop of sends).
    registry
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Hub {
    /// `buffer`: events queued per subscriber; `batch`: subscribers woken between
    /// two turns of the runtime.
    pub fn new(db: DatabaseConnection, buffer: usize, batch: usize) -> Self {
        Hub {
            inner: Arc::new(HubInner {
                db,
                registry: Mutex::new(Registry::default()),
                ingest: tokio::sync::Mutex::new(()),
                buffer: buffer.max(1),
                batch: batch.max(1),
            }),
        }
    }

    /// The highest sequence dispatched so far.
    pub fn watermark(&self) -> i64 {
        lock(&self.inner.registry).watermark
    }

    /// Registers a subscriber and returns it with the watermark at that instant: every
    /// event above the watermark will reach its queue (or flag it as lagging), every
    /// event at or below it is in the outbox.
    pub fn register(&self, interest: Arc<Interest>) -> (Subscription, i64) {
        let queue = Arc::new(Queue {
            state: Mutex::new(QueueState::default()),
        });
        let mut registry = lock(&self.inner.registry);
        registry.next_id += 1;
        let id = registry.next_id;
        let route = interest.filter.route();
        registry.route_of.insert(id, route);
        registry.routes.entry(route).or_default().insert(
            id,
            Entry {
                interest,
                queue: queue.clone(),
            },
        );
        let watermark = registry.watermark;
        drop(registry);
        (
            Subscription {
                id,
                queue,
                hub: Arc::downgrade(&self.inner),
            },
            watermark,
        )
    }

    /// Starts from what is already published, so that subscribers resuming from an
    /// older cursor replay it from the database rather than wait for it.
    pub async fn initialise(&self) -> Result<(), DbErr> {
        let _ingesting = self.inner.ingest.lock().await;
        let published = store::max_published(&self.inner.db).await?.unwrap_or(0);
        let mut registry = lock(&self.inner.registry);
        registry.watermark = registry.watermark.max(published);
        Ok(())
    }

    /// Takes in events from the bus (any order, duplicates allowed) and dispatches the
    /// new ones in sequence order, filling gaps from the outbox.
    pub async fn ingest(&self, mut events: Vec<LiveEvent>) -> Result<(), DbErr> {
        events.sort_by_key(|e| e.seq);
        let _ingesting = self.inner.ingest.lock().await;
        for event in events {
            let watermark = self.watermark();
            if event.seq <= watermark {
                continue;
            }
            if event.seq > watermark + 1 {
                self.fill(watermark, event.seq - 1).await?;
            }
            self.dispatch(Arc::new(event)).await;
        }
        Ok(())
    }

    /// Dispatches whatever the outbox holds up to `upto` that the hub has not seen
    /// (the reconciliation after a Redis reconnect, and the periodic safety net).
    pub async fn catch_up_to(&self, upto: i64) -> Result<(), DbErr> {
        let _ingesting = self.inner.ingest.lock().await;
        let watermark = self.watermark();
        if upto > watermark {
            self.fill(watermark, upto).await?;
        }
        Ok(())
    }

    /// Dispatches the outbox rows in `(after, upto]`. Caller holds the ingest lock.
    async fn fill(&self, after: i64, upto: i64) -> Result<(), DbErr> {
        let mut cursor = after;
        loop {
            let rows = store::range(&self.inner.db, cursor, upto, None, store::PAGE).await?;
            let full = rows.len() as u64 == store::PAGE;
            for event in rows {
                cursor = event.seq;
                self.dispatch(Arc::new(event)).await;
            }
            if !full {
                break;
            }
        }
        // Sequences in the range that have no row were rolled back: nothing to wait for.
        let mut registry = lock(&self.inner.registry);
        registry.watermark = registry.watermark.max(upto);
        Ok(())
    }

    /// Queues `event` for the subscribers that want it, then wakes them (see
    /// [`Hub::wake`]). Caller holds the ingest lock.
    async fn dispatch(&self, event: Arc<LiveEvent>) {
        let wake = self.queue(event);
        self.wake(wake).await;
    }

    /// Wakes `wakers` a batch at a time, yielding to the runtime after each batch: a
    /// query or mutation that became ready meanwhile runs before the next batch (or
    /// the next event's first).
    async fn wake(&self, wakers: Vec<Waker>) {
        /// Wakes whatever is left if the fan-out is dropped midway (a shutdown): a
        /// subscriber whose waker was taken must not sleep for ever.
        struct Rest(std::vec::IntoIter<Waker>);
        impl Drop for Rest {
            fn drop(&mut self) {
                self.0.by_ref().for_each(Waker::wake);
            }
        }
        let mut rest = Rest(wakers.into_iter());
        loop {
            let mut woken = 0;
            for waker in rest.0.by_ref().take(self.inner.batch) {
                waker.wake();
                woken += 1;
            }
            if woken == 0 {
                return;
            }
            tokio::task::yield_now().await;
        }
    }

    /// Puts `event` in the queue of every subscriber that wants it; returns their
    /// wakers.
    fn queue(&self, event: Arc<LiveEvent>) -> Vec<Waker> {
        let mut registry = lock(&self.inner.registry);
        if event.seq <= registry.watermark {
            return Vec::new();
        }
        registry.watermark = event.seq;
        let buffer = self.inner.buffer;
        let mut wake = Vec::new();
        let candidates = routes(event.scope())
            .filter_map(|route| registry.routes.get(&route))
            .flat_map(HashMap::values);
        for entry in candidates {
            if !entry.interest.wants(&event) {
                continue;
            }
            let mut queue = entry.queue.lock();
            if queue.events.len() < buffer {
                queue.events.push_back(event.clone());
            } else {
                queue.lagged = true;
            }
            if let Some(waker) = queue.waker.take() {
                wake.push(waker);
            }
        }
        wake
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::events::filter::EventFilter;
    use crate::events::visibility::Viewer;

    fn everything() -> Arc<Interest> {
        Arc::new(Interest {
            filter: EventFilter::default(),
            viewer: Viewer {
                everything: true,
                ..Viewer::default()
            },
        })
    }

    /// Subscribers are woken a batch at a time, and a task that is ready meanwhile (a
    /// request) runs between batches; every subscriber still gets every event, in order.
    #[tokio::test]
    async fn subscribers_are_woken_in_batches_with_other_work_in_between() {
        let hub = Hub::new(DatabaseConnection::Disconnected, 8, 2);
        let log = Arc::new(Mutex::new(Vec::<String>::new()));
        let mut subscribers = Vec::new();
        for n in 0..6 {
            let (mut subscription, _) = hub.register(everything());
            let log = log.clone();
            subscribers.push(tokio::spawn(async move {
                let mut seen = Vec::new();
                for _ in 0..2 {
                    let event = subscription.recv().await.expect("an event");
                    log.lock().unwrap().push(format!("s{n}"));
                    seen.push(event.seq);
                }
                seen
            }));
        }
        // Every subscriber parks on its empty queue.
        tokio::task::yield_now().await;
        let request = {
            let log = log.clone();
            tokio::spawn(async move {
                for _ in 0..20 {
                    log.lock().unwrap().push("request".into());
                    tokio::task::yield_now().await;
                }
            })
        };
        hub.ingest(vec![
            LiveEvent::accepted_for_test(1),
            LiveEvent::accepted_for_test(2),
        ])
        .await
        .expect("ingest");
        for subscriber in subscribers {
            assert_eq!(subscriber.await.unwrap(), vec![1, 2]);
        }
        request.await.unwrap();
        let log = log.lock().unwrap().clone();
        let longest_run = log
            .split(|entry| entry == "request")
            .map(<[String]>::len)
            .max()
            .unwrap_or(0);
        assert!(
            longest_run <= 2,
            "more subscribers ran back to back than one batch: {log:?}"
        );
        assert_eq!(log.iter().filter(|e| *e != "request").count(), 12);
    }
}
