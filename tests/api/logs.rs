//! `LOG_FORMAT=json` and the request id, checked on the real binary's stderr.
use serde_json::{json, Value};

use crate::helpers::DEMO_PASSWORD;

/// The binary on a free port with `settings`, its stderr piped; waits until it answers.
pub(crate) async fn launch(
    dir: &std::path::Path,
    settings: &[(&str, &str)],
) -> (tokio::process::Child, String, reqwest::Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_smart-npc"));
    command
        .current_dir(dir)
        .env("DATABASE_URL", "sqlite://logs.db?mode=rwc")
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("SUPERVISION_INTERVAL_SECS", "0")
        .env("RUST_LOG", "info")
        .env_remove("REDIS_URL")
        .env_remove("LOG_FORMAT")
        .env_remove("ACCESS_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for (variable, value) in settings {
        command.env(variable, value);
    }
    let child = command.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    // A start-up wait for the process this test launched.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the port never opened"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    (child, base, client)
}

pub(crate) async fn post(
    client: &reqwest::Client,
    url: &str,
    request_id: Option<&str>,
    token: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut request = client.post(url).json(&body);
    if let Some(id) = request_id {
        request = request.header("X-Request-Id", id);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

pub(crate) fn echoed_id(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Every stderr line is a JSON object; the request's id (the caller's, or a new one for
/// an odd one) comes back and is on its lines with the operation and the account; no
/// token, password or phone number is written.
#[tokio::test]
async fn json_logs_carry_the_request_id_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, client) = launch(
        dir.path(),
        &[("AUTO_SEED_DEMO", "true"), ("LOG_FORMAT", "json")],
    )
    .await;
    let url = format!("{base}/graphql");

    let sign_in = post(
        &client,
        &url,
        None,
        None,
        json!({
            "query": "mutation SignIn($l: String!, $p: String!) { signIn(login: $l, password: $p) { accessToken } }",
            "variables": { "l": "+86 139-0000-0001", "p": DEMO_PASSWORD },
        }),
    )
    .await;
    let body: Value = sign_in.json().await.unwrap();
    let token = body["data"]["signIn"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();

    let me = post(
        &client,
        &url,
        Some("test-123"),
        Some(&token),
        json!({ "query": "query WhoAmI { me { id login } }" }),
    )
    .await;
    assert_eq!(echoed_id(&me), "test-123");
    let me: Value = me.json().await.unwrap();
    assert!(me["data"]["me"]["login"].is_string(), "{me}");

    let long = "x".repeat(129);
    for odd in [long.as_str(), "a b", "quote\"d", "{json}"] {
        let response = post(
            &client,
            &url,
            Some(odd),
            None,
            json!({ "query": "{ __typename }" }),
        )
        .await;
        let id = echoed_id(&response);
        assert_ne!(id, odd);
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    }
    let fresh = post(
        &client,
        &url,
        None,
        None,
        json!({ "query": "{ __typename }" }),
    )
    .await;
    assert_eq!(echoed_id(&fresh).len(), 32);

    let _ = child.start_kill();
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line)
                .ok()
                .filter(Value::is_object)
                .unwrap_or_else(|| panic!("not a JSON object: {line:?}"))
        })
        .collect();
    let ours: Vec<&Value> = lines
        .iter()
        .filter(|line| line["span"]["request_id"] == "test-123")
        .collect();
    let access = ours
        .iter()
        .find(|line| line["target"] == "smart_npc::access")
        .unwrap_or_else(|| panic!("no access line for test-123 in {stderr}"));
    assert_eq!(access["method"], "POST", "{access}");
    assert_eq!(access["path"], "/graphql", "{access}");
    assert_eq!(access["status"], 200, "{access}");
    assert!(access["ms"].is_u64(), "{access}");
    assert_eq!(access["span"]["operation"], "WhoAmI", "{access}");
    assert!(access["span"]["account_id"].is_i64(), "{access}");
    assert!(
        lines
            .iter()
            .any(|line| line["span"]["operation"] == "SignIn"),
        "{stderr}"
    );
    for secret in [
        token.as_str(),
        DEMO_PASSWORD,
        "13900000001",
        "139-0000-0001",
    ] {
        assert!(!stderr.contains(secret), "{secret} in the log: {stderr}");
    }
    // An id the caller chose badly never reaches the log either.
    assert!(!stderr.contains("quote"), "{stderr}");
}

