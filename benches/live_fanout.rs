//! Live fan-out: N WebSocket subscribers, M mutations per second, one or two gateway
//! replicas (two, through Redis, when REDIS_URL is set).
//!
//! The gateways run as child processes (the release `smart-npc serve`), so that their
//! memory can be read from /proc: the bench reports the RSS growth per idle
//! subscriber, the delivery latency from commit (the outbox row's `occurredAt`,
//! written in the committing transaction) to receipt by the client, p50/p99/max, and
//! the events lost (expected by a subscriber but never received) and duplicated.
//!
//! Each mutation is `publishStory` on a story prepared beforehand; subscribers follow
//! `showcaseStories`, each either one station's stories (`LIVE_BENCH_SCOPE=station`,
//! the default: a dashboard or a station screen) or every story (`all`).
//!
//! ```sh
//! ulimit -n 20000
//! REDIS_URL=redis://127.0.0.1:6379 \
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//! cargo bench --bench live_fanout
//! ```
//! Settings: LIVE_BENCH_SUBSCRIBERS (10000), LIVE_BENCH_RATE (mutations/s, 100),
//! LIVE_BENCH_SECONDS (20), LIVE_BENCH_SCOPE (station|all), LIVE_BENCH_REPLICAS (2
//! with Redis, else 1). DATABASE_URL, when PostgreSQL, names a server on which the
//! bench creates (and afterwards drops) a database of its own; without it, SQLite.
//! Everything stays on loopback. `LIVE_BENCH_PROBE=1` instead measures, in-process,
//! the memory of 10,000 bare hub subscriptions and of 10,000 planned WebSocket
//! operations (where an idle subscriber's bytes go).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};
use smart_npc::config::{Settings, DEFAULT_DEMO_PASSWORD};
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[path = "../tests/support/ws_client.rs"]
mod ws_client;
use ws_client::Ws;

const TOKEN_SECRET: &str = "live-fanout-bench-secret-0123456789abcdef";

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scope {
    Station,
    All,
}

struct Config {
    subscribers: usize,
    rate: u64,
    seconds: u64,
    scope: Scope,
    replicas: usize,
    redis_url: Option<String>,
    postgres_url: Option<String>,
}

impl Config {
    fn from_env() -> Self {
        let redis_url = std::env::var("REDIS_URL").ok().filter(|v| !v.is_empty());
        let postgres_url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|v| v.starts_with("postgres"));
        Config {
            subscribers: env_or("LIVE_BENCH_SUBSCRIBERS", 10_000),
            rate: env_or("LIVE_BENCH_RATE", 100u64).max(1),
            seconds: env_or("LIVE_BENCH_SECONDS", 20u64).clamp(1, 600),
            scope: match std::env::var("LIVE_BENCH_SCOPE").as_deref() {
                Ok("all") => Scope::All,
                _ => Scope::Station,
            },
            replicas: env_or(
                "LIVE_BENCH_REPLICAS",
                if redis_url.is_some() { 2usize } else { 1 },
            )
            .clamp(1, 4),
            redis_url,
            postgres_url,
        }
    }
}

// ------------------------------------------------------------------ processes

struct Server {
    child: std::process::Child,
    addr: SocketAddr,
}

