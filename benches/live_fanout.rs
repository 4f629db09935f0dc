//! Live fan-out: N WebSocket subscribers, M mutations per second, R gateway replicas
//! (through Redis when REDIS_URL is set), clients spread over several processes.
//!
//! The gateways run as child processes (the release `smart-npc serve`), so that their
//! memory can be read from /proc: the bench reports the RSS growth per idle
//! subscriber, the delivery latency from commit (the outbox row's `occurredAt`,
//! written in the committing transaction) to receipt by the client, p50/p99/max, and
//! the events lost (expected by a subscriber but never received) and duplicated.
//!
//! One process may hold at most 20,000 sockets here (the open-file limit cannot be
//! raised), so the subscribers live in client worker processes: the bench runs itself
//! again (`LIVE_BENCH_WORKER=1`) for every `LIVE_BENCH_CLIENTS_PER_PROCESS`
//! subscribers, talking to each worker over its stdin/stdout (one JSON line per step).
//! Workers run at a lower priority (`nice`, `LIVE_BENCH_CLIENT_NICE`): in production
//! the clients are other machines, and here they should take the CPU the system
//! under test leaves, not compete with it. Their receipt times (and so the delivery
//! latencies) include that wait: the figures err on the slow side.
//!
//! Each mutation is `publishStory` on a story prepared beforehand; subscribers follow
//! `showcaseStories`, each either one station's stories (`LIVE_BENCH_SCOPE=station`,
//! the default: a dashboard or a station screen) or every story (`all`). With
//! `LIVE_BENCH_BASELINE=1` the same number of mutations is first issued with no
//! subscriber connected, so that the mutation latency with and without fan-out is
//! measured in one run.
//!
//! ```sh
//! REDIS_URL=redis://127.0.0.1:6379 \
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//! LIVE_BENCH_SUBSCRIBERS=40000 LIVE_BENCH_REPLICAS=3 \
//! cargo bench --bench live_fanout
//! ```
//! Settings: LIVE_BENCH_SUBSCRIBERS (10000), LIVE_BENCH_RATE (mutations/s, 100),
//! LIVE_BENCH_SECONDS (20), LIVE_BENCH_SCOPE (station|all), LIVE_BENCH_REPLICAS (with
//! Redis: enough for 15,000 subscribers each, at least 2; else 1),
//! LIVE_BENCH_CLIENTS_PER_PROCESS (10000), LIVE_BENCH_CLIENT_NICE (10),
//! LIVE_BENCH_BASELINE (0), LIVE_BENCH_TAIL_SECS (how long stragglers may take after
//! the last mutation, 30), LIVE_BENCH_GATEWAY_LOG (the gateways' `RUST_LOG`, `warn`).
//! DATABASE_URL, when PostgreSQL, names a server on which the bench creates (and
//! afterwards drops) a database of its own; without it, SQLite.
//! The Redis keys under the bench's own prefix are deleted at the end. Everything
//! stays on loopback. `LIVE_BENCH_PROBE=1` instead measures, in-process, the memory
//! of 10,000 bare hub subscriptions and of 10,000 planned WebSocket operations (where
//! an idle subscriber's bytes go).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{FutureExt, StreamExt};
use sea_orm::{ConnectionTrait, Database};
use serde::{Deserialize, Serialize};
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
    clients_per_process: usize,
    client_nice: u32,
    baseline: bool,
    tail: Duration,
    redis_url: Option<String>,
    postgres_url: Option<String>,
}