/// Text logs written to a pipe (a file, a journal) hold no colour codes, and
/// `ACCESS_LOG=off` leaves the access line out while the request id still comes back.
#[tokio::test]
async fn text_logs_off_a_terminal_have_no_colours_and_access_log_can_be_off() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, client) = launch(
        dir.path(),
        &[("AUTO_SEED_DEMO", "false"), ("ACCESS_LOG", "off")],
    )
    .await;
    let response = post(
        &client,
        &format!("{base}/graphql?probe=zz9q"),
        Some("text-1"),
        None,
        json!({ "query": "{ __typename }" }),
    )
    .await;
    assert_eq!(echoed_id(&response), "text-1");
    let _ = child.start_kill();
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("smart-npc listening"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
    assert!(!stderr.contains("smart_npc::access"), "{stderr}");
    assert!(!stderr.contains("zz9q"), "{stderr}");
}

/// Every stderr line as JSON (the test fails on one that is not an object).
fn json_lines(stderr: &str) -> Vec<Value> {
    stderr
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line)
                .ok()
                .filter(Value::is_object)
                .unwrap_or_else(|| panic!("not a JSON object: {line:?}"))
        })
        .collect()
}

/// The access lines of WebSocket operations, by operation id.
fn ws_access_line<'l>(lines: &'l [Value], operation_id: &str) -> &'l Value {
    lines
        .iter()
        .find(|line| {
            line["target"] == "smart_npc::access"
                && line["message"] == "ws operation"
                && line["span"]["operation_id"] == operation_id
        })
        .unwrap_or_else(|| panic!("no access line for operation {operation_id}: {lines:#?}"))
}

/// Each WebSocket operation, on either protocol, logs under a span with the upgrade
/// request's id, its own id, its operation name and the account: its access line says
/// how it ended (the client's `complete`/`stop`, or the server's).
#[tokio::test]
async fn websocket_operations_log_under_the_connections_request_id_and_their_own_id() {
    use crate::ws_client::Ws;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, client) = launch(
        dir.path(),
        &[("AUTO_SEED_DEMO", "true"), ("LOG_FORMAT", "json")],
    )
    .await;
    let sign_in = post(
        &client,
        &format!("{base}/graphql"),
        None,
        None,
        json!({
            "query": "mutation SignIn($l: String!, $p: String!) { signIn(login: $l, password: $p) { accessToken } }",
            "variables": { "l": "+86 139-0000-0001", "p": DEMO_PASSWORD },
        }),
    )
    .await;
    let body: Value = sign_in.json().await.unwrap();
    let token = body["data"]["signIn"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();

    let mut ws = Ws::open_with_headers(
        addr,
        "graphql-transport-ws",
        &[("X-Request-Id", "ws-conn-1")],
    )
    .await;
    ws.init(Some(&token)).await;
    ws.subscribe(
        "sub-1",
        "subscription Stories { showcaseStories { cursor } }",
        json!({}),
    )
    .await;
    ws.registered().await;
    ws.subscribe("q-1", "query WsWho { me { id } }", json!({}))
        .await;
    assert!(ws.next_data("q-1").await["me"]["id"].is_string());
    let complete = ws.json().await;
    assert_eq!(complete["type"], "complete", "{complete}");
    ws.send(json!({ "id": "sub-1", "type": "complete" })).await;
    // Answered after the `complete` before it was handled.
    ws.registered().await;
    ws.close().await;

    let mut legacy =
        Ws::open_with_headers(addr, "graphql-ws", &[("X-Request-Id", "ws-legacy-1")]).await;
    legacy
        .send(json!({ "type": "connection_init", "payload": { "token": token } }))
        .await;
    assert_eq!(legacy.json().await["type"], "connection_ack");
    assert_eq!(legacy.json().await["type"], "ka");
    legacy
        .send(json!({ "id": "L1", "type": "start", "payload": { "query": "subscription LegacyStories { showcaseStories { cursor } }" } }))
        .await;
    legacy.send(json!({ "id": "L1", "type": "stop" })).await;
    let stopped = legacy.json().await;
    assert_eq!(stopped["type"], "complete", "{stopped}");
    assert_eq!(stopped["id"], "L1", "{stopped}");
    legacy.close().await;

    let _ = child.start_kill();
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines = json_lines(&stderr);

    for (id, request_id, operation, outcome) in [
        ("sub-1", "ws-conn-1", "Stories", "complete"),
        ("q-1", "ws-conn-1", "WsWho", "done"),
        ("L1", "ws-legacy-1", "LegacyStories", "complete"),
    ] {
        let line = ws_access_line(&lines, id);
        assert_eq!(line["span"]["request_id"], request_id, "{line}");
        assert_eq!(line["span"]["operation"], operation, "{line}");
        assert_eq!(line["outcome"], outcome, "{line}");
        assert!(line["span"]["account_id"].is_i64(), "{line}");
        assert!(line["ms"].is_u64(), "{line}");
    }
    // The upgrade itself has its access line under the same id.
    assert!(
        lines
            .iter()
            .any(|line| line["target"] == "smart_npc::access"
                && line["path"] == "/graphql/ws"
                && line["span"]["request_id"] == "ws-conn-1"),
        "{stderr}"
    );
    assert!(!stderr.contains(token.as_str()), "the token in the log");
}