impl Server {
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn spawn_server(database_url: &str, redis: Option<&str>, prefix: &str) -> Server {
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_smart-npc"));
    command
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("BIND_ADDR", addr.to_string())
        .env("AUTO_SEED_DEMO", "false")
        .env("TOKEN_SECRET", TOKEN_SECRET)
        .env("REDIS_CHANNEL_PREFIX", prefix)
        .env("WS_MAX_CONNECTIONS_PER_ADDRESS", "1000000")
        .env("SIGNIN_ATTEMPTS_PER_ADDRESS", "100000")
        .env("DATABASE_MAX_CONNECTIONS", "16")
        .env("RUST_LOG", "warn")
        .env_remove("REDIS_URL")
        .stdout(std::process::Stdio::null());
    if let Some(redis) = redis {
        command.env("REDIS_URL", redis);
    }
    let child = command.spawn().expect("the gateway binary starts");
    let server = Server { child, addr };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("http://{addr}/healthz")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        assert!(Instant::now() < deadline, "gateway did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server
}

// ------------------------------------------------------------------ GraphQL over HTTP

#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    token: String,
}

impl Api {
    async fn call(&self, addr: SocketAddr, query: &str, variables: Value) -> Value {
        let body: Value = self
            .client
            .post(format!("http://{addr}/graphql"))
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON");
        assert!(body.get("errors").is_none(), "{body}");
        body["data"].clone()
    }
}

async fn sign_in(addr: SocketAddr) -> Api {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let body: Value = client
        .post(format!("http://{addr}/graphql"))
        .json(&json!({
            "query": "mutation($p: String!) { signIn(login: \"admin\", password: $p) { accessToken } }",
            "variables": { "p": DEFAULT_DEMO_PASSWORD }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Api {
        client,
        token: body["data"]["signIn"]["accessToken"]
            .as_str()
            .expect("signed in")
            .to_owned(),
    }
}

struct Prepared {
    id: Value,
    station: String,
}

/// Submitted stories, ready to publish, spread over the deputies' stations.
async fn prepare_stories(api: &Api, addr: SocketAddr, count: usize) -> Vec<Prepared> {
    // Resident deputies of the stations (a story is filed under its deputy's station).
    let stations = api
        .call(
            addr,
            "{ stations(first: 100) { edges { node { residentDeputies(first: 1) { edges { node { id } } } } } } }",
            json!({}),
        )
        .await;
    let mut deputies: Vec<Value> = stations["stations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let id = &e["node"]["residentDeputies"]["edges"][0]["node"]["id"];
            (!id.is_null()).then(|| id.clone())
        })
        .collect();
    deputies.dedup();
    const CREATE: &str = "mutation($d: ID!, $i: StoryFieldsInput!) { createStory(deputyId: $d, input: $i) { id station { id } } }";
    // One probe story per deputy tells its station.
    let mut with_station = Vec::new();
    for deputy in &deputies {
        let r = api
            .call(
                addr,
                CREATE,
                json!({ "d": deputy, "i": { "title": "探测", "body": "探测" } }),
            )
            .await;
        if let Some(station) = r["createStory"]["station"]["id"].as_str() {
            with_station.push((deputy.clone(), station.to_owned()));
        }
    }
    assert!(!with_station.is_empty(), "no deputy with a station");
    let gate = Arc::new(Semaphore::new(16));
    let mut tasks = Vec::new();
    for k in 0..count {
        let (deputy, station) = with_station[k % with_station.len()].clone();
        let api = api.clone();
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            let title = format!("bench-{k}");
            let r = api
                .call(
                    addr,
                    CREATE,
                    json!({ "d": deputy, "i": { "title": title, "body": "正文" } }),
                )
                .await;
            let id = r["createStory"]["id"].clone();
            api.call(
                addr,
                "mutation($id: ID!) { submitStory(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
            Prepared { id, station }
        }));
    }
    let mut prepared = Vec::new();
    for task in tasks {
        prepared.push(task.await.unwrap());
    }
    prepared
}

// ------------------------------------------------------------------ subscribers

#[derive(Default)]
struct Received {
    count: usize,
    out_of_order: usize,
    latencies_us: Vec<u32>,
    /// (story id, receipt time in microseconds since the epoch)
    receipts: Vec<(Arc<str>, i64)>,
}

/// Connects and completes the graphql-transport-ws handshake.
async fn connect(addr: SocketAddr) -> Ws {
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let mut ws = Ws::try_open_with(addr, Some("graphql-transport-ws"), Some(config), true)
        .await
        .expect("upgrade")
        .waiting(Duration::from_secs(30));
    ws.init(None).await;
    ws
}

/// Subscribes and waits until the subscription is registered.
async fn subscribe(ws: &mut Ws, station: Option<&str>) {
    let query =
        "subscription($s: ID) { showcaseStories(stationId: $s) { seq storyId occurredAt } }";
    ws.subscribe("s", query, json!({ "s": station })).await;
    ws.registered().await;
}

async fn read_events(mut ws: Ws, mut stop: watch::Receiver<bool>) -> Received {
    let mut received = Received::default();
    let mut last_seq = 0i64;
    loop {
        tokio::select! {
            message = ws.recv() => match message {
                Some(message) => {
                    let now = chrono::Utc::now();
                    if message["type"] != "next" {
                        continue;
                    }
                    let event = &message["payload"]["data"]["showcaseStories"];
                    let seq = event["seq"].as_i64().unwrap_or(0);
                    if seq <= last_seq {
                        received.out_of_order += 1;
                    }
                    last_seq = seq;
                    received.count += 1;
                    if let Some(story) = event["storyId"].as_str() {
                        received.receipts.push((Arc::from(story), now.timestamp_micros()));
                    }
                    if let Some(at) = event["occurredAt"].as_str() {
                        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(at) {
                            let micros = (now - at.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0);
                            received.latencies_us.push(micros.clamp(0, u32::MAX as i64) as u32);
                        }
                    }
                }
                None => break,
            },
            _ = stop.changed() => break,
        }
    }
    received
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index] as f64 / 1000.0
}