impl Config {
    fn from_env() -> Self {
        let redis_url = std::env::var("REDIS_URL").ok().filter(|v| !v.is_empty());
        let postgres_url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|v| v.starts_with("postgres"));
        let subscribers = env_or("LIVE_BENCH_SUBSCRIBERS", 10_000usize);
        let replicas = if redis_url.is_some() {
            subscribers.div_ceil(15_000).max(2)
        } else {
            1
        };
        Config {
            subscribers,
            rate: env_or("LIVE_BENCH_RATE", 100u64).max(1),
            seconds: env_or("LIVE_BENCH_SECONDS", 20u64).clamp(1, 600),
            scope: match std::env::var("LIVE_BENCH_SCOPE").as_deref() {
                Ok("all") => Scope::All,
                _ => Scope::Station,
            },
            replicas: env_or("LIVE_BENCH_REPLICAS", replicas).clamp(1, 8),
            clients_per_process: env_or("LIVE_BENCH_CLIENTS_PER_PROCESS", 10_000usize)
                .clamp(1, 18_000),
            client_nice: env_or("LIVE_BENCH_CLIENT_NICE", 10u32).min(19),
            baseline: env_or("LIVE_BENCH_BASELINE", 0u32) == 1,
            tail: Duration::from_secs(env_or("LIVE_BENCH_TAIL_SECS", 30u64).clamp(1, 600)),
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

async fn spawn_server(
    database_url: &str,
    redis: Option<&str>,
    prefix: &str,
    pool: usize,
) -> Server {
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
        // Tens of thousands of handshakes on a busy machine: the init deadline is not
        // what this bench measures.
        .env("WS_INIT_TIMEOUT_MS", "300000")
        // Setting up 40,000 subscribers takes minutes, during which an idle client does
        // not read (so does not answer pings): no keep-alive drop meanwhile.
        .env("WS_KEEPALIVE_SECS", "3600")
        .env("SIGNIN_ATTEMPTS_PER_ADDRESS", "100000")
        .env("DATABASE_MAX_CONNECTIONS", pool.to_string())
        .env(
            "RUST_LOG",
            std::env::var("LIVE_BENCH_GATEWAY_LOG").unwrap_or_else(|_| "warn".into()),
        )
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
    /// The answer's `data`, or the answer itself when it carries errors.
    async fn try_call(
        &self,
        addr: SocketAddr,
        query: &str,
        variables: Value,
    ) -> Result<Value, Value> {
        let sent = self
            .client
            .post(format!("http://{addr}/graphql"))
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await;
        let body: Value = match sent {
            Ok(response) => response.json().await.unwrap_or(Value::Null),
            Err(e) => return Err(json!(e.to_string())),
        };
        if body.get("errors").is_some() || body.is_null() {
            return Err(body);
        }
        Ok(body["data"].clone())
    }

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

// ------------------------------------------------------------------ client workers

/// What a worker is asked to do: open one subscriber per entry.
#[derive(Serialize, Deserialize)]
struct Job {
    addrs: Vec<SocketAddr>,
    /// Per subscriber: its replica (index into `addrs`), its station (`None`: every
    /// story) and the number of events it should receive.
    subscribers: Vec<(usize, Option<String>, usize)>,
}

/// The coordinator's last word to a worker.
#[derive(Serialize, Deserialize)]
struct Finish {
    /// Per subscriber, in job order: the events it should receive (of the mutations
    /// that succeeded).
    expected: Vec<usize>,
    /// When each mutation's answer arrived (story id → microseconds since the epoch).
    answered: HashMap<String, i64>,
    /// How long to wait for stragglers.
    tail_ms: u64,
}

#[derive(Serialize, Deserialize, Default)]
struct Report {
    /// Per subscriber, in job order: distinct events received.
    received: Vec<usize>,
    out_of_order: usize,
    /// Receipt minus `occurredAt` (upper bound of commit → client), microseconds.
    latencies_us: Vec<u32>,
    /// Receipt minus the mutation's answer (lower bound), microseconds.
    after_answer_us: Vec<u32>,
}

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
        .waiting(Duration::from_secs(300));
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

/// A `next` message of the bench's subscription, read in place (the clients stand for
/// other machines: what they spend here is taken from the gateways under test).
#[derive(Deserialize)]
struct NextMessage<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    payload: Option<NextPayload<'a>>,
}

#[derive(Deserialize)]
struct NextPayload<'a> {
    #[serde(borrow)]
    data: Option<NextData<'a>>,
}

#[derive(Deserialize)]
struct NextData<'a> {
    #[serde(rename = "showcaseStories", borrow)]
    event: Option<StoryEvent<'a>>,
}

#[derive(Deserialize)]
struct StoryEvent<'a> {
    seq: i64,
    #[serde(rename = "storyId", borrow)]
    story_id: std::borrow::Cow<'a, str>,
    #[serde(rename = "occurredAt", borrow)]
    occurred_at: std::borrow::Cow<'a, str>,
}

