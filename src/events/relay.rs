//! The outbox relay: one task per process. It takes committed, unpublished outbox
//! rows in sequence order, hands them to this replica's hub, publishes them on the bus
//! (Redis: one PUBLISH on `{prefix}:events`) and only then marks them published. If
//! publishing fails nothing is marked and the rows wait for the next attempt, with
//! backoff. At start it publishes whatever is left, so a restart loses nothing.
//!
//! Several replicas may run a relay against one database. On PostgreSQL a round runs
//! in one transaction holding a transaction-scoped advisory lock, so relays take turns
//! and rows go out in order; the claim (`UPDATE ... WHERE published_at IS NULL`) marks
//! each row once. A row that went out but whose marking failed goes out again, and a
//! second relay on one SQLite file may send a row twice: subscribers drop duplicates
//! by sequence.
//!
//! Gaps: on PostgreSQL a transaction may commit sequence 6 while 5 is still open. The
//! relay publishes nothing past a gap until it knows the gap is final: every
//! transaction that might still write an outbox row (see
//! [`store::outbox_writers`]) when the gap was seen has ended. Rolled-back sequences
//! thus cost one check; out-of-order commits wait for the earlier one.
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, TransactionTrait};
use tokio::sync::{watch, Notify};

use super::event::LiveEvent;
use super::hub::Hub;
use super::{store, EventBus, RedisBus};

/// Rows published per transaction.
const BATCH: u64 = 256;
/// Wait between attempts while another relay holds the lock or a gap is open: 1 ms,
/// growing by 1 ms per attempt to at most 5 ms (a round takes a few milliseconds).
const SPIN: Duration = Duration::from_millis(1);
const MAX_SPIN: u32 = 5;
/// Give up spinning after this many attempts and wait for the next wake or poll.
const MAX_SPINS: u32 = 200;

#[derive(Debug)]
pub enum RelayError {
    Database(DbErr),
    Bus(String),
}

impl std::fmt::Display for RelayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RelayError::Database(e) => write!(f, "database: {e}"),
            RelayError::Bus(e) => write!(f, "bus: {e}"),
        }
    }
}

