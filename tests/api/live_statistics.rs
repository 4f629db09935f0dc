//! `liveStatistics`: the figures of `statistics`, pushed when they change, one update
//! per burst; one watcher per scope and one resolution per identical operation.
use std::time::Duration;

use chrono::{Datelike, Utc};
use serde_json::{json, Value};

use crate::helpers::{Fixture, TestApp};
use crate::ws_client::{Frame, Ws, WAIT};

const FIGURES: &str = "itemsCollected itemsCompleted completionRate completedOnTime onTimeRate rated satisfactionRate averageHandlingHours overdueCount urgentCompleted suggestionsMade suggestionsAdopted byCategory { category { code } itemsCollected itemsCompleted }";

fn live_query() -> String {
    format!("subscription($s: ID) {{ liveStatistics(stationId: $s) {{ {FIGURES} }} }}")
}

/// The period `liveStatistics` uses by default: this year up to today (China time).
fn this_year() -> (String, String) {
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    (
        format!("{}-01-01", today.year()),
        today.format("%Y-%m-%d").to_string(),
    )
}

/// The same figures from the `statistics` query.
async fn queried(app: &TestApp, station: &Value) -> Value {
    let (from, to) = this_year();
    let query = format!(
        "query($f: Date!, $t: Date!, $s: ID) {{ statistics(from: $f, to: $t, stationId: $s) {{ {FIGURES} }} }}"
    );
    let r = app
        .gql(&query)
        .vars(json!({ "f": from, "t": to, "s": station }))
        .send()
        .await;
    r.data()["statistics"].clone()
}