async fn read_events(
    mut ws: Ws,
    progress: Arc<AtomicUsize>,
    mut stop: watch::Receiver<bool>,
) -> Received {
    let mut received = Received::default();
    let mut last_seq = 0i64;
    // Kept for the reader's life rather than made again for every message.
    let stopped = stop.changed();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            text = ws.recv_text() => match text {
                Some(text) => {
                    let now = chrono::Utc::now();
                    // A message that does not read as one (an `error`: its payload is
                    // a list) or a `next` without the event counts with the out of
                    // order; other kinds (`complete`, `pong`) are skipped.
                    let Ok(message) = serde_json::from_str::<NextMessage>(&text) else {
                        received.out_of_order += 1;
                        continue;
                    };
                    if message.kind != "next" {
                        continue;
                    }
                    let event = message.payload.and_then(|p| p.data).and_then(|d| d.event);
                    let Some(event) = event.filter(|e| e.seq > last_seq) else {
                        received.out_of_order += 1;
                        continue;
                    };
                    last_seq = event.seq;
                    received.count += 1;
                    progress.store(received.count, Ordering::Relaxed);
                    received.receipts.push((Arc::from(&*event.story_id), now.timestamp_micros()));
                    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(&event.occurred_at) {
                        let micros = (now - at.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0);
                        received.latencies_us.push(micros.clamp(0, u32::MAX as i64) as u32);
                    }
                }
                None => break,
            },
            _ = &mut stopped => break,
        }
    }
    received
}

fn say(line: &impl Serialize) {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, line).unwrap();
    out.write_all(b"\n").unwrap();
    out.flush().unwrap();
}

/// A client worker: reads its job, connects, subscribes, listens, reports.
async fn worker() {
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let job: Job = serde_json::from_str(&lines.recv().await.expect("a job")).unwrap();
    let gate = Arc::new(Semaphore::new(128));
    let mut connecting = Vec::new();
    for (replica, _, _) in &job.subscribers {
        let addr = job.addrs[*replica];
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
    say(&"connected");
    assert_eq!(lines.recv().await.as_deref(), Some("\"subscribe\""));
    let mut subscribing = Vec::new();
    for (mut socket, (_, station, _)) in sockets.into_iter().zip(&job.subscribers) {
        let gate = gate.clone();
        let station = station.clone();
        subscribing.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            subscribe(&mut socket, station.as_deref()).await;
            socket
        }));
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut counts = Vec::new();
    let mut readers = Vec::new();
    let mut sockets = Vec::new();
    for task in subscribing {
        sockets.push(task.await.unwrap());
    }
    for socket in sockets {
        let progress = Arc::new(AtomicUsize::new(0));
        counts.push(progress.clone());
        readers.push(tokio::spawn(read_events(socket, progress, stop_rx.clone())));
    }
    say(&"subscribed");
    let finish: Finish = serde_json::from_str(&lines.recv().await.expect("finish")).unwrap();
    // Stragglers: wait until every subscriber has what it should, or the tail is over.
    let deadline = Instant::now() + Duration::from_millis(finish.tail_ms);
    let mut done = false;
    while !done && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        done = readers_have(&counts, &finish.expected);
    }
    // A little longer, to see duplicates that would follow.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_tx.send_replace(true);
    let mut report = Report::default();
    for reader in readers {
        let r = reader.await.unwrap();
        report.received.push(r.count);
        report.out_of_order += r.out_of_order;
        report.latencies_us.extend(r.latencies_us);
        for (story, at) in r.receipts {
            if let Some(answered) = finish.answered.get(&*story) {
                report
                    .after_answer_us
                    .push((at - answered).clamp(0, u32::MAX as i64) as u32);
            }
        }
    }
    say(&report);
}

/// Whether every subscriber received what it should.
fn readers_have(counts: &[Arc<AtomicUsize>], expected: &[usize]) -> bool {
    counts
        .iter()
        .zip(expected)
        .all(|(count, expected)| count.load(Ordering::Relaxed) >= *expected)
}

/// A worker process seen from the coordinator.
struct Worker {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

impl Worker {
    fn spawn(nice: u32) -> Worker {
        let exe = std::env::current_exe().unwrap();
        let mut command = if nice > 0 {
            let mut command = std::process::Command::new("nice");
            command.arg("-n").arg(nice.to_string()).arg(exe);
            command
        } else {
            std::process::Command::new(exe)
        };
        let mut child = command
            .env("LIVE_BENCH_WORKER", "1")
            .env_remove("LIVE_BENCH_PROBE")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("a client worker starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        Worker {
            child,
            stdin,
            stdout,
        }
    }