impl From<DbErr> for RelayError {
    fn from(e: DbErr) -> Self {
        RelayError::Database(e)
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Round {
    /// Nothing unpublished.
    Idle,
    /// Published some rows; `more` when another round may find more at once.
    Published { more: bool },
    /// Another replica's relay holds the lock, or a gap is still open.
    Wait,
}

/// A gap seen below `below`, and the writers that were running when it was seen.
struct OpenGap {
    below: i64,
    writers: Vec<String>,
}

pub struct Relay {
    db: DatabaseConnection,
    bus: EventBus,
    hub: Hub,
    wake: Arc<Notify>,
    poll: Duration,
    /// Every sequence at or below it is committed or will never be.
    resolved: i64,
    open_gap: Option<OpenGap>,
    /// Batches for this replica's hub, taken by the fan-out task [`Relay::run`] starts
    /// (the receiving end waits here until then).
    local: tokio::sync::mpsc::Sender<Vec<LiveEvent>>,
    batches: Option<tokio::sync::mpsc::Receiver<Vec<LiveEvent>>>,
}

/// Batches waiting for this replica's hub; past it a batch is skipped, and the hub
/// reads it from the outbox when the next one shows the gap (or the reconciliation
/// does).
const LOCAL_BATCHES: usize = 64;

/// Aborts a task when dropped.
pub(super) struct AbortOnDrop(pub(super) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Retry delay after `failures` consecutive failures: 50 ms doubling to 2 s.
pub fn backoff(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(6);
    Duration::from_millis(50u64 << exponent).min(Duration::from_secs(2))
}

pub async fn publish_to_redis(bus: &RedisBus, events: &[LiveEvent]) -> Result<(), String> {
    let message = serde_json::to_string(events).map_err(|e| e.to_string())?;
    let mut connection = bus.connection.clone();
    let mut command = redis::cmd("PUBLISH");
    command.arg(bus.channel()).arg(message);
    let publish = command.query_async::<i64>(&mut connection);
    match tokio::time::timeout(Duration::from_secs(3), publish).await {
        Ok(Ok(_receivers)) => Ok(()),
        Ok(Err(e)) => Err(format!("redis PUBLISH failed: {}", e.category())),
        Err(_) => Err("redis PUBLISH timed out".into()),
    }
}

impl Relay {
    pub fn new(
        db: DatabaseConnection,
        bus: EventBus,
        hub: Hub,
        wake: Arc<Notify>,
        poll: Duration,
    ) -> Self {
        let (local, batches) = tokio::sync::mpsc::channel(LOCAL_BATCHES);
        Relay {
            db,
            bus,
            hub,
            wake,
            poll,
            resolved: 0,
            open_gap: None,
            local,
            batches: Some(batches),
        }
    }

    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        // This replica's subscribers get each batch from a task of its own: the hub
        // paces its wake-ups (see `hub.rs`), and the relay neither waits for that nor
        // holds its lock meanwhile.
        let mut batches = self.batches.take();
        let hub = self.hub.clone();
        let _fanning_out = AbortOnDrop(tokio::spawn(async move {
            let Some(batches) = batches.as_mut() else {
                return;
            };
            while let Some(events) = batches.recv().await {
                if let Err(e) = hub.ingest(events).await {
                    tracing::warn!(error = %e, "hub could not take relayed events");
                }
            }
        }));
        let mut failures: u32 = 0;
        loop {
            let mut spins = 0;
            loop {
                if *shutdown.borrow() {
                    return;
                }
                match self.round().await {
                    Ok(Round::Idle) => break,
                    Ok(Round::Published { more }) => {
                        if failures > 0 {
                            tracing::info!(after_failures = failures, "outbox relay recovered");
                            failures = 0;
                        }
                        if !more {
                            break;
                        }
                    }
                    Ok(Round::Wait) => {
                        spins += 1;
                        if spins > MAX_SPINS {
                            break;
                        }
                        tokio::time::sleep(SPIN * spins.min(MAX_SPIN)).await;
                    }
                    Err(e) => {
                        failures += 1;
                        if failures == 1 || failures % 50 == 0 {
                            tracing::warn!(error = %e, failures, "outbox relay cannot publish; retrying");
                        }
                        tokio::select! {
                            () = tokio::time::sleep(backoff(failures)) => {}
                            _ = shutdown.changed() => return,
                        }
                    }
                }
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.poll) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Hands `events` to this replica's hub through the fan-out task; a full queue
    /// skips them (the hub fills the gap from the outbox).
    fn hand_to_hub(&self, events: &[LiveEvent]) {
        if self.local.try_send(events.to_vec()).is_err() {
            tracing::debug!("local fan-out behind; the hub will read these from the outbox");
        }
    }

    async fn round(&mut self) -> Result<Round, RelayError> {
        if self.db.get_database_backend() != DbBackend::Postgres {
            // SQLite: plain statements. A read transaction upgraded to a write fails
            // whenever another writer committed meanwhile, and holding SQLite's one
            // write lock while waiting on Redis would stall every mutation.
            let db = self.db.clone();
            return self.round_on(&db, false).await;
        }
        let txn = self.db.begin().await?;
        // The claim does not wait for its WAL flush (see `try_relay_lock`): the lock is
        // held that much shorter, and the disk is left to the mutations' commits.
        if !store::try_relay_lock(&txn).await? {
            txn.rollback().await?;
            return Ok(Round::Wait);
        }
        match self.round_on(&txn, true).await {
            Ok(round) => {
                txn.commit().await?;
                Ok(round)
            }
            Err(e) => {
                let _ = txn.rollback().await;
                Err(e)
            }
        }
    }

    async fn round_on<C: ConnectionTrait>(
        &mut self,
        db: &C,
        postgres: bool,
    ) -> Result<Round, RelayError> {
        // A resolved gap changes what is publishable: read again (bounded).
        for _ in 0..4 {
            let rows = store::unpublished(db, BATCH).await?;
            let Some(first) = rows.first() else {
                return Ok(Round::Idle);
            };
            // Everything this replica's hub has taken in is final too (the relay that
            // published it had checked). Only a first row beyond what is known final
            // needs a look below it.
            self.resolved = self.resolved.max(self.hub.watermark());
            let mut expected = if !postgres || first.seq <= self.resolved + 1 {
                first.seq
            } else {
                match store::max_below(db, first.seq).await? {
                    Some(previous) => previous + 1,
                    None => 1,
                }
            };
            let full = rows.len() as u64 == BATCH;
            let mut publishable = Vec::new();
            let mut blocked_at = None;
            for row in rows {
                // SQLite serialises writers: a committed row never has an open
                // transaction below it, so every gap there is final.
                if !postgres || row.seq == expected || row.seq <= self.resolved + 1 {
                    expected = row.seq + 1;
                    publishable.push(row);
                } else {
                    blocked_at = Some(row.seq);
                    break;
                }
            }
            if let Some(below) = blocked_at {
                if self.gap_is_final(db, below).await? {
                    self.resolved = self.resolved.max(below - 1);
                    self.open_gap = None;
                    continue;
                }
                if publishable.is_empty() {
                    return Ok(Round::Wait);
                }
            }
            let seqs: Vec<i64> = publishable.iter().map(|r| r.seq).collect();
            let events: Vec<LiveEvent> = publishable.into_iter().map(LiveEvent::from).collect();
            // This replica's subscribers first: they need not wait for the round trip
            // through Redis (the copy coming back is dropped as a duplicate), and they
            // get their events while Redis is down.
            self.hand_to_hub(&events);
            if let EventBus::Redis(bus) = &self.bus {
                publish_to_redis(bus, &events)
                    .await
                    .map_err(RelayError::Bus)?;
            }
            // Marked only once out; on PostgreSQL the advisory lock makes the claim
            // exclusive, on SQLite a concurrent relay may have sent some of them too
            // (subscribers drop the duplicates).
            store::claim(db, &seqs).await?;
            if let Some(last) = seqs.last() {
                self.resolved = self.resolved.max(*last);
            }
            return Ok(Round::Published {
                more: full || blocked_at.is_some(),
            });
        }
        Ok(Round::Wait)
    }

    /// Whether no sequence below `below` can still be committed (PostgreSQL).
    async fn gap_is_final<C: ConnectionTrait>(
        &mut self,
        txn: &C,
        below: i64,
    ) -> Result<bool, DbErr> {
        if let Some(gap) = &self.open_gap {
            if gap.below == below {
                return Ok(store::writers_still_running(txn, &gap.writers).await? == 0);
            }
        }
        let writers = store::outbox_writers(txn).await?;
        if writers.is_empty() {
            return Ok(true);
        }
        self.open_gap = Some(OpenGap { below, writers });
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(50));
        assert_eq!(backoff(2), Duration::from_millis(100));
        assert_eq!(backoff(30), Duration::from_secs(2));
    }
}
