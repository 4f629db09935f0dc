//! Writes never fail for the wrong reason (issue 19, the dashboard's load run): a
//! mutation that has begun its write is answered with what it wrote even when it runs
//! past `REQUEST_TIMEOUT_MS` (a TIMEOUT then would invite a retry that writes twice),
//! and a request that gets no database connection in time is answered UNAVAILABLE —
//! retryable, nothing done — never INTERNAL.
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait, TransactionTrait};
use serde_json::{json, Value};

use crate::helpers::{Fixture, TestApp};
use crate::metrics::{scrape, value};

const SUBMIT: &str = "mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { trackingCode petition { id state } } }";

async fn a_station(app: &TestApp) -> String {
    let stations = app
        .gql("{ stations(first: 1) { nodes { id } } }")
        .send()
        .await;
    stations.data()["stations"]["nodes"][0]["id"]
        .as_str()
        .expect("a station")
        .to_owned()
}

async fn waited_for_write(app: &TestApp) -> f64 {
    let metrics = scrape(&app.client, &app.url("/metrics")).await;
    value(
        &metrics,
        "smart_npc_graphql_timeouts_total",
        &[("outcome", "waited_for_write")],
    )
}

#[tokio::test]
async fn a_write_that_runs_past_the_timeout_is_answered_with_what_it_wrote() {
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        // Long enough that the submission surely reaches its write within it however
        // busy the machine (the held lock is what keeps it running past it).
        .env("REQUEST_TIMEOUT_MS", "3000")
        .spawn()
        .await;
    let station = a_station(&app).await;
    let before = entity::petition::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    let counted = waited_for_write(&app).await;

    // Another writer holds what the submission must write: on SQLite the database's
    // write lock, on PostgreSQL the item table against inserts.
    let holder = app.db.begin().await.expect("begin");
    match holder.get_database_backend() {
        DatabaseBackend::Postgres => holder
            .execute_unprepared("LOCK TABLE petition IN SHARE ROW EXCLUSIVE MODE")
            .await
            .expect("lock"),
        _ => holder
            .execute_unprepared("UPDATE township SET id = id WHERE id = -1")
            .await
            .expect("write lock"),
    };
    let input = json!({
        "title": "路口信号灯故障",
        "content": "滨河路与建设街路口信号灯不亮，早晚高峰拥堵。",
        "stationId": station,
        "submitterName": "王小明",
        "submitterPhone": "13812345679",
    });
    let submission = {
        let (client, url) = (app.client.clone(), app.url("/graphql"));
        tokio::spawn(async move {
            let response = client
                .post(url)
                .json(&json!({ "query": SUBMIT, "variables": { "i": input } }))
                .send()
                .await
                .expect("sent");
            (
                response.status().as_u16(),
                response.json::<Value>().await.expect("JSON"),
            )
        })
    };
    // Let go once the gateway has seen the write run past its timeout (it says so on
    // /metrics). Waiting for that signal, not for a guessed time: the submission must be
    // blocked behind the lock when its timeout fires.
    let mut seen = false;
    for _ in 0..500 {
        if waited_for_write(&app).await > counted {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    holder.rollback().await.expect("release");
    assert!(seen, "the timeout never fired while the write waited");

    let (status, body) = submission.await.expect("joined");
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "answered with errors: {body}");
    let code = body["data"]["submitPetition"]["trackingCode"]
        .as_str()
        .expect("the tracking code of what was written");
    let after = entity::petition::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(after, before + 1, "written exactly once");
    let tracked = app
        .gql("query($c: String!) { trackPetition(trackingCode: $c) { status { state } } }")
        .vars(json!({ "c": code }))
        .send()
        .await;
    assert_eq!(
        tracked.data()["trackPetition"]["status"]["state"],
        json!("SUBMITTED")
    );
}

#[tokio::test]
async fn no_database_connection_in_time_is_unavailable_not_internal() {
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("DATABASE_MAX_CONNECTIONS", "1")
        .env("DATABASE_ACQUIRE_TIMEOUT_MS", "100")
        .spawn()
        .await;
    let token = app.token("admin").await;
    let holder = app.db.begin().await.expect("the only connection");

    let read = app.gql("{ townships { totalCount } }").send().await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.error_code(), Some("UNAVAILABLE"), "{}", read.body);
    assert_eq!(read.body["errors"][0]["extensions"]["retryAfter"], json!(1));
    assert!(!read.body.to_string().contains("pool"), "{}", read.body);

    // The session check itself finds no connection: 503, the same code.
    let signed_in = app
        .gql("{ me { login } }")
        .bearer(Some(&token))
        .send()
        .await;
    assert_eq!(signed_in.status, 503, "{}", signed_in.body);
    assert_eq!(signed_in.error_code(), Some("UNAVAILABLE"));
    let raw = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ me { login } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 503);
    assert_eq!(raw.headers()["retry-after"], "1");
    assert!(raw.headers().get("www-authenticate").is_none());

    holder.rollback().await.expect("release");
    let read = app.gql("{ townships { totalCount } }").send().await;
    assert!(read.data()["townships"]["totalCount"].as_u64().unwrap() > 0);
}
