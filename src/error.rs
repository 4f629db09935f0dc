//! One error type for the whole gateway. Every variant has a stable machine code that
//! clients switch on (`extensions.code`); internal details are logged, never returned.
//!
//! `AppError` deliberately does not implement `Display`: async-graphql converts any
//! `Display` type into a client-visible error message, and we want the only way from an
//! `AppError` to a GraphQL error to be [`AppError::into_graphql`], which masks internals.
use std::fmt;

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

#[derive(Clone, PartialEq, Eq)]
pub enum AppError {
    /// No (valid) credentials where they are required. `reason` tells clients why
    /// (`extensions.reason`): INVALID_CREDENTIALS, TOKEN_EXPIRED, TOKEN_INVALID,
    /// SESSION_REVOKED, REFRESH_TOKEN_REUSED, SIGN_IN_REQUIRED.
    Unauthenticated {
        message: String,
        reason: &'static str,
    },
    /// The actor is known but may not do this.
    Forbidden(String),
    NotFound(String),
    /// The input is malformed or violates a rule; `field` names the offending input.
    BadUserInput {
        message: String,
        field: Option<String>,
    },
    /// The request clashes with stored state (duplicate, stale version, ...).
    Conflict(String),
    /// Two writers met in the database (SQLite's busy snapshot, PostgreSQL's
    /// serialization failure). Shown as CONFLICT; services may retry it.
    Contention,
    /// A workflow step that is not allowed from the item's current state.
    InvalidTransition(String),
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// The database could not give this request a connection in time (every one busy,
    /// or the server unreachable): nothing was done, and trying again shortly can
    /// succeed. Shown as UNAVAILABLE with `extensions.retryAfter`.
    Unavailable,
    /// Anything the client cannot act on. The detail is logged, never sent.
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

/// How often a write transaction is tried again after contention, at most.
pub const CONTENTION_RETRIES: u64 = 6;

/// Maps a database error as usual, but gives a unique-constraint violation (CONFLICT)
/// the caller's own message: `.insert(txn).await.map_err(conflict_as("已存在 ..."))`.
pub fn conflict_as(message: &str) -> impl Fn(DbErr) -> AppError + '_ {
    move |e| match AppError::from(e) {
        AppError::Conflict(_) => AppError::Conflict(message.to_owned()),
        other => other,
    }
}

/// Runs `attempt` again (a few times, briefly backing off) while the database reports
/// contention between writers; any other outcome is returned as it is. Write use cases
/// get this through `db::write::transaction`.
pub async fn retry_contention<T, F, Fut>(mut attempt: F) -> AppResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = AppResult<T>>,
{
    let mut tries = 0u64;
    loop {
        match attempt().await {
            Err(AppError::Contention) if tries < CONTENTION_RETRIES => {
                tries += 1;
                tracing::debug!(tries, "write contention; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(10 * tries * tries)).await;
            }
            other => return other,
        }
    }
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated { .. } => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::BadUserInput { .. } => "BAD_USER_INPUT",
            AppError::Conflict(_) | AppError::Contention => "CONFLICT",
            AppError::InvalidTransition(_) => "INVALID_TRANSITION",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::Unavailable => "UNAVAILABLE",
            AppError::Internal(_) => "INTERNAL",
        }
    }

    /// The text a client may see.
    pub fn public_message(&self) -> &str {
        match self {
            AppError::Forbidden(m)
            | AppError::NotFound(m)
            | AppError::Conflict(m)
            | AppError::InvalidTransition(m) => m,
            AppError::BadUserInput { message, .. }
            | AppError::RateLimited { message, .. }
            | AppError::Unauthenticated { message, .. } => message,
            AppError::Contention => CONTENTION_MESSAGE,
            AppError::Unavailable => UNAVAILABLE_MESSAGE,
            AppError::Internal(_) => INTERNAL_MESSAGE,
        }
    }

    pub fn bad_input(field: &str, message: impl Into<String>) -> Self {
        AppError::BadUserInput {
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn unauthenticated(reason: &'static str, message: impl Into<String>) -> Self {
        AppError::Unauthenticated {
            message: message.into(),
            reason,
        }
    }

    pub fn sign_in_required() -> Self {
        AppError::unauthenticated("SIGN_IN_REQUIRED", "请先登录 (sign in first)")
    }

    pub fn forbidden() -> Self {
        AppError::Forbidden("无权执行此操作 (not permitted)".into())
    }

    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what}不存在 (not found)"))
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        AppError::Internal(detail.into())
    }

    /// When the same call may be tried again (a plain HTTP answer's `Retry-After`):
    /// over a rate limit, the database busy or two writers meeting.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            AppError::Unavailable | AppError::Contention => Some(UNAVAILABLE_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    pub fn into_graphql(self) -> async_graphql::Error {
        if let AppError::Internal(detail) = &self {
            tracing::error!(detail = %detail, "internal error");
        }
        let mut error = async_graphql::Error::new(self.public_message());
        error = error.extend_with(|_, ext| ext.set("code", self.code()));
        match &self {
            AppError::BadUserInput {
                field: Some(field), ..
            } => error.extend_with(|_, ext| ext.set("field", field.as_str())),
            AppError::RateLimited {
                retry_after_secs, ..
            } => error.extend_with(|_, ext| ext.set("retryAfter", *retry_after_secs)),
            AppError::Unavailable => {
                error.extend_with(|_, ext| ext.set("retryAfter", UNAVAILABLE_RETRY_AFTER_SECS))
            }
            AppError::Unauthenticated { reason, .. } => {
                error.extend_with(|_, ext| ext.set("reason", *reason))
            }
            _ => error,
        }
    }
}