// ------------------------------------------------------------------ the run

fn own_rss_kib() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn probe() {
    use futures_util::FutureExt;
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("probe.db").display()
    );
    let settings = Settings::from_lookup(|k| (k == "DATABASE_URL").then(|| url.clone())).unwrap();
    let db = smart_npc::db::connect(&settings).await.unwrap();
    smart_npc::db::migrate(&db).await.unwrap();
    let app = smart_npc::app::App::new(db, settings).unwrap();
    let _tasks = app.state.live.start().await;
    const N: usize = 10_000;
    let base = own_rss_kib();
    let mut bare = Vec::new();
    for _ in 0..N {
        let mut s = app.state.live.subscribe(
            smart_npc::events::Viewer::anonymous(),
            smart_npc::events::EventFilter::topic("story"),
            None,
        );
        assert!(s.next().now_or_never().is_none());
        bare.push(s);
    }
    let after_bare = own_rss_kib();
    println!(
        "bare live stream: {:.2} KiB each",
        (after_bare - base) as f64 / N as f64
    );
    drop(bare);
    let base = own_rss_kib();
    let mut planned = Vec::new();
    let session = Arc::new(async_graphql::Data::default());
    for n in 0..N {
        use smart_npc::http::ws::operation::{Operation, Sharing};
        let query =
            "subscription($s: ID) { showcaseStories(stationId: $s) { seq title occurredAt } }";
        // The extra field makes 72 distinct operations, as 72 stations' would be.
        let payload = json!({ "query": query, "variables": { "s": null }, "n": n % 72 });
        let sharing = Sharing {
            registry: app.state.ws_operations.clone(),
            schema: app.schema.clone(),
            session: session.clone(),
            actor: smart_npc::auth::Actor::Anonymous,
            client: smart_npc::auth::ClientInfo {
                ip: "127.0.0.1".into(),
                user_agent: None,
            },
            payload: payload.as_object().unwrap().clone(),
        };
        let request = async_graphql::Request::new(query).data(smart_npc::auth::Actor::Anonymous);
        let mut operation = Operation::plan(request, sharing, app.state.settings.request_timeout);
        assert!(operation.next().now_or_never().is_none());
        planned.push(operation);
    }
    let after_planned = own_rss_kib();
    println!(
        "planned WebSocket operation (72 distinct, shared): {:.2} KiB each",
        (after_planned - base) as f64 / N as f64
    );
}

