//! Liveness and readiness.
use serde_json::Value;

use crate::helpers::{require_postgres, require_redis, TestApp};

#[tokio::test]
async fn healthz_and_readyz_answer_when_all_is_well() {
    let app = TestApp::spawn().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn readyz_is_503_when_the_database_pool_is_gone() {
    let app = TestApp::spawn().await;
    app.db.clone().close().await.unwrap();
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"], "database unreachable");
    // Liveness is not readiness.
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn readyz_is_503_when_the_postgres_database_is_dropped() {
    let Some(admin_url) = require_postgres("readyz_is_503_when_the_postgres_database_is_dropped")
    else {
        return;
    };
    let app = TestApp::spawn().await;
    assert_eq!(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let name = match sea_orm::ConnectionTrait::query_one(
        &app.db,
        sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT current_database() AS name",
        ),
    )
    .await
    .unwrap()
    {
        Some(row) => row.try_get::<String>("", "name").unwrap(),
        None => panic!("no database name"),
    };
    let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &admin,
        &format!("DROP DATABASE \"{name}\" WITH (FORCE)"),
    )
    .await
    .unwrap();
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "database unreachable", "{body}");
}

#[tokio::test]
async fn readyz_reports_an_unreachable_redis() {
    // Port 1 on loopback refuses connections: Redis "configured but down".
    let app = TestApp::builder()
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .spawn()
        .await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert!(
        body["events"]
            .as_str()
            .unwrap()
            .starts_with("redis unreachable"),
        "{body}"
    );
    // Queries still work while Redis is down.
    let r = app.gql("{ townships { totalCount } }").send().await;
    assert_eq!(r.data()["townships"]["totalCount"], 0);
}

#[tokio::test]
async fn readyz_is_ready_with_a_live_redis() {
    let Some(_) = require_redis("readyz_is_ready_with_a_live_redis") else {
        return;
    };
    let app = TestApp::spawn().await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["events"], "ok (redis)", "{body}");
}