    fn tell(&mut self, line: &impl Serialize) {
        serde_json::to_writer(&mut self.stdin, line).unwrap();
        self.stdin.write_all(b"\n").unwrap();
        self.stdin.flush().unwrap();
    }

    fn hear<T: serde::de::DeserializeOwned>(&mut self) -> T {
        let line = self
            .stdout
            .next()
            .expect("the worker answers")
            .expect("readable");
        serde_json::from_str(&line).unwrap()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Tells every worker `line` and waits for each one's answer (blocking I/O on a
/// thread of its own per worker).
async fn round<T: serde::de::DeserializeOwned + Send + 'static>(
    workers: Vec<Worker>,
    line: Value,
) -> (Vec<Worker>, Vec<T>) {
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|mut worker| {
            let line = line.clone();
            tokio::task::spawn_blocking(move || {
                if !line.is_null() {
                    worker.tell(&line);
                }
                let answer: T = worker.hear();
                (worker, answer)
            })
        })
        .collect();
    let mut workers = Vec::new();
    let mut answers = Vec::new();
    for task in tasks {
        let (worker, answer) = task.await.unwrap();
        workers.push(worker);
        answers.push(answer);
    }
    (workers, answers)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index] as f64 / 1000.0
}

fn duration_percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
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

/// Issues `publishStory` on each of `stories` at `rate` per second, round robin over
/// the replicas; returns each mutation's latency and when its answer arrived.
async fn publish(
    api: &Api,
    addrs: &[SocketAddr],
    stories: &[Prepared],
    rate: u64,
) -> (Vec<Duration>, HashMap<String, i64>, Duration) {
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut publishing = Vec::new();
    for (k, story) in stories.iter().enumerate() {
        tick.tick().await;
        let api = api.clone();
        let addr = addrs[k % addrs.len()];
        let id = story.id.clone();
        publishing.push(tokio::spawn(async move {
            let t = Instant::now();
            let answer = api
                .try_call(
                    addr,
                    "mutation($id: ID!) { publishStory(id: $id) { id } }",
                    json!({ "id": id.clone() }),
                )
                .await;
            let story = id.as_str().unwrap_or_default().to_owned();
            (
                t.elapsed(),
                story,
                chrono::Utc::now().timestamp_micros(),
                answer.err(),
            )
        }));
    }
    let mut latencies = Vec::new();
    // When each mutation's answer arrived: after its commit, so receipt minus this is
    // a lower bound of commit -> client (occurredAt, before the commit, gives the upper).
    let mut answered_at = HashMap::new();
    let mut failed = 0usize;
    for task in publishing {
        let (latency, story, at, error) = task.await.unwrap();
        latencies.push(latency);
        match error {
            None => {
                answered_at.insert(story, at);
            }
            Some(error) => {
                failed += 1;
                if failed <= 3 {
                    println!("a mutation failed: {error}");
                }
            }
        }
    }
    let took = started.elapsed();
    latencies.sort();
    if failed > 0 {
        println!("{failed} mutation(s) failed (their events are not expected)");
    }
    (latencies, answered_at, took)
}

fn describe_mutations(label: &str, latencies: &[Duration], took: Duration) {
    println!(
        "{label}: {} publishStory in {:.1?} ({:.1}/s); latency p50 {:.2?} p99 {:.2?} max {:.2?}",
        latencies.len(),
        took,
        latencies.len() as f64 / took.as_secs_f64(),
        duration_percentile(latencies, 0.5),
        duration_percentile(latencies, 0.99),
        duration_percentile(latencies, 1.0),
    );
}

/// Deletes the keys under the bench's own Redis prefix (rate-limit counters).
async fn clean_redis(url: &str, prefix: &str) {
    let Ok(client) = redis::Client::open(url) else {
        return;
    };
    let Ok(mut connection) = client.get_multiplexed_async_connection().await else {
        return;
    };
    let pattern = format!("{prefix}:*");
    let mut cursor = 0u64;
    loop {
        let scanned: redis::RedisResult<(u64, Vec<String>)> = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut connection)
            .await;
        let Ok((next, keys)) = scanned else { return };
        if !keys.is_empty() {
            let _: redis::RedisResult<i64> = redis::cmd("DEL")
                .arg(&keys)
                .query_async(&mut connection)
                .await;
        }
        if next == 0 {
            return;
        }
        cursor = next;
    }
}

