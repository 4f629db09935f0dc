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
            eprintln!("skipped {test}: set TEST_REDIS_URL to run it");
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
            eprintln!("skipped {test}: set TEST_DATABASE_URL to run it");
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

static PG_TEMPLATES: OnceCell<()> = OnceCell::const_new();

fn pg_template_name(fixture: Fixture) -> String {
    format!(
        "smartnpc_tpl_{}_{}",
        std::process::id(),
        format!("{fixture:?}").to_lowercase()
    )
}

fn with_database(url: &str, database: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("TEST_DATABASE_URL is a URL");
    parsed.set_path(&format!("/{database}"));
    parsed.to_string()
}

/// Drops databases left behind by test processes that are gone.
async fn drop_stale_databases(admin: &DatabaseConnection) {
    let rows = admin
        .query_all(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'smartnpc\\_%'",
        ))
        .await
        .expect("list databases");
    for row in rows {
        let name: String = row.try_get("", "datname").expect("datname");
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
}

async fn pg_templates(admin_url: &str) {
    PG_TEMPLATES
        .get_or_init(|| async {
            let admin = Database::connect(admin_url)
                .await
                .expect("connect to TEST_DATABASE_URL");
            drop_stale_databases(&admin).await;
            for fixture in [Fixture::Empty, Fixture::Demo] {
                let name = pg_template_name(fixture);
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .expect("drop old template");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create template");
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
                let name = format!("smartnpc_t_{}_{n}", std::process::id());
                let admin = Database::connect(&admin_url).await.expect("connect admin");
                let template = pg_template_name(fixture);
                let mut attempt = 0;
                loop {
                    let sql = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
                    match admin.execute_unprepared(&sql).await {
                        Ok(_) => break,
                        // Two CREATE DATABASE from one template may collide briefly.
                        Err(e) if attempt < 20 => {
                            attempt += 1;
                            eprintln!("retrying CREATE DATABASE: {e}");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        Err(e) => panic!("create test database: {e}"),
                    }
                }
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

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            TestDatabase::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
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
    pub client: reqwest::Client,
    pub sdl: String,
    /// The running app's state (its live machinery can be inspected).
    pub state: smart_npc::app::AppState,
    shutdown: Option<oneshot::Sender<()>>,
    // Dropped last: the database outlives the server.
    _database: TestDatabase,
}

pub struct Builder {
    fixture: Fixture,
    env: Vec<(String, String)>,
    statements: Option<std::sync::Arc<AtomicUsize>>,
}

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

    pub async fn spawn(self) -> TestApp {
        let (database, url) = TestDatabase::create(self.fixture).await;
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
        if let Some(counter) = self.statements {
            db.set_metric_callback(move |info| {
                if std::env::var("DEBUG_SQL").is_ok() {
                    eprintln!(
                        "SQL {}",
                        info.statement.sql.chars().take(150).collect::<String>()
                    );
                }
                counter.fetch_add(1, Ordering::SeqCst);
            });
        }
        let app = App::with_live_settings(db.clone(), settings, live_settings).expect("app builds");
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
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            sdl,
            state,
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

    pub async fn send(self) -> GqlResponse {
        let body = json!({ "query": self.query, "variables": self.variables });
        let response = self
            .app
            .client
            .post(self.app.url("/graphql"))
            .headers(self.headers)
            .json(&body)
            .send()
            .await
            .expect("request sent");
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
