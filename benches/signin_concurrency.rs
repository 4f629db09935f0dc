//! Does a burst of sign-ins stall other requests?
//!
//! Starts the gateway (release build, SQLite demo data) on a free port, measures the
//! latency of a cheap query alone, then again while 100 sign-ins (argon2id, m=19 MiB,
//! t=2) run concurrently, and prints both distributions and their ratio.
//!
//! Run: `cargo bench --bench signin_concurrency` (figures go to BENCHMARKS.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::json;
use smart_npc::app::App;
use smart_npc::config::{Settings, DEFAULT_DEMO_PASSWORD};

const SIGN_INS: usize = 100;
const BASELINE_QUERIES: usize = 300;
const CHEAP_QUERY: &str = "{ townships { totalCount } }";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn describe(name: &str, mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let (p50, p99) = (percentile(&samples, 0.5), percentile(&samples, 0.99));
    println!(
        "{name:<28} n={:<5} p50={:>8.2?} p99={:>8.2?} max={:>8.2?}",
        samples.len(),
        p50,
        p99,
        samples.last().unwrap()
    );
    (p50, p99)
}

async fn timed_query(client: &reqwest::Client, url: &str) -> Duration {
    let started = Instant::now();
    let response = client
        .post(url)
        .json(&json!({ "query": CHEAP_QUERY }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let _ = response.bytes().await.unwrap();
    started.elapsed()
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
        ("SIGNIN_ATTEMPTS_PER_ADDRESS", "100000"),
        ("SIGNIN_FAILURES_PER_ACCOUNT", "1000"),
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
    let url = format!("http://{addr}/graphql");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(200)
        .build()
        .unwrap();

    println!(
        "cores: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    for _ in 0..50 {
        timed_query(&client, &url).await; // warm up
    }
    let mut baseline = Vec::new();
    for _ in 0..BASELINE_QUERIES {
        baseline.push(timed_query(&client, &url).await);
    }
    let (base_p50, base_p99) = describe("cheap query, alone", baseline);

    let logins = [
        "admin",
        "supervisor",
        "staff",
        "handler",
        "deputy",
        "citizen",
    ];
    let started = Instant::now();
    let sign_ins: Vec<_> = (0..SIGN_INS)
        .map(|i| {
            let client = client.clone();
            let url = url.clone();
            let login = logins[i % logins.len()];
            tokio::spawn(async move {
                let t = Instant::now();
                let body = json!({ "query": format!("mutation {{ signIn(login: \"{login}\", password: \"{DEFAULT_DEMO_PASSWORD}\") {{ accessToken }} }}") });
                let response: serde_json::Value = client.post(&url).json(&body).send().await.unwrap().json().await.unwrap();
                assert!(response["data"]["signIn"]["accessToken"].is_string(), "{response}");
                t.elapsed()
            })
        })
        .collect();
    let mut during = Vec::new();
    while sign_ins.iter().any(|h| !h.is_finished()) {
        during.push(timed_query(&client, &url).await);
    }
    let burst = started.elapsed();
    let mut sign_in_latencies = Vec::new();
    for handle in sign_ins {
        sign_in_latencies.push(handle.await.unwrap());
    }
    let (p50, p99) = describe("cheap query, during burst", during);
    describe("sign-in", sign_in_latencies);
    println!(
        "{SIGN_INS} sign-ins completed in {burst:.2?} ({:.1}/s)",
        SIGN_INS as f64 / burst.as_secs_f64()
    );
    println!(
        "slowdown of the cheap query: p50 x{:.2}, p99 x{:.2}",
        p50.as_secs_f64() / base_p50.as_secs_f64(),
        p99.as_secs_f64() / base_p99.as_secs_f64()
    );
}
