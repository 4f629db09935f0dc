//! The one way a use case writes: [`transaction`].
//!
//! A write use case reads what it decides on and writes what follows from it inside one
//! write transaction, and that transaction is tried again — from the first read — when
//! the database reports that two writers met ([`AppError::Contention`]: SQLite's busy
//! snapshot or busy timeout, PostgreSQL's serialization failure, deadlock or lock
//! timeout). Any other error is final and rolls everything back.
//!
//! Writers of one row take turns instead of failing: on SQLite the transaction holds
//! the database's write lock from its start (see [`crate::db::lock_for_write`]); on
//! PostgreSQL a body reads the row it is going to change with `lock_exclusive()`
//! (`SELECT … FOR UPDATE`, a no-op on SQLite), so a second writer waits for the first
//! to commit and then reads its result. A `version` the client sent is checked against
//! that current row: a stale one is CONFLICT.
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction};
use tracing::Instrument;

use crate::error::{retry_contention, AppError, AppResult};

/// How long a PostgreSQL write waits for a row lock before it gives up with 55P03
/// (contention: the transaction is tried again). SQLite's equivalent is the
/// connection's busy timeout (5 s, sqlx's default).
const LOCK_TIMEOUT: &str = "5s";

tokio::task_local! {
    static WATCH: WriteWatch;
}

/// Tells the transport running an operation about its writes, so that its request
/// timeout never abandons a write it cannot take back, and its answer never invites a
/// retry that would write twice. Past the timeout, an operation with no write open and
/// none committed is stopped (TIMEOUT: nothing was written, try again); one with a
/// write open or committed gets one more period to answer with what it wrote, and if it
/// still has not, its TIMEOUT says whether a write was committed. An answer whose
/// operation committed a write marks the errors that would otherwise read as "nothing
/// was done" (UNAVAILABLE while reading the answer back). See `http::write_outcome`.
///
/// A write is *open* from the moment its transaction began (a pooled connection and
/// `BEGIN` are behind it; waiting for them is safely dropped) until it committed or
/// rolled back. The transport runs the operation inside [`WriteWatch::scope`] (or
/// polls it inside [`WriteWatch::sync_scope`]); [`transaction`] marks it. A
/// task-local rather than an argument: every write use case goes through
/// `transaction`, and none of them needs to know about transports.
#[derive(Clone, Default)]
pub struct WriteWatch(Arc<Writes>);

#[derive(Default)]
struct Writes {
    open: AtomicUsize,
    committed: AtomicBool,
}

impl WriteWatch {
    pub fn new() -> Self {
        WriteWatch::default()
    }

    /// Whether a write of the operation is open now, or committed.
    pub fn writing(&self) -> bool {
        self.0.open.load(Ordering::Acquire) > 0 || self.committed()
    }

    /// Whether the operation committed a write.
    pub fn committed(&self) -> bool {
        self.0.committed.load(Ordering::Acquire)
    }

    /// Runs `future` watched by this watch.
    pub async fn scope<F: Future>(&self, future: F) -> F::Output {
        WATCH.scope(self.clone(), future).await
    }

    /// Runs `f` (one poll of an operation) watched by this watch.
    pub fn sync_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        WATCH.sync_scope(self.clone(), f)
    }
}

/// An open write of the watched operation (if any), until dropped.
struct OpenWrite(Option<WriteWatch>);

impl OpenWrite {
    fn enter() -> Self {
        let watch = WATCH.try_with(WriteWatch::clone).ok();
        if let Some(watch) = &watch {
            watch.0.open.fetch_add(1, Ordering::AcqRel);
        }
        OpenWrite(watch)
    }

    fn committed(&self) {
        if let Some(watch) = &self.0 {
            watch.0.committed.store(true, Ordering::Release);
        }
    }
}

impl Drop for OpenWrite {
    fn drop(&mut self) {
        if let Some(watch) = &self.0 {
            watch.0.open.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Runs `body` in a write transaction and commits what it did; on contention the
/// transaction is rolled back and `body` runs again (a bounded number of times, see
/// [`retry_contention`]). `body` does its reads through the transaction it is given
/// (`let txn = &*txn;`), keeps no clone of it, and leaves effects outside the database
/// (rate limits, notifications, password hashing) to its caller.
///
/// ```ignore
/// write::transaction(db, |txn| async move {
///     let txn = &*txn;
///     let row = entity::Entity::find_by_id(id).lock_exclusive().one(txn).await?;
///     // ... decide, then write through `txn`
///     Ok(row)
/// })
/// .await
/// ```
pub async fn transaction<T, F, Fut>(db: &DatabaseConnection, body: F) -> AppResult<T>
where
    F: Fn(Arc<DatabaseTransaction>) -> Fut,
    Fut: Future<Output = AppResult<T>>,
{
    let body = &body;
    // A span for traces only (`otel::` targets stay out of the log): each attempt's
    // statements are its events.
    let span = tracing::info_span!(
        target: "otel::db",
        "db.transaction",
        otel.kind = "client",
        db.system = match db.get_database_backend() {
            DatabaseBackend::Postgres => "postgresql",
            _ => "sqlite",
        },
    );
    retry_contention(move || attempt(db, body))
        .instrument(span)
        .await
}

async fn attempt<T, F, Fut>(db: &DatabaseConnection, body: &F) -> AppResult<T>
where
    F: Fn(Arc<DatabaseTransaction>) -> Fut,
    Fut: Future<Output = AppResult<T>>,
{
    let txn = sea_orm::TransactionTrait::begin(db).await?;
    // From here the operation's answer waits for this write (see `WriteWatch`).
    let open = OpenWrite::enter();
    crate::db::lock_for_write(&txn).await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_unprepared(&format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            .await?;
    }
    let txn = Arc::new(txn);
    // An error drops the transaction, which rolls it back.
    let value = body(Arc::clone(&txn)).await?;
    let txn = Arc::into_inner(txn)
        .ok_or_else(|| AppError::internal("a write transaction outlived its body"))?;
    txn.commit().await?;
    open.committed();
    Ok(value)
}
