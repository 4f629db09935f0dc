//! Database connection and migration.
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::{redact_url, Settings};

pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, String> {
    let mut options = ConnectOptions::new(settings.database_url.clone());
    options
        .max_connections(if settings.is_sqlite() {
            // One writer at a time is SQLite's nature; a small pool avoids lock storms.
            settings.database_max_connections.min(4)
        } else {
            settings.database_max_connections
        })
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .map_err(|e| describe_connect_error(&settings.database_url, &e))?;
    if settings.is_sqlite() {
        use sea_orm::ConnectionTrait;
        // WAL lets readers proceed while a writer commits; the mode is stored in the
        // file, so setting it through one pooled connection is enough. (sqlx already
        // enables foreign keys and a 5 s busy timeout on every connection.)
        db.execute_unprepared("PRAGMA journal_mode = WAL")
            .await
            .map_err(|e| describe_connect_error(&settings.database_url, &e))?;
    }
    Ok(db)
}

fn describe_connect_error(url: &str, error: &DbErr) -> String {
    let reason = match error {
        DbErr::Conn(inner) => inner.to_string(),
        other => other.to_string(),
    };
    format!(
        "cannot open database {}: {}",
        redact_url(url),
        reason.lines().next().unwrap_or("")
    )
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (waiting out other writers with the busy timeout) instead of at its first write,
/// where a deferred transaction whose snapshot went stale could only fail.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let txn = db.begin().await?;
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        // A write that changes nothing still takes the RESERVED lock.
        txn.execute_unprepared("UPDATE township SET id = id WHERE id = -1")
            .await?;
    }
    Ok(txn)
}
