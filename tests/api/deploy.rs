//! The deployment recipe (`deploy/`, `Dockerfile`), checked as far as this machine
//! can: no image can be built or pulled here, so
//!
//! * `deploy/nginx.conf` runs with Debian's nginx (unprivileged, everything under a
//!   temp dir) in front of two `smart-npc` processes that share one database (and,
//!   with `TEST_REDIS_URL`, one Redis prefix of the test's own), set up like the
//!   compose file's replicas: `smart-npc migrate` once, then `serve` with
//!   `MIGRATE_ON_START=false`. Only the upstream addresses and the listen port of the
//!   shipped file are replaced.
//! * `deploy/compose.yaml` is read (services, dependencies, settings against README's
//!   table, and the settings it gives a gateway parse and draw no production warning)
//!   and handed to `docker compose config` / `docker-compose config` where installed.
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Notify;

use crate::helpers::{redis_url, require_redis, TestDatabase, DEMO_PASSWORD};
use crate::ws_client::Ws;

const BIN: &str = env!("CARGO_BIN_EXE_smart-npc");
const NGINX: &str = "/usr/sbin/nginx";
const TOKEN_SECRET: &str = "deploy-test-secret-0123456789abcdef0123";
const STORIES: &str =
    "subscription { showcaseStories { cursor seq kind storyId title occurredAt payload } }";
/// How long a start-up or an expected log line may take.
const WAIT: Duration = Duration::from_secs(60);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether Debian's nginx is installed; a visible skip (a failure in CI) if not.
fn nginx_ready(test: &str) -> bool {
    if Path::new(NGINX).exists() {
        return true;
    }
    let what = "install Debian's nginx (`apt-get install -y nginx`)";
    if in_ci() {
        panic!("{test}: CI must {what}");
    }
    crate::skips::skipped(test, what);
    false
}

// ------------------------------------------------------------------ log lines

/// A process's stderr, line by line, as it arrives.
#[derive(Default)]
struct Lines {
    seen: Mutex<Vec<String>>,
    more: Notify,
}

