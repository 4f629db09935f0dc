//! Supervision dashboards: N simulated dashboards on one gateway while M mutations per
//! second flow.
//!
//! Each dashboard is what `/dashboard` holds open: one graphql-transport-ws connection
//! with the page's own two subscriptions, `DashboardLiveFigures` (`liveStatistics`,
//! this year to date) and `DashboardAlerts` (`supervisionAlerts`), sent exactly as the
//! page sends them (the files of `assets/operations/dashboard/`, with their
//! persisted-query ids). A quarter follow the county, the others one station each.
//! The mutations alternate: a citizen's new item at a station (moves the figures of
//! that station and of the county) and a supervisor urging an item in handling (an
//! alert for that station's and the county's dashboards).
//!
//! Reported: the update latency of the figures (from a new item's mutation answer to
//! the dashboard receiving figures that count it; `liveStatistics` coalesces bursts by
//! design: `LIVE_STATISTICS_QUIET_MS`, at most `LIVE_STATISTICS_MAX_DELAY_MS`), of the
//! alerts (from `occurredAt`, written in the committing transaction, to receipt), alerts
//! lost or duplicated, and the gateway's CPU time and RSS (it runs as a child process:
//! the release `smart-npc serve`).
//!
//! ```sh
//! ulimit -n 20000
//! cargo bench --bench dashboard
//! ```
//! Settings: DASH_BENCH_DASHBOARDS (1000), DASH_BENCH_RATE (mutations/s, 100),
//! DASH_BENCH_SECONDS (20). DATABASE_URL, when PostgreSQL, names a server on which the
//! bench creates (and afterwards drops) a database of its own; without it, SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use smart_npc::config::{Settings, DEFAULT_DEMO_PASSWORD};
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[path = "../tests/support/ws_client.rs"]
mod ws_client;
use ws_client::Ws;

const TOKEN_SECRET: &str = "dashboard-bench-secret-0123456789abcdef01";
const LIVE_FIGURES: &str =
    include_str!("../assets/operations/dashboard/DashboardLiveFigures.graphql");
const ALERTS: &str = include_str!("../assets/operations/dashboard/DashboardAlerts.graphql");

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// A subscribe message as the page sends it (text and persisted-query id).
fn subscribe_message(id: &str, name: &str, text: &str, variables: Value) -> Value {
    json!({ "id": id, "type": "subscribe", "payload": {
        "operationName": name,
        "query": text,
        "variables": variables,
        "extensions": { "persistedQuery": { "version": 1,
            "sha256Hash": hex::encode(Sha256::digest(text.as_bytes())) } },
    } })
}

// ------------------------------------------------------------------ the gateway

struct Server {
    child: std::process::Child,
    addr: SocketAddr,
}

