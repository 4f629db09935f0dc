//! The integration-test harness: the real app from `app.rs` on port 0, a fresh
//! database per test (SQLite file copied from a migrated template, or a PostgreSQL
//! database created from a template database), the real migrations and seed.
//!
//! Backends: `TEST_DATABASE_URL=postgres://...` selects PostgreSQL (tests create and
//! drop their own databases through it); `TEST_REDIS_URL=redis://...` selects the
//! Redis event bus. Without them the embedded default runs (SQLite + in-process bus).
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::header::HeaderMap;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{json, Value};
use smart_npc::app::App;
use smart_npc::config::Settings;
use tokio::sync::{oneshot, OnceCell};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The demo accounts' password in tests (the documented default).
pub const DEMO_PASSWORD: &str = smart_npc::config::DEFAULT_DEMO_PASSWORD;

/// The demo accounts, one per role.
pub const DEMO_LOGINS: &[&str] = &[
    "admin",
    "supervisor",
    "staff",
    "handler",
    "deputy",
    "citizen",
];

/// Which fixture a test starts from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fixture {
    /// Migrated, no rows.
    Empty,
    /// Migrated and seeded with the Heshun demo data.
    Demo,
}

pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

pub fn redis_url() -> Option<String> {
    std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// For tests that need an external service: `Some(url)` when configured. When it is
/// not, the test is skipped with a message, except in CI's service pass (CI=true and
/// TEST_DATABASE_URL set), where a missing service is a failure.
pub fn require_redis(test: &str) -> Option<String> {
    match redis_url() {
        Some(url) => Some(url),
        None if in_ci() && postgres_url().is_some() => {
            panic!("{test}: CI's service pass needs TEST_REDIS_URL")
        }
        None => {
            crate::skips::skipped(test, "set TEST_REDIS_URL to run it");
            None
        }
    }
}

pub fn require_postgres(test: &str) -> Option<String> {
    match postgres_url() {
        Some(url) => Some(url),
        None if in_ci() && redis_url().is_some() => {
            panic!("{test}: CI's service pass needs TEST_DATABASE_URL")
        }
        None => {
            crate::skips::skipped(test, "set TEST_DATABASE_URL to run it");
            None
        }
    }
}

// ------------------------------------------------------------------ databases

async fn build_fixture(db: &DatabaseConnection, fixture: Fixture) {
    smart_npc::db::migrate(db).await.expect("migrations run");
    if fixture == Fixture::Demo {
        smart_npc::seed::seed_demo(db, DEMO_PASSWORD)
            .await
            .expect("seed runs")
            .expect("database was empty");
    }
}

static SQLITE_EMPTY: OnceCell<PathBuf> = OnceCell::const_new();
static SQLITE_DEMO: OnceCell<PathBuf> = OnceCell::const_new();

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smart-npc-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

async fn sqlite_template(fixture: Fixture) -> PathBuf {
    let cell = match fixture {
        Fixture::Empty => &SQLITE_EMPTY,
        Fixture::Demo => &SQLITE_DEMO,
    };
    cell.get_or_init(|| async move {
        let path = temp_dir().join(format!("template-{fixture:?}.db"));
        let _ = std::fs::remove_file(&path);
        let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .expect("open template");
        build_fixture(&db, fixture).await;
        db.close().await.expect("close template");
        path
    })
    .await
    .clone()
}

// ------------------------------------------------------------------ PostgreSQL databases
//
// Every database a run creates is named `smartnpc_test_<run>_<what>` and carries a
// marker, `COMMENT ON DATABASE ... IS 'smart-npc test run <run> pid <pid> start <t>
// boot <boot id>'`. A run drops what it created: each test's database when its
// `TestDatabase` goes, the templates (and anything a test leaked) in a cleanup process
// that waits for the run to end (`spawn_reaper`). What a killed run left behind is
// dropped by a later run, and only if it is provably a leftover: it carries the
// marker, was made on this machine's current boot, and its process is gone (no
// process with that pid started at that time). Nothing else on the server is touched.

/// This test process's run.
pub struct Run {
    /// `<pid>_<start><random>`: unique to this process (the pid comes first, so that
    /// older harnesses, which keep `smartnpc_*_<pid>_*` databases of live processes,
    /// leave ours alone).
    pub id: String,
    pub pid: u32,
    /// The process's start time (clock ticks since boot, /proc/<pid>/stat).
    pub start: u64,
    pub boot: String,
}

/// A database's marker, parsed.
#[derive(Debug, PartialEq, Eq)]
pub struct Marker {
    pub run: String,
    pub pid: u32,
    pub start: u64,
    pub boot: String,
}

const MARKER_PREFIX: &str = "smart-npc test run ";

static RUN: std::sync::LazyLock<Run> = std::sync::LazyLock::new(|| {
    let pid = std::process::id();
    let start = process_start(pid).unwrap_or(0);
    let random: u32 = rand::random();
    Run {
        id: format!("{pid}_{start:x}{random:08x}"),
        pid,
        start,
        boot: boot_id(),
    }
});

pub fn run() -> &'static Run {
    &RUN
}

