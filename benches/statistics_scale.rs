//! `statistics` at 1× and 100× the demo's history (issue 14), and the scale seed's speed.
//!
//! Seeds two PostgreSQL databases of its own (`smartnpc_bench_stats_<pid>_1x` and
//! `_<n>x`, dropped at the end) with `seed --demo --scale 1` and `--scale N` (N = 100
//! unless `STATS_BENCH_SCALE` says otherwise), timing the seed in rows a second (and the
//! same seed on SQLite), starts a gateway on each, and then sends the same `statistics`
//! queries to both, alternating, so both scales are measured under the same machine
//! load. Also times the from-scratch computation (`recompute`, the specification the
//! rollup is checked against) on both, for contrast.
//!
//! Run: `cargo bench --bench statistics_scale` with PostgreSQL at
//! `BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`, used
//! only to create and drop the two databases). Figures go to BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{json, Value};
use smart_npc::app::App;
use smart_npc::config::{Settings, DEFAULT_DEMO_PASSWORD};
use smart_npc::domain::node_id::{NodeId, NodeKind};
use smart_npc::service::statistics::{self, Scope};

const SAMPLES: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn mean(samples: &[Duration]) -> Duration {
    samples.iter().sum::<Duration>() / samples.len().max(1) as u32
}

fn line(name: &str, samples: &mut [Duration]) -> Duration {
    samples.sort();
    let m = mean(samples);
    println!(
        "  {name:<46} mean={:>9.3?} p50={:>9.3?} p99={:>9.3?}",
        m,
        percentile(samples, 0.5),
        percentile(samples, 0.99)
    );
    m
}

