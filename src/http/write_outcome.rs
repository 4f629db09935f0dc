//! What the transports tell a client about an operation's writes when it runs past
//! `REQUEST_TIMEOUT_MS` or part of its answer cannot be read (see
//! `db::write::WriteWatch`): a TIMEOUT or UNAVAILABLE that a client may retry blindly
//! only ever means that nothing was written.
use std::future::Future;
use std::time::Duration;

use async_graphql::{ErrorExtensionValues, Response};

use crate::db::write::WriteWatch;
use crate::graphql::metrics::{self, TimeoutOutcome};

/// How an operation ended against its timeout.
pub enum Ran<T> {
    Answered(T),
    /// Stopped; `write_committed`: a write of it had been committed.
    Stopped {
        write_committed: bool,
    },
}

/// Runs `operation` (already scoped by `watches`, one per operation it runs) until
/// `timeout`. Past it, an operation with no write open or committed is dropped; one
/// with a write gets one more `timeout` to answer with what it wrote (the wait stays
/// bounded: a batch whose first entry wrote cannot run its reads on for ever).
pub async fn within<T>(
    timeout: Duration,
    watches: &[WriteWatch],
    operation: impl Future<Output = T>,
) -> Ran<T> {
    tokio::pin!(operation);
    if let Ok(answer) = tokio::time::timeout(timeout, &mut operation).await {
        return Ran::Answered(answer);
    }
    if !watches.iter().any(WriteWatch::writing) {
        metrics::timed_out(TimeoutOutcome::Stopped);
        return Ran::Stopped {
            write_committed: false,
        };
    }
    metrics::timed_out(TimeoutOutcome::WaitedForWrite);
    tracing::warn!(
        timeout_ms = timeout.as_millis() as u64,
        "operation ran past its timeout while writing; waiting one more period for its answer"
    );
    match tokio::time::timeout(timeout, &mut operation).await {
        Ok(answer) => Ran::Answered(answer),
        Err(_) => Ran::Stopped {
            write_committed: watches.iter().any(WriteWatch::committed),
        },
    }
}

/// The message of a TIMEOUT.
pub fn timeout_message(write_committed: bool) -> &'static str {
    if write_committed {
        "变更已保存，但结果未能及时返回；请勿重复提交，重新查询即可 (the change was saved, but the answer took too long: read it back rather than sending it again)"
    } else {
        "请求处理超时，请稍后重试 (the operation took too long and was stopped; try again)"
    }
}

/// Marks an answer whose operation committed a write: an UNAVAILABLE error in it (a
/// part of the answer read back after the commit found no connection) says that the
/// change was saved, with `extensions.writeCommitted`.
pub fn mark_committed(response: &mut Response, watch: &WriteWatch) {
    if !watch.committed() {
        return;
    }
    for error in &mut response.errors {
        let extensions = error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        let unavailable = matches!(
            extensions.get("code"),
            Some(async_graphql::Value::String(code)) if code == "UNAVAILABLE"
        );
        if unavailable {
            error.message = "变更已保存，但部分结果暂时无法读取，请重新查询 (the change was saved, but part of the answer could not be read: read it back rather than sending it again)".into();
            extensions.set("writeCommitted", true);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use async_graphql::ErrorExtensions;
    use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

    use super::*;
    use crate::db::write::transaction;

    const PERIOD: Duration = Duration::from_millis(1500);

    async fn database() -> DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.expect("db");
        db.execute_unprepared("CREATE TABLE township (id INTEGER PRIMARY KEY)")
            .await
            .expect("table");
        db
    }

    /// A write that committed, then an answer that never comes.
    async fn commits_then_hangs(db: &DatabaseConnection) {
        transaction(db, |txn| async move {
            txn.execute_unprepared("INSERT INTO township (id) VALUES (1)")
                .await?;
            Ok(())
        })
        .await
        .expect("written");
        std::future::pending::<()>().await;
    }

    #[tokio::test]
    async fn an_operation_without_a_write_is_stopped_after_one_period() {
        let watch = WriteWatch::new();
        let started = Instant::now();
        let ran = within(
            PERIOD,
            std::slice::from_ref(&watch),
            watch.scope(std::future::pending::<()>()),
        )
        .await;
        assert!(matches!(
            ran,
            Ran::Stopped {
                write_committed: false
            }
        ));
        assert!(
            started.elapsed() < PERIOD * 2,
            "stopped after the first period"
        );
    }

    #[tokio::test]
    async fn a_committed_write_gets_one_more_period_and_then_says_so() {
        let db = database().await;
        let watch = WriteWatch::new();
        let started = Instant::now();
        let ran = within(
            PERIOD,
            std::slice::from_ref(&watch),
            watch.scope(commits_then_hangs(&db)),
        )
        .await;
        assert!(matches!(
            ran,
            Ran::Stopped {
                write_committed: true
            }
        ));
        assert!(started.elapsed() >= PERIOD * 2, "waited a second period");
    }

    #[tokio::test]
    async fn a_write_in_one_batch_entry_counts_for_the_batch() {
        let db = database().await;
        let (writer, reader) = (WriteWatch::new(), WriteWatch::new());
        let both = futures_util::future::join(
            writer.scope(commits_then_hangs(&db)),
            reader.scope(std::future::pending::<()>()),
        );
        let ran = within(PERIOD, &[writer.clone(), reader.clone()], both).await;
        assert!(matches!(
            ran,
            Ran::Stopped {
                write_committed: true
            }
        ));
        assert!(writer.committed() && !reader.committed());
    }

    #[tokio::test]
    async fn unavailable_after_a_commit_says_the_change_was_saved() {
        let db = database().await;
        let watch = WriteWatch::new();
        watch
            .scope(transaction(&db, |_| async { Ok(()) }))
            .await
            .expect("committed");
        let unavailable = crate::error::AppError::Unavailable.into_graphql();
        let other = async_graphql::Error::new("x").extend_with(|_, e| e.set("code", "NOT_FOUND"));
        let mut response = Response::from_errors(vec![
            unavailable.into_server_error(async_graphql::Pos::default()),
            other.into_server_error(async_graphql::Pos::default()),
        ]);
        mark_committed(&mut response, &WriteWatch::new());
        assert!(
            response.errors[0]
                .extensions
                .as_ref()
                .unwrap()
                .get("writeCommitted")
                .is_none(),
            "no write, no mark"
        );
        mark_committed(&mut response, &watch);
        let marked = response.errors[0].extensions.as_ref().unwrap();
        assert_eq!(
            marked.get("writeCommitted"),
            Some(&async_graphql::Value::from(true))
        );
        assert_eq!(
            marked.get("code"),
            Some(&async_graphql::Value::from("UNAVAILABLE"))
        );
        assert!(response.errors[0].message.contains("saved"));
        assert!(response.errors[1]
            .extensions
            .as_ref()
            .unwrap()
            .get("writeCommitted")
            .is_none());
    }
}