impl Run {
    pub fn marker(&self) -> String {
        marker_text(&self.id, self.pid, self.start, &self.boot)
    }

    /// A database name of this run: `smartnpc_test_<run>_<what>`.
    pub fn database(&self, what: &str) -> String {
        format!("smartnpc_test_{}_{what}", self.id)
    }
}

pub fn marker_text(run: &str, pid: u32, start: u64, boot: &str) -> String {
    format!("{MARKER_PREFIX}{run} pid {pid} start {start} boot {boot}")
}

pub fn parse_marker(text: &str) -> Option<Marker> {
    let rest = text.strip_prefix(MARKER_PREFIX)?;
    let words: Vec<&str> = rest.split(' ').collect();
    match words.as_slice() {
        [run, "pid", pid, "start", start, "boot", boot] => Some(Marker {
            run: (*run).to_owned(),
            pid: pid.parse().ok()?,
            start: start.parse().ok()?,
            boot: (*boot).to_owned(),
        }),
        _ => None,
    }
}

/// The start time of process `pid` (field 22 of /proc/<pid>/stat), if it runs.
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces and parentheses.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|id| id.trim().to_owned())
        .unwrap_or_default()
}

/// Whether the run that wrote `marker` has provably ended: it ran on this machine
/// since its last boot, and no process with its pid and start time exists. (On
/// another machine, or another boot of this one, nothing can be proven: keep it.)
pub fn provably_ended(marker: &Marker) -> bool {
    let ours = run();
    if ours.boot.is_empty() || marker.boot != ours.boot || ours.start == 0 {
        return false;
    }
    process_start(marker.pid) != Some(marker.start)
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Creates database `name` (from `template`, if given) with this run's marker.
pub async fn create_marked_database(
    admin: &DatabaseConnection,
    name: &str,
    template: Option<&str>,
) {
    let mut attempt = 0;
    loop {
        let sql = match template {
            Some(template) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
            None => format!("CREATE DATABASE \"{name}\""),
        };
        match admin.execute_unprepared(&sql).await {
            Ok(_) => break,
            // Two CREATE DATABASE from one template may collide briefly ("source
            // database is being accessed by other users"): the harness's own race.
            Err(e) if attempt < 20 && template.is_some() => {
                attempt += 1;
                eprintln!("retrying CREATE DATABASE: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("create test database {name}: {e}"),
        }
    }
    admin
        .execute_unprepared(&format!(
            "COMMENT ON DATABASE \"{name}\" IS {}",
            quote_literal(&run().marker())
        ))
        .await
        .expect("mark test database");
}

/// The databases on the server that carry a marker, with it.
async fn marked_databases(admin: &DatabaseConnection) -> Vec<(String, Marker)> {
    let rows = admin
        .query_all(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            format!(
                "SELECT datname, shobj_description(oid, 'pg_database') AS note FROM pg_database \
                 WHERE shobj_description(oid, 'pg_database') LIKE {}",
                quote_literal(&format!("{MARKER_PREFIX}%"))
            ),
        ))
        .await
        .expect("list databases");
    rows.into_iter()
        .filter_map(|row| {
            let name: String = row.try_get("", "datname").ok()?;
            let note: String = row.try_get("", "note").ok()?;
            Some((name, parse_marker(&note)?))
        })
        .collect()
}

async fn drop_database(admin: &DatabaseConnection, name: &str) {
    let _ = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
}

/// Drops the databases that runs of this suite left behind when they were killed
/// (see above); returns their names.
pub async fn drop_stale_databases(admin: &DatabaseConnection) -> Vec<String> {
    let mut dropped = Vec::new();
    for (name, marker) in marked_databases(admin).await {
        if marker.run != run().id && provably_ended(&marker) {
            drop_database(admin, &name).await;
            dropped.push(name);
        }
    }
    dropped
}

const REAPER_RUN: &str = "SMART_NPC_TEST_REAPER_RUN";

/// The cleanup process kept for the whole run: the test binary itself, running only
/// `helpers::database_reaper`, which waits for its stdin to close (it does when this
/// process ends, however it ends) and then drops every database of this run.
static REAPER: std::sync::OnceLock<std::process::Child> = std::sync::OnceLock::new();

fn spawn_reaper(admin_url: &str) {
    use std::os::unix::process::CommandExt;
    let child = std::env::current_exe().and_then(|exe| {
        std::process::Command::new(exe)
            .args([
                "helpers::database_reaper",
                "--exact",
                "--ignored",
                "--test-threads=1",
            ])
            .env(REAPER_RUN, &run().id)
            .env("TEST_DATABASE_URL", admin_url)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            // Its own process group: a Ctrl-C to the run does not stop the cleanup.
            .process_group(0)
            .spawn()
    });
    match child {
        Ok(child) => {
            let _ = REAPER.set(child);
        }
        Err(e) => eprintln!(
            "cannot start the test-database cleanup ({e}): a later run drops this run's templates"
        ),
    }
}

/// Not a test: the body of the cleanup process (`spawn_reaper`), which the harness
/// starts with `--ignored`; ignored in every ordinary run, so it is never counted.
#[test]
#[ignore = "the test-database cleanup process, started by the harness itself"]
fn database_reaper() {
    use std::io::Read;
    let Ok(run_id) = std::env::var(REAPER_RUN) else {
        return;
    };
    let mut buffer = [0u8; 64];
    while let Ok(n) = std::io::stdin().read(&mut buffer) {
        if n == 0 {
            break;
        }
    }
    let Some(admin_url) = postgres_url() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let admin = Database::connect(&admin_url).await.expect("connect");
        for (name, marker) in marked_databases(&admin).await {
            if marker.run == run_id {
                drop_database(&admin, &name).await;
            }
        }
        let _ = admin.close().await;
    });
}