impl Server {
    fn proc_status(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    fn rss_kib(&self) -> u64 {
        self.proc_status("VmRSS:")
    }

    /// User + system CPU time so far, in clock ticks (/proc/PID/stat fields 14 and 15).
    fn cpu_ticks(&self) -> u64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // The command name may hold spaces: count fields after its closing parenthesis.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| {
            fields
                .get(n)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        field(11) + field(12)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Clock ticks per second: 100 on Linux (`getconf CLK_TCK`).
const TICKS_PER_SECOND: f64 = 100.0;

async fn spawn_server(database_url: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_smart-npc"))
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("BIND_ADDR", addr.to_string())
        .env("AUTO_SEED_DEMO", "false")
        .env("TOKEN_SECRET", TOKEN_SECRET)
        .env(
            "REDIS_CHANNEL_PREFIX",
            format!("smartnpc-dash-bench-{}", std::process::id()),
        )
        .env("WS_MAX_CONNECTIONS_PER_ADDRESS", "1000000")
        .env("SIGNIN_ATTEMPTS_PER_ADDRESS", "100000")
        .env("SUPERVISION_INTERVAL_SECS", "0")
        .env("DATABASE_MAX_CONNECTIONS", "16")
        .env("RUST_LOG", "warn")
        .env_remove("REDIS_URL")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the gateway binary starts");
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
    addr: SocketAddr,
    token: String,
}

impl Api {
    async fn sign_in(client: &reqwest::Client, addr: SocketAddr, login: &str) -> Api {
        let body: Value = client
            .post(format!("http://{addr}/graphql"))
            .json(&json!({
                "query": "mutation($l: String!, $p: String!) { signIn(login: $l, password: $p) { accessToken } }",
                "variables": { "l": login, "p": DEFAULT_DEMO_PASSWORD }
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Api {
            client: client.clone(),
            addr,
            token: body["data"]["signIn"]["accessToken"]
                .as_str()
                .expect("signed in")
                .to_owned(),
        }
    }

    async fn call(&self, query: &str, variables: Value) -> Value {
        let body = self.try_call(query, variables).await;
        assert!(body.get("errors").is_none(), "{body}");
        body["data"].clone()
    }

    /// The whole answer, errors included (a failed request counts as code `REQUEST`).
    async fn try_call(&self, query: &str, variables: Value) -> Value {
        let sent = self
            .client
            .post(format!("http://{}/graphql", self.addr))
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await;
        match sent {
            Ok(response) => response.json().await.unwrap_or_else(
                |e| json!({ "errors": [{ "message": e.to_string(), "extensions": { "code": "REQUEST" } }] }),
            ),
            Err(e) => json!({ "errors": [{ "message": e.to_string(), "extensions": { "code": "REQUEST" } }] }),
        }
    }
}

/// The first error's code of a mutation's answer, if it failed.
fn failure(answer: &Value) -> Option<String> {
    answer.get("errors").map(|errors| {
        errors[0]["extensions"]["code"]
            .as_str()
            .unwrap_or("UNCODED")
            .to_owned()
    })
}

// ------------------------------------------------------------------ dashboards

/// What one dashboard received: (itemsCollected, receipt µs) per figures update, and
/// per alert (seq, commit -> receipt µs).
#[derive(Default)]
struct Seen {
    figures: Vec<(i64, i64)>,
    alerts: Vec<(i64, u32)>,
}

/// Opens a dashboard; returns it once both subscriptions are registered (the answer to
/// a ping follows them) and the first figures have come, with their `itemsCollected`.
async fn open_dashboard(addr: SocketAddr, token: &str, station: Option<&str>) -> (Ws, i64) {
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let mut ws = Ws::try_open_with(addr, Some("graphql-transport-ws"), Some(config), true)
        .await
        .expect("upgrade")
        .waiting(Duration::from_secs(120));
    ws.init(Some(token)).await;
    let scope = json!({ "stationId": station });
    ws.send(subscribe_message(
        "figures",
        "DashboardLiveFigures",
        LIVE_FIGURES,
        scope.clone(),
    ))
    .await;
    let mut alerts = scope;
    alerts["after"] = Value::Null;
    ws.send(subscribe_message(
        "alerts",
        "DashboardAlerts",
        ALERTS,
        alerts,
    ))
    .await;
    ws.send(json!({ "type": "ping" })).await;
    let (mut figures, mut pong) = (None, false);
    while figures.is_none() || !pong {
        let message = ws.json().await;
        match message["type"].as_str() {
            Some("pong") => pong = true,
            Some("next") if message["id"] == "figures" => {
                figures = message["payload"]["data"]["liveStatistics"]["itemsCollected"].as_i64();
                assert!(figures.is_some(), "{message}");
            }
            _ => panic!("unexpected while opening: {message}"),
        }
    }
    (ws, figures.unwrap())
}

async fn follow(mut ws: Ws, mut stop: watch::Receiver<bool>) -> Seen {
    let mut seen = Seen::default();
    loop {
        tokio::select! {
            message = ws.recv() => match message {
                Some(message) if message["type"] == "next" => {
                    let now = chrono::Utc::now();
                    let data = &message["payload"]["data"];
                    if message["id"] == "figures" {
                        let collected = data["liveStatistics"]["itemsCollected"].as_i64().unwrap_or(-1);
                        seen.figures.push((collected, now.timestamp_micros()));
                    } else if let Some(alert) = data.get("supervisionAlerts") {
                        let at = alert["occurredAt"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                        let micros = at.map_or(0, |at| (now - at.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0));
                        seen.alerts.push((alert["seq"].as_i64().unwrap_or(0), micros.clamp(0, u32::MAX as i64) as u32));
                    }
                }
                Some(_) => continue,
                None => break,
            },
            _ = stop.changed() => break,
        }
    }
    seen
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index] as f64 / 1000.0
}

struct Station {
    id: String,
    /// Items in handling there (urged in turn); empty if none.
    items: Vec<Value>,
}

async fn stations(supervisor: &Api) -> Vec<Station> {
    let listed = supervisor
        .call("{ stations(first: 100) { nodes { id } } }", json!({}))
        .await;
    let mut by_id: Vec<Station> = listed["stations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| Station {
            id: s["id"].as_str().unwrap().to_owned(),
            items: Vec::new(),
        })
        .collect();
    let mut after = Value::Null;
    loop {
        let page = supervisor
            .call(
                "query($a: String) { petitions(first: 100, after: $a, filter: { states: [ACCEPTED, FORWARDED] }) { pageInfo { hasNextPage endCursor } nodes { id station { id } } } }",
                json!({ "a": after }),
            )
            .await;
        for item in page["petitions"]["nodes"].as_array().unwrap() {
            if let Some(station) = by_id
                .iter_mut()
                .find(|s| Some(s.id.as_str()) == item["station"]["id"].as_str())
            {
                station.items.push(item["id"].clone());
            }
        }
        if page["petitions"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["petitions"]["pageInfo"]["endCursor"].clone();
    }
    by_id
}

async fn last_seq(db: &sea_orm::DatabaseConnection) -> i64 {
    use sea_orm::{EntityTrait, QueryOrder};
    entity::outbox_event::Entity::find()
        .order_by_desc(entity::outbox_event::Column::Seq)
        .one(db)
        .await
        .unwrap()
        .map_or(0, |e| e.seq)
}

/// Supervision alerts committed after `seq`, per station (numeric id).
async fn alerts_since(db: &sea_orm::DatabaseConnection, seq: i64) -> HashMap<i64, usize> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let rows = entity::outbox_event::Entity::find()
        .filter(entity::outbox_event::Column::Topic.eq("supervision"))
        .filter(entity::outbox_event::Column::Seq.gt(seq))
        .all(db)
        .await
        .unwrap();
    let mut per_station = HashMap::new();
    for row in rows {
        *per_station.entry(row.station_id.unwrap_or(0)).or_default() += 1;
    }
    per_station
}

#[tokio::main]
async fn main() {
    let dashboards: usize = env_or("DASH_BENCH_DASHBOARDS", 1000);
    let rate: u64 = env_or("DASH_BENCH_RATE", 100u64).max(1);
    let seconds: u64 = env_or("DASH_BENCH_SECONDS", 20u64).clamp(1, 600);
    let postgres_url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|v| v.starts_with("postgres"));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "dashboard: {dashboards} dashboards, {rate} mutations/s for {seconds} s, {}; {cores} cores",
        if postgres_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
    );

    // A database of the bench's own, migrated and seeded with the demo data.
    let dir = tempfile::tempdir().unwrap();
    let bench_db = format!(
        "smartnpc_dash_bench_{}_{:08x}",
        std::process::id(),
        rand::random::<u32>()
    );
    let database_url = match &postgres_url {
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
    let server = spawn_server(&database_url).await;
    let addr = server.addr;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let supervisor = Api::sign_in(&http, addr, "supervisor").await;
    let citizen = Api::sign_in(&http, addr, "citizen").await;
    let stations = stations(&supervisor).await;
    let urged: Vec<(usize, Value)> = stations
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.items.iter().map(move |item| (i, item.clone())))
        .collect();
    assert!(!urged.is_empty(), "no item in handling to urge");
    println!(
        "{} stations, {} items in handling to urge",
        stations.len(),
        urged.len()
    );

    // The dashboards: a quarter on the county, the others on one station each.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = server.rss_kib();
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(64));
    let mut opening = Vec::new();
    for d in 0..dashboards {
        let station = (d % 4 != 0).then(|| stations[d % stations.len()].id.clone());
        let token = supervisor.token.clone();
        let gate = gate.clone();
        opening.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            let (ws, collected) = open_dashboard(addr, &token, station.as_deref()).await;
            (ws, station, collected)
        }));
    }
    let mut open = Vec::new();
    for task in opening {
        open.push(task.await.unwrap());
    }
    let opened_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = server.rss_kib();
    println!(
        "{} dashboards open (figures drawn) in {opened_in:.1?}",
        open.len()
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut readers = Vec::new();
    for (ws, station, initial) in open {
        let reader = tokio::spawn(follow(ws, stop_rx.clone()));
        readers.push((reader, station, initial));
    }

    // The mutations: even ones a new item, odd ones an urging, over the stations.
    // New items' answer times, per station, in order (their figure latency's start).
    let answered: Arc<Mutex<HashMap<String, Vec<i64>>>> = Arc::default();
    let mut urges_per_station = vec![0usize; stations.len()];
    let total = (rate * seconds) as usize;
    let db = {
        let settings =
            Settings::from_lookup(|k| (k == "DATABASE_URL").then(|| database_url.clone())).unwrap();
        smart_npc::db::connect(&settings).await.unwrap()
    };
    let outbox_before = last_seq(&db).await;
    let cpu_before = server.cpu_ticks();
    let wall = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::new();
    for k in 0..total {
        tick.tick().await;
        if k % 2 == 0 {
            let station = stations[(k / 2) % stations.len()].id.clone();
            let (citizen, answered) = (citizen.clone(), answered.clone());
            tasks.push(tokio::spawn(async move {
                let t = Instant::now();
                let answer = citizen
                    .try_call(
                        "mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { trackingCode } }",
                        json!({ "i": { "title": format!("看板压测 {k}"), "content": "路灯不亮，请维修。", "stationId": station } }),
                    )
                    .await;
                let at = chrono::Utc::now().timestamp_micros();
                let failed = failure(&answer);
                if failed.is_none() {
                    answered.lock().unwrap().entry(station).or_default().push(at);
                }
                (t.elapsed(), failed, None)
            }));
        } else {
            let (station, item) = urged[(k / 2) % urged.len()].clone();
            let supervisor = supervisor.clone();
            tasks.push(tokio::spawn(async move {
                let t = Instant::now();
                let deadline = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
                let answer = supervisor
                    .try_call(
                        "mutation($id: ID!, $d: DateTime!) { urgePetition(id: $id, note: \"请加快办理\", deadline: $d) { id } }",
                        json!({ "id": item, "d": deadline }),
                    )
                    .await;
                let failed = failure(&answer);
                let urged = failed.is_none().then_some(station);
                (t.elapsed(), failed, urged)
            }));
        }
    }
    let mut mutation_latencies = Vec::new();
    let mut failures: HashMap<String, usize> = HashMap::new();
    for task in tasks {
        let (latency, failed, urged) = task.await.unwrap();
        mutation_latencies.push(latency);
        if let Some(code) = failed {
            *failures.entry(code).or_default() += 1;
        }
        if let Some(station) = urged {
            urges_per_station[station] += 1;
        }
    }
    let mutating = wall.elapsed();
    // Let the last coalesced figures and alerts arrive, then stop.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let cpu_ticks = server.cpu_ticks() - cpu_before;
    let cpu_wall = wall.elapsed();
    let rss_after = server.rss_kib();
    stop_tx.send_replace(true);

    // The alerts each dashboard should have had: the outbox's, by the station it names
    // (a mutation answered with an error may still have committed).
    let alerts_per_station = alerts_since(&db, outbox_before).await;
    let total_alerts: usize = alerts_per_station.values().sum();
    // Per station, the county: new items' answer times in order.
    let answered = answered.lock().unwrap().clone();
    let mut county_answers: Vec<i64> = answered.values().flatten().copied().collect();
    county_answers.sort_unstable();
    let total_urges: usize = urges_per_station.iter().sum();
    println!(
        "urges answered without error: {total_urges}; supervision alerts committed: {total_alerts}"
    );
    let (mut figure_latencies, mut alert_latencies) = (Vec::new(), Vec::new());
    let (mut expected_alerts, mut received_alerts, mut disordered) = (0usize, 0usize, 0usize);
    let (mut updates, mut stale_dashboards) = (0usize, 0usize);
    for (reader, station, initial) in readers {
        let seen = reader.await.unwrap();
        let answers = match &station {
            Some(s) => answered.get(s).cloned().unwrap_or_default(),
            None => county_answers.clone(),
        };
        // Each update counting more items than before: those items' latency.
        let mut counted = 0usize;
        for (collected, at) in &seen.figures {
            let now_counted = (*collected - initial).max(0) as usize;
            for answer in answers.iter().take(now_counted).skip(counted) {
                figure_latencies.push((at - answer).clamp(0, u32::MAX as i64) as u32);
            }
            counted = counted.max(now_counted);
            updates += 1;
        }
        if counted < answers.len() {
            stale_dashboards += 1;
        }
        expected_alerts += match &station {
            Some(s) => {
                let id = smart_npc::domain::node_id::NodeId::decode(s).unwrap().id;
                alerts_per_station.get(&id).copied().unwrap_or(0)
            }
            None => total_alerts,
        };
        received_alerts += seen.alerts.len();
        disordered += seen.alerts.windows(2).filter(|w| w[1].0 <= w[0].0).count();
        alert_latencies.extend(seen.alerts.iter().map(|(_, l)| *l));
    }
    figure_latencies.sort_unstable();
    alert_latencies.sort_unstable();
    mutation_latencies.sort();

    println!("--- results");
    println!(
        "mutations: {total} in {mutating:.1?} ({:.1}/s); answer p50 {:.1?} p99 {:.1?}",
        total as f64 / mutating.as_secs_f64(),
        mutation_latencies[mutation_latencies.len() / 2],
        mutation_latencies[((mutation_latencies.len() as f64 * 0.99) as usize).saturating_sub(1)],
    );
    println!("failed mutations (by code): {failures:?}");
    println!(
        "figures: {updates} updates; new item answered -> dashboard has it: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (n={}); dashboards missing a final figure: {stale_dashboards}",
        percentile(&figure_latencies, 0.5),
        percentile(&figure_latencies, 0.99),
        percentile(&figure_latencies, 1.0),
        figure_latencies.len(),
    );
    println!(
        "alerts: expected {expected_alerts}, received {received_alerts}, lost {}, duplicated or out of order {disordered}; commit -> dashboard p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        expected_alerts.saturating_sub(received_alerts),
        percentile(&alert_latencies, 0.5),
        percentile(&alert_latencies, 0.99),
        percentile(&alert_latencies, 1.0),
    );
    println!(
        "gateway CPU: {:.1} s over {:.1?} = {:.0}% of one core (of {cores}); RSS {} MiB before, {} MiB with {dashboards} idle dashboards ({:.1} KiB each), {} MiB after the run",
        cpu_ticks as f64 / TICKS_PER_SECOND,
        cpu_wall,
        100.0 * cpu_ticks as f64 / TICKS_PER_SECOND / cpu_wall.as_secs_f64(),
        rss_before / 1024,
        rss_idle / 1024,
        (rss_idle as f64 - rss_before as f64) / dashboards.max(1) as f64,
        rss_after / 1024,
    );

    drop(server);
    if let Some(admin) = &postgres_url {
        if let Ok(admin_db) = Database::connect(admin).await {
            let _ = admin_db
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS \"{bench_db}\" WITH (FORCE)"
                ))
                .await;
        }
    }
}