async fn station_id(app: &TestApp, code: &str) -> Value {
    let r = app
        .gql("{ stations(first: 100) { nodes { id code } } }")
        .send()
        .await;
    r.data()["stations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == code)
        .map(|s| s["id"].clone())
        .unwrap_or_else(|| panic!("station {code}"))
}

async fn submit(app: &TestApp, citizen: &str, station: &Value, n: usize) {
    let r = app
        .gql("mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { trackingCode } }")
        .vars(json!({ "i": {
            "title": format!("滨河路第{n}盏路灯不亮"),
            "content": "滨河路北段路灯损坏，夜间出行不便，请尽快维修。",
            "stationId": station,
        }}))
        .bearer(Some(citizen))
        .send()
        .await;
    r.data();
}

/// Quiet for 2 s before recomputing: the burst below (mutations 300 ms apart) is one
/// burst even on a loaded CI machine.
async fn app() -> TestApp {
    TestApp::builder()
        .fixture(Fixture::Demo)
        .env("LIVE_STATISTICS_QUIET_MS", "2000")
        .env("LIVE_STATISTICS_MAX_DELAY_MS", "60000")
        .spawn()
        .await
}

#[tokio::test]
async fn a_burst_of_changes_gives_one_update_with_the_figures_of_the_statistics_query() {
    let app = app().await;
    let citizen = app.token("citizen").await;
    let deputy = app.token("deputy").await;
    let binhe = station_id(&app, "binhe").await;

    // Statistics are public: an anonymous dashboard may follow them.
    let mut dashboard = Ws::transport(app.addr).await;
    dashboard.init(None).await;
    dashboard
        .subscribe("s", &live_query(), json!({ "s": binhe }))
        .await;
    let initial = dashboard.next_data("s").await["liveStatistics"].clone();
    assert_eq!(
        initial,
        queried(&app, &binhe).await,
        "the current figures at once"
    );
    let before = initial["itemsCollected"].as_i64().unwrap();

    // A burst: five items collected one after another, each published on its own
    // (300 ms apart, longer than the relay's poll) and all within the quiet time.
    for n in 0..5 {
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        submit(&app, &citizen, &binhe, n).await;
    }
    let update = dashboard.next_data("s").await["liveStatistics"].clone();
    assert_eq!(
        update["itemsCollected"].as_i64().unwrap(),
        before + 5,
        "one update for the whole burst, not one per item: {update}"
    );
    assert_eq!(update, queried(&app, &binhe).await);

    // The next change is the next message: nothing of the burst was still queued.
    submit(&app, &citizen, &binhe, 5).await;
    let update = dashboard.next_data("s").await["liveStatistics"].clone();
    assert_eq!(update["itemsCollected"].as_i64().unwrap(), before + 6);
    assert_eq!(update, queried(&app, &binhe).await);

    // A suggestion made for the station moves `suggestionsMade`.
    let departments = app
        .gql("{ departments(first: 1) { nodes { id } } }")
        .send()
        .await;
    let department = departments.data()["departments"]["nodes"][0]["id"].clone();
    let made_before = update["suggestionsMade"].as_i64().unwrap();
    let r = app
        .gql("mutation($d: ID!, $s: ID) { submitSuggestion(title: \"增设路灯\", content: \"建议在滨河路北段增设太阳能路灯十盏。\", departmentId: $d, stationId: $s) { id } }")
        .vars(json!({ "d": department, "s": binhe }))
        .bearer(Some(&deputy))
        .send()
        .await;
    r.data();
    let update = dashboard.next_data("s").await["liveStatistics"].clone();
    assert_eq!(update["suggestionsMade"].as_i64().unwrap(), made_before + 1);
    assert_eq!(update, queried(&app, &binhe).await);

    // Items of another station do not concern this one: not even a recomputation.
    let computed = app.state.live_statistics.computations();
    let other = station_id(&app, "yixing_sanzhan").await;
    submit(&app, &citizen, &other, 0).await;
    assert!(
        dashboard
            .frame_within(Duration::from_millis(2500))
            .await
            .is_none(),
        "another station's item changed nothing here"
    );
    assert_eq!(app.state.live_statistics.computations(), computed);
    dashboard.close().await;
}

#[tokio::test]
async fn dashboards_of_one_scope_share_one_watcher_and_one_resolution() {
    let app = app().await;
    let citizen = app.token("citizen").await;
    let binhe = station_id(&app, "binhe").await;
    let other = station_id(&app, "yixing_sanzhan").await;

    let mut dashboards = Vec::new();
    for station in [&binhe, &binhe, &other] {
        let mut ws = Ws::transport(app.addr).await;
        ws.init(None).await;
        ws.subscribe("s", &live_query(), json!({ "s": station }))
            .await;
        ws.next_data("s").await;
        dashboards.push(ws);
    }
    assert_eq!(app.state.live_statistics.watchers(), 2, "one per scope");
    assert_eq!(
        app.state.ws_operations.len(),
        2,
        "one per distinct operation"
    );

    let resolved = app.state.ws_operations.resolutions();
    submit(&app, &citizen, &binhe, 0).await;
    let mut texts = Vec::new();
    for ws in &mut dashboards[..2] {
        texts.push(ws.json().await);
    }
    assert_eq!(texts[0], texts[1], "both got the same update");
    assert_eq!(
        app.state.ws_operations.resolutions(),
        resolved + 1,
        "resolved once for both"
    );
    assert!(dashboards[2]
        .frame_within(Duration::from_millis(2500))
        .await
        .is_none());

    for ws in dashboards {
        ws.close().await;
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while app.state.live_statistics.watchers() > 0 || !app.state.ws_operations.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "watchers and shared operations end with their last subscriber"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_bad_period_or_scope_is_a_coded_error() {
    let app = TestApp::spawn_demo().await;
    let mut ws = Ws::transport(app.addr).await;
    ws.init(None).await;
    let cases = [
        (
            "subscription { liveStatistics(from: \"2026-05-01\", to: \"2026-01-01\") { itemsCollected } }",
            "BAD_USER_INPUT",
        ),
        (
            "subscription { liveStatistics(from: \"2001-01-01\") { itemsCollected } }",
            "BAD_USER_INPUT",
        ),
        (
            "subscription { liveStatistics(stationId: \"not-an-id\") { itemsCollected } }",
            "BAD_USER_INPUT",
        ),
    ];
    for (n, (query, code)) in cases.iter().enumerate() {
        let id = format!("bad{n}");
        ws.subscribe(&id, query, json!({})).await;
        let message = ws.json().await;
        assert_eq!(message["id"], id, "{message}");
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(
            message["payload"]["errors"][0]["extensions"]["code"], *code,
            "{message}"
        );
        let complete = ws.json().await;
        assert_eq!(complete["type"], "complete", "{complete}");
    }
    assert_eq!(app.state.live_statistics.watchers(), 0);
    // The connection is still fine.
    ws.send(json!({ "type": "ping" })).await;
    match ws.frame_within(WAIT).await {
        Some(Frame::Json(pong)) => assert_eq!(pong["type"], "pong"),
        other => panic!("expected a pong, got {other:?}"),
    }
}