impl Lines {
    fn follow(stream: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> Arc<Lines> {
        let lines = Arc::new(Lines::default());
        let writer = lines.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stream).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                writer.seen.lock().unwrap().push(line);
                writer.more.notify_waiters();
            }
        });
        lines
    }

    fn contains(&self, text: &str) -> bool {
        self.seen.lock().unwrap().iter().any(|l| l.contains(text))
    }

    fn all(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

// ------------------------------------------------------------------ the gateways

/// One `smart-npc serve` process, stopped when dropped.
struct Gateway {
    _child: Child,
    addr: SocketAddr,
    log: Arc<Lines>,
}

impl Gateway {
    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// What the compose file gives every replica, for a database and bus of the test's own.
fn replica_settings(database_url: &str, redis: Option<(&str, &str)>) -> Vec<(String, String)> {
    let mut settings: Vec<(String, String)> = [
        ("SMART_NPC_PRODUCTION", "true"),
        ("DATABASE_URL", database_url),
        ("TOKEN_SECRET", TOKEN_SECRET),
        ("PUBLIC_BASE_URL", "https://npc.example.org"),
        ("METRICS_BIND_ADDR", "127.0.0.1:0"),
        ("MIGRATE_ON_START", "false"),
        ("AUTO_SEED_DEMO", "false"),
        ("TRUST_PROXY_HEADERS", "true"),
        ("LOG_FORMAT", "json"),
        ("RUST_LOG", "info"),
        ("SUPERVISION_INTERVAL_SECS", "0"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    if let Some((url, prefix)) = redis {
        settings.push(("REDIS_URL".into(), url.into()));
        settings.push(("REDIS_CHANNEL_PREFIX".into(), prefix.into()));
    }
    settings
}

fn binary(dir: &Path, settings: &[(String, String)]) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env_remove("REDIS_URL")
        .env_remove("DATABASE_URL")
        .env_remove("ACCESS_LOG")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (name, value) in settings {
        command.env(name, value);
    }
    command
}

/// A one-shot command (`migrate`, `seed --demo`) that must succeed.
async fn run_once(dir: &Path, settings: &[(String, String)], args: &[&str]) {
    let output = binary(dir, settings).args(args).output().await.unwrap();
    assert!(
        output.status.success(),
        "smart-npc {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn start_gateway(dir: &Path, settings: &[(String, String)]) -> Gateway {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut child = binary(dir, settings)
        .arg("serve")
        .env("BIND_ADDR", addr.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Lines::follow(child.stderr.take().unwrap());
    // A start-up wait for the process this test launched.
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Ok(r) = client.get(format!("http://{addr}/readyz")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("gateway exited ({status}): {:#?}", log.all());
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gateway never ready: {:#?}",
            log.all()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Gateway {
        _child: child,
        addr,
        log,
    }
}

/// Which of the replicas logged a line with `text` (exactly one must): waits for it,
/// since each replica's stderr is read by a task of its own.
async fn logged_by(gateways: &[Gateway; 2], text: &str) -> usize {
    let found = tokio::time::timeout(WAIT, async {
        loop {
            let more = [
                gateways[0].log.more.notified(),
                gateways[1].log.more.notified(),
            ];
            let which: Vec<usize> = (0..2).filter(|&i| gateways[i].log.contains(text)).collect();
            match which[..] {
                [one] => return one,
                [] => {}
                _ => panic!("both replicas logged {text}"),
            }
            let [a, b] = more;
            tokio::select! {
                () = a => {}
                () = b => {}
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no replica logged {text}"))
}

// ------------------------------------------------------------------ nginx

/// Debian's nginx with `deploy/nginx.conf`, unprivileged, its pid file, temp dirs and
/// logs in a temp dir of its own. Killed when dropped (one process: no master).
struct Nginx {
    _child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

/// `text` with `from` (which must occur exactly once) replaced by `to`.
fn substitute(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "deploy/nginx.conf should hold {from:?} once"
    );
    text.replace(from, to)
}

/// The shipped file with the compose services' addresses replaced by the test's.
fn site_config(upstreams: [SocketAddr; 2], listen: SocketAddr) -> String {
    let shipped = std::fs::read_to_string(repo().join("deploy/nginx.conf")).unwrap();
    let site = substitute(
        &shipped,
        "server gateway-1:8000 ",
        &format!("server {} ", upstreams[0]),
    );
    let site = substitute(
        &site,
        "server gateway-2:8000 ",
        &format!("server {} ", upstreams[1]),
    );
    substitute(&site, "listen 80;", &format!("listen {listen};"))
}

/// Whether this process runs as root (the owner of /proc/self is the effective uid).
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `nobody`/`nogroup` on Debian: who nginx runs as when the tests run as root.
const UNPRIVILEGED: u32 = 65534;

impl Nginx {
    async fn start(upstreams: [SocketAddr; 2]) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        std::fs::write(path("site.conf"), site_config(upstreams, listen)).unwrap();
        // The surroundings the official image's nginx.conf gives conf.d/default.conf,
        // with every path in the temp dir.
        let d = dir.path().display();
        let main = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  client_body_temp_path {d}/client_body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
             include {d}/site.conf;\n}}\n"
        );
        std::fs::write(path("nginx.conf"), main).unwrap();
        // Its stdout is where the shipped file's access_log (/dev/stdout) goes.
        let stdout = std::fs::File::create(path("access.log")).unwrap();
        let stderr = std::fs::File::create(path("stderr.log")).unwrap();
        let mut command = Command::new(NGINX);
        command
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(path("error.log"))
            .arg("-c")
            .arg(path("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true);
        if running_as_root() {
            for entry in std::fs::read_dir(dir.path()).unwrap() {
                std::os::unix::fs::chown(
                    entry.unwrap().path(),
                    Some(UNPRIVILEGED),
                    Some(UNPRIVILEGED),
                )
                .unwrap();
            }
            std::os::unix::fs::chown(dir.path(), Some(UNPRIVILEGED), Some(UNPRIVILEGED)).unwrap();
            command.uid(UNPRIVILEGED).gid(UNPRIVILEGED);
        }
        let mut child = command.spawn().unwrap();
        // A start-up wait for the process this test launched.
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(listen).await.is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "nginx exited ({status}): {}{}",
                    std::fs::read_to_string(path("stderr.log")).unwrap_or_default(),
                    std::fs::read_to_string(path("error.log")).unwrap_or_default()
                );
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "nginx never listened"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Nginx {
            _child: child,
            addr: listen,
            dir,
        }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits for nginx's access line with `text` (written once the response went out).
    async fn access_line(&self, text: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let log = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap();
            if let Some(line) = log.lines().find(|l| l.contains(text)) {
                return line.to_owned();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no nginx access line with {text:?}: {log}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

// ------------------------------------------------------------------ the deployment

/// A database of the test's own, migrated once by `smart-npc migrate` (the compose
/// file's `migrate` job) and seeded with the demo data; two replicas on it, started
/// together, that do not migrate; nginx in front.
struct Deployment {
    nginx: Nginx,
    gateways: [Gateway; 2],
    _database: TestDatabase,
    _dir: tempfile::TempDir,
}

impl Deployment {
    async fn start(redis: Option<&str>) -> Deployment {
        let (database, url) = TestDatabase::blank().await;
        let dir = tempfile::tempdir().unwrap();
        let prefix = format!("smartnpc-deploy-{}-{}", std::process::id(), free_port());
        let settings = replica_settings(&url, redis.map(|r| (r, prefix.as_str())));
        run_once(dir.path(), &settings, &["migrate"]).await;
        run_once(dir.path(), &settings, &["seed", "--demo"]).await;
        let (a, b) = tokio::join!(
            start_gateway(dir.path(), &settings),
            start_gateway(dir.path(), &settings)
        );
        let nginx = Nginx::start([a.addr, b.addr]).await;
        Deployment {
            nginx,
            gateways: [a, b],
            _database: database,
            _dir: dir,
        }
    }
}

async fn gql(
    client: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> (reqwest::header::HeaderMap, Value) {
    let mut request = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let body: Value = response.json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    (headers, body["data"].clone())
}

const SIGN_IN: &str =
    "mutation($l: String!, $p: String!) { signIn(login: $l, password: $p) { accessToken } }";

/// Through nginx: GraphQL answered by both replicas in turn, `/readyz`, no `/metrics`,
/// the caller's request id kept (and one made where it sent none), the address nginx
/// saw recorded as the client's (not one the caller wrote into `X-Forwarded-For`), and
/// graphql-transport-ws over the upgraded connection. Runs on either backend: two
/// replicas on one SQLite file (in-process bus) or one PostgreSQL database (+ Redis).
#[tokio::test]
async fn nginx_config_balances_two_replicas_and_forwards_what_they_need() {
    let test = "nginx_config_balances_two_replicas_and_forwards_what_they_need";
    if !nginx_ready(test) {
        return;
    }
    let prefix_url = redis_url();
    let deployment = Deployment::start(prefix_url.as_deref()).await;
    let nginx = &deployment.nginx;
    let client = reqwest::Client::new();

    // Each replica answers some of four queries (round robin), with the caller's id.
    for n in 0..4 {
        let id = format!("deploy-rr-{n}");
        let response = client
            .post(format!("{}/graphql", nginx.base()))
            .header("X-Request-Id", &id)
            .json(&json!({ "query": "{ stations { totalCount } }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-request-id"], id.as_str());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["data"]["stations"]["totalCount"], 72, "{body}");
        nginx.access_line(&format!("request_id={id} ")).await;
    }
    let mut served_by = Vec::new();
    for n in 0..4 {
        served_by.push(logged_by(&deployment.gateways, &format!("\"deploy-rr-{n}\"")).await);
    }
    served_by.sort_unstable();
    served_by.dedup();
    assert_eq!(served_by, [0, 1], "both replicas answer");

    // No id from the caller: nginx makes one, and the gateway keeps it.
    let response = client
        .get(format!("{}/readyz", nginx.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 32, "nginx's $request_id: {id}");
    let ready: Value = response.json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    nginx.access_line(&format!("request_id={id} ")).await;
    logged_by(&deployment.gateways, &format!("\"{id}\"")).await;

    // /metrics is not served through the public entrance.
    let metrics = client
        .get(format!("{}/metrics", nginx.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 404);

    // The client address: the caller connects from 127.0.0.2 and claims another in
    // X-Forwarded-For; the audit log records what nginx saw.
    let from_elsewhere = reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let response = from_elsewhere
        .post(format!("{}/graphql", nginx.base()))
        .header("X-Forwarded-For", "203.0.113.9")
        .json(&json!({ "query": SIGN_IN, "variables": { "l": "admin", "p": DEMO_PASSWORD } }))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let token = body["data"]["signIn"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let (_, audit) = gql(
        &client,
        &nginx.base(),
        Some(&token),
        r#"{ auditLog(action: "sign_in", first: 10) { edges { node { login clientIp } } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        audit["auditLog"]["edges"],
        json!([{ "node": { "login": "admin", "clientIp": "127.0.0.2" } }]),
    );

    // graphql-transport-ws through the upgrade: acknowledged, a subscription
    // registered, pings answered. (Which replica holds it is nginx's choice; an event
    // crossing replicas needs Redis: the next test.)
    let mut ws = Ws::transport(nginx.addr).await;
    ws.init(Some(&token)).await;
    ws.subscribe("stories", STORIES, json!({})).await;
    ws.registered().await;
    ws.send(json!({ "id": "stories", "type": "complete" }))
        .await;
    ws.registered().await;
    ws.close().await;
}

/// With Redis: a subscriber connected through nginx hears the stories published by
/// mutations sent straight to each replica, so whichever replica nginx gave it, one
/// of them came from the other.
#[tokio::test]
async fn a_subscription_through_nginx_hears_a_mutation_on_the_other_replica() {
    let test = "a_subscription_through_nginx_hears_a_mutation_on_the_other_replica";
    let Some(redis) = require_redis(test) else {
        return;
    };
    if !nginx_ready(test) {
        return;
    }
    let deployment = Deployment::start(Some(&redis)).await;
    let nginx = &deployment.nginx;
    let client = reqwest::Client::new();
    let (_, signed_in) = gql(
        &client,
        &nginx.base(),
        None,
        SIGN_IN,
        json!({ "l": "admin", "p": DEMO_PASSWORD }),
    )
    .await;
    let token = signed_in["signIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, deputies) = gql(
        &client,
        &nginx.base(),
        Some(&token),
        "{ deputies(first: 1) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    let deputy = deputies["deputies"]["edges"][0]["node"]["id"].clone();

    let mut ws = Ws::transport(nginx.addr).await;
    ws.init(Some(&token)).await;
    ws.subscribe("stories", STORIES, json!({})).await;
    ws.registered().await;
    for (n, gateway) in deployment.gateways.iter().enumerate() {
        let title = format!("经负载均衡 {n}");
        let story = crate::live::publish_story(&gateway.base(), &token, &deputy, &title).await;
        let heard = ws.next_data("stories").await;
        assert_eq!(heard["showcaseStories"]["storyId"], story, "{heard}");
        assert_eq!(heard["showcaseStories"]["title"], title.as_str());
    }
    ws.close().await;
}

// ------------------------------------------------------------------ the compose file

fn yaml(path: &str) -> yaml_rust2::Yaml {
    let text = std::fs::read_to_string(repo().join(path)).unwrap();
    yaml_rust2::YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .remove(0)
}

fn text(value: &yaml_rust2::Yaml) -> String {
    match value {
        yaml_rust2::Yaml::String(s) | yaml_rust2::Yaml::Real(s) => s.clone(),
        yaml_rust2::Yaml::Integer(i) => i.to_string(),
        yaml_rust2::Yaml::Boolean(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

fn strings(value: &yaml_rust2::Yaml) -> Vec<String> {
    value
        .as_vec()
        .unwrap_or_else(|| panic!("not a list: {value:?}"))
        .iter()
        .map(text)
        .collect()
}

fn mapping(value: &yaml_rust2::Yaml) -> Vec<(String, yaml_rust2::Yaml)> {
    value
        .as_hash()
        .unwrap_or_else(|| panic!("not a mapping: {value:?}"))
        .iter()
        .map(|(k, v)| (text(k), v.clone()))
        .collect()
}

/// `deploy/env.example` as name → value.
fn example_env() -> Vec<(String, String)> {
    std::fs::read_to_string(repo().join("deploy/env.example"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once('=').expect("NAME=value");
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}` against `env` (the
/// subset the compose file uses; a required name that is missing fails the test).
fn interpolate(value: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("closing brace") + start;
        let expression = &rest[start + 2..end];
        let (name, fallback) = match expression.find(':') {
            Some(i) => (&expression[..i], Some(&expression[i..])),
            None => (expression, None),
        };
        let set = env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty());
        let resolved = match (set, fallback) {
            (Some(v), _) => v,
            (None, Some(f)) if f.starts_with(":-") => f[2..].to_owned(),
            (None, _) => panic!("{name} is required by compose.yaml and not in env.example"),
        };
        out.push_str(&resolved);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Every setting README's tables document (what `--help` lists).
fn documented_settings() -> Vec<String> {
    smart_npc::cli::settings_help()
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .flat_map(|l| l.trim().split(", ").map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

/// The compose file says what README's "Production" section says: PostgreSQL 15 and
/// Redis 7, a one-shot `migrate` the two replicas wait for, replicas that do not
/// migrate and are probed on `/readyz`, nginx (with the shipped config) in front of
/// exactly those replicas, metrics unpublished; every setting it gives is documented,
/// and with env.example's values they parse into a production configuration that
/// draws no start-up warning.
#[test]
fn the_compose_file_wires_the_documented_recipe() {
    let compose = yaml("deploy/compose.yaml");
    let services = &compose["services"];
    let names: Vec<String> = mapping(services).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "postgres",
            "redis",
            "migrate",
            "gateway-1",
            "gateway-2",
            "nginx"
        ]
    );
    assert!(text(&services["postgres"]["image"]).starts_with("postgres:15"));
    assert!(text(&services["redis"]["image"]).starts_with("redis:7"));

    let migrate = &services["migrate"];
    assert_eq!(strings(&migrate["command"]), ["migrate"]);
    assert_eq!(
        text(&migrate["depends_on"]["postgres"]["condition"]),
        "service_healthy"
    );

    let documented = documented_settings();
    let env = example_env();
    let nginx_conf = std::fs::read_to_string(repo().join("deploy/nginx.conf")).unwrap();
    let gateways = ["gateway-1", "gateway-2"];
    for name in gateways {
        let gateway = &services[name];
        assert_eq!(text(&gateway["image"]), text(&migrate["image"]), "{name}");
        assert_eq!(strings(&gateway["command"]), ["serve"], "{name}");
        let depends = &gateway["depends_on"];
        assert_eq!(
            text(&depends["migrate"]["condition"]),
            "service_completed_successfully",
            "{name}"
        );
        for service in ["postgres", "redis"] {
            assert_eq!(
                text(&depends[service]["condition"]),
                "service_healthy",
                "{name}"
            );
        }
        assert!(
            strings(&gateway["healthcheck"]["test"])
                .iter()
                .any(|part| part.ends_with("/readyz")),
            "{name}"
        );
        assert!(gateway["ports"].is_badvalue(), "{name} publishes no port");

        let settings: Vec<(String, String)> = mapping(&gateway["environment"])
            .into_iter()
            .map(|(k, v)| (k, interpolate(&text(&v), &env)))
            .collect();
        for (setting, _) in &settings {
            assert!(
                documented.contains(setting),
                "{name}: {setting} is not in README's settings"
            );
        }
        let get = |key: &str| {
            settings
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("MIGRATE_ON_START").as_deref(), Some("false"), "{name}");
        let parsed = smart_npc::config::Settings::from_lookup(get).expect("the settings parse");
        assert!(parsed.production && !parsed.migrate_on_start);
        assert!(parsed.database_url.starts_with("postgres://"));
        assert!(parsed.redis_url.is_some());
        assert_eq!(
            parsed.production_warnings(),
            [],
            "{name}: compose.yaml with env.example"
        );
        // nginx sends to this replica's BIND_ADDR.
        let upstream = format!("server {name}:{} ", parsed.bind_addr.port());
        assert!(
            nginx_conf.contains(&upstream),
            "nginx.conf lacks {upstream:?}"
        );
        assert_ne!(
            parsed.metrics_bind_addr.map(|a| a.port()),
            Some(parsed.bind_addr.port())
        );
    }
    assert_eq!(
        mapping(&services["migrate"]["environment"]),
        mapping(&services["gateway-1"]["environment"])
    );
    assert_eq!(nginx_conf.matches("\n    server ").count(), gateways.len());

    let nginx = &services["nginx"];
    assert!(strings(&nginx["volumes"])
        .contains(&"./nginx.conf:/etc/nginx/conf.d/default.conf:ro".to_owned()));
    for name in gateways {
        assert_eq!(
            text(&nginx["depends_on"][name]["condition"]),
            "service_healthy"
        );
    }
    // Only nginx is published.
    for (name, service) in mapping(services) {
        assert_eq!(
            !service["ports"].is_badvalue(),
            name == "nginx",
            "{name}'s ports"
        );
    }
}

/// The image: a non-root user, the production defaults (documented settings), the
/// liveness probe, the two ports.
#[test]
fn the_dockerfile_runs_the_binary_unprivileged_with_production_defaults() {
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    let documented = documented_settings();
    let runtime = dockerfile
        .split("AS runtime")
        .nth(1)
        .expect("a runtime stage");
    let env_block: Vec<&str> = runtime
        .split("\nENV ")
        .nth(1)
        .expect("ENV in the runtime stage")
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.trim().trim_end_matches('\\').trim())
        .collect();
    let env: Vec<(&str, &str)> = env_block
        .iter()
        .map(|l| l.split_once('=').expect("NAME=value"))
        .collect();
    for (name, _) in &env {
        assert!(
            documented.iter().any(|d| d == name),
            "{name} is not in README's settings"
        );
    }
    for expected in [
        ("SMART_NPC_PRODUCTION", "true"),
        ("LOG_FORMAT", "json"),
        ("BIND_ADDR", "0.0.0.0:8000"),
        ("METRICS_BIND_ADDR", "0.0.0.0:9100"),
    ] {
        assert!(env.contains(&expected), "{expected:?} in {env:?}");
    }
    assert!(runtime.contains("\nUSER smart-npc"), "a non-root user");
    assert!(runtime.contains("\nEXPOSE 8000 9100"));
    assert!(runtime.contains("http://127.0.0.1:8000/healthz"));
    assert!(dockerfile.contains("FROM rust:${RUST_VERSION}"));
    assert!(dockerfile.contains("ARG RUST_VERSION=1.95"));
    let ignored = std::fs::read_to_string(repo().join(".dockerignore")).unwrap();
    for path in ["target/", ".git/", "node_modules/", "*.db"] {
        assert!(
            ignored.lines().any(|l| l == path),
            ".dockerignore lacks {path}"
        );
    }
}

/// The Compose implementation installed here (`docker compose` v2, else Debian's
/// `docker-compose`), if any: `config` needs no Docker daemon.
fn compose_command() -> Option<Vec<&'static str>> {
    let works = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if works("docker", &["compose", "version"]) {
        Some(vec!["docker", "compose"])
    } else if works("docker-compose", &["version"]) {
        Some(vec!["docker-compose"])
    } else {
        None
    }
}

/// `docker compose config` accepts the file with env.example's values, and refuses it
/// without TOKEN_SECRET, naming it.
#[test]
fn docker_compose_accepts_the_file_and_requires_the_secrets() {
    let test = "docker_compose_accepts_the_file_and_requires_the_secrets";
    let Some(compose) = compose_command() else {
        let what = "install Debian's docker-compose (`apt-get install -y docker-compose`)";
        if in_ci() {
            panic!("{test}: CI must {what}");
        }
        crate::skips::skipped(test, what);
        return;
    };
    let config = |env_file: &Path| {
        std::process::Command::new(compose[0])
            .args(&compose[1..])
            .arg("--env-file")
            .arg(env_file)
            .arg("-f")
            .arg(repo().join("deploy/compose.yaml"))
            .args(["config", "-q"])
            .env_remove("TOKEN_SECRET")
            .env_remove("POSTGRES_PASSWORD")
            .env_remove("PUBLIC_BASE_URL")
            .output()
            .unwrap()
    };
    let accepted = config(&repo().join("deploy/env.example"));
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let without: PathBuf = dir.path().join("without-secret.env");
    let lines: String = example_env()
        .into_iter()
        .filter(|(k, _)| k != "TOKEN_SECRET")
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    std::fs::write(&without, lines).unwrap();
    let refused = config(&without);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("TOKEN_SECRET"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