/// `/metrics` on `METRICS_BIND_ADDR` gets a request id and an access line like the
/// main port.
#[tokio::test]
async fn the_metrics_listener_logs_requests_with_their_id() {
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _base, client) = launch(
        dir.path(),
        &[
            ("AUTO_SEED_DEMO", "false"),
            ("LOG_FORMAT", "json"),
            ("METRICS_BIND_ADDR", &metrics_addr),
        ],
    )
    .await;
    let scrape = client
        .get(format!("http://{metrics_addr}/metrics?probe=zz9q"))
        .header("X-Request-Id", "scrape-1")
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status(), 200);
    assert_eq!(echoed_id(&scrape), "scrape-1");
    let fresh = client
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(echoed_id(&fresh).len(), 32);

    let _ = child.start_kill();
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines = json_lines(&stderr);
    let access = lines
        .iter()
        .find(|line| {
            line["target"] == "smart_npc::access" && line["span"]["request_id"] == "scrape-1"
        })
        .unwrap_or_else(|| panic!("no access line for the scrape: {stderr}"));
    assert_eq!(access["method"], "GET", "{access}");
    assert_eq!(access["path"], "/metrics", "{access}");
    assert_eq!(access["status"], 200, "{access}");
    assert!(!stderr.contains("zz9q"), "{stderr}");
}

/// The embedded default's `log` SMS provider writes one line per text, without the
/// text (its tracking code opens the item's page) and with the phone masked.
#[tokio::test]
async fn the_log_sms_provider_writes_neither_the_text_nor_the_phone() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, client) = launch(
        dir.path(),
        &[
            ("AUTO_SEED_DEMO", "true"),
            ("SMS_QUIET_HOURS", "off"),
            ("NOTIFY_POLL_MS", "20"),
        ],
    )
    .await;
    let url = format!("{base}/graphql");
    let call = |token: Option<String>, query: &'static str, variables: Value| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let body: Value = post(
                &client,
                &url,
                None,
                token.as_deref(),
                json!({ "query": query, "variables": variables }),
            )
            .await
            .json()
            .await
            .unwrap();
            assert!(body["errors"].is_null(), "{body}");
            body["data"].clone()
        }
    };
    let sign_in = |login: &'static str| {
        let call = &call;
        async move {
            call(None, "mutation($l: String!, $p: String!) { signIn(login: $l, password: $p) { accessToken } }",
                json!({ "l": login, "p": DEMO_PASSWORD }))
                .await["signIn"]["accessToken"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (staff, admin) = (sign_in("staff").await, sign_in("admin").await);
    let found = call(
        Some(staff.clone()),
        "{ me { roles { station { id } } } categories { id } }",
        json!({}),
    )
    .await;
    let station = found["me"]["roles"][0]["station"]["id"].clone();
    const PHONE: &str = "13812345678";
    let submitted = call(
        None,
        "mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { trackingCode petition { id version } } }",
        json!({ "i": { "title": "路灯不亮", "content": "滨河路北段多盏路灯损坏，夜间出行不便。",
            "stationId": station, "submitterPhone": PHONE, "smsConsent": true } }),
    )
    .await;
    let code = submitted["submitPetition"]["trackingCode"]
        .as_str()
        .unwrap()
        .to_owned();
    let item = &submitted["submitPetition"]["petition"];
    call(
        Some(staff),
        "mutation($id: ID!, $v: Int, $c: ID!) { registerPetition(id: $id, version: $v, categoryId: $c, urgency: NORMAL, handlingLevel: COUNTY) { id } }",
        json!({ "id": item["id"], "v": item["version"], "c": found["categories"][0]["id"] }),
    )
    .await;
    // Until the text is recorded as handed to the provider.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let listed = call(
            Some(admin.clone()),
            "{ notificationDeliveries(first: 50) { nodes { channel status } } }",
            json!({}),
        )
        .await;
        let sms = listed["notificationDeliveries"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["channel"] == "SMS" && n["status"] == "SENT");
        if sms {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no text was sent: {listed}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = child.start_kill();
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("SMS (log provider)"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("138****5678"), "{}", lines[0]);
    assert!(!stderr.contains(&code), "the tracking code was logged");
    assert!(!stderr.contains(PHONE), "the phone was logged");
}
