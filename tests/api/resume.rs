//! Resuming with the unmodified graphql-ws npm client: the documented snippet
//! (tests/ws-client/resume.mjs, quoted in README.md) receives every event exactly once
//! and in order across a restart of the gateway it is connected to.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};
use serde_json::Value;
use smart_npc::app::App;
use smart_npc::config::Settings;
use smart_npc::events::LiveSettings;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::ChildStdout;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::helpers::{Fixture, TestApp};
use crate::live::{first_deputy, publish_story};

pub(crate) const TOKEN_SECRET: &str = "resume-tests-token-secret-0123456789abcdef";
/// A hang guard, not a timing goal: the client's back-off between attempts grows to
/// several seconds while the gateway is down.
// A hang guard: the snippet backs off up to 45 s between attempts (30 s with jitter),
// and a busy machine may take a while to bring the second gateway up.
const WAIT: Duration = Duration::from_secs(150);

fn ws_client_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ws-client")
}

fn snippet() -> String {
    let script = std::fs::read_to_string(ws_client_dir().join("resume.mjs")).unwrap();
    let begin = "// README: resume (begin)\n";
    let end = "// README: resume (end)";
    let start = script.find(begin).expect("begin marker") + begin.len();
    let stop = script.find(end).expect("end marker");
    script[start..stop].to_owned()
}

#[test]
fn the_readme_quotes_the_tested_resume_snippet_verbatim() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let quoted = format!("```js\n{}```", snippet());
    assert!(
        readme.contains(&quoted),
        "README.md must quote tests/ws-client/resume.mjs between its markers verbatim:\n{quoted}"
    );
}

/// A gateway on `db`, listening on `bind` (port 0 picks one); stopping it is sending
/// on the channel and awaiting the handle, after which its port is free again.
pub(crate) async fn gateway(
    db: &DatabaseConnection,
    bind: &str,
    prefix: &str,
) -> (
    SocketAddr,
    oneshot::Sender<()>,
    JoinHandle<std::io::Result<()>>,
) {
    let backend = match sea_orm::ConnectionTrait::get_database_backend(db) {
        sea_orm::DbBackend::Postgres => "postgres://gateway/db",
        _ => "sqlite://gateway.db",
    };
    let mut vars: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), backend.into()),
        ("BIND_ADDR".into(), bind.into()),
        ("AUTO_SEED_DEMO".into(), "false".into()),
        ("TOKEN_SECRET".into(), TOKEN_SECRET.into()),
        ("SUPERVISION_INTERVAL_SECS".into(), "0".into()),
        ("REDIS_CHANNEL_PREFIX".into(), prefix.into()),
    ];
    if let Some(url) = crate::helpers::redis_url() {
        vars.push(("REDIS_URL".into(), url));
    }
    let lookup = |key: &str| {
        vars.iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let settings = Settings::from_lookup(lookup).expect("gateway settings");
    let live = LiveSettings::from_lookup(lookup).expect("live settings");
    let app = App::with_live_settings(db.clone(), settings, live).expect("gateway builds");
    let (acceptor, addr) = app.bind().await.expect("bind");
    let (tx, rx) = oneshot::channel::<()>();
    let served = tokio::spawn(app.serve(acceptor, async move {
        let _ = rx.await;
    }));
    (addr, tx, served)
}

pub(crate) async fn cursor_of_latest(db: &DatabaseConnection) -> String {
    let latest = entity::outbox_event::Entity::find()
        .order_by_desc(entity::outbox_event::Column::Seq)
        .one(db)
        .await
        .unwrap()
        .map_or(0, |e| e.seq);
    smart_npc::events::encode_cursor(latest)
}

/// What the client printed up to and including the event titled `title`.
async fn read_until(lines: &mut Lines<BufReader<ChildStdout>>, title: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(WAIT, async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            let done = serde_json::from_str::<Value>(&line).is_ok_and(|e| e["title"] == title);
            seen.push(line);
            if done {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        matches!(read, Ok(true)),
        "the client did not print {title:?}; it printed: {seen:#?}"
    );
    seen
}

fn events(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

#[tokio::test]
async fn the_documented_snippet_resumes_across_a_restart_without_loss_or_duplicates() {
    let dir = ws_client_dir();
    if !dir.join("node_modules/graphql-ws").exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI must install tests/ws-client (npm ci) before the suite");
        }
        crate::skips::skipped(
            "the_documented_snippet_resumes_across_a_restart_without_loss_or_duplicates",
            "run `npm ci --prefix tests/ws-client`",
        );
        return;
    }
    let prefix = format!("smartnpc-resume-{}", std::process::id());
    // Publishes while the client's gateway is down; owns the database.
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("TOKEN_SECRET", TOKEN_SECRET)
        .env("SUPERVISION_INTERVAL_SECS", "0")
        .env("REDIS_CHANNEL_PREFIX", &prefix)
        .spawn()
        .await;
    let admin = app.token("admin").await;
    let deputy = first_deputy(&app, &admin).await;
    let start = cursor_of_latest(&app.db).await;

    // The gateway the client talks to.
    let (addr, stop, served) = gateway(&app.db, "127.0.0.1:0", &prefix).await;
    let base = format!("http://{addr}");
    let mut client = tokio::process::Command::new("node")
        .arg(dir.join("resume.mjs"))
        .arg(format!("ws://{addr}/graphql/ws"))
        .arg(&start)
        .arg("恢复-8")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut lines = BufReader::new(client.stdout.take().unwrap()).lines();

    // Three before the restart, received live.
    for i in 1..=3 {
        publish_story(&base, &admin, &deputy, &format!("恢复-{i}")).await;
    }
    let before = read_until(&mut lines, "恢复-3").await;

    // The restart: the gateway stops (closing the socket with 1001), three more are
    // published elsewhere while it is down, and a new gateway comes up on the same
    // address and database.
    stop.send(()).unwrap();
    tokio::time::timeout(WAIT, served)
        .await
        .expect("the gateway stops")
        .unwrap()
        .unwrap();
    for i in 4..=6 {
        publish_story(&app.base, &admin, &deputy, &format!("恢复-{i}")).await;
    }
    let (again, _stop_again, _served_again) = gateway(&app.db, &addr.to_string(), &prefix).await;
    assert_eq!(again, addr);
    // Two more on the new gateway, after the outage.
    for i in 7..=8 {
        publish_story(
            &format!("http://{again}"),
            &admin,
            &deputy,
            &format!("恢复-{i}"),
        )
        .await;
    }
    let after = read_until(&mut lines, "恢复-8").await;

    let status = tokio::time::timeout(WAIT, client.wait())
        .await
        .expect("the client exits after the last story")
        .unwrap();
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut client.stderr.take().unwrap(), &mut stderr)
        .await
        .unwrap();
    assert!(status.success(), "client failed: {stderr}");

    // The client was connected when the gateway stopped, and reconnected by itself.
    assert_eq!(before.first().map(String::as_str), Some("connected"));
    assert!(
        !before.iter().any(|l| l.starts_with("closed")),
        "{before:#?}"
    );
    assert_eq!(
        after.first().map(String::as_str),
        Some("closed 1001"),
        "{after:#?}"
    );
    assert!(after.iter().any(|l| l == "connected"), "{after:#?}");

    // Every story exactly once, in order.
    let all: Vec<Value> = events(&before).into_iter().chain(events(&after)).collect();
    let titles: Vec<&str> = all.iter().map(|e| e["title"].as_str().unwrap()).collect();
    let expected: Vec<String> = (1..=8).map(|i| format!("恢复-{i}")).collect();
    assert_eq!(titles, expected);
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}