fn main() {
    if std::env::var("LIVE_BENCH_WORKER").is_ok() {
        // One thread per client process: its sockets need no work stealing, and
        // nothing it spends waking other threads is taken from the gateways.
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(worker());
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(coordinate());
}

/// The bench itself: gateways, client processes, mutations, the report.
async fn coordinate() {
    if std::env::var("LIVE_BENCH_PROBE").is_ok() {
        probe().await;
        return;
    }
    let config = Config::from_env();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let processes = config.subscribers.div_ceil(config.clients_per_process);
    println!(
        "live_fanout: {} subscribers ({:?} scope) in {processes} client process(es) (nice {}), {} mutations/s for {} s{}, {} replica(s), {}, {}; {cores} cores; loadavg {}",
        config.subscribers,
        config.scope,
        config.client_nice,
        config.rate,
        config.seconds,
        if config.baseline { " (after as many with no subscriber)" } else { "" },
        config.replicas,
        if config.postgres_url.is_some() { "PostgreSQL" } else { "SQLite" },
        if config.redis_url.is_some() { "Redis" } else { "in-process bus" },
        loadavg(),
    );

    // A database of the bench's own, migrated and seeded with the demo data.
    let dir = tempfile::tempdir().unwrap();
    // A name no one else has (pid and a random part): the bench creates it, fails
    // rather than reuse one that exists, and drops only it at the end.
    let tag = format!("{}_{:08x}", std::process::id(), rand::random::<u32>());
    let bench_db = format!("smartnpc_bench_{tag}");
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
    let prefix = format!("smartnpc-bench-{tag}");
    // Cleaned up below whatever happens in the run (a panic is raised again after).
    let outcome = std::panic::AssertUnwindSafe(run(&config, &database_url, &prefix, processes))
        .catch_unwind()
        .await;

    if let Some(admin) = &config.postgres_url {
        if let Ok(admin_db) = Database::connect(admin).await {
            let _ = admin_db
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS \"{bench_db}\" WITH (FORCE)"
                ))
                .await;
        }
    }
    if let Some(url) = &config.redis_url {
        clean_redis(url, &prefix).await;
    }
    println!("loadavg at the end: {}", loadavg());
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn run(config: &Config, database_url: &str, prefix: &str, processes: usize) {
    let pool = (48 / config.replicas).clamp(4, 16);
    let mut servers = Vec::new();
    for _ in 0..config.replicas {
        servers.push(spawn_server(database_url, config.redis_url.as_deref(), prefix, pool).await);
    }
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();

    let api = sign_in(addrs[0]).await;
    let total = (config.rate * config.seconds) as usize;
    let started = Instant::now();
    let rounds = if config.baseline { 2 } else { 1 };
    let mut stories = prepare_stories(&api, addrs[0], total * rounds).await;
    let measured = stories.split_off(total * (rounds - 1));
    let baseline = stories;
    let mut stations: Vec<String> = measured.iter().map(|s| s.station.clone()).collect();
    stations.sort();
    stations.dedup();
    println!(
        "prepared {} stories over {} stations in {:.1?}",
        total * rounds,
        stations.len(),
        started.elapsed()
    );
    let mut per_station: HashMap<&str, usize> = HashMap::new();
    for story in &measured {
        *per_station.entry(story.station.as_str()).or_default() += 1;
    }

    if config.baseline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (latencies, _, took) = publish(&api, &addrs, &baseline, config.rate).await;
        describe_mutations("baseline, no subscriber", &latencies, took);
        println!("loadavg after the baseline: {}", loadavg());
    }

    // The subscribers, dealt out to the workers and, within each, over the replicas.
    let mut jobs: Vec<Job> = (0..processes)
        .map(|_| Job {
            addrs: addrs.clone(),
            subscribers: Vec::new(),
        })
        .collect();
    for i in 0..config.subscribers {
        let station = match config.scope {
            Scope::Station => Some(stations[i % stations.len()].clone()),
            Scope::All => None,
        };
        let wants = match &station {
            Some(s) => per_station.get(s.as_str()).copied().unwrap_or(0),
            None => measured.len(),
        };
        jobs[i / config.clients_per_process]
            .subscribers
            .push((i % addrs.len(), station, wants));
    }

    // Idle connections, then idle subscribers.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before: Vec<u64> = servers.iter().map(Server::rss_kib).collect();
    let started = Instant::now();
    let mut workers = Vec::new();
    for job in &jobs {
        let mut worker = Worker::spawn(config.client_nice);
        worker.tell(job);
        workers.push(worker);
    }
    let (workers, _): (_, Vec<String>) = round(workers, Value::Null).await;
    println!(
        "{} connections acknowledged in {:.1?}",
        config.subscribers,
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_connected: Vec<u64> = servers.iter().map(Server::rss_kib).collect();
    let started = Instant::now();
    let (workers, _): (_, Vec<String>) = round(workers, json!("subscribe")).await;
    println!(
        "{} subscriptions registered in {:.1?}",
        config.subscribers,
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
    println!("loadavg with idle subscribers: {}", loadavg());
    println!(
        "gateway RSS (KiB): before {rss_before:?}, with idle connections {rss_connected:?}, with idle subscribers {rss_idle:?}"
    );
    println!(
        "memory per idle subscriber: {per_subscriber:.1} KiB (connection {per_connection:.1} KiB + subscription {per_subscription:.1} KiB)"
    );

    let (mutation_latencies, answered, took) = publish(&api, &addrs, &measured, config.rate).await;
    let rss_after: Vec<u64> = servers.iter().map(Server::rss_kib).collect();
    println!("loadavg after the mutations: {}", loadavg());
    // What each subscriber should receive: the events of the mutations that went through.
    let mut per_station: HashMap<&str, usize> = HashMap::new();
    for story in &measured {
        if answered.contains_key(story.id.as_str().unwrap_or_default()) {
            *per_station.entry(story.station.as_str()).or_default() += 1;
        }
    }
    let expected_each: Vec<Vec<usize>> = jobs
        .iter()
        .map(|job| {
            job.subscribers
                .iter()
                .map(|(_, station, _)| match station {
                    Some(s) => per_station.get(s.as_str()).copied().unwrap_or(0),
                    None => answered.len(),
                })
                .collect()
        })
        .collect();
    let expected: usize = expected_each.iter().flatten().sum();
    let tail_started = Instant::now();
    let tasks: Vec<_> = workers
        .into_iter()
        .zip(&expected_each)
        .map(|(mut worker, expected)| {
            let finish = Finish {
                expected: expected.clone(),
                answered: answered.clone(),
                tail_ms: config.tail.as_millis() as u64,
            };
            tokio::task::spawn_blocking(move || {
                worker.tell(&finish);
                let report: Report = worker.hear();
                (worker, report)
            })
        })
        .collect();
    let mut reports = Vec::new();
    let mut _workers = Vec::new();
    for task in tasks {
        let (worker, report) = task.await.unwrap();
        _workers.push(worker);
        reports.push(report);
    }
    let tail = tail_started.elapsed();

    let mut latencies = Vec::new();
    let mut after_answer = Vec::new();
    let (mut received, mut lost, mut out_of_order) = (0usize, 0usize, 0usize);
    for (report, expected) in reports.into_iter().zip(&expected_each) {
        for (got, wanted) in report.received.iter().zip(expected) {
            received += got;
            lost += wanted.saturating_sub(*got);
        }
        out_of_order += report.out_of_order;
        latencies.extend(report.latencies_us);
        after_answer.extend(report.after_answer_us);
    }
    latencies.sort_unstable();
    after_answer.sort_unstable();

    println!("--- results");
    describe_mutations("with subscribers", &mutation_latencies, took);
    println!(
        "deliveries: expected {expected}, received {received}, lost {lost}, duplicated or out of order {out_of_order}; every worker's report was in {:.1?} after the last mutation's answer (an upper bound on the last delivery: it includes making the reports)",
        tail.saturating_sub(Duration::from_millis(500)),
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
    println!("gateway RSS after the run (KiB): {rss_after:?}");
    println!(
        "memory per idle subscriber: {per_subscriber:.1} KiB (connection {per_connection:.1} KiB + subscription {per_subscription:.1} KiB)"
    );
    drop(servers);
}