pub const CONTENTION_MESSAGE: &str =
    "数据正被他人修改,请重试 (a concurrent change got there first; retry)";

pub const UNAVAILABLE_MESSAGE: &str =
    "服务繁忙，请稍后重试 (the service is busy; nothing was done, try again shortly)";

/// What `extensions.retryAfter` says for UNAVAILABLE: about one pool wait.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 1;

pub const INTERNAL_MESSAGE: &str = "服务器内部错误 (internal error)";

impl fmt::Debug for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Internal(detail) => write!(f, "INTERNAL: {detail}"),
            other => write!(f, "{}: {}", other.code(), other.public_message()),
        }
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        error.into_graphql()
    }
}

impl From<DbErr> for AppError {
    fn from(error: DbErr) -> Self {
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                tracing::info!(error = %error, "unique constraint violated");
                AppError::Conflict("记录已存在 (already exists)".into())
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                tracing::info!(error = %error, "foreign key violated");
                AppError::BadUserInput {
                    message: "引用的记录不存在或仍被使用 (a referenced record is missing or still in use)"
                        .into(),
                    field: None,
                }
            }
            _ if is_contention(&error) => {
                tracing::info!(error = %error, "write contention");
                AppError::Contention
            }
            _ if is_check_violation(&error) => {
                tracing::info!(error = %error, "check constraint violated");
                AppError::BadUserInput {
                    message: "输入不符合规则 (input violates a data rule)".into(),
                    field: None,
                }
            }
            _ if is_unavailable(&error) => {
                tracing::warn!(error = %error, "no database connection in time");
                AppError::Unavailable
            }
            _ => AppError::Internal(format!("database: {error}")),
        }
    }
}

/// The pool gave no connection within its acquire timeout, or a new connection to the
/// database could not be opened, or PostgreSQL answered that it ended the connection
/// (57P01 `admin_shutdown`: a restart or a terminated backend, met by a connection used
/// within `db::ALIVE_BYPASS_WINDOW` and so not pinged; 57P02, 57P03): the statement
/// never ran, or its transaction was rolled back. (An I/O error in the middle of a
/// statement is not this: the statement may have run, so it stays INTERNAL.)
fn is_unavailable(error: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    let server_ended_it = database_error(error)
        .filter(|e| {
            e.try_downcast_ref::<sea_orm::sqlx::postgres::PgDatabaseError>()
                .is_some()
        })
        .and_then(|e| e.code())
        .is_some_and(|code| matches!(code.as_ref(), "57P01" | "57P02" | "57P03"));
    server_ended_it
        || match error {
            DbErr::ConnectionAcquire(_) => true,
            DbErr::Conn(RuntimeErr::SqlxError(e)) => {
                matches!(e, Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::Io(_))
            }
            _ => false,
        }
}

fn database_error(error: &DbErr) -> Option<&dyn sea_orm::sqlx::error::DatabaseError> {
    match error {
        DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e))
        | DbErr::Conn(RuntimeErr::SqlxError(e)) => e.as_database_error(),
        _ => None,
    }
}

