//! Live statistics: the figures of the `statistics` query for a period and a scope,
//! recomputed when an event of that scope is committed and pushed when they change.
//!
//! One watcher per (period, scope) serves every subscriber of it, however many
//! dashboards show the same figures. A burst of events is coalesced into one
//! recomputation: after the first event the watcher waits until the scope has been
//! quiet for `quiet`, but never longer than `max_delay`, then computes once and
//! publishes only if a figure changed. Subscribers read the latest value from a
//! `watch` channel, so a slow one skips straight to the newest figures.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use chrono::{Datelike, NaiveDate, Utc};
use futures_util::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use sea_orm::DatabaseConnection;
use tokio::sync::{watch, Semaphore};
use tokio::task::AbortHandle;
use tokio_stream::wrappers::WatchStream;

use crate::domain::calendar::local_date;
use crate::domain::event::Topic;
use crate::error::{AppError, AppResult};
use crate::events::{EventFilter, Live, LiveEvent, Viewer};
use crate::service::statistics::{self, Scope, Statistics};

/// The period of a live statistics subscription: inclusive dates, China time. Without
/// a start it is the current year, and without an end it runs up to today, whatever
/// day (and year) that is when the figures are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The longest period the figures are computed for (as `statistics::check_period`).
const LONGEST_DAYS: i64 = 3660;

fn first_of_year(day: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(day.year(), 1, 1).unwrap_or(day)
}

impl Period {
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> AppResult<Self> {
        let today = local_date(Utc::now());
        let start = from.unwrap_or_else(|| first_of_year(today));
        // Open-ended: up to today, or nothing yet when `from` is still to come.
        statistics::check_period(start, to.unwrap_or(today.max(start)))?;
        Ok(Period { from, to })
    }

    /// The dates to compute for now: an open end stops at today, and never makes the
    /// period longer than allowed (a subscription can outlive many days).
    fn dates(&self) -> (NaiveDate, NaiveDate) {
        let today = local_date(Utc::now());
        let start = self.from.unwrap_or_else(|| first_of_year(today));
        let end = self.to.unwrap_or(today).max(start);
        let longest = start + chrono::Duration::days(LONGEST_DAYS);
        (start, end.min(longest))
    }
}

/// Figures as published: `version` grows with every change (unique in the process).
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub version: u64,
    pub statistics: Statistics,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct BoardKey {
    period: Period,
    scope: Scope,
}

/// How eagerly watchers recompute.
#[derive(Debug, Clone, Copy)]
pub struct Coalescing {
    /// Recompute once no event of the scope has arrived for this long...
    pub quiet: Duration,
    /// ...or this long after the first event of a burst, whichever comes first.
    pub max_delay: Duration,
}

/// The process's watchers. Cheap to clone.
#[derive(Clone)]
pub struct LiveStatistics {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    live: Live,
    coalescing: Coalescing,
    boards: Mutex<HashMap<BoardKey, Weak<Board>>>,
    /// Versions are unique in the process, not only per watcher: a shared WebSocket
    /// operation tells items apart by them.
    versions: AtomicU64,
    /// Computations run so far (all watchers).
    computations: AtomicU64,
    /// Computations running at once: watchers share the request pool, and must leave
    /// it to the requests.
    permits: Semaphore,
}

/// Distinct periods and scopes watched at once (each holds a task and recomputes on
/// its events); beyond it a new one is refused with RATE_LIMITED.
pub const MAX_WATCHERS: usize = 512;

/// Computations running at once.
const CONCURRENT_COMPUTATIONS: usize = 2;

/// One watcher; it runs while a subscriber holds it.
struct Board {
    key: BoardKey,
    values: watch::Receiver<Option<Arc<Snapshot>>>,
    task: AbortHandle,
    registry: Weak<Inner>,
}

impl Drop for Board {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(inner) = self.registry.upgrade() {
            let mut boards = inner.boards.lock().unwrap_or_else(PoisonError::into_inner);
            if boards
                .get(&self.key)
                .is_some_and(|board| board.strong_count() == 0)
            {
                boards.remove(&self.key);
            }
        }
    }
}

impl LiveStatistics {
    pub fn new(db: DatabaseConnection, live: Live, coalescing: Coalescing) -> Self {
        LiveStatistics {
            inner: Arc::new(Inner {
                db,
                live,
                coalescing,
                boards: Mutex::default(),
                versions: AtomicU64::new(0),
                computations: AtomicU64::new(0),
                permits: Semaphore::new(CONCURRENT_COMPUTATIONS),
            }),
        }
    }