static PG_RUN: OnceCell<()> = OnceCell::const_new();

/// Once per run: drop the leftovers of killed runs, start this run's cleanup.
async fn pg_run(admin_url: &str) {
    PG_RUN
        .get_or_init(|| async {
            let admin = Database::connect(admin_url)
                .await
                .expect("connect to TEST_DATABASE_URL");
            let dropped = drop_stale_databases(&admin).await;
            if !dropped.is_empty() {
                eprintln!("dropped databases left by killed test runs: {dropped:?}");
            }
            admin.close().await.expect("close admin");
            spawn_reaper(admin_url);
        })
        .await;
}

static PG_TEMPLATES: OnceCell<()> = OnceCell::const_new();

fn pg_template_name(fixture: Fixture) -> String {
    run().database(&format!("tpl_{}", format!("{fixture:?}").to_lowercase()))
}

fn with_database(url: &str, database: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("TEST_DATABASE_URL is a URL");
    parsed.set_path(&format!("/{database}"));
    parsed.to_string()
}

async fn pg_templates(admin_url: &str) {
    pg_run(admin_url).await;
    PG_TEMPLATES
        .get_or_init(|| async {
            let admin = Database::connect(admin_url)
                .await
                .expect("connect to TEST_DATABASE_URL");
            for fixture in [Fixture::Empty, Fixture::Demo] {
                let name = pg_template_name(fixture);
                create_marked_database(&admin, &name, None).await;
                let db = Database::connect(with_database(admin_url, &name))
                    .await
                    .expect("connect template");
                build_fixture(&db, fixture).await;
                db.close().await.expect("close template");
            }
            admin.close().await.expect("close admin");
        })
        .await;
}