#[tokio::main]
async fn main() {
    if std::env::var("LIVE_BENCH_PROBE").is_ok() {
        probe().await;
        return;
    }
    let config = Config::from_env();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!(
        "live_fanout: {} subscribers ({:?} scope), {} mutations/s for {} s, {} replica(s), {}, {}; {cores} cores",
        config.subscribers,
        config.scope,
        config.rate,
        config.seconds,
        config.replicas,
        if config.postgres_url.is_some() { "PostgreSQL" } else { "SQLite" },
        if config.redis_url.is_some() { "Redis" } else { "in-process bus" },
    );

    // A database of the bench's own, migrated and seeded with the demo data.
    let dir = tempfile::tempdir().unwrap();
    // A name no one else has (pid and a random part): the bench creates it, fails
    // rather than reuse one that exists, and drops only it at the end.
    let bench_db = format!(
        "smartnpc_bench_{}_{:08x}",
        std::process::id(),
        rand::random::<u32>()
    );
    let database_url = match &config.postgres_url {
        Some(admin) => {
            let admin_db = Database::connect(admin).await.expect("PostgreSQL");
            admin_db
                .execute_unprepared(&format!("CREATE DATABASE \"{bench_db}\""))
                .await
                .unwrap();
            let mut url = url::Url::parse(admin).unwrap();
            url.set_path(&format!("/{bench_db}"));
            url.to_string()
        }
        None => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        ),
    };
    {
        let settings =
            Settings::from_lookup(|k| (k == "DATABASE_URL").then(|| database_url.clone())).unwrap();
        let db = smart_npc::db::connect(&settings).await.unwrap();
        smart_npc::db::migrate(&db).await.unwrap();
        smart_npc::seed::seed_demo(&db, DEFAULT_DEMO_PASSWORD)
            .await
            .unwrap();
        db.close().await.unwrap();
    }
    let prefix = format!("smartnpc-bench-{}", std::process::id());
    let mut servers = Vec::new();
    for _ in 0..config.replicas {
        servers.push(spawn_server(&database_url, config.redis_url.as_deref(), &prefix).await);
    }
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();

    let api = sign_in(addrs[0]).await;
    let total = (config.rate * config.seconds) as usize;
    let started = Instant::now();
    let stories = prepare_stories(&api, addrs[0], total).await;
    let mut stations: Vec<String> = stories.iter().map(|s| s.station.clone()).collect();
    stations.sort();
    stations.dedup();
    println!(
        "prepared {total} stories over {} stations in {:.1?}",
        stations.len(),
        started.elapsed()
    );
    let mut per_station: HashMap<&str, usize> = HashMap::new();
    for story in &stories {
        *per_station.entry(story.station.as_str()).or_default() += 1;
    }

    // Idle connections, then idle subscribers.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before: Vec<u64> = servers.iter().map(Server::rss_kib).collect();
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(128));
    let mut connecting = Vec::new();
    for i in 0..config.subscribers {
        let addr = addrs[i % addrs.len()];
        let gate = gate.clone();
        connecting.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            connect(addr).await
        }));
    }
    let mut sockets = Vec::new();
    for task in connecting {
        sockets.push(task.await.unwrap());
    }
    println!(
        "{} connections acknowledged in {:.1?}",
        sockets.len(),
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_connected: Vec<u64> = servers.iter().map(Server::rss_kib).collect();
    let started = Instant::now();
    let mut subscribing = Vec::new();
    for (i, mut socket) in sockets.into_iter().enumerate() {
        let station = match config.scope {
            Scope::Station => Some(stations[i % stations.len()].clone()),
            Scope::All => None,
        };
        let gate = gate.clone();
        subscribing.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            subscribe(&mut socket, station.as_deref()).await;
            (socket, station)
        }));
    }
    let mut sockets = Vec::new();
    for task in subscribing {
        sockets.push(task.await.unwrap());
    }
    println!(
        "{} subscriptions registered in {:.1?}",
        sockets.len(),
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle: Vec<u64> = servers.iter().map(Server::rss_kib).collect();
    let per = |after: &[u64], before: &[u64]| {
        let delta: i64 = after
            .iter()
            .zip(before)
            .map(|(a, b)| *a as i64 - *b as i64)
            .sum();
        delta as f64 / config.subscribers.max(1) as f64
    };
    let per_connection = per(&rss_connected, &rss_before);
    let per_subscription = per(&rss_idle, &rss_connected);
    let per_subscriber = per(&rss_idle, &rss_before);

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut readers = Vec::new();
    let mut expected = 0usize;
    for (socket, station) in sockets {
        expected += match &station {
            Some(s) => per_station.get(s.as_str()).copied().unwrap_or(0),
            None => stories.len(),
        };
        readers.push(tokio::spawn(read_events(socket, stop_rx.clone())));
    }

    // M mutations per second, each on the next replica.
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / config.rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut publishing = Vec::new();
    for (k, story) in stories.iter().enumerate() {
        tick.tick().await;
        let api = api.clone();
        let addr = addrs[k % addrs.len()];
        let id = story.id.clone();
        publishing.push(tokio::spawn(async move {
            let t = Instant::now();
            api.call(
                addr,
                "mutation($id: ID!) { publishStory(id: $id) { id } }",
                json!({ "id": id.clone() }),
            )
            .await;
            let story = id.as_str().unwrap_or_default().to_owned();
            (t.elapsed(), story, chrono::Utc::now().timestamp_micros())
        }));
    }
    let mut mutation_latencies = Vec::new();
    // When each mutation's answer arrived: after its commit, so receipt minus this is
    // a lower bound of commit -> client (occurredAt, before the commit, gives the upper).
    let mut answered_at: HashMap<String, i64> = HashMap::new();
    for task in publishing {
        let (latency, story, at) = task.await.unwrap();
        mutation_latencies.push(latency);
        answered_at.insert(story, at);
    }
    let publish_time = started.elapsed();
    // Stragglers: give slow subscribers time to catch up, then stop.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_after: Vec<u64> = servers.iter().map(Server::rss_kib).collect();
    stop_tx.send_replace(true);
    let mut latencies = Vec::new();
    let mut after_answer = Vec::new();
    let (mut received, mut out_of_order) = (0usize, 0usize);
    for reader in readers {
        let r = reader.await.unwrap();
        received += r.count;
        out_of_order += r.out_of_order;
        latencies.extend(r.latencies_us);
        for (story, at) in r.receipts {
            if let Some(answered) = answered_at.get(&*story) {
                after_answer.push((at - answered).clamp(0, u32::MAX as i64) as u32);
            }
        }
    }
    latencies.sort_unstable();
    after_answer.sort_unstable();
    mutation_latencies.sort();
    let lost = expected.saturating_sub(received);

    println!("--- results");
    println!(
        "mutations: {} in {:.1?} ({:.1}/s); publishStory latency p50 {:.2?} p99 {:.2?}",
        stories.len(),
        publish_time,
        stories.len() as f64 / publish_time.as_secs_f64(),
        mutation_latencies[mutation_latencies.len() / 2],
        mutation_latencies[(mutation_latencies.len() as f64 * 0.99) as usize - 1],
    );
    println!(
        "deliveries: expected {expected}, received {received}, lost {lost}, duplicated or out of order {out_of_order}"
    );
    println!(
        "commit -> client latency (from occurredAt, inside the transaction: an upper bound): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (n={})",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        latencies.len()
    );
    println!(
        "mutation answer -> client (a lower bound): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (n={})",
        percentile(&after_answer, 0.5),
        percentile(&after_answer, 0.99),
        percentile(&after_answer, 1.0),
        after_answer.len()
    );
    println!(
        "gateway RSS (KiB): before {rss_before:?}, with idle connections {rss_connected:?}, with idle subscribers {rss_idle:?}, after the run {rss_after:?}"
    );
    println!(
        "memory per idle subscriber: {per_subscriber:.1} KiB (connection {per_connection:.1} KiB + subscription {per_subscription:.1} KiB)"
    );

    drop(servers);
    if let Some(admin) = &config.postgres_url {
        if let Ok(admin_db) = Database::connect(admin).await {
            let _ = admin_db
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS \"{bench_db}\" WITH (FORCE)"
                ))
                .await;
        }
    }
}