    /// The figures for `period` and `scope`: the current ones as soon as they are
    /// computed, then each change.
    pub fn subscribe(
        &self,
        period: Period,
        scope: Scope,
    ) -> AppResult<BoxStream<'static, Arc<Snapshot>>> {
        let board = self.board(BoardKey { period, scope })?;
        Ok(WatchStream::new(board.values.clone())
            .filter_map(move |value| {
                // The stream keeps the watcher alive.
                let _board = &board;
                futures_util::future::ready(value)
            })
            .boxed())
    }

    /// Watchers running now (one per distinct period and scope).
    pub fn watchers(&self) -> usize {
        let boards = self
            .inner
            .boards
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        boards.values().filter(|b| b.strong_count() > 0).count()
    }

    /// Computations run so far, by all watchers.
    pub fn computations(&self) -> u64 {
        self.inner.computations.load(Ordering::Relaxed)
    }

    fn board(&self, key: BoardKey) -> AppResult<Arc<Board>> {
        let mut boards = self
            .inner
            .boards
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(board) = boards.get(&key).and_then(Weak::upgrade) {
            return Ok(board);
        }
        boards.retain(|_, board| board.strong_count() > 0);
        if boards.len() >= MAX_WATCHERS {
            return Err(AppError::RateLimited {
                message: "同时统计的范围过多,请稍后再试 (too many statistics scopes watched; try again later)".into(),
                retry_after_secs: 30,
            });
        }
        let (sender, values) = watch::channel(None);
        let task = tokio::spawn(watch_scope(self.inner.clone(), key, sender));
        let board = Arc::new(Board {
            key,
            values,
            task: task.abort_handle(),
            registry: Arc::downgrade(&self.inner),
        });
        boards.insert(key, Arc::downgrade(&board));
        Ok(board)
    }
}

/// The events that can change the figures of `scope`. Items never change station or
/// township, so those narrow the events exactly; a department's figures count items it
/// only assists with and events name the lead department, and events carry no
/// category, so those scopes recompute on any item event of the rest of the scope.
fn triggers(scope: &Scope) -> EventFilter {
    EventFilter {
        topics: vec![
            Topic::Petition.as_str().into(),
            Topic::Suggestion.as_str().into(),
        ],
        station_id: scope.station_id,
        township_id: scope.township_id,
        ..Default::default()
    }
}

/// The scope's events from now on. The stream registers with the hub here, before the
/// first computation: an event committed while that runs triggers another one rather
/// than being missed. The events only trigger; their content goes nowhere.
fn trigger_events(live: &Live, scope: &Scope) -> BoxStream<'static, AppResult<Arc<LiveEvent>>> {
    let viewer = Viewer {
        everything: true,
        ..Viewer::anonymous()
    };
    let mut events = live.subscribe(viewer, triggers(scope), None);
    let _ = events.next().now_or_never();
    events
}

/// Computes the figures now (one of a few computations at a time).
async fn compute(inner: &Inner, key: &BoardKey) -> AppResult<Statistics> {
    let _permit = inner
        .permits
        .acquire()
        .await
        .map_err(|_| AppError::internal("statistics permits closed"))?;
    inner.computations.fetch_add(1, Ordering::Relaxed);
    let (from, to) = key.period.dates();
    statistics::compute(&inner.db, from, to, &key.scope).await
}

async fn watch_scope(
    inner: Arc<Inner>,
    key: BoardKey,
    sender: watch::Sender<Option<Arc<Snapshot>>>,
) {
    let mut events = trigger_events(&inner.live, &key.scope);
    let mut published: Option<Statistics> = None;
    let mut failures = 0u32;
    loop {
        match compute(&inner, &key).await {
            Ok(figures) => {
                failures = 0;
                if published.as_ref() != Some(&figures) {
                    published = Some(figures.clone());
                    sender.send_replace(Some(Arc::new(Snapshot {
                        version: inner.versions.fetch_add(1, Ordering::Relaxed) + 1,
                        statistics: figures,
                    })));
                }
            }
            Err(e) => {
                // The database is unavailable (the period is always valid): try again
                // shortly, without waiting for another event.
                failures = (failures + 1).min(6);
                tracing::warn!(error = ?e, "live statistics: computation failed; retrying");
                tokio::time::sleep(Duration::from_millis(100 << failures)).await;
                continue;
            }
        }
        if !next_burst(&inner, &key, &mut events).await {
            return;
        }
    }
}

/// Waits for the scope's next event, then for the end of its burst; `false` when the
/// event stream ended. A failed replay of missed events ends the event stream: follow
/// anew and recompute from the tables anyway.
async fn next_burst(
    inner: &Inner,
    key: &BoardKey,
    events: &mut BoxStream<'static, AppResult<Arc<LiveEvent>>>,
) -> bool {
    match events.next().await {
        Some(Ok(_)) => {}
        Some(Err(_)) => {
            *events = trigger_events(&inner.live, &key.scope);
            return true;
        }
        None => return false,
    }
    let deadline = tokio::time::Instant::now() + inner.coalescing.max_delay;
    loop {
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(_)) => {}
                Some(Err(_)) => {
                    *events = trigger_events(&inner.live, &key.scope);
                    return true;
                }
                None => return false,
            },
            () = tokio::time::sleep(inner.coalescing.quiet) => return true,
            () = tokio::time::sleep_until(deadline) => return true,
        }
    }
}