/// Where a test's database lives, so that it can be removed afterwards.
pub enum TestDatabase {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    async fn create(fixture: Fixture) -> (Self, String) {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        match postgres_url() {
            Some(admin_url) => {
                pg_templates(&admin_url).await;
                let name = run().database(&format!("t{n}"));
                let admin = Database::connect(&admin_url).await.expect("connect admin");
                let template = pg_template_name(fixture);
                create_marked_database(&admin, &name, Some(&template)).await;
                admin.close().await.expect("close admin");
                let url = with_database(&admin_url, &name);
                (TestDatabase::Postgres { admin_url, name }, url)
            }
            None => {
                let template = sqlite_template(fixture).await;
                let path = temp_dir().join(format!("test-{n}.db"));
                std::fs::copy(&template, &path).expect("copy template");
                let url = format!("sqlite://{}?mode=rwc", path.display());
                (TestDatabase::Sqlite(path), url)
            }
        }
    }
}

impl TestDatabase {
    /// A database of this test's own with nothing in it, not even the migrations
    /// (SQLite: a path where no file exists yet). Dropped with the value.
    pub async fn blank() -> (Self, String) {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        match postgres_url() {
            Some(admin_url) => {
                pg_run(&admin_url).await;
                let name = run().database(&format!("b{n}"));
                let admin = Database::connect(&admin_url).await.expect("connect admin");
                create_marked_database(&admin, &name, None).await;
                admin.close().await.expect("close admin");
                let url = with_database(&admin_url, &name);
                (TestDatabase::Postgres { admin_url, name }, url)
            }
            None => {
                let path = temp_dir().join(format!("blank-{n}.db"));
                let url = format!("sqlite://{}?mode=rwc", path.display());
                (TestDatabase::Sqlite(path), url)
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            TestDatabase::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm", ".lock", ".token-secret"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDatabase::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs outside async context; use a short-lived runtime on a thread.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    if let Ok(runtime) = runtime {
                        runtime.block_on(async {
                            if let Ok(admin) = Database::connect(&admin_url).await {
                                let _ = admin
                                    .execute_unprepared(&format!(
                                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                    ))
                                    .await;
                                let _ = admin.close().await;
                            }
                        });
                    }
                })
                .join();
            }
        }
    }
}

// ------------------------------------------------------------------ the app

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub base: String,
    pub db: DatabaseConnection,
    /// The app's `DATABASE_URL`, for the command line run against the same database.
    pub database_url: String,
    pub client: reqwest::Client,
    pub sdl: String,
    /// The running app's state (its live machinery can be inspected).
    pub state: smart_npc::http::HttpState,
    /// The app's file store (`STORAGE_URL`), a folder of its own.
    pub storage_dir: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    // Dropped last: the database outlives the server.
    _database: TestDatabase,
}

pub struct Builder {
    fixture: Fixture,
    env: Vec<(String, String)>,
    statements: Option<std::sync::Arc<AtomicUsize>>,
    recorded: Option<Recorder>,
    clock: smart_npc::clock::Clock,
}

