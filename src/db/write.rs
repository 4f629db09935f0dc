//! The one way a use case writes: [`transaction`].
//!
//! A write use case reads what it decides on and writes what follows from it inside one
//! write transaction, and that transaction is tried again — from the first read — when
//! the database reports that two writers met ([`AppError::Contention`]: SQLite's busy
//! snapshot or busy timeout, PostgreSQL's serialization failure, deadlock or lock
//! timeout). Any other error is final and rolls everything back.
//!
//! Writers of one row take turns instead of failing: on SQLite the transaction holds
//! the database's write lock from its start (see [`crate::db::begin_write`]); on
//! PostgreSQL a body reads the row it is going to change with `lock_exclusive()`
//! (`SELECT … FOR UPDATE`, a no-op on SQLite), so a second writer waits for the first
//! to commit and then reads its result. A `version` the client sent is checked against
//! that current row: a stale one is CONFLICT.
use std::future::Future;
use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction};
use tracing::Instrument;

use crate::error::{retry_contention, AppError, AppResult};

/// How long a PostgreSQL write waits for a row lock before it gives up with 55P03
/// (contention: the transaction is tried again). SQLite's equivalent is the
/// connection's busy timeout (5 s, sqlx's default).
const LOCK_TIMEOUT: &str = "5s";

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
    let txn = crate::db::begin_write(db).await?;
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
    Ok(value)
}
