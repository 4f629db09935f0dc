//! `/metrics` parses as Prometheus text and moves with traffic.
use std::collections::HashMap;

use serde_json::json;

use crate::helpers::{Fixture, TestApp};

/// Scrapes `url` and parses it as a Prometheus server would.
pub(crate) async fn scrape(client: &reqwest::Client, url: &str) -> prometheus_parse::Scrape {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = response.text().await.unwrap();
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The value of `metric` with exactly these labels among its samples (0 if absent).
pub(crate) fn value(
    scrape: &prometheus_parse::Scrape,
    metric: &str,
    labels: &[(&str, &str)],
) -> f64 {
    let wanted: HashMap<&str, &str> = labels.iter().copied().collect();
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| wanted.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(ref buckets) => {
                buckets.iter().map(|b| b.count).fold(0.0, f64::max)
            }
            _ => 0.0,
        })
        .sum()
}

#[tokio::test]
async fn metrics_parse_and_move_with_traffic() {
    let app = TestApp::builder().fixture(Fixture::Demo).spawn().await;
    let url = app.url("/metrics");
    // The operation name is this test's own: other tests share the process's counters.
    let ok = [("operation", "MetricsProbe"), ("code", "OK")];
    let refused = [
        ("operation", "MetricsProbeDenied"),
        ("code", "UNAUTHENTICATED"),
    ];
    let before = scrape(&app.client, &url).await;

    for _ in 0..3 {
        let r = app.gql("query MetricsProbe { __typename }").send().await;
        assert_eq!(r.data()["__typename"], "QueryRoot");
    }
    let r = app
        .gql("query MetricsProbeDenied { me { login } }")
        .send()
        .await;
    assert_eq!(r.error_code(), Some("UNAUTHENTICATED"));
    // A WebSocket with a live subscription is counted while it is open.
    let mut ws = crate::ws_client::Ws::transport(app.addr).await;
    ws.init(None).await;
    ws.subscribe(
        "s",
        "subscription { liveStatistics { itemsCollected } }",
        json!({}),
    )
    .await;
    ws.next_data("s").await;

    let after = scrape(&app.client, &url).await;
    let counter = "smart_npc_graphql_operations_total";
    assert_eq!(
        value(&after, counter, &ok) - value(&before, counter, &ok),
        3.0
    );
    assert_eq!(
        value(&after, counter, &refused) - value(&before, counter, &refused),
        1.0
    );
    let histogram = "smart_npc_graphql_operation_duration_seconds_count";
    let timed = [("operation", "MetricsProbe")];
    assert!(value(&after, histogram, &timed) - value(&before, histogram, &timed) >= 3.0);
    assert!(value(&after, "smart_npc_websocket_connections", &[]) >= 1.0);
    assert!(value(&after, "smart_npc_websocket_active_operations", &[]) >= 1.0);
    assert!(value(&after, "smart_npc_db_pool_connections", &[]) >= 1.0);
    for gauge in [
        "smart_npc_outbox_backlog",
        "smart_npc_outbox_relay_lag_seconds",
        "smart_npc_db_pool_in_use",
    ] {
        assert!(
            after.samples.iter().any(|s| s.metric == gauge),
            "{gauge} missing"
        );
    }
    // The Redis breaker is reported when Redis is configured.
    let breaker = after
        .samples
        .iter()
        .any(|s| s.metric == "smart_npc_redis_circuit_open");
    assert_eq!(breaker, crate::helpers::redis_url().is_some());
    // Calls without Redis are a running total: typed a counter, so `rate()` applies.
    let fallbacks = after
        .samples
        .iter()
        .find(|s| s.metric == "smart_npc_redis_fallbacks_total");
    assert_eq!(fallbacks.is_some(), crate::helpers::redis_url().is_some());
    if let Some(sample) = fallbacks {
        assert!(
            matches!(sample.value, prometheus_parse::Value::Counter(_)),
            "{:?}",
            sample.value
        );
    }
    ws.close().await;
}

/// A label is the name of an operation that the document holds and the request runs:
/// a made-up `operationName` (of any length) never becomes one, and an over-long real
/// name counts as "other".
#[tokio::test]
async fn clients_cannot_choose_labels() {
    let app = TestApp::builder().fixture(Fixture::Demo).spawn().await;
    let url = app.url("/metrics");
    let made_up = format!("MadeUp{}", "x".repeat(10_000));
    let long_real = format!("LongReal{}", "y".repeat(80));
    for (query, operation_name) in [
        ("{ __typename }".to_owned(), Some(made_up.as_str())),
        (
            "query NamedProbe { __typename }".to_owned(),
            Some("NotInTheDocument"),
        ),
        (format!("query {long_real} {{ __typename }}"), None),
    ] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": query, "operationName": operation_name }))
            .send()
            .await
            .unwrap();
        assert!(response.status().as_u16() < 500);
    }
    let after = scrape(&app.client, &url).await;
    let labels: Vec<&str> = after
        .samples
        .iter()
        .filter(|s| s.metric == "smart_npc_graphql_operations_total")
        .filter_map(|s| s.labels.get("operation"))
        .collect();
    for leaked in ["MadeUp", "NotInTheDocument", "LongReal"] {
        assert!(
            !labels.iter().any(|l| l.starts_with(leaked)),
            "{leaked} became a label"
        );
    }
    assert!(labels.contains(&"invalid"), "{labels:?}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// METRICS_BIND_ADDR moves `/metrics` off the main port onto a listener of its own.
#[tokio::test]
async fn metrics_bind_addr_moves_metrics_to_their_own_port() {
    let dir = tempfile::tempdir().unwrap();
    let (main, metrics) = (free_port(), free_port());
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_smart-npc"))
        .current_dir(dir.path())
        .env("DATABASE_URL", "sqlite://metrics.db?mode=rwc")
        .env("BIND_ADDR", format!("127.0.0.1:{main}"))
        .env("METRICS_BIND_ADDR", format!("127.0.0.1:{metrics}"))
        .env("AUTO_SEED_DEMO", "false")
        .env("SUPERVISION_INTERVAL_SECS", "0")
        .env_remove("REDIS_URL")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let metrics_url = format!("http://127.0.0.1:{metrics}/metrics");
    // A start-up wait for the process this test launched.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while client.get(&metrics_url).send().await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the metrics port never opened"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let scraped = scrape(&client, &metrics_url).await;
    assert!(scraped
        .samples
        .iter()
        .any(|s| s.metric == "smart_npc_outbox_backlog"));
    let main_port = client
        .get(format!("http://127.0.0.1:{main}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(main_port.status(), 404);
    let _ = child.kill().await;
}