/// The SQL statements an app ran, with their values (see [`Builder::record_statements`]).
pub type Recorder = std::sync::Arc<std::sync::Mutex<Vec<sea_orm::Statement>>>;

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::builder().spawn().await
    }

    pub async fn spawn_demo() -> TestApp {
        TestApp::builder().fixture(Fixture::Demo).spawn().await
    }

    pub fn builder() -> Builder {
        Builder {
            fixture: Fixture::Empty,
            env: Vec::new(),
            statements: None,
            recorded: None,
            clock: smart_npc::clock::Clock::system(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Signs in and returns the access token.
    pub async fn token(&self, login: &str) -> String {
        self.sign_in(login, DEMO_PASSWORD).await.data()["signIn"]["accessToken"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    pub async fn sign_in(&self, login: &str, password: &str) -> GqlResponse {
        self.gql("mutation($l: String!, $p: String!) { signIn(login: $l, password: $p) { accessToken refreshToken accessTokenExpiresAt account { id login roles { role } } } }")
            .vars(json!({ "l": login, "p": password }))
            .send()
            .await
    }

    /// Starts a GraphQL request: `app.gql("{ ... }").vars(json!({...})).send().await`.
    pub fn gql(&self, query: &str) -> Gql<'_> {
        Gql {
            app: self,
            query: query.to_owned(),
            variables: None,
            headers: HeaderMap::new(),
            files: Vec::new(),
        }
    }
}

impl TestApp {
    /// Begins the graceful shutdown (as SIGTERM does): the listener closes, requests in
    /// flight get `SHUTDOWN_GRACE_SECS`.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Builder {
    pub fn fixture(mut self, fixture: Fixture) -> Self {
        self.fixture = fixture;
        self
    }

    /// Overrides a setting as if set in the environment.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Counts every SQL statement the app's pool runs into `counter`.
    pub fn count_statements(mut self, counter: std::sync::Arc<AtomicUsize>) -> Self {
        self.statements = Some(counter);
        self
    }

    /// Records every SQL statement the app's pool runs (with its values) into `recorder`.
    pub fn record_statements(mut self, recorder: Recorder) -> Self {
        self.recorded = Some(recorder);
        self
    }

    /// Runs the app on `clock`: keep a clone and `advance` it instead of sleeping.
    pub fn clock(mut self, clock: smart_npc::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    pub async fn spawn(self) -> TestApp {
        let (database, url) = TestDatabase::create(self.fixture).await;
        let database_url = url.clone();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let mut vars: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), url),
            ("BIND_ADDR".into(), "127.0.0.1:0".into()),
            ("AUTO_SEED_DEMO".into(), "false".into()),
            // The supervision job changes items on its own; tests that want it set it.
            ("SUPERVISION_INTERVAL_SECS".into(), "0".into()),
            (
                "REDIS_CHANNEL_PREFIX".into(),
                format!("smartnpc-test-{}-{n}", std::process::id()),
            ),
        ];
        if let Some(redis) = redis_url() {
            vars.push(("REDIS_URL".into(), redis));
        }
        let storage_dir = temp_dir().join(format!("files-{n}"));
        vars.push(("STORAGE_URL".into(), storage_dir.display().to_string()));
        vars.extend(self.env);
        let lookup = |key: &str| {
            vars.iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let settings = Settings::from_lookup(lookup).expect("test settings are valid");
        let live_settings =
            smart_npc::events::LiveSettings::from_lookup(lookup).expect("live settings are valid");
        let mut db = smart_npc::db::connect(&settings)
            .await
            .expect("connect test database");
        if self.statements.is_some() || self.recorded.is_some() {
            let (counter, recorded) = (self.statements, self.recorded);
            db.set_metric_callback(move |info| {
                if std::env::var("DEBUG_SQL").is_ok() {
                    eprintln!(
                        "SQL {}",
                        info.statement.sql.chars().take(150).collect::<String>()
                    );
                }
                if let Some(counter) = &counter {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                if let Some(recorded) = &recorded {
                    recorded.lock().unwrap().push(info.statement.clone());
                }
            });
        }
        let app =
            App::with_clock(db.clone(), settings, live_settings, self.clock).expect("app builds");
        let sdl = app.schema.sdl();
        let state = app.state.clone();
        let (acceptor, addr) = app.bind().await.expect("bind port 0");
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(app.serve(acceptor, async move {
            let _ = rx.await;
        }));
        TestApp {
            addr,
            base: format!("http://{addr}"),
            db,
            database_url,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            sdl,
            state,
            storage_dir,
            shutdown: Some(tx),
            _database: database,
        }
    }
}

// ------------------------------------------------------------------ requests

pub struct Gql<'a> {
    app: &'a TestApp,
    query: String,
    variables: Option<Value>,
    headers: HeaderMap,
    /// Files sent by the GraphQL multipart request spec: (variable path, file name, bytes).
    files: Vec<(String, String, Vec<u8>)>,
}

#[derive(Debug)]
pub struct GqlResponse {
    pub status: u16,
    pub body: Value,
}

impl Gql<'_> {
    pub fn vars(mut self, variables: Value) -> Self {
        self.variables = Some(variables);
        self
    }

    /// Sends the request with `Authorization: Bearer <token>` (no header for None).
    pub fn bearer(mut self, token: Option<&str>) -> Self {
        if let Some(token) = token {
            self.headers.insert(
                "authorization",
                format!("Bearer {token}").parse().expect("header"),
            );
        }
        self
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers
            .insert(name, value.parse().expect("header value"));
        self
    }

    /// Sends `bytes` as a file at `path` (`variables.file`): the request becomes a
    /// multipart request (`operations`, `map`, then the files, as the spec orders them).
    pub fn file(self, path: &str, bytes: Vec<u8>) -> Self {
        let name = format!("file{}", self.files.len());
        self.file_named(path, &name, bytes)
    }

    /// [`Gql::file`] with the file's name (an import's file name says its format).
    pub fn file_named(mut self, path: &str, name: &str, bytes: Vec<u8>) -> Self {
        self.files.push((path.to_owned(), name.to_owned(), bytes));
        self
    }

    pub async fn send(self) -> GqlResponse {
        let mut variables = self.variables.unwrap_or_else(|| json!({}));
        // The spec's `operations` holds null where each file goes.
        for (path, _, _) in &self.files {
            if let Some(name) = path.strip_prefix("variables.") {
                variables[name] = Value::Null;
            }
        }
        let body = json!({ "query": self.query, "variables": variables });
        let request = self
            .app
            .client
            .post(self.app.url("/graphql"))
            .headers(self.headers);
        let request = if self.files.is_empty() {
            request.json(&body)
        } else {
            let map: serde_json::Map<String, Value> = self
                .files
                .iter()
                .enumerate()
                .map(|(i, (path, _, _))| (i.to_string(), json!([path])))
                .collect();
            let mut form = reqwest::multipart::Form::new()
                .text("operations", body.to_string())
                .text("map", Value::Object(map).to_string());
            for (i, (_, name, bytes)) in self.files.into_iter().enumerate() {
                let part = reqwest::multipart::Part::bytes(bytes).file_name(name);
                form = form.part(i.to_string(), part);
            }
            request.multipart(form)
        };
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.expect("JSON body");
        GqlResponse { status, body }
    }
}

impl GqlResponse {
    /// The `reason` of the first error (UNAUTHENTICATED errors carry one).
    pub fn error_reason(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["reason"].as_str()
    }
}

impl GqlResponse {
    /// The `data` of a response that must have no errors.
    pub fn data(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {}",
            self.body
        );
        &self.body["data"]
    }

    /// The code of the first error.
    pub fn error_code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }

    pub fn error_message(&self) -> &str {
        self.body["errors"][0]["message"].as_str().unwrap_or("")
    }
}
