//! Database connection and migration.

pub mod paging;
pub mod write;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::{
    self,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqlitePoolOptions},
};
use sea_orm::{DatabaseConnection, DbErr, RuntimeErr, SqlxPostgresConnector, SqlxSqliteConnector};

use crate::config::{redact_url, Settings};

/// A pooled connection used this recently is handed out without a ping first
/// (HikariCP's `aliveBypassWindowMs`, 500 ms there): a connection that just answered is
/// alive, and the ping was a second round trip for every statement of a cheap request.
/// An older one is still pinged, so connections left idle while the server restarted or
/// a firewall dropped them are replaced before a request meets them; a connection used
/// within the window when the server ended it answers its next statement with a
/// retryable UNAVAILABLE (`error::is_unavailable`), once.
pub const ALIVE_BYPASS_WINDOW: Duration = Duration::from_secs(1);

/// The options of every PostgreSQL pool of the gateway (the requests' one here, the live
/// machinery's in `events`): pinged before use only past [`ALIVE_BYPASS_WINDOW`].
pub fn postgres_pool_options(max_connections: u32, acquire_timeout: Duration) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for < ALIVE_BYPASS_WINDOW {
                    return Ok(true);
                }
                // `false` (not an error) for a dead one: sqlx then opens another, and logs
                // it at `info`, as its own ping did, rather than a warning per connection.
                Ok(sqlx::Connection::ping(connection).await.is_ok())
            })
        })
}

/// The options of every SQLite pool: a file has no server that could have dropped the
/// connection, so no ping before use (each was a round trip through the connection's
/// worker thread).
pub fn sqlite_pool_options(max_connections: u32, acquire_timeout: Duration) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(false)
}

pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, String> {
    if settings.is_sqlite() {
        connect_sqlite(settings).await
    } else {
        connect_postgres(settings).await
    }
    .map_err(|e| describe_connect_error(&settings.database_url, &e))
}

fn conn_error(error: sqlx::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::SqlxError(error))
}

/// The pools are built here rather than by `Database::connect`, which has no hook to
/// skip the ping of a connection that was just used ([`ALIVE_BYPASS_WINDOW`]).
async fn connect_sqlite(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let options: SqliteConnectOptions = settings.database_url.parse().map_err(conn_error)?;
    // One writer at a time is SQLite's nature; a small pool avoids lock storms.
    let pool = sqlite_pool_options(
        settings.database_max_connections.min(4),
        settings.database_acquire_timeout,
    )
    .connect_with(log_statements(options, settings))
    .await
    .map_err(conn_error)?;
    let db = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
    // WAL lets readers proceed while a writer commits; the mode is stored in the file,
    // so setting it through one pooled connection is enough. (sqlx already enables
    // foreign keys and a 5 s busy timeout on every connection.)
    use sea_orm::ConnectionTrait;
    db.execute_unprepared("PRAGMA journal_mode = WAL").await?;
    Ok(db)
}

async fn connect_postgres(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let options: PgConnectOptions = settings.database_url.parse().map_err(conn_error)?;
    let pool = postgres_pool_options(
        settings.database_max_connections,
        settings.database_acquire_timeout,
    )
    .connect_with(log_statements(options, settings))
    .await
    .map_err(conn_error)?;
    Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
}

/// With traces, each statement (SQL with `$1` placeholders; values are bound, never in
/// the text) is a `debug` event of the span that ran it: exported with traces, left out
/// of the log unless `RUST_LOG` asks for `sqlx::query=debug`. Without, none.
fn log_statements<O: sqlx::ConnectOptions>(options: O, settings: &Settings) -> O {
    if settings.traces.is_some() {
        options
            .log_statements(log::LevelFilter::Debug)
            .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1))
    } else {
        options.disable_statement_logging()
    }
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

/// Applies pending migrations, one process at a time (see [`StartLock`]).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    let lock = StartLock::acquire(db).await?;
    let migrated = Migrator::up(db, None).await;
    lock.release().await;
    migrated
}

/// Migrates and, when `demo_password` is given and the database is empty, seeds the
/// demo data, all under one [`StartLock`]: replicas starting together on an empty
/// database take turns, the first migrates and seeds, the others find it done.
pub async fn migrate_and_seed(
    db: &DatabaseConnection,
    demo_password: Option<&str>,
) -> Result<Option<crate::seed::SeedReport>, String> {
    let lock = StartLock::acquire(db)
        .await
        .map_err(|e| format!("cannot take the migration lock: {e}"))?;
    let prepared = async {
        Migrator::up(db, None)
            .await
            .map_err(|e| format!("migration failed: {e}"))?;
        match demo_password {
            Some(password) => crate::seed::seed_demo(db, password)
                .await
                .map_err(|e| format!("seeding failed: {e:?}")),
            None => Ok(None),
        }
    }
    .await;
    lock.release().await;
    prepared
}

/// With `MIGRATE_ON_START=false`: `Ok` when the database holds every migration this
/// binary knows, else the one line that tells the operator to run `smart-npc migrate`.
/// A database ahead of the binary (a newer release migrated it: a rolling upgrade under
/// way) is served, with a note in the log; a migration only adds, so the older code
/// still works on it. Read under the [`StartLock`] (the read creates SeaORM's
/// bookkeeping table when it is missing, which replicas starting together must not
/// race on).
pub async fn ensure_migrated(db: &DatabaseConnection) -> Result<(), String> {
    let lock = StartLock::acquire(db)
        .await
        .map_err(|e| format!("cannot take the migration lock: {e}"))?;
    let applied = Migrator::get_migration_models(db).await;
    lock.release().await;
    let applied: std::collections::HashSet<String> = applied
        .map_err(|e| format!("cannot read the migration status: {e}"))?
        .into_iter()
        .map(|m| m.version)
        .collect();
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let pending: Vec<&str> = known
        .iter()
        .filter(|name| !applied.contains(*name))
        .map(String::as_str)
        .collect();
    let newer = applied.iter().filter(|v| !known.contains(v)).count();
    if newer > 0 {
        tracing::info!(
            newer,
            "the database holds migrations of a newer release; serving on it"
        );
    }
    if pending.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the database lacks {} migration(s) ({}) and MIGRATE_ON_START is off: run `smart-npc migrate` first",
        pending.len(),
        pending.join(", ")
    ))
}

