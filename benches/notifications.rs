//! The notifier's throughput and latency (issue 15): notices derived and texts sent
//! per second, and the time from an event's commit to its text reaching the provider.
//!
//! Starts the gateway on a SQLite file of its own (demo data), with Tencent Cloud SMS
//! pointed at a local fake provider that answers at once and records when each
//! `SendSms` arrived. Gives `NOTIFY_BENCH_ITEMS` demo items (default 200) an SMS
//! consent and a phone each, then commits `NOTIFY_BENCH_EVENTS` (default 1,000)
//! `register` step events spread over them, as services do (one transaction each,
//! the relay woken), and waits until every text arrived. A phone receives its texts in
//! order, one at a time, so the items bound how many go at once. `NOTIFY_BENCH_RATE`
//! paces the events (per second) to see the latency of a steady flow instead of a burst.
//!
//! Run: `cargo bench --bench notifications` (release; figures go to BENCHMARKS.md);
//! on PostgreSQL with `NOTIFY_BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres`
//! (it creates and drops a database of its own there).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use entity::{notification_delivery as delivery, petition, PetitionState};
use poem::web::Data;
use poem::{handler, post, EndpointExt, Route};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{json, Value};
use smart_npc::app::App;
use smart_npc::config::Settings;
use smart_npc::domain::event::{DomainEvent, EventBody, EventScope, PetitionStepped, StepName};
use smart_npc::domain::petition_flow::Capacity;

/// When each `SendSms` arrived, by its `SessionContext` (`delivery:<id>`).
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

#[handler]
fn send_sms(body: String, arrivals: Data<&Arrivals>) -> poem::Response {
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let context = request["SessionContext"].as_str().unwrap_or("").to_owned();
    arrivals
        .lock()
        .unwrap()
        .insert(context.clone(), Instant::now());
    let answer = json!({ "Response": { "SendStatusSet": [{ "Code": "Ok", "Message": "send success",
        "SessionContext": context }], "RequestId": "bench" } });
    poem::Response::builder()
        .content_type("application/json")
        .body(answer.to_string())
}

async fn fake_provider(arrivals: Arrivals) -> String {
    use poem::listener::{Acceptor, Listener};
    let acceptor = poem::listener::TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let app = Route::new().at("/", post(send_sms)).data(arrivals);
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    format!("http://{addr}")
}

/// The bench's own database: a SQLite file in `dir`, or with `NOTIFY_BENCH_POSTGRES`
/// (a server URL, e.g. `postgres://postgres@127.0.0.1:5432/postgres`) a database of its
/// own on that server, dropped at the end (nothing else there is touched).
struct OwnDatabase {
    url: String,
    postgres: Option<(String, String)>,
}

impl OwnDatabase {
    async fn create(dir: &tempfile::TempDir) -> OwnDatabase {
        let Ok(server) = std::env::var("NOTIFY_BENCH_POSTGRES") else {
            let path = dir.path().join("bench.db");
            return OwnDatabase {
                url: format!("sqlite://{}?mode=rwc", path.display()),
                postgres: None,
            };
        };
        let name = format!("smartnpc_notify_bench_{}", std::process::id());
        let admin = Database::connect(&server).await.unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        admin.close().await.unwrap();
        let (base, _) = server
            .rsplit_once('/')
            .expect("a server URL with a database");
        OwnDatabase {
            url: format!("{base}/{name}"),
            postgres: Some((server, name)),
        }
    }

    async fn drop_it(self) {
        if let Some((server, name)) = self.postgres {
            let admin = Database::connect(&server).await.unwrap();
            admin
                .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .await
                .unwrap();
        }
    }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let items = env_number("NOTIFY_BENCH_ITEMS", 200);
    let events = env_number("NOTIFY_BENCH_EVENTS", 1_000);
    // Events per second; 0 (the default): as fast as they commit (a burst).
    let rate = env_number("NOTIFY_BENCH_RATE", 0);
    let dir = tempfile::tempdir().unwrap();
    let own = OwnDatabase::create(&dir).await;
    let url = own.url.clone();
    let db = Database::connect(&url).await.unwrap();
    smart_npc::db::migrate(&db).await.unwrap();
    smart_npc::seed::seed_demo(&db, "bench-password-1")
        .await
        .unwrap()
        .unwrap();
    db.close().await.unwrap();

