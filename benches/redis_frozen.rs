//! How long do rate-limited requests take while Redis hangs?
//!
//! Starts a `redis-server` of its own on a free port (never the shared one), the
//! gateway in-process on SQLite with the demo data and `REDIS_URL` pointing at that
//! Redis, and measures `signIn`, an anonymous `submitPetition` and `/readyz` one at a
//! time: with Redis answering, then with the Redis process stopped (SIGSTOP: it still
//! accepts connections, answers nothing). The first request after the freeze is shown
//! on its own: it is the one that waits out `REDIS_TIMEOUT_MS` and opens the breaker.
//!
//! Run: `cargo bench --bench redis_frozen` (figures go to BENCHMARKS.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use smart_npc::app::App;
use smart_npc::config::{Settings, DEFAULT_DEMO_PASSWORD};

const ROUNDS: usize = 50;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn describe(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<44} n={:<4} p50={:>9.2?} p99={:>9.2?} max={:>9.2?}",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples.last().unwrap()
    );
}

struct Gateway {
    client: reqwest::Client,
    base: String,
    station: Value,
}

impl Gateway {
    async fn graphql(&self, query: &str, variables: Value) -> (Duration, Value) {
        let started = Instant::now();
        let body: Value = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (started.elapsed(), body)
    }

    async fn sign_in(&self) -> Duration {
        let (took, body) = self
            .graphql(
                "mutation($p: String!) { signIn(login: \"staff\", password: $p) { accessToken } }",
                json!({ "p": DEFAULT_DEMO_PASSWORD }),
            )
            .await;
        assert!(body["data"]["signIn"]["accessToken"].is_string(), "{body}");
        took
    }

    async fn submit(&self, i: usize) -> Duration {
        let (took, body) = self
            .graphql(
                "mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { trackingCode } }",
                json!({ "i": { "title": format!("路灯不亮 {i}"), "content": "滨河路路灯不亮，请维修。", "submitterPhone": "13812345678", "stationId": self.station } }),
            )
            .await;
        assert!(
            body["data"]["submitPetition"]["trackingCode"].is_string(),
            "{body}"
        );
        took
    }

    async fn readyz(&self) -> (Duration, Value) {
        let started = Instant::now();
        let body: Value = self
            .client
            .get(format!("{}/readyz", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (started.elapsed(), body)
    }
}

async fn measure(gateway: &Gateway, label: &str, first_offset: usize) {
    let mut sign_ins = Vec::new();
    let mut submissions = Vec::new();
    let mut first = None;
    for i in 0..ROUNDS {
        let took = gateway.sign_in().await;
        if i == 0 {
            first = Some(took);
        }
        sign_ins.push(took);
        submissions.push(gateway.submit(first_offset + i).await);
    }
    println!("first signIn {label}: {:.2?}", first.unwrap_or_default());
    describe(&format!("signIn, {label}"), sign_ins.clone());
    describe(
        &format!("signIn, {label}, after the first"),
        sign_ins[1..].to_vec(),
    );
    describe(&format!("anonymous submitPetition, {label}"), submissions);
    let mut ready = Vec::new();
    let mut last = Value::Null;
    for _ in 0..10 {
        let (took, body) = gateway.readyz().await;
        ready.push(took);
        last = body;
    }
    describe(&format!("/readyz, {label}"), ready);
    println!("/readyz says: {last}");
}

#[tokio::main]
async fn main() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut redis = Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server installed");
    let redis_url = format!("redis://127.0.0.1:{port}");
    let probe = redis::Client::open(redis_url.as_str()).unwrap();
    let mut up = false;
    for _ in 0..200 {
        if let Ok(mut c) = probe.get_multiplexed_async_connection().await {
            if redis::cmd("PING")
                .query_async::<String>(&mut c)
                .await
                .is_ok()
            {
                up = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "redis-server did not start");

    let dir = tempfile::tempdir().unwrap();
    let db_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let prefix = format!("smartnpc-bench-{}", std::process::id());
    let vars = [
        ("DATABASE_URL", db_url.as_str()),
        ("BIND_ADDR", "127.0.0.1:0"),
        ("REDIS_URL", redis_url.as_str()),
        ("REDIS_CHANNEL_PREFIX", prefix.as_str()),
        ("SIGNIN_ATTEMPTS_PER_ADDRESS", "100000"),
        ("SIGNIN_FAILURES_PER_ACCOUNT", "1000"),
        ("ANONYMOUS_SUBMISSIONS_PER_ADDRESS", "100000"),
        ("SUPERVISION_INTERVAL_SECS", "0"),
    ];
    let settings = Settings::from_lookup(|k| {
        vars.iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    println!(
        "redis_frozen: REDIS_TIMEOUT_MS={} REDIS_BREAKER_COOLDOWN_MS={}, {} rounds, one request at a time",
        settings.redis_timeout.as_millis(),
        settings.redis_cooldown.as_millis(),
        ROUNDS
    );
    let db = smart_npc::db::connect(&settings).await.unwrap();
    smart_npc::db::migrate_and_seed(&db, Some(DEFAULT_DEMO_PASSWORD))
        .await
        .unwrap();
    let app = App::new(db, settings).unwrap();
    let (acceptor, addr) = app.bind().await.unwrap();
    tokio::spawn(app.serve(acceptor, std::future::pending()));
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let stations: Value = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": "{ stations(first: 1) { edges { node { id } } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let gateway = Gateway {
        client,
        base,
        station: stations["data"]["stations"]["edges"][0]["node"]["id"].clone(),
    };

    measure(&gateway, "Redis answering", 0).await;
    let pid = redis.id().to_string();
    assert!(Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap()
        .success());
    measure(&gateway, "Redis frozen", ROUNDS).await;
    let _ = Command::new("kill").args(["-CONT", &pid]).status();
    let _ = redis.kill();
    let _ = redis.wait();
}
