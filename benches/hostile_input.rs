//! Does hostile input stall the server? (issue 11)
//!
//! Starts the gateway (release build, SQLite demo data) on a free port, measures
//! `/healthz` alone, then again while 100 of each hostile request of issue 11 are sent
//! (deep literals, fragment fan-out, control characters, dates out of range, a
//! subscription over POST, unknown operation names, credential operations hidden in
//! fragments), 64 in flight at a time, five times over; prints both distributions, the
//! hostile requests' own latencies, and the resident memory before and after.
//!
//! Run: `cargo bench --bench hostile_input` (figures go to BENCHMARKS.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use smart_npc::app::App;
use smart_npc::config::{Settings, DEFAULT_DEMO_PASSWORD};

const EACH: usize = 100;
/// The storm is sent this many times over, so that `/healthz` is sampled throughout.
const ROUNDS: usize = 5;
/// Hostile requests in flight at once (each kind's 100 interleave with the others).
const IN_FLIGHT: usize = 64;
const BASELINE: usize = 300;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn describe(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<34} n={:<5} p50={:>8.2?} p99={:>8.2?} max={:>8.2?}",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples.last().unwrap()
    );
}

fn resident_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn timed_health(client: &reqwest::Client, url: &str) -> Duration {
    let started = Instant::now();
    let response = client.get(url).send().await.unwrap();
    assert!(response.status().is_success());
    let _ = response.bytes().await.unwrap();
    started.elapsed()
}

fn fragment_fan_out(levels: usize, fan: usize) -> String {
    let mut query = String::from("query { ...F0 }\n");
    for level in 0..levels {
        let spreads = format!("...F{} ", level + 1).repeat(fan);
        query.push_str(&format!("fragment F{level} on QueryRoot {{ {spreads} }}\n"));
    }
    query.push_str(&format!(
        "fragment F{levels} on QueryRoot {{ __typename }}\n"
    ));
    query
}

/// The hostile requests: (name, body). Each must answer a coded error.
fn hostile() -> Vec<(&'static str, Value)> {
    let deep = format!("{{nope(x:{}1{})}}", "{a:".repeat(1_250), "}".repeat(1_250));
    let sign_in = r#"signIn(login: "admin", password: "wrong") { accessToken }"#;
    vec![
        ("deep literal (1,250 levels)", json!({ "query": deep })),
        (
            "fragment fan-out 7x10",
            json!({ "query": fragment_fan_out(7, 10) }),
        ),
        (
            "fragment fan-out 12x10",
            json!({ "query": fragment_fan_out(12, 10) }),
        ),
        (
            "NUL in an argument",
            json!({ "query": r#"{ stations(name: "\u0000") { totalCount } }"# }),
        ),
        (
            "date out of range",
            json!({ "query": r#"{ statistics(from: "-4713-11-24", to: "2025-12-31") { itemsCollected } }"# }),
        ),
        (
            "subscription over POST",
            json!({ "query": "subscription { liveEvents { __typename } }" }),
        ),
        (
            "unknown operation name",
            json!({ "query": "query A { __typename }", "operationName": "B" }),
        ),
        (
            "two signIn through fragments",
            json!({ "query": format!("mutation {{ ...S ...S }} fragment S on MutationRoot {{ {sign_in} }}") }),
        ),
    ]
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let vars = [
        ("DATABASE_URL", db_url.as_str()),
        ("BIND_ADDR", "127.0.0.1:0"),
    ];
    let settings = Settings::from_lookup(|k| {
        vars.iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    let db = smart_npc::db::connect(&settings).await.unwrap();
    smart_npc::db::migrate(&db).await.unwrap();
    smart_npc::seed::seed_demo(&db, DEFAULT_DEMO_PASSWORD)
        .await
        .unwrap();
    let app = App::new(db, settings).unwrap();
    let (acceptor, addr) = app.bind().await.unwrap();
    tokio::spawn(app.serve(acceptor, std::future::pending()));
    let graphql = format!("http://{addr}/graphql");
    let health = format!("http://{addr}/healthz");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1_000)
        .build()
        .unwrap();

    println!(
        "cores: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    for _ in 0..50 {
        timed_health(&client, &health).await;
    }
    let mut baseline = Vec::new();
    for _ in 0..BASELINE {
        baseline.push(timed_health(&client, &health).await);
    }
    describe("/healthz, alone", baseline);
    let rss_before = resident_mib();

    let started = Instant::now();
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut storm = Vec::new();
    for _ in 0..ROUNDS {
        for _ in 0..EACH {
            for (name, body) in hostile() {
                let client = client.clone();
                let url = graphql.clone();
                let permits = permits.clone();
                storm.push(tokio::spawn(async move {
                    let _permit = permits.acquire_owned().await.unwrap();
                    let t = Instant::now();
                    let response = client.post(&url).json(&body).send().await.unwrap();
                    let status = response.status().as_u16();
                    let answer: Value = response.json().await.unwrap();
                    let code = answer["errors"][0]["extensions"]["code"]
                        .as_str()
                        .map(str::to_owned);
                    assert!(status < 500, "{name}: {status} {answer}");
                    assert!(
                        code.as_deref().is_some_and(|c| c != "INTERNAL"),
                        "{name}: {answer}"
                    );
                    (name, t.elapsed())
                }));
            }
        }
    }
    let mut during = Vec::new();
    while storm.iter().any(|h| !h.is_finished()) {
        during.push(timed_health(&client, &health).await);
    }
    let elapsed = started.elapsed();
    let mut by_kind: Vec<(&str, Vec<Duration>)> = Vec::new();
    for handle in storm {
        let (name, latency) = handle.await.unwrap();
        match by_kind.iter_mut().find(|(n, _)| *n == name) {
            Some((_, samples)) => samples.push(latency),
            None => by_kind.push((name, vec![latency])),
        }
    }
    describe("/healthz, during the storm", during);
    for (name, samples) in by_kind {
        describe(name, samples);
    }
    println!(
        "{} hostile requests answered in {elapsed:.2?}; resident memory {rss_before:.0} MiB before, {:.0} MiB after",
        ROUNDS * EACH * hostile().len(),
        resident_mib()
    );
}