fn settings(url: &str) -> Settings {
    let vars = [
        ("DATABASE_URL", url),
        ("BIND_ADDR", "127.0.0.1:0"),
        ("DATABASE_MAX_CONNECTIONS", "4"),
        ("SUPERVISION_INTERVAL_SECS", "0"),
    ];
    Settings::from_lookup(|k| {
        vars.iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap()
}

/// Seeds `url` at `scale`; prints the rows a second. The connection stays open.
async fn seed(url: &str, scale: u32, label: &str) -> DatabaseConnection {
    let db = smart_npc::db::connect(&settings(url)).await.unwrap();
    let started = Instant::now();
    smart_npc::db::migrate_and_seed(&db, Some(DEFAULT_DEMO_PASSWORD))
        .await
        .unwrap()
        .expect("an empty database");
    smart_npc::seed::seed_copies(&db, scale).await.unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let rows = smart_npc::seed::rows_written(&db).await.unwrap();
    println!(
        "seed --scale {scale} on {label}: {rows} rows in {seconds:.1} s = {:.0} rows/s (migrations and the rollup included)",
        rows as f64 / seconds
    );
    db
}

fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

async fn serve(db: DatabaseConnection, url: &str) -> String {
    let app = App::new(db, settings(url)).unwrap();
    let (acceptor, addr) = app.bind().await.unwrap();
    tokio::spawn(app.serve(acceptor, std::future::pending()));
    format!("http://{addr}/graphql")
}

async fn timed(client: &reqwest::Client, url: &str, body: &Value) -> (Duration, Value) {
    let started = Instant::now();
    let response = client.post(url).json(body).send().await.unwrap();
    let answer: Value = response.json().await.unwrap();
    let elapsed = started.elapsed();
    assert!(answer["errors"].is_null(), "{answer}");
    (elapsed, answer)
}

const FIGURES: &str = "itemsCollected itemsCompleted completionRate completedOnTime onTimeRate rated satisfactionRate averageHandlingHours overdueCount urgentCompleted suggestionsMade suggestionsAdopted byCategory { category { code } itemsCollected itemsCompleted }";

fn queries() -> Vec<(&'static str, Value)> {
    let q = |args: &str| json!({ "query": format!("{{ statistics({args}) {{ {FIGURES} }} }}") });
    let binhe = NodeId::new(NodeKind::Station, 1).encode();
    vec![
        (
            "statistics 2025, county",
            q(r#"from: "2025-01-01", to: "2025-12-31""#),
        ),
        (
            "statistics 2025-03-15..2025-09-10, county",
            q(r#"from: "2025-03-15", to: "2025-09-10""#),
        ),
        (
            "statistics 2021..2026, county",
            q(r#"from: "2021-01-01", to: "2026-12-31""#),
        ),
        (
            "statistics 2025, one station",
            q(&format!(
                r#"from: "2025-01-01", to: "2025-12-31", stationId: "{binhe}""#
            )),
        ),
    ]
}

#[tokio::main]
async fn main() {
    let scale: u32 = std::env::var("STATS_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let admin_url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    println!(
        "cores: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    // SQLite: the seed's speed only.
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    seed(&sqlite, scale, "SQLite").await.close().await.unwrap();

    let admin = Database::connect(&admin_url).await.unwrap();
    let names = [
        format!("smartnpc_bench_stats_{}_1x", std::process::id()),
        format!("smartnpc_bench_stats_{}_{scale}x", std::process::id()),
    ];
    for name in &names {
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
    }
    let urls: Vec<String> = names.iter().map(|n| with_database(&admin_url, n)).collect();
    let small = seed(&urls[0], 1, "PostgreSQL").await;
    let large = seed(&urls[1], scale, "PostgreSQL").await;

    from_scratch(&small, &large, scale).await;
    let endpoints = [serve(small, &urls[0]).await, serve(large, &urls[1]).await];
    let client = reqwest::Client::new();
    println!("statistics over HTTP (PostgreSQL), 1x and {scale}x alternating, {SAMPLES} each:");
    for (name, body) in queries() {
        let mut samples = [Vec::new(), Vec::new()];
        for _ in 0..20 {
            for endpoint in &endpoints {
                timed(&client, endpoint, &body).await;
            }
        }
        let mut answers = Vec::new();
        for _ in 0..SAMPLES {
            for (k, endpoint) in endpoints.iter().enumerate() {
                let (elapsed, answer) = timed(&client, endpoint, &body).await;
                samples[k].push(elapsed);
                if answers.len() < 2 {
                    answers.push(answer);
                }
            }
        }
        println!(
            " {name}: {} items at 1x, {} at {scale}x",
            answers[0]["data"]["statistics"]["itemsCollected"],
            answers[1]["data"]["statistics"]["itemsCollected"]
        );
        let one = line("1x", &mut samples[0]);
        let many = line(&format!("{scale}x"), &mut samples[1]);
        println!(
            "  {scale}x / 1x (mean): {:.2}",
            many.as_secs_f64() / one.as_secs_f64()
        );
    }
    for name in &names {
        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        admin.execute_unprepared(&drop).await.unwrap();
    }
}

/// The specification's cost, for contrast (in-process, no HTTP).
async fn from_scratch(small: &DatabaseConnection, large: &DatabaseConnection, scale: u32) {
    let from = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
    println!("2025, county, in-process (PostgreSQL), 1x and {scale}x alternating, 50 each:");
    for (label, rollup) in [
        ("from scratch (recompute)", false),
        ("from the rollup (compute)", true),
    ] {
        let mut samples = [Vec::new(), Vec::new()];
        for _ in 0..50 {
            for (k, db) in [small, large].into_iter().enumerate() {
                let started = Instant::now();
                if rollup {
                    statistics::compute(db, from, to, &Scope::default())
                        .await
                        .unwrap();
                } else {
                    statistics::recompute(db, from, to, &Scope::default())
                        .await
                        .unwrap();
                }
                samples[k].push(started.elapsed());
            }
        }
        line(&format!("{label}, 1x"), &mut samples[0]);
        line(&format!("{label}, {scale}x"), &mut samples[1]);
    }
}