/// Two writers met, and trying again can succeed: SQLite's BUSY and LOCKED families
/// (primary result codes 5 and 6: the busy timeout ran out, or a snapshot went stale),
/// PostgreSQL's serialization failure (40001), deadlock (40P01) and lock not
/// available (55P03, the lock timeout).
fn is_contention(error: &DbErr) -> bool {
    use sea_orm::sqlx::{postgres::PgDatabaseError, sqlite::SqliteError};
    let Some(db) = database_error(error) else {
        return false;
    };
    let code = db.code();
    if db.try_downcast_ref::<SqliteError>().is_some() {
        let extended: Option<i32> = code.and_then(|c| c.parse().ok());
        return extended.is_some_and(|c| matches!(c & 0xff, 5 | 6));
    }
    if db.try_downcast_ref::<PgDatabaseError>().is_some() {
        return matches!(code.as_deref(), Some("40001" | "40P01" | "55P03"));
    }
    false
}

/// SeaORM classifies unique and foreign-key violations but not CHECK violations.
fn is_check_violation(error: &DbErr) -> bool {
    // PostgreSQL: SQLSTATE 23514 check_violation. SQLite: extended code 275
    // (SQLITE_CONSTRAINT_CHECK) and 1299 (SQLITE_CONSTRAINT_NOTNULL).
    database_error(error).is_some_and(|db| {
        matches!(
            db.code().as_deref(),
            Some("23514") | Some("23502") | Some("275") | Some("1299")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_expose_their_detail() {
        let error = AppError::internal("password=hunter2 at 10.0.0.1");
        let gql = error.into_graphql();
        assert!(!gql.message.contains("hunter2"));
        assert_eq!(gql.message, INTERNAL_MESSAGE);
        let code = gql.extensions.and_then(|e| e.get("code").cloned());
        assert_eq!(code, Some(async_graphql::Value::from("INTERNAL")));
    }

    #[test]
    fn every_variant_has_a_distinct_code() {
        let all = [
            AppError::sign_in_required(),
            AppError::Forbidden(String::new()),
            AppError::NotFound(String::new()),
            AppError::bad_input("x", ""),
            AppError::Conflict(String::new()),
            AppError::InvalidTransition(String::new()),
            AppError::Contention,
            AppError::RateLimited {
                message: String::new(),
                retry_after_secs: 1,
            },
            AppError::Unavailable,
            AppError::internal(""),
        ];
        let mut codes: Vec<_> = all.iter().map(AppError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        // Contention is a CONFLICT to clients; every other variant has its own code.
        assert_eq!(codes.len(), all.len() - 1);
    }

    /// SQLite refusing a writer because another holds the lock is contention (which the
    /// write helper retries), not a conflict with stored state.
    #[tokio::test]
    async fn a_busy_database_is_contention() {
        use sea_orm::{ConnectOptions, ConnectionTrait, Database, TransactionTrait};
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("busy.db").display());
        let connect = || {
            let mut options = ConnectOptions::new(url.clone());
            options.max_connections(1).sqlx_logging(false);
            Database::connect(options)
        };
        let (holder, other) = (connect().await.expect("db"), connect().await.expect("db"));
        holder
            .execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .expect("create");
        other
            .execute_unprepared("PRAGMA busy_timeout = 0")
            .await
            .expect("pragma");
        let txn = holder.begin().await.expect("begin");
        txn.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .expect("insert");
        let refused = other
            .execute_unprepared("INSERT INTO t VALUES (2)")
            .await
            .expect_err("the write lock is held");
        assert_eq!(AppError::from(refused), AppError::Contention);
        txn.rollback().await.expect("rollback");
    }

    /// A pool that gives no connection in time answers UNAVAILABLE (retryable, with
    /// `retryAfter`), not INTERNAL.
    #[tokio::test]
    async fn no_connection_in_time_is_unavailable_and_retryable() {
        use sea_orm::{ConnectOptions, ConnectionTrait, Database, TransactionTrait};
        let mut options = ConnectOptions::new("sqlite::memory:");
        options
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_millis(50))
            .sqlx_logging(false);
        let db = Database::connect(options).await.expect("db");
        let held = db.begin().await.expect("the only connection");
        let refused = db
            .execute_unprepared("SELECT 1")
            .await
            .expect_err("no connection left");
        let error = AppError::from(refused);
        assert_eq!(error, AppError::Unavailable);
        let gql = error.into_graphql();
        let ext = gql.extensions.expect("extensions");
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("UNAVAILABLE"))
        );
        assert_eq!(ext.get("retryAfter"), Some(&async_graphql::Value::from(1)));
        held.rollback().await.expect("rollback");
    }

    #[test]
    fn bad_input_names_the_field() {
        let gql = AppError::bad_input("first", "too many").into_graphql();
        let ext = gql.extensions.expect("extensions");
        assert_eq!(ext.get("field"), Some(&async_graphql::Value::from("first")));
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("BAD_USER_INPUT"))
        );
    }
}