/// Held while one process migrates (and seeds): `sea-orm-migration` takes no lock of
/// its own, so replicas starting together on an empty database would each find the
/// migrations pending and collide (`duplicate key ... pg_type_typname_nsp_index` on
/// PostgreSQL; "table already exists" on SQLite, where migrations run without a
/// transaction).
///
/// * PostgreSQL: a session advisory lock, taken on a connection of its own (not one
///   of the pool, which the migrations use, and which may hold a single connection).
///   The server releases it when that connection ends, so a replica that dies while
///   holding it does not block the others.
/// * SQLite: an exclusive `flock` on `<database file>.lock` beside the database
///   (created once and left in place: removing it would let two processes lock two
///   different files). SQLite's own locks do not suffice: they last one transaction,
///   and the migrations are many. The kernel releases the lock with the process.
///   The lock file is never the database file itself: closing any descriptor of the
///   database would drop SQLite's own POSIX locks in this process.
pub struct StartLock {
    held: Held,
}

enum Held {
    Postgres(sea_orm::sqlx::PgConnection),
    #[cfg(unix)]
    File(std::fs::File),
    Nothing,
}

/// The advisory lock's key: any constant the application owns ("smart-npc start").
const START_LOCK_KEY: i64 = 0x736d_6172_746e_7063;

impl StartLock {
    /// Waits until no other process migrates this database.
    pub async fn acquire(db: &DatabaseConnection) -> Result<StartLock, DbErr> {
        use sea_orm::ConnectionTrait;
        let held = match db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => Held::Postgres(Self::advisory_lock(db).await?),
            #[cfg(unix)]
            sea_orm::DatabaseBackend::Sqlite => match sqlite_file(db) {
                Some(path) => Held::File(Self::file_lock(path).await?),
                None => Held::Nothing,
            },
            _ => Held::Nothing,
        };
        Ok(StartLock { held })
    }

    async fn advisory_lock(db: &DatabaseConnection) -> Result<sea_orm::sqlx::PgConnection, DbErr> {
        use sea_orm::sqlx::{self, Connection};
        let sqlx_error = |e: sqlx::Error| DbErr::Custom(format!("migration lock: {e}"));
        let options = db.get_postgres_connection_pool().connect_options();
        let mut connection = sqlx::PgConnection::connect_with(&options)
            .await
            .map_err(sqlx_error)?;
        let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(START_LOCK_KEY)
            .fetch_one(&mut connection)
            .await
            .map_err(sqlx_error)?;
        if !free {
            tracing::info!("another process is migrating the database; waiting for it");
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(START_LOCK_KEY)
                .execute(&mut connection)
                .await
                .map_err(sqlx_error)?;
        }
        Ok(connection)
    }

    #[cfg(unix)]
    async fn file_lock(database: std::path::PathBuf) -> Result<std::fs::File, DbErr> {
        let mut name = database.into_os_string();
        name.push(".lock");
        let path = std::path::PathBuf::from(name);
        let locked = tokio::task::spawn_blocking(move || {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            use rustix::fs::{flock, FlockOperation};
            if flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
                tracing::info!("another process is migrating the database; waiting for it");
                flock(&file, FlockOperation::LockExclusive)
                    .map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
            }
            Ok::<_, String>(file)
        })
        .await
        .map_err(|e| DbErr::Custom(format!("migration lock: {e}")))?;
        locked.map_err(|e| DbErr::Custom(format!("migration lock: {e}")))
    }

    /// Lets the next process in.
    pub async fn release(self) {
        match self.held {
            Held::Postgres(mut connection) => {
                use sea_orm::sqlx::{self, Connection};
                let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(START_LOCK_KEY)
                    .execute(&mut connection)
                    .await;
                if let Err(e) = unlocked {
                    tracing::warn!(error = %e, "cannot release the migration lock; closing its connection");
                }
                // Ending the session releases the lock in any case.
                let _ = connection.close().await;
            }
            // Closing the file releases the lock.
            #[cfg(unix)]
            Held::File(file) => drop(file),
            Held::Nothing => {}
        }
    }
}

/// The SQLite database's file, unless the database lives in memory.
pub fn sqlite_file(db: &DatabaseConnection) -> Option<std::path::PathBuf> {
    use sea_orm::ConnectionTrait;
    if db.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
        return None;
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let path = options.get_filename();
    let name = path.to_string_lossy();
    if name.is_empty() || name == ":memory:" || name.starts_with("file:sqlx-in-memory") {
        None
    } else {
        Some(path.to_path_buf())
    }
}

/// Makes a transaction that just began a writer. On SQLite it takes the write lock at
/// once (waiting out other writers with the busy timeout) instead of at its first
/// write, where a deferred transaction whose snapshot went stale could only fail.
pub async fn lock_for_write(txn: &sea_orm::DatabaseTransaction) -> Result<(), DbErr> {
    use sea_orm::ConnectionTrait;
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        // A write that changes nothing still takes the RESERVED lock.
        txn.execute_unprepared("UPDATE township SET id = id WHERE id = -1")
            .await?;
    }
    Ok(())
}
