//! Cheap requests stay cheap, and list pages do not grow with the history (issue 14).
//!
//! Starts the gateway (SQLite demo data, or PostgreSQL when `BENCH_DATABASE_URL`
//! names a database this bench may fill) on a free port and measures, in one run:
//! 1. throughput of `/healthz`, of `{ __typename }` (no database), of
//!    `{ townships { totalCount } }` (anonymous and signed in), with `CLIENTS` requests
//!    in flight for `CHEAP_BENCH_SECONDS` (3) each;
//! 2. the mean latency of the main list pages (one client, sequential) on the demo
//!    data (1×), then again after the demo's items are copied to 100× and analysed.
//!
//! Run: `cargo bench --bench cheap_requests` (figures go to BENCHMARKS.md;
//! `CHEAP_BENCH_LISTS=0` measures 1. only).
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The gateway binary's allocator (see `src/main.rs`), since the gateway runs in-process here.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{json, Value};
use smart_npc::app::App;
use smart_npc::config::{Settings, DEFAULT_DEMO_PASSWORD};
use smart_npc::domain::node_id::{NodeId, NodeKind};

const CLIENTS: usize = 16;
const LIST_RUNS: usize = 200;

/// How long each throughput measurement lasts (`CHEAP_BENCH_SECONDS`, 3 s).
fn seconds() -> u64 {
    static SECONDS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SECONDS.get_or_init(|| {
        std::env::var("CHEAP_BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|s| *s > 0)
            .unwrap_or(3)
    })
}

/// Requests per second with `CLIENTS` in flight for `seconds()`.
async fn throughput(send: impl Fn() -> reqwest::RequestBuilder + Send + Sync + 'static) -> f64 {
    let send = Arc::new(send);
    let done = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds());
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (send, done) = (send.clone(), done.clone());
        clients.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let response = send().send().await.unwrap();
                assert!(response.status().is_success());
                let body = response.bytes().await.unwrap();
                assert!(!body.windows(8).any(|w| w == b"\"errors\""), "{body:?}");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for client in clients {
        client.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / seconds() as f64
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap()
}

/// The demo's items (and their department parts) copied 99 times: 100×.
async fn grow(db: &DatabaseConnection) {
    let columns = [
        "title",
        "content",
        "channel",
        "state",
        "submitter_account_id",
        "submitter_name",
        "deputy_id",
        "station_id",
        "township_id",
        "grid_id",
        "category_id",
        "urgency",
        "handling_level",
        "lead_department_id",
        "deadline",
        "is_overdue",
        "collected_at",
        "registered_at",
        "accepted_at",
        "resolved_at",
        "closed_at",
        "created_at",
        "updated_at",
    ];
    let from_p: Vec<String> = columns.iter().map(|c| format!("p.{c}")).collect();
    db.execute_unprepared(&format!(
        "WITH RECURSIVE copies(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM copies WHERE n < 99) \
         INSERT INTO petition (tracking_code, result, {}) \
         SELECT 'X' || copies.n || '-' || p.id, CAST(p.id AS TEXT), {} \
         FROM petition p, copies WHERE p.state <> 'merged'",
        columns.join(", "),
        from_p.join(", ")
    ))
    .await
    .unwrap();
    db.execute_unprepared(
        "INSERT INTO petition_department (petition_id, department_id, role, status, forwarded_at) \
         SELECT c.id, d.department_id, d.role, d.status, d.forwarded_at \
         FROM petition c JOIN petition_department d ON d.petition_id = CAST(c.result AS BIGINT) \
         WHERE c.tracking_code LIKE 'X%'",
    )
    .await
    .unwrap();
    // A bulk copy leaves PostgreSQL's item tally (one row per place and kind, updated
    // by a trigger for each copied item) with a hundred thousand dead row versions that
    // autovacuum would remove within a minute (the migration sets it to visit the
    // table after every thousand changes); vacuum now, as a running database would be.
    let settle = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    db.execute_unprepared(settle).await.unwrap();
}

struct Bench {
    client: reqwest::Client,
    graphql: String,
}

impl Bench {
    async fn token(&self, login: &str) -> String {
        let r: Value = self
            .client
            .post(&self.graphql)
            .json(&json!({ "query": "mutation($p: String!) { signIn(login: LOGIN, password: $p) { accessToken } }".replace("LOGIN", &format!("{login:?}")), "variables": { "p": DEFAULT_DEMO_PASSWORD } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["data"]["signIn"]["accessToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Mean latency of `LIST_RUNS` sequential requests.
    async fn mean(&self, token: &str, query: &str, vars: &Value) -> Duration {
        let started = Instant::now();
        for _ in 0..LIST_RUNS {
            let r: Value = self
                .client
                .post(&self.graphql)
                .bearer_auth(token)
                .json(&json!({ "query": query, "variables": vars }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(r.get("errors").is_none(), "{query}: {r}");
        }
        started.elapsed() / LIST_RUNS as u32
    }
}

/// (name, login, query, variables) of the list pages measured.
fn lists(db_ids: &Ids) -> Vec<(&'static str, &'static str, String, Value)> {
    const PAGE: &str =
        "edges { cursor node { id trackingCode state } } pageInfo { hasNextPage endCursor }";
    let q = |s: &str| s.replace("PAGE", PAGE);
    vec![
        ("open items (forwarded + accepted)", "supervisor",
         q("{ petitions(filter: { states: [FORWARDED, ACCEPTED] }, first: 20) { PAGE } }"), json!({})),
        ("items, state closed", "supervisor",
         q("{ petitions(filter: { states: [CLOSED] }, first: 20) { PAGE } }"), json!({})),
        ("items, state closed, with totalCount", "supervisor",
         q("{ petitions(filter: { states: [CLOSED] }, first: 20) { totalCount PAGE } }"), json!({})),
        ("station ledger", "staff",
         q("query($s: ID!) { stationLedger(stationId: $s, first: 20) { PAGE } }"), json!({ "s": db_ids.station })),
        ("department inbox", "handler",
         q("query($d: ID!) { departmentInbox(departmentId: $d, first: 20) { PAGE } }"), json!({ "d": db_ids.department })),
        ("nested page (stations → residents → pairings, activities)", "supervisor",
         "{ stations(first: 20) { edges { node { name residentDeputies(first: 5) { edges { node { name pairings(first: 3) { edges { node { kind senior { name activities(first: 3) { edges { node { title } } } } } } } activities(first: 3) { edges { node { title } } } } } } } } } }".into(),
         json!({})),
    ]
}

struct Ids {
    station: String,
    department: String,
}

async fn measure_lists(bench: &Bench, ids: &Ids) -> Vec<(&'static str, Duration)> {
    let mut out = Vec::new();
    for (name, login, query, vars) in lists(ids) {
        let token = bench.token(login).await;
        bench.mean(&token, &query, &vars).await; // warm-up
        out.push((name, bench.mean(&token, &query, &vars).await));
    }
    out
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let db_url = std::env::var("BENCH_DATABASE_URL").unwrap_or(sqlite);
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
    let app = App::new(db.clone(), settings).unwrap();
    let (acceptor, addr) = app.bind().await.unwrap();
    tokio::spawn(app.serve(acceptor, std::future::pending()));
    let bench = Bench {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(1_000)
            .build()
            .unwrap(),
        graphql: format!("http://{addr}/graphql"),
    };
    println!(
        "backend: {:?}, cores: {}",
        db.get_database_backend(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );

    // 1. Throughput, in one run.
    let health = format!("http://{addr}/healthz");
    let c = bench.client.clone();
    throughput(move || c.get(&health)).await; // warm-up
    let c = bench.client.clone();
    let health = format!("http://{addr}/healthz");
    let healthz = throughput(move || c.get(&health)).await;
    // The engine alone: a document that reads nothing from the database.
    let typename_body = json!({ "query": "{ __typename }" });
    let (c, url) = (bench.client.clone(), bench.graphql.clone());
    let typename = throughput(move || c.post(&url).json(&typename_body)).await;
    let count_body = json!({ "query": "{ townships { totalCount } }" });
    let (c, url, body) = (
        bench.client.clone(),
        bench.graphql.clone(),
        count_body.clone(),
    );
    let anonymous = throughput(move || c.post(&url).json(&body)).await;
    let token = bench.token("supervisor").await;
    let (c, url, body) = (bench.client.clone(), bench.graphql.clone(), count_body);
    let signed_in = throughput(move || c.post(&url).bearer_auth(&token).json(&body)).await;
    println!("{CLIENTS} in flight, {} s each:", seconds());
    println!("  /healthz                               {healthz:>8.0} req/s");
    println!(
        "  {{ __typename }} (no database)           {typename:>8.0} req/s  ({:.2}x /healthz)",
        typename / healthz
    );
    println!(
        "  townships {{ totalCount }} (anonymous)   {anonymous:>8.0} req/s  ({:.2}x /healthz)",
        anonymous / healthz
    );
    println!(
        "  townships {{ totalCount }} (signed in)   {signed_in:>8.0} req/s  ({:.2}x /healthz)",
        signed_in / healthz
    );

    // 2. List pages at 1x and 100x (`CHEAP_BENCH_LISTS=0` skips them, e.g. to profile 1.).
    if std::env::var("CHEAP_BENCH_LISTS").as_deref() == Ok("0") {
        return;
    }
    let staff_station = scalar(&db, "SELECT r.station_id FROM account_role r JOIN account a ON a.id = r.account_id WHERE a.login = 'staff' AND r.station_id IS NOT NULL").await;
    let department = scalar(&db, "SELECT r.department_id FROM account_role r JOIN account a ON a.id = r.account_id WHERE a.login = 'handler' AND r.department_id IS NOT NULL").await;
    let ids = Ids {
        station: NodeId::new(NodeKind::Station, staff_station).encode(),
        department: NodeId::new(NodeKind::Department, department).encode(),
    };
    let items_1x = scalar(&db, "SELECT COUNT(*) FROM petition").await;
    let one = measure_lists(&bench, &ids).await;
    grow(&db).await;
    let items_100x = scalar(&db, "SELECT COUNT(*) FROM petition").await;
    let hundred = measure_lists(&bench, &ids).await;
    println!(
        "list pages, mean of {LIST_RUNS} sequential requests ({items_1x} items vs {items_100x}):"
    );
    for ((name, a), (_, b)) in one.iter().zip(&hundred) {
        println!(
            "  {name:<58} 1x {a:>9.2?}  100x {b:>9.2?}  ({:.2}x)",
            b.as_secs_f64() / a.as_secs_f64()
        );
    }
}
