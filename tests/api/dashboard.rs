//! The supervision dashboard at `/dashboard`: served from the binary (off in production
//! unless enabled), sending only its operation files, and in headless Chromium: the
//! figures equal the `statistics` query, change live, and the alert feed resumes across
//! a restart of the gateway with nothing missing or doubled.
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use chrono::{Datelike, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

use crate::helpers::{Fixture, TestApp, DEMO_PASSWORD};

fn operations_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/operations/dashboard")
}

/// Every operation file: (name, exact text).
fn operation_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(operations_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "graphql"))
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// The operations map the page carries (`<script type="application/json" id="operations">`).
fn embedded_operations(page: &str) -> Value {
    let open = "id=\"operations\">";
    let start = page.find(open).expect("the operations element") + open.len();
    let end = start + page[start..].find("</script>").unwrap();
    serde_json::from_str(&page[start..end]).expect("the operations are JSON")
}

#[tokio::test]
async fn the_dashboard_and_its_files_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    let page = response.text().await.unwrap();
    assert!(page.contains("lang=\"zh-CN\""));
    assert!(!page.contains("https://") && !page.contains("http://"));
    for (file, kind) in [
        ("echarts.min.js", "text/javascript"),
        ("graphql-ws.min.js", "text/javascript"),
        ("dashboard.js", "text/javascript"),
        ("dashboard.css", "text/css"),
    ] {
        assert!(page.contains(&format!("/dashboard/{file}")), "{file}");
        let response = app
            .client
            .get(app.url(&format!("/dashboard/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{file}");
        let served = response.headers()["content-type"].to_str().unwrap();
        assert!(served.starts_with(kind), "{file}: {served}");
    }
    let missing = app
        .client
        .get(app.url("/dashboard/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // The page carries exactly the operation files, each with the sha256 of its bytes.
    let embedded = embedded_operations(&page);
    let files = operation_files();
    assert_eq!(embedded.as_object().unwrap().len(), files.len());
    for (name, text) in &files {
        assert_eq!(embedded[name]["query"], *text, "{name}");
        assert_eq!(
            embedded[name]["id"],
            hex::encode(Sha256::digest(text.as_bytes())),
            "{name}"
        );
    }
}

#[tokio::test]
async fn production_answers_404_for_the_dashboard_unless_it_is_enabled() {
    let production = TestApp::builder()
        .env("SMART_NPC_PRODUCTION", "true")
        .env("TOKEN_SECRET", "0123456789abcdef0123456789abcdef")
        .spawn()
        .await;
    for path in ["/dashboard", "/dashboard/echarts.min.js"] {
        let response = production.client.get(production.url(path)).send().await;
        assert_eq!(response.unwrap().status(), 404, "{path}");
    }
    let enabled = TestApp::builder()
        .env("SMART_NPC_PRODUCTION", "true")
        .env("TOKEN_SECRET", "0123456789abcdef0123456789abcdef")
        .env("DASHBOARD_ENABLED", "true")
        .spawn()
        .await;
    for path in ["/dashboard", "/dashboard/echarts.min.js"] {
        let response = enabled.client.get(enabled.url(path)).send().await;
        assert_eq!(response.unwrap().status(), 200, "{path}");
    }
    // GraphiQL stays off: the setting turns on the dashboard only.
    let graphiql = enabled.client.get(enabled.url("/")).send().await.unwrap();
    assert_eq!(graphiql.status(), 404);
}

/// Sends `text` as the page does (with its persisted-query id) as `token`'s account.
async fn send_operation(app: &TestApp, text: &str, variables: Value, token: &str) -> Value {
    let body = json!({
        "query": text,
        "variables": variables,
        "extensions": { "persistedQuery": {
            "version": 1, "sha256Hash": hex::encode(Sha256::digest(text.as_bytes())) } },
    });
    app.client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// An answer for a failure message: its errors, or its start.
fn brief(answer: &Value) -> String {
    match answer.get("errors") {
        Some(errors) => errors.to_string(),
        None => answer.to_string().chars().take(400).collect(),
    }
}

fn codes(answer: &Value) -> Vec<String> {
    answer["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Each file is one valid operation of the schema: queries and mutations run without
/// an error as a county supervisor; subscriptions pass validation and are then refused
/// over HTTP only for being subscriptions.
#[tokio::test]
async fn every_dashboard_operation_validates_against_the_schema() {
    let app = TestApp::spawn_demo().await;
    let signed_in = app.sign_in("supervisor", DEMO_PASSWORD).await;
    let token = signed_in.data()["signIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = signed_in.data()["signIn"]["refreshToken"].clone();
    let item = app
        .gql("{ petitions(first: 1) { nodes { id } } }")
        .bearer(Some(&token))
        .send()
        .await
        .data()["petitions"]["nodes"][0]["id"]
        .clone();
    let station = station_id(&app, "binhe").await;
    let (year, month) = (Utc::now().year(), Utc::now().month());
    let variables = |name: &str| match name {
        "DashboardSignIn" => json!({ "login": "supervisor", "password": DEMO_PASSWORD }),
        "DashboardRefresh" => json!({ "refreshToken": refresh }),
        "DashboardFigures" => json!({ "from": "2025-01-01", "to": "2025-12-31" }),
        "DashboardPetition" => json!({ "id": item }),
        "DashboardCoverage" | "DashboardDeputyCompliance" => {
            json!({ "year": year, "month": month })
        }
        "DashboardComplianceRollup" => {
            json!({ "year": year, "month": month, "stationId": station })
        }
        _ => json!({}),
    };
    // The check can fail: a field the schema lacks is a validation error.
    let broken = "query DashboardBroken { statistics(from: \"2025-01-01\", to: \"2025-12-31\") { itemsColected } }";
    let answer = send_operation(&app, broken, json!({}), &token).await;
    assert_eq!(codes(&answer), ["GRAPHQL_VALIDATION_FAILED"], "{answer}");
    // ... and a subscription is validated before it is refused over HTTP.
    let broken = "subscription DashboardBroken { liveStatistics { itemsColected } }";
    let answer = send_operation(&app, broken, json!({}), &token).await;
    assert_eq!(codes(&answer), ["GRAPHQL_VALIDATION_FAILED"], "{answer}");
    let files = operation_files();
    assert!(files.len() >= 10, "{files:?}");
    // Signing out last: it ends the session the others use.
    let (last, first): (Vec<_>, Vec<_>) = files
        .iter()
        .partition(|(name, _)| name == "DashboardSignOut");
    for (name, text) in first.into_iter().chain(last) {
        assert_eq!(
            text.matches("query ").count()
                + text.matches("mutation ").count()
                + text.matches("subscription ").count(),
            1,
            "{name}: one operation per file"
        );
        assert!(
            text.contains(&format!(" {name}(")) || text.contains(&format!(" {name} {{")),
            "{name}: the operation is named like its file"
        );
        let answer = send_operation(&app, text, variables(name), &token).await;
        if text.starts_with("subscription") {
            assert_eq!(
                codes(&answer),
                ["OPERATION_NOT_SUPPORTED"],
                "{name}: {}",
                brief(&answer)
            );
        } else {
            assert!(answer["errors"].is_null(), "{name}: {}", brief(&answer));
            assert!(answer["data"].is_object(), "{name}: {}", brief(&answer));
        }
    }
}

// ------------------------------------------------------------------ headless Chromium

/// `tests/browser/dashboard.mjs`, driven one command at a time.
struct Browser {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

/// A hang guard for one command (each waits on the page with its own bound).
const COMMAND: Duration = Duration::from_secs(120);

impl Browser {
    async fn start(base: &str, artifacts: &Path) -> Browser {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/dashboard.mjs");
        let mut child = tokio::process::Command::new("node")
            .arg(script)
            .arg(base)
            .arg(artifacts)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Browser {
            child,
            stdin,
            lines,
        }
    }

    async fn run(&mut self, command: Value) -> Value {
        let line = format!("{command}\n");
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        let answer = tokio::time::timeout(COMMAND, self.lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("no answer to {command}"))
            .unwrap()
            .unwrap_or_else(|| panic!("the browser script ended at {command}"));
        let answer: Value = serde_json::from_str(&answer).unwrap();
        match answer.get("ok") {
            Some(ok) => ok.clone(),
            None => panic!("{command} failed: {}", answer["error"]),
        }
    }

    async fn quit(mut self) {
        self.stdin.write_all(b"{\"cmd\":\"quit\"}\n").await.unwrap();
        let status = tokio::time::timeout(COMMAND, self.child.wait())
            .await
            .expect("the browser script ends")
            .unwrap();
        assert!(status.success(), "the browser script failed at the end");
    }
}

const FIGURES: &[&str] = &[
    "itemsCollected",
    "itemsCompleted",
    "completionRate",
    "onTimeRate",
    "satisfactionRate",
    "urgentCompleted",
    "suggestionsMade",
    "suggestionsAdopted",
    "overdueCount",
];

async fn statistics(app: &TestApp, from: &str, to: &str, station: Option<&Value>) -> Value {
    let fields = FIGURES.join(" ");
    app.gql(&format!(
        "query($f: Date!, $t: Date!, $s: ID) {{ statistics(from: $f, to: $t, stationId: $s) {{ {fields} }} }}"
    ))
    .vars(json!({ "f": from, "t": to, "s": station }))
    .send()
    .await
    .data()["statistics"]
        .clone()
}

/// The page shows exactly the query's figures (the raw value each tile keeps). Both
/// are read by the same JSON parser, so equal decimals give equal numbers.
fn assert_same_figures(shown: &Value, expected: &Value) {
    for name in FIGURES {
        let raw = shown["values"][name]["value"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} is not shown: {shown}"));
        let on_page: Value = serde_json::from_str(raw).unwrap();
        assert_eq!(
            on_page.as_f64(),
            expected[name].as_f64(),
            "{name}: page {raw}, query {}",
            expected[name]
        );
    }
}

/// The seqs of the supervision alerts after `after_seq`, in order, from the outbox.
async fn alert_seqs(db: &DatabaseConnection, after_seq: i64) -> Vec<i64> {
    entity::outbox_event::Entity::find()
        .filter(entity::outbox_event::Column::Topic.eq("supervision"))
        .filter(entity::outbox_event::Column::Seq.gt(after_seq))
        .order_by_asc(entity::outbox_event::Column::Seq)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.seq)
        .collect()
}

fn shown_seqs(alerts: &Value) -> Vec<i64> {
    // Newest first on the page.
    let mut seqs: Vec<i64> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["seq"].as_i64().unwrap())
        .collect();
    seqs.reverse();
    seqs
}

async fn post(
    base: &str,
    client: &reqwest::Client,
    token: &str,
    query: &str,
    variables: Value,
) -> Value {
    client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn urge(base: &str, client: &reqwest::Client, token: &str, item: &Value, note: &str) {
    let deadline = (Utc::now() + chrono::Duration::days(5)).to_rfc3339();
    let answer = post(
        base,
        client,
        token,
        "mutation($id: ID!, $n: String!, $d: DateTime!) { urgePetition(id: $id, note: $n, deadline: $d) { urgeCount } }",
        json!({ "id": item, "n": note, "d": deadline }),
    )
    .await;
    assert!(answer["errors"].is_null(), "{answer}");
}

async fn station_id(app: &TestApp, code: &str) -> Value {
    let answer = app
        .gql("{ stations(first: 100) { nodes { id code } } }")
        .send()
        .await;
    answer.data()["stations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == code)
        .map(|s| s["id"].clone())
        .unwrap_or_else(|| panic!("station {code}"))
}

/// An item in handling (so it may be urged), with its lead department.
async fn item_in_handling(app: &TestApp, supervisor: &str) -> Value {
    let items = app
        .gql("{ petitions(first: 50, filter: { states: [ACCEPTED] }) { nodes { id title state departments { role } } } }")
        .bearer(Some(supervisor))
        .send()
        .await;
    items.data()["petitions"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["state"] == "ACCEPTED" && i["departments"][0]["role"] == "LEAD")
        .unwrap_or_else(|| panic!("an item in handling: {}", items.body))
        .clone()
}

fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Done-when of issue 19: a supervisor signs in and watches the county's loop move, with
/// the API's figures; the alert feed resumes across a restart of the gateway.
#[tokio::test]
async fn the_dashboard_in_chromium_follows_the_loop_live_and_resumes_after_a_restart() {
    let test = "the_dashboard_in_chromium_follows_the_loop_live_and_resumes_after_a_restart";
    if !crate::browser::browser_ready(test) {
        return;
    }
    let prefix = format!("smartnpc-dashboard-{}", std::process::id());
    // Owns the database; makes changes while the page's gateway is down.
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("TOKEN_SECRET", crate::resume::TOKEN_SECRET)
        .env("REDIS_CHANNEL_PREFIX", &prefix)
        .spawn()
        .await;
    let supervisor = app.token("supervisor").await;
    let citizen = app.token("citizen").await;
    let start = crate::resume::cursor_of_latest(&app.db).await;
    let start_seq = entity::outbox_event::Entity::find()
        .order_by_desc(entity::outbox_event::Column::Seq)
        .one(&app.db)
        .await
        .unwrap()
        .map_or(0, |e| e.seq);
    let binhe = station_id(&app, "binhe").await;
    let item = item_in_handling(&app, &supervisor).await;

    // The page's gateway, which the test stops and starts again.
    let (addr, stop, served) = crate::resume::gateway(&app.db, "127.0.0.1:0", &prefix).await;
    let base = format!("http://{addr}");
    let artifacts = artifacts_dir();
    let mut browser = Browser::start(&base, &artifacts).await;

    // Signed in as the county supervisor: the 2025 figures are the query's.
    let opened = browser
        .run(
            json!({ "cmd": "open", "login": "supervisor", "password": DEMO_PASSWORD,
            "query": format!("?year=2025&after={start}") }),
        )
        .await;
    assert_eq!(opened["scope"], "county", "{opened}");
    assert!(opened["scopes"].as_array().unwrap().len() > 10, "{opened}");
    assert_same_figures(
        &opened,
        &statistics(&app, "2025-01-01", "2025-12-31", None).await,
    );
    assert_eq!(opened["values"]["itemsCollected"]["text"], "1,041");
    browser
        .run(json!({ "cmd": "screenshot", "name": "county", "width": 1920, "height": 1080 }))
        .await;
    browser
        .run(json!({ "cmd": "screenshot", "name": "county-laptop", "width": 1366, "height": 768 }))
        .await;

    // This year, live: a citizen's new item moves the figure, a supervisor's urging
    // raises an alert.
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    let year = today.year();
    let shown = browser.run(json!({ "cmd": "year", "year": year })).await;
    let from = format!("{year}-01-01");
    let to = today.format("%Y-%m-%d").to_string();
    assert_same_figures(&shown, &statistics(&app, &from, &to, None).await);
    let before = shown["values"]["itemsCollected"]["value"].clone();
    let submitted = post(
        &base,
        &app.client,
        &citizen,
        "mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { trackingCode } }",
        json!({ "i": { "title": "看板测试：路灯不亮", "content": "滨河路北段路灯损坏，夜间出行不便。", "stationId": binhe } }),
    )
    .await;
    assert!(submitted["errors"].is_null(), "{submitted}");
    let moved = browser
        .run(json!({ "cmd": "waitFigure", "name": "itemsCollected", "not": before }))
        .await;
    let expected = statistics(&app, &from, &to, None).await;
    assert_same_figures(&moved, &expected);
    assert_eq!(
        moved["values"]["itemsCollected"]["value"].as_str().unwrap(),
        (before.as_str().unwrap().parse::<i64>().unwrap() + 1).to_string()
    );

    urge(&base, &app.client, &supervisor, &item["id"], "看板-1").await;
    let alerts = browser.run(json!({ "cmd": "alerts", "count": 1 })).await;
    assert_eq!(alerts[0]["kind"], "urged", "{alerts}");
    assert_eq!(shown_seqs(&alerts), alert_seqs(&app.db, start_seq).await);
    // The alert opens its item: history, departments, deadline.
    let detail = browser
        .run(json!({ "cmd": "detail", "seq": alerts[0]["seq"] }))
        .await;
    assert_eq!(detail["title"], item["title"], "{detail}");
    assert!(
        detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str().unwrap().contains("督办") && t.as_str().unwrap().contains("看板-1")),
        "{detail}"
    );
    assert!(detail["departments"].as_u64().unwrap() >= 1, "{detail}");

    // The restart: the page's gateway stops; two alerts are raised while it is down;
    // it comes back on the same address and database; one more after.
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(60), served)
        .await
        .expect("the gateway stops")
        .unwrap()
        .unwrap();
    urge(&app.base, &app.client, &supervisor, &item["id"], "看板-2").await;
    urge(&app.base, &app.client, &supervisor, &item["id"], "看板-3").await;
    let (again, _stop_again, _served_again) =
        crate::resume::gateway(&app.db, &addr.to_string(), &prefix).await;
    assert_eq!(again, addr);
    browser.run(json!({ "cmd": "live" })).await;
    urge(&base, &app.client, &supervisor, &item["id"], "看板-4").await;
    let alerts = browser.run(json!({ "cmd": "alerts", "count": 4 })).await;
    let expected = alert_seqs(&app.db, start_seq).await;
    assert_eq!(expected.len(), 4, "{expected:?}");
    assert_eq!(shown_seqs(&alerts), expected, "every alert once, in order");

    browser
        .run(json!({ "cmd": "screenshot", "name": "county-live", "width": 1920, "height": 1080 }))
        .await;

    // The station's view: station staff see their station.
    browser.run(json!({ "cmd": "signout" })).await;
    let station = browser
        .run(json!({ "cmd": "open", "login": "staff", "password": DEMO_PASSWORD, "query": "?year=2025" }))
        .await;
    assert_eq!(station["scopes"].as_array().unwrap().len(), 1, "{station}");
    assert_eq!(
        station["scope"],
        format!("s:{}", binhe.as_str().unwrap()),
        "{station}"
    );
    assert_same_figures(
        &station,
        &statistics(&app, "2025-01-01", "2025-12-31", Some(&binhe)).await,
    );
    browser
        .run(json!({ "cmd": "screenshot", "name": "station", "width": 1920, "height": 1080 }))
        .await;
    browser.quit().await;
    eprintln!("dashboard screenshots in {}", artifacts.display());
}

/// Access tokens that live 6 seconds: the page refreshes its token before expiry, the
/// gateway closes the WebSocket when the first token expires (4403), and the page
/// reconnects with the new token and keeps its alert feed and its queries working.
#[tokio::test]
async fn the_dashboard_refreshes_its_token_and_keeps_its_feed_through_expiry() {
    let test = "the_dashboard_refreshes_its_token_and_keeps_its_feed_through_expiry";
    if !crate::browser::browser_ready(test) {
        return;
    }
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("ACCESS_TOKEN_TTL_SECS", "6")
        .spawn()
        .await;
    let start = crate::resume::cursor_of_latest(&app.db).await;
    let start_seq = entity::outbox_event::Entity::find()
        .order_by_desc(entity::outbox_event::Column::Seq)
        .one(&app.db)
        .await
        .unwrap()
        .map_or(0, |e| e.seq);
    let item = item_in_handling(&app, &app.token("supervisor").await).await["id"].clone();

    let mut browser = Browser::start(&app.base, &artifacts_dir()).await;
    let opened = browser
        .run(
            json!({ "cmd": "open", "login": "supervisor", "password": DEMO_PASSWORD,
            "query": format!("?after={start}") }),
        )
        .await;
    assert_eq!(opened["scope"], "county");
    let first = browser.run(json!({ "cmd": "token" })).await;
    // Refreshed before expiry; then the first connection's token expired and the page
    // came back with the new one.
    let second = browser.run(json!({ "cmd": "token", "not": first })).await;
    assert_ne!(first, second);
    browser
        .run(json!({ "cmd": "connections", "count": 2 }))
        .await;

    let supervisor = app.token("supervisor").await;
    urge(&app.base, &app.client, &supervisor, &item, "续期后督办").await;
    let alerts = browser.run(json!({ "cmd": "alerts", "count": 1 })).await;
    assert_eq!(shown_seqs(&alerts), alert_seqs(&app.db, start_seq).await);
    // A query with the current token: the alert's item opens.
    let detail = browser
        .run(json!({ "cmd": "detail", "seq": alerts[0]["seq"] }))
        .await;
    assert!(
        detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str().unwrap().contains("续期后督办")),
        "{detail}"
    );
    browser.quit().await;
}
