//! Starting and restarting the real binary: replicas starting together on an empty
//! database, sessions across a restart of the embedded default, production's secret.
use std::process::Stdio;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{TestApp, TestDatabase, DEMO_PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_smart-npc");

/// The binary in `dir`, with nothing from this process's environment that would
/// change what it does.
fn command(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("TOKEN_SECRET")
        .env_remove("SMART_NPC_PRODUCTION")
        .env_remove("AUTO_SEED_DEMO")
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Waits until `child` says where it listens; on an exit instead, fails with what it
/// printed.
async fn listening(child: &mut Child, name: &str) -> String {
    let stderr = child.stderr.take().expect("stderr piped");
    let mut lines = BufReader::new(stderr).lines();
    let mut printed = String::new();
    // A hang guard, not a timing goal.
    let found = tokio::time::timeout(Duration::from_secs(180), async {
        while let Some(line) = lines.next_line().await.expect("read stderr") {
            if let Some(rest) = line.split("GraphiQL at http://").nth(1) {
                return Some(rest.split('/').next().expect("address").to_owned());
            }
            printed.push_str(&line);
            printed.push('\n');
        }
        None
    })
    .await
    .unwrap_or_else(|_| panic!("{name} did not start: {printed}"));
    let Some(addr) = found else {
        let status = child.wait().await.expect("wait");
        panic!("{name} exited ({status}) before listening:\n{printed}");
    };
    // Keep draining its stderr so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    addr
}

async fn stop(mut child: Child) {
    let pid = child.id().expect("running").to_string();
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill");
    assert!(kill.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("exits after SIGTERM")
        .expect("wait");
    assert!(status.success(), "{status}");
}

async fn graphql(addr: &str, query: &str, token: Option<&str>) -> Value {
    let mut request = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .json(&json!({ "query": query }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON")
}

const COUNTED: &[&str] = &[
    "township",
    "station",
    "deputy",
    "account",
    "petition",
    "petition_event",
    "activity",
    "story",
    "outbox_event",
    "seaql_migrations",
];

async fn row_counts(db: &DatabaseConnection) -> Vec<(&'static str, i64)> {
    let mut counts = Vec::new();
    for table in COUNTED {
        let row = db
            .query_one(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count")
            .expect("a row");
        counts.push((*table, row.try_get::<i64>("", "n").expect("n")));
    }
    counts
}

/// Three replicas started at the same moment on a database with nothing in it (a
/// fresh PostgreSQL database with TEST_DATABASE_URL, else a new SQLite file): all
/// three migrate-or-wait, come up and serve, and the demo data is seeded once.
#[tokio::test]
async fn three_replicas_started_together_on_an_empty_database_all_serve() {
    let dir = tempfile::tempdir().unwrap();
    let (database, url) = TestDatabase::blank().await;
    let mut replicas: Vec<Child> = (0..3)
        .map(|_| {
            command(dir.path())
                .env("DATABASE_URL", &url)
                // The supervision job would change items on its own at start.
                .env("SUPERVISION_INTERVAL_SECS", "0")
                .spawn()
                .expect("start a replica")
        })
        .collect();
    let addrs = futures_util::future::join_all(
        replicas
            .iter_mut()
            .enumerate()
            .map(|(i, child)| async move { listening(child, &format!("replica {i}")).await }),
    )
    .await;

    for addr in &addrs {
        let ready = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
        assert_eq!(ready.status(), 200, "{addr}");
        let body = graphql(
            addr,
            "{ stations { totalCount } townships { totalCount } }",
            None,
        )
        .await;
        assert_eq!(body["data"]["stations"]["totalCount"], 72, "{body}");
        assert_eq!(body["data"]["townships"]["totalCount"], 11, "{body}");
    }
    // Each replica signs in and is recognised by the others. (On SQLite without
    // TOKEN_SECRET they share the secret kept beside the file, created by one of them;
    // on PostgreSQL each has its own, so only its own tokens are checked there.)
    let shared_secret = !url.starts_with("postgres");
    for (i, addr) in addrs.iter().enumerate() {
        let body = graphql(
            addr,
            &format!("mutation {{ signIn(login: \"admin\", password: \"{DEMO_PASSWORD}\") {{ accessToken }} }}"),
            None,
        )
        .await;
        let token = body["data"]["signIn"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned();
        let checkers: Vec<&String> = if shared_secret {
            addrs.iter().collect()
        } else {
            vec![&addrs[i]]
        };
        for other in checkers {
            let me = graphql(other, "{ me { login } }", Some(&token)).await;
            assert_eq!(me["data"]["me"]["login"], "admin", "{i} -> {other}: {me}");
        }
    }
    for child in replicas {
        stop(child).await;
    }

    // Seeded exactly once: the same rows as the single-seed demo fixture.
    let db = Database::connect(&url).await.expect("connect");
    let seeded = row_counts(&db).await;
    db.close().await.unwrap();
    let reference = TestApp::spawn_demo().await;
    assert_eq!(seeded, row_counts(&reference.db).await);
    drop(database);
}

/// The embedded default without TOKEN_SECRET keeps its generated secret beside the
/// database: tokens issued before a restart are accepted after it, over HTTP and
/// WebSocket. Without the kept file (deleted here), they are refused, and the
/// WebSocket close says why.
#[tokio::test]
async fn a_restarted_embedded_gateway_accepts_the_tokens_it_issued() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = command(dir.path()).spawn().unwrap();
    let addr = listening(&mut first, "first start").await;
    let body = graphql(
        &addr,
        &format!("mutation {{ signIn(login: \"staff\", password: \"{DEMO_PASSWORD}\") {{ accessToken }} }}"),
        None,
    )
    .await;
    let token = body["data"]["signIn"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    stop(first).await;

    let secret = dir.path().join("smart-npc.db.token-secret");
    let meta = std::fs::metadata(&secret).expect("the secret is kept beside the database");
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "owner-only");
    }
    let kept = std::fs::read_to_string(&secret).unwrap();

    let mut second = command(dir.path()).spawn().unwrap();
    let addr = listening(&mut second, "second start").await;
    let me = graphql(&addr, "{ me { login } }", Some(&token)).await;
    assert_eq!(me["data"]["me"]["login"], "staff", "{me}");
    assert_eq!(ws_init(&addr, &token).await, Ok(()));
    stop(second).await;
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        kept,
        "reused, not replaced"
    );

    std::fs::remove_file(&secret).unwrap();
    let mut third = command(dir.path()).spawn().unwrap();
    let addr = listening(&mut third, "third start").await;
    let me = graphql(&addr, "{ me { login } }", Some(&token)).await;
    assert_eq!(
        me["errors"][0]["extensions"]["reason"], "TOKEN_INVALID",
        "{me}"
    );
    assert_eq!(
        ws_init(&addr, &token).await,
        Err((4403, "Forbidden: token invalid".to_owned()))
    );
    stop(third).await;
}

/// `connection_init` with `token` on `graphql-transport-ws`: `Ok` on `connection_ack`,
/// else the close code and reason.
async fn ws_init(addr: &str, token: &str) -> Result<(), (u16, String)> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::text(
            json!({ "type": "connection_init", "payload": { "token": token } }).to_string(),
        ))
        .await
        .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(30), socket.next())
        .await
        .expect("an answer to connection_init");
    match answer {
        Some(Ok(Message::Text(text))) => {
            let message: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(message["type"], "connection_ack", "{message}");
            Ok(())
        }
        Some(Ok(Message::Close(Some(frame)))) => Err((frame.code.into(), frame.reason.to_string())),
        other => panic!("unexpected answer: {other:?}"),
    }
}

#[tokio::test]
async fn production_without_token_secret_refuses_to_start_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = command(dir.path())
        .env("SMART_NPC_PRODUCTION", "true")
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    let status = child.wait().await.unwrap();
    assert!(!status.success());
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("TOKEN_SECRET") && lines[0].contains("required in production"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("smart-npc.db.token-secret").exists(),
        "production never generates a secret"
    );
}
