//! The PostgreSQL pool hands out a connection used within the last
//! `db::ALIVE_BYPASS_WINDOW` without pinging it first, and pings an older one: a
//! connection the server dropped while it sat idle is replaced before a request meets it,
//! and one met within the window answers a retryable UNAVAILABLE, never INTERNAL.
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

use crate::helpers::{require_postgres, TestApp};

/// What a server restart or a firewall's idle timeout does: every connection of the
/// gateway's pools is closed by the server (only this test's database is touched).
async fn end_the_gateways_connections(app: &TestApp) {
    let other: DatabaseConnection = Database::connect(&app.database_url).await.unwrap();
    let ended = other
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND backend_type = 'client backend'",
        )
        .await
        .unwrap();
    assert!(ended.rows_affected() >= 1, "the gateway had a connection");
    other.close().await.unwrap();
}

#[tokio::test]
async fn connections_the_server_dropped_while_idle_are_replaced_unseen() {
    if require_postgres("connections_the_server_dropped_while_idle_are_replaced_unseen").is_none() {
        return;
    }
    let app = TestApp::spawn().await;
    let count = "{ townships { totalCount } }";
    let before = app.gql(count).send().await.data().clone();
    end_the_gateways_connections(&app).await;
    // The scenario: the pool stays idle for longer than the window.
    tokio::time::sleep(smart_npc::db::ALIVE_BYPASS_WINDOW + std::time::Duration::from_millis(300))
        .await;
    let after = app.gql(count).send().await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(after.data(), &before);
}

#[tokio::test]
async fn a_connection_ended_by_the_server_within_the_window_is_a_retryable_error() {
    if require_postgres("a_connection_ended_by_the_server_within_the_window_is_a_retryable_error")
        .is_none()
    {
        return;
    }
    let app = TestApp::spawn().await;
    let count = "{ townships { totalCount } }";
    let before = app.gql(count).send().await.data().clone();
    end_the_gateways_connections(&app).await;
    // At once: the connection the first request used may be handed out unpinged. The
    // client gets the answer (a pinged or new connection) or UNAVAILABLE, which tells it
    // that nothing ran and it may retry; never an INTERNAL error.
    let at_once = app.gql(count).send().await;
    let Some(code) = at_once.error_code() else {
        assert_eq!(at_once.data(), &before);
        return;
    };
    assert_eq!(code, "UNAVAILABLE", "{}", at_once.body);
    // As the error tells the client: the same request after `retryAfter` seconds runs.
    let wait = at_once.body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .expect("retryAfter");
    assert!(
        wait >= smart_npc::db::ALIVE_BYPASS_WINDOW.as_secs(),
        "{wait}"
    );
    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    let after = app.gql(count).send().await;
    assert_eq!(after.data(), &before);
}