    let arrivals: Arrivals = Arc::default();
    let base = fake_provider(arrivals.clone()).await;
    let vars: Vec<(&str, String)> = vec![
        ("DATABASE_URL", url.clone()),
        ("BIND_ADDR", "127.0.0.1:0".into()),
        ("AUTO_SEED_DEMO", "false".into()),
        ("SUPERVISION_INTERVAL_SECS", "0".into()),
        ("NOTIFY_POLL_MS", "10".into()),
        ("SMS_PROVIDER", "tencent".into()),
        ("SMS_API_BASE", base),
        ("SMS_SECRET_ID", "AKIDbench".into()),
        ("SMS_SECRET_KEY", "bench-secret".into()),
        ("SMS_SDK_APP_ID", "1400000000".into()),
        ("SMS_TEMPLATE_PROGRESS", "1".into()),
        ("SMS_TEMPLATE_ALERT", "2".into()),
        ("SMS_QUIET_HOURS", "off".into()),
        ("SMS_DAILY_CAP", "1000".into()),
        (
            "STORAGE_URL",
            dir.path().join("files").display().to_string(),
        ),
    ];
    let lookup = |k: &str| {
        vars.iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.clone())
    };
    let settings = Settings::from_lookup(lookup).unwrap();
    let live = smart_npc::events::LiveSettings::from_lookup(lookup).unwrap();
    let db = smart_npc::db::connect(&settings).await.unwrap();
    let app = App::with_live_settings(db.clone(), settings, live).unwrap();
    let relay = app.state.live.clone();
    let (acceptor, _) = app.bind().await.unwrap();
    tokio::spawn(app.serve(acceptor, std::future::pending()));

    let ids: Vec<i64> = petition::Entity::find()
        .select_only()
        .column(petition::Column::Id)
        .order_by_asc(petition::Column::Id)
        .limit(items as u64)
        .into_tuple()
        .all(&db)
        .await
        .unwrap();
    for (n, id) in ids.iter().enumerate() {
        petition::Entity::update_many()
            .col_expr(petition::Column::SmsConsent, Expr::value(true))
            .col_expr(
                petition::Column::SubmitterPhone,
                Expr::value(format!("139{:08}", n)),
            )
            .filter(petition::Column::Id.eq(*id))
            .exec(&db)
            .await
            .unwrap();
    }
    // Let the notifier take its start after the seed's history.
    tokio::time::sleep(Duration::from_millis(500)).await;

    println!(
        "notifications ({}): {events} events over {} items ({}), SMS to a local fake provider",
        if own.postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        ids.len(),
        if rate > 0 {
            format!("{rate} events/s")
        } else {
            "a burst".to_owned()
        }
    );
    let mut committed: HashMap<i64, Instant> = HashMap::new();
    let started = Instant::now();
    for n in 0..events {
        if rate > 0 {
            // Paced: event n is committed at n / rate seconds.
            let at = started + Duration::from_secs_f64(n as f64 / rate as f64);
            tokio::time::sleep_until(at.into()).await;
        }
        let id = ids[n % ids.len()];
        let event = DomainEvent::new(
            EventScope {
                petition_id: Some(id),
                ..EventScope::default()
            },
            EventBody::PetitionStepped(PetitionStepped {
                petition_id: id,
                action: StepName("register"),
                from: PetitionState::Submitted,
                to: PetitionState::Registered,
                version: 2,
                role: Capacity::StationStaff,
            }),
        );
        let seq = smart_npc::events::outbox::append(&db, &event)
            .await
            .unwrap();
        committed.insert(seq, Instant::now());
        relay.wake_relay();
    }
    let commit_time = started.elapsed();

    let deadline = Instant::now() + Duration::from_secs(600);
    while arrivals.lock().unwrap().len() < events {
        assert!(
            Instant::now() < deadline,
            "only {} of {events} texts arrived",
            arrivals.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all_sent = started.elapsed();
    let rows = delivery::Entity::find().all(&db).await.unwrap();
    let derived = rows
        .iter()
        .filter(|r| committed.contains_key(&r.event_seq))
        .count();
    let arrivals = arrivals.lock().unwrap().clone();
    let mut latencies: Vec<Duration> = rows
        .iter()
        .filter(|r| r.channel == "sms")
        .filter_map(|r| {
            let arrived = arrivals.get(&format!("delivery:{}", r.id))?;
            let commit = committed.get(&r.event_seq)?;
            Some(arrived.saturating_duration_since(*commit))
        })
        .collect();
    latencies.sort();
    println!("  events committed in {commit_time:.2?}; every text arrived after {all_sent:.2?}");
    println!(
        "  notices derived: {derived} ({:.0}/s); texts sent: {} ({:.0}/s)",
        derived as f64 / all_sent.as_secs_f64(),
        latencies.len(),
        latencies.len() as f64 / all_sent.as_secs_f64()
    );
    println!(
        "  commit → provider: p50={:.2?} p99={:.2?} max={:.2?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default()
    );
    db.close().await.unwrap();
    own.drop_it().await;
}
