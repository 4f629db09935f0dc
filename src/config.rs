//! Typed settings, read from environment variables with documented defaults.
//! Secrets (database passwords, WeChat keys) are never logged: `Debug` redacts them.
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

mod sms;
pub use sms::{Sms, SmsProvider, TencentSms, DEFAULT_SMS_API_BASE};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://smart-npc.db?mode=rwc";
pub const DEFAULT_BIND_ADDR: &str = "127.0.0.1:8000";
pub const DEFAULT_MAX_PAGE_SIZE: u64 = 100;
/// Default of `WECHAT_TIMESTAMP_WINDOW_SECS`: how far a signed timestamp may lie from our clock.
pub const DEFAULT_WECHAT_WINDOW_SECS: u64 = 300;

#[derive(Clone)]
pub struct Settings {
    /// `DATABASE_URL`: `sqlite://...` (default, a file beside the working directory) or
    /// `postgres://...`.
    pub database_url: String,
    /// `REDIS_URL`: when set, events travel through Redis pub/sub; otherwise in-process.
    pub redis_url: Option<String>,
    /// `REDIS_CHANNEL_PREFIX`: namespace for every Redis key and channel.
    pub redis_prefix: String,
    /// `REDIS_TIMEOUT_MS`: how long a request waits for Redis (rate limits, WeChat
    /// replay claims, the readiness check) before it goes on without it.
    pub redis_timeout: Duration,
    /// `REDIS_BREAKER_COOLDOWN_MS`: after Redis failed or was too slow, how long rate
    /// limits and replay claims stay in-process before Redis is tried again.
    pub redis_cooldown: Duration,
    /// `BIND_ADDR`
    pub bind_addr: SocketAddr,
    /// `SMART_NPC_PRODUCTION`: turns off GraphiQL, introspection and field suggestions.
    pub production: bool,
    /// `PUBLIC_BASE_URL`: the address citizens reach (QR codes link here).
    pub public_base_url: String,
    /// Whether `PUBLIC_BASE_URL` was set (else it is derived from `BIND_ADDR`).
    pub public_base_url_set: bool,
    /// `MIGRATE_ON_START`: `serve` applies pending migrations before it listens
    /// (default). Off, it refuses to start on a database that is behind, and an
    /// operator runs `smart-npc migrate` once per deploy instead.
    pub migrate_on_start: bool,
    /// `MAX_PAGE_SIZE`: the largest `first`/`last` a connection accepts.
    pub max_page_size: u64,
    /// `AUTO_SEED_DEMO`: seed the Heshun demo data into an empty database on `serve`.
    pub auto_seed_demo: bool,
    /// `DASHBOARD_ENABLED`: serve the supervision dashboard at `/dashboard` (on unless
    /// production).
    pub dashboard_enabled: bool,
    /// `SMART_NPC_DEMO_PASSWORD`: the demo accounts' password.
    pub demo_password: String,
    /// `DATABASE_MAX_CONNECTIONS`
    pub database_max_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT_MS`: how long a request waits for a pooled connection
    /// before it is answered UNAVAILABLE (retryable).
    pub database_acquire_timeout: Duration,
    /// `SHUTDOWN_GRACE_SECS`: how long in-flight requests get on SIGTERM.
    pub shutdown_grace: Duration,
    /// `REQUEST_TIMEOUT_MS`: the longest one query or mutation may run (HTTP, and
    /// queries and mutations over WebSocket) before it is stopped with `TIMEOUT`.
    pub request_timeout: Duration,
    /// `TOKEN_SECRET`: signs access tokens; shared by every replica. Required in
    /// production; otherwise `serve` on a SQLite file keeps a generated secret beside
    /// it (`<database>.token-secret`, mode 0600), and anything else uses a random
    /// per-process secret.
    pub token_secret: Option<String>,
    /// `ACCESS_TOKEN_TTL_SECS`
    pub access_token_ttl: Duration,
    /// `REFRESH_TOKEN_TTL_DAYS`
    pub refresh_token_ttl: Duration,
    /// `TRUST_PROXY_HEADERS`: take the client address from `X-Forwarded-For` (only
    /// behind a proxy that sets it).
    pub trust_proxy_headers: bool,
    /// `CORS_ALLOWED_ORIGINS`: comma-separated origins (`https://dash.example.org`)
    /// whose pages may call the gateway from a browser; none by default.
    pub cors_allowed_origins: Vec<String>,
    /// `CORS_MAX_AGE_SECS`: how long a browser may cache a preflight answer.
    pub cors_max_age: Duration,
    /// `METRICS_BIND_ADDR`: serve `/metrics` there instead of on the main port.
    pub metrics_bind_addr: Option<SocketAddr>,
    /// `ACCESS_LOG`: which requests get a line in the access log.
    pub access_log: AccessLog,
    /// `PERSISTED_QUERIES` and its cache: Apollo's automatic persisted queries, or
    /// only the operations of the checked-in manifest.
    pub persisted_queries: PersistedQueries,
    /// OpenTelemetry traces over OTLP/HTTP; off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
    pub traces: Option<Traces>,
    pub limits: Limits,
    pub workflow: Workflow,
    /// Where uploaded files are kept (`STORAGE_URL` and the `S3_*` settings).
    pub storage: StorageSettings,
    /// How much one upload request may carry.
    pub uploads: Uploads,
    /// The WeChat official-account endpoint; off unless all three are set.
    pub wechat: Option<Wechat>,
    /// WeChat settings that were set although the endpoint is off (they do nothing).
    pub ignored_wechat_settings: Vec<&'static str>,
    /// Open311 GeoReport v2 (`/open311/v2/`).
    pub open311: Open311,
    /// Template messages to followers; off unless the endpoint is on and
    /// `WECHAT_APP_SECRET` and `WECHAT_TEMPLATE_ID` are set.
    pub wechat_notices: Option<WechatNotices>,
    /// How notices are derived from the outbox and sent.
    pub notify: Notify,
}

/// Template messages (模板消息) of the official account.
#[derive(Clone, PartialEq, Eq)]
pub struct WechatNotices {
    /// `WECHAT_APP_ID` (as for the endpoint).
    pub app_id: String,
    /// `WECHAT_APP_SECRET`: fetches the `access_token`.
    pub app_secret: String,
    /// `WECHAT_TEMPLATE_ID`: the template every notice is sent with.
    pub template_id: String,
    /// `WECHAT_API_BASE`: where the API is (no trailing slash); tests point it at a
    /// local server.
    pub api_base: String,
}

impl fmt::Debug for WechatNotices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatNotices")
            .field("app_id", &self.app_id)
            .field("template_id", &self.template_id)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

/// Default of `WECHAT_API_BASE`.
pub const DEFAULT_WECHAT_API_BASE: &str = "https://api.weixin.qq.com";

/// The notifier's timing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notify {
    /// `NOTIFY_POLL_MS`: how often the notifier looks for new events and due deliveries.
    pub poll: Duration,
    /// `NOTIFY_MAX_ATTEMPTS`: sends of one delivery before it ends `FAILED`.
    pub max_attempts: i32,
    /// `NOTIFY_RETENTION_DAYS`: sent and failed deliveries (and read or not, in-app
    /// notices) older than this are deleted by the supervision job.
    pub retention_days: i64,
    /// Text messages.
    pub sms: Sms,
}

#[derive(Clone, PartialEq, Eq)]
pub struct Wechat {
    /// `WECHAT_TOKEN`: the token configured in the official account's server settings.
    pub token: String,
    /// `WECHAT_APP_ID`
    pub app_id: String,
    /// `WECHAT_ENCODING_AES_KEY`: 43 characters, for safe mode (安全模式).
    pub encoding_aes_key: String,
    /// `WECHAT_DEFAULT_STATION`: station code for messages from followers who scanned
    /// no deputy's code (default: the first liaison station).
    pub default_station: Option<String>,
    /// `WECHAT_TIMESTAMP_WINDOW_SECS`: how far a signed request's `timestamp` may be
    /// from our clock, either way (default 300 s); older requests are refused as replays.
    pub timestamp_window: Duration,
}

impl fmt::Debug for Wechat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wechat")
            .field("app_id", &self.app_id)
            .field("default_station", &self.default_station)
            .field("timestamp_window", &self.timestamp_window)
            .finish_non_exhaustive()
    }
}

/// The opinion-item loop's timing rules (《群众反映问题分级分类处理办法》).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workflow {
    /// `DEADLINE_DAYS_NORMAL` / `_URGENT` / `_CRITICAL`: days a department has after accepting.
    pub deadlines: crate::domain::petition_flow::DeadlineRules,
    /// `MAX_REHANDLING_ROUNDS`: unsatisfied ratings before escalation to a supervisor.
    pub max_rounds: i32,
    /// `AUTO_CLOSE_DAYS`: an unrated result closes itself after this many days.
    pub auto_close_days: i64,
    /// `ESCALATE_OVERDUE_DAYS`: an item still overdue this long is escalated.
    pub escalate_overdue_days: i64,
    /// `SUPERVISION_INTERVAL_SECS`: how often the supervision job runs (0: never).
    pub supervision_interval: Duration,
}

/// Open311 GeoReport v2: the jurisdiction this endpoint serves and how much one key
/// may file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Open311 {
    /// `OPEN311_JURISDICTION_ID`: the one `jurisdiction_id` accepted (leaving it out is
    /// accepted too).
    pub jurisdiction_id: String,
    /// `OPEN311_SUBMISSIONS_PER_KEY` (per hour)
    pub submissions_per_key: u64,
}

/// Abuse limits. Each is "at most N in a window".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `SIGNIN_FAILURES_PER_ACCOUNT` (per 15 minutes)
    pub sign_in_failures_per_account: u64,
    /// `SIGNIN_ATTEMPTS_PER_ADDRESS` (per 5 minutes)
    pub sign_in_attempts_per_address: u64,
    /// `ANONYMOUS_SUBMISSIONS_PER_ADDRESS` (per hour)
    pub anonymous_submissions_per_address: u64,
    pub sign_in_account_window: Duration,
    pub sign_in_address_window: Duration,
    pub anonymous_submission_window: Duration,
    /// `ANONYMOUS_UPLOADS_PER_ADDRESS` (per hour, the window of anonymous submissions)
    pub anonymous_uploads_per_address: u64,
}

/// The bounds of an upload request (the GraphQL multipart request on `/graphql`),
/// checked before the body is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uploads {
    /// `UPLOAD_MAX_FILE_BYTES`: the largest file (default 10 MiB).
    pub max_file_bytes: usize,
    /// `UPLOAD_MAX_FILES_PER_REQUEST`: files in one request (default 9).
    pub max_files_per_request: usize,
    /// `UPLOAD_MAX_REQUEST_BYTES`: the whole multipart body (default 32 MiB).
    pub max_request_bytes: usize,
}

/// `STORAGE_URL`: where the files are kept.
#[derive(Clone, PartialEq, Eq)]
pub enum StorageSettings {
    /// A local directory: `file:///path`, or a path. `None`: the embedded default, a
    /// folder beside the SQLite database (`<database>.files`), else `./smart-npc-files`.
    Local(Option<std::path::PathBuf>),
    /// `s3://bucket[/prefix]` on any S3-compatible store.
    S3(S3Settings),
}

/// An S3-compatible store.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    /// The key prefix inside the bucket (may be empty).
    pub prefix: String,
    /// `S3_ENDPOINT`: the store's base URL (unset: AWS).
    pub endpoint: Option<String>,
    /// `S3_REGION` (default `us-east-1`).
    pub region: String,
    /// `S3_ACCESS_KEY_ID` / `S3_SECRET_ACCESS_KEY` (unset: the usual AWS sources).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl fmt::Debug for StorageSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageSettings::Local(path) => f.debug_tuple("Local").field(path).finish(),
            StorageSettings::S3(s3) => f
                .debug_struct("S3")
                .field("bucket", &s3.bucket)
                .field("prefix", &s3.prefix)
                .field("endpoint", &s3.endpoint)
                .field("region", &s3.region)
                .field("access_key_id", &s3.access_key_id)
                .finish_non_exhaustive(),
        }
    }
}

impl StorageSettings {
    fn parse(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let Some(raw) = get("STORAGE_URL") else {
            return Ok(StorageSettings::Local(None));
        };
        let raw = raw.trim();
        let Some(rest) = raw.strip_prefix("s3://") else {
            let path = raw.strip_prefix("file://").unwrap_or(raw);
            return Ok(StorageSettings::Local(Some(path.into())));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(ConfigError {
                variable: "STORAGE_URL",
                problem: "s3:// needs a bucket: s3://bucket[/prefix]".into(),
            });
        }
        let endpoint = get("S3_ENDPOINT");
        if let Some(endpoint) = &endpoint {
            if url::Url::parse(endpoint).map_or(true, |u| !matches!(u.scheme(), "http" | "https")) {
                return Err(ConfigError {
                    variable: "S3_ENDPOINT",
                    problem: "must be an http:// or https:// URL".into(),
                });
            }
        }
        Ok(StorageSettings::S3(S3Settings {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
            endpoint,
            region: get("S3_REGION").unwrap_or_else(|| "us-east-1".into()),
            access_key_id: get("S3_ACCESS_KEY_ID"),
            secret_access_key: get("S3_SECRET_ACCESS_KEY"),
        }))
    }
}

pub const DEFAULT_DEMO_PASSWORD: &str = "Heshun-Demo-2025";

/// `PERSISTED_QUERIES`: which documents a client may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersistedQueriesMode {
    /// `apq` (default): full documents, and Apollo's automatic persisted queries.
    Apq,
    /// `manifest`: only the operations of `assets/operations/`, by hash or exact text.
    Manifest,
    /// `off`: full documents only; a request carrying `extensions.persistedQuery` is
    /// answered `PERSISTED_QUERY_NOT_SUPPORTED` (as Apollo Server does with APQ off).
    Off,
}

/// The persisted-query settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistedQueries {
    pub mode: PersistedQueriesMode,
    /// `PERSISTED_QUERIES_CACHE_ENTRIES`: documents kept in this process.
    pub cache_entries: usize,
    /// `PERSISTED_QUERIES_CACHE_BYTES`: their total size in this process.
    pub cache_bytes: usize,
    /// `PERSISTED_QUERIES_TTL_SECS`: how long a registered document lives in Redis.
    pub ttl: Duration,
}

impl PersistedQueriesMode {
    fn parse(raw: Option<String>) -> Result<Self, ConfigError> {
        match raw
            .as_deref()
            .map(|r| r.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("apq") => Ok(PersistedQueriesMode::Apq),
            Some("manifest") => Ok(PersistedQueriesMode::Manifest),
            Some("off") => Ok(PersistedQueriesMode::Off),
            Some(other) => Err(ConfigError {
                variable: "PERSISTED_QUERIES",
                problem: format!("{other:?} is not apq, manifest or off"),
            }),
        }
    }
}

/// `ACCESS_LOG`: `on` (a line per request), `off`, or the share of requests to log
/// (`0.01`: about one in a hundred), so that a busy gateway's log stays small.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AccessLog {
    On,
    Off,
    Sampled(f64),
}

impl AccessLog {
    fn parse(raw: Option<String>) -> Result<Self, ConfigError> {
        let Some(raw) = raw else {
            return Ok(AccessLog::On);
        };
        match raw.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" => Ok(AccessLog::On),
            "off" | "false" | "0" => Ok(AccessLog::Off),
            other => match other.parse::<f64>() {
                Ok(rate) if rate > 0.0 && rate < 1.0 => Ok(AccessLog::Sampled(rate)),
                _ => Err(ConfigError {
                    variable: "ACCESS_LOG",
                    problem: format!("{raw:?} is not on, off or a share between 0 and 1"),
                }),
            },
        }
    }
}

/// Default of `OTEL_SERVICE_NAME`.
pub const DEFAULT_SERVICE_NAME: &str = "smart-npc";

/// Where and how spans are exported (OTLP over HTTP, protobuf), by the standard
/// OpenTelemetry variable names. `main` reads these before the other settings, as the
/// exporter is part of logging.
#[derive(Debug, Clone, PartialEq)]
pub struct Traces {
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: the collector's base URL (`http://127.0.0.1:4318`);
    /// spans go to its `/v1/traces`.
    pub endpoint: String,
    /// `OTEL_SERVICE_NAME`: the `service.name` of every span.
    pub service_name: String,
    /// `OTEL_TRACES_SAMPLER_ARG`: the share of new traces recorded (0 to 1). A request
    /// whose `traceparent` says sampled (or not) follows its caller.
    pub sample_ratio: f64,
}

impl Traces {
    /// `None` (no exporter, no background thread) unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let Some(raw) = get("OTEL_EXPORTER_OTLP_ENDPOINT") else {
            return Ok(None);
        };
        let endpoint = raw.trim().trim_end_matches('/').to_owned();
        let problem = match url::Url::parse(&endpoint) {
            Ok(url) if url.scheme() == "http" && url.host().is_some() => None,
            // The exporter is built without TLS (see README, "Traces").
            Ok(url) if url.scheme() == "https" => Some(
                "https is not supported: send spans to a collector over http (one beside the gateway)".to_owned(),
            ),
            _ => Some(format!("{raw:?} is not a URL like http://127.0.0.1:4318")),
        };
        if let Some(problem) = problem {
            return Err(ConfigError {
                variable: "OTEL_EXPORTER_OTLP_ENDPOINT",
                problem,
            });
        }
        let service_name = get("OTEL_SERVICE_NAME")
            .map_or_else(|| DEFAULT_SERVICE_NAME.to_owned(), |n| n.trim().to_owned());
        let sample_ratio = match get("OTEL_TRACES_SAMPLER_ARG") {
            None => 1.0,
            Some(raw) => match raw.trim().parse::<f64>() {
                Ok(ratio) if (0.0..=1.0).contains(&ratio) => ratio,
                _ => {
                    return Err(ConfigError {
                        variable: "OTEL_TRACES_SAMPLER_ARG",
                        problem: format!("{raw:?} is not a share between 0 and 1"),
                    })
                }
            },
        };
        Ok(Some(Traces {
            endpoint,
            service_name,
            sample_ratio,
        }))
    }

    /// The OTLP/HTTP traces URL: the endpoint's `/v1/traces`.
    pub fn traces_url(&self) -> String {
        format!("{}/v1/traces", self.endpoint)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid setting {}: {}", self.variable, self.problem)
    }
}

impl std::error::Error for ConfigError {}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads every setting through `lookup`, so tests need not touch the process env.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());

        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError {
                variable: "DATABASE_URL",
                problem: "must start with sqlite:, postgres:// or postgresql://".into(),
            });
        }

        let redis_url = get("REDIS_URL");
        if let Some(url) = &redis_url {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(ConfigError {
                    variable: "REDIS_URL",
                    problem: "must start with redis:// or rediss://".into(),
                });
            }
        }

        let bind_raw = get("BIND_ADDR").unwrap_or_else(|| DEFAULT_BIND_ADDR.into());
        let bind_addr = bind_raw.parse::<SocketAddr>().map_err(|_| ConfigError {
            variable: "BIND_ADDR",
            problem: format!("{bind_raw:?} is not an address like 127.0.0.1:8000"),
        })?;

        let production = parse_bool("SMART_NPC_PRODUCTION", get("SMART_NPC_PRODUCTION"), false)?;
        let migrate_on_start = parse_bool("MIGRATE_ON_START", get("MIGRATE_ON_START"), true)?;
        let public_base_url_set = get("PUBLIC_BASE_URL").is_some();
        let public_base_url = get("PUBLIC_BASE_URL")
            .unwrap_or_else(|| format!("http://{bind_addr}"))
            .trim_end_matches('/')
            .to_owned();
        if !(public_base_url.starts_with("http://") || public_base_url.starts_with("https://")) {
            return Err(ConfigError {
                variable: "PUBLIC_BASE_URL",
                problem: "must start with http:// or https://".into(),
            });
        }

        let max_page_size = parse_number(
            "MAX_PAGE_SIZE",
            get("MAX_PAGE_SIZE"),
            DEFAULT_MAX_PAGE_SIZE,
            1,
            1000,
        )?;
        let database_max_connections = parse_number(
            "DATABASE_MAX_CONNECTIONS",
            get("DATABASE_MAX_CONNECTIONS"),
            10,
            1,
            500,
        )?;
        let database_acquire_timeout_ms = parse_number(
            "DATABASE_ACQUIRE_TIMEOUT_MS",
            get("DATABASE_ACQUIRE_TIMEOUT_MS"),
            5000,
            10,
            60_000,
        )?;
        let shutdown_secs = parse_number(
            "SHUTDOWN_GRACE_SECS",
            get("SHUTDOWN_GRACE_SECS"),
            10,
            0,
            600,
        )?;
        let request_timeout_ms = parse_number(
            "REQUEST_TIMEOUT_MS",
            get("REQUEST_TIMEOUT_MS"),
            15_000,
            1,
            600_000,
        )?;
        let auto_seed_demo = parse_bool("AUTO_SEED_DEMO", get("AUTO_SEED_DEMO"), !production)?;
        let dashboard_enabled =
            parse_bool("DASHBOARD_ENABLED", get("DASHBOARD_ENABLED"), !production)?;
        let demo_password =
            get("SMART_NPC_DEMO_PASSWORD").unwrap_or_else(|| DEFAULT_DEMO_PASSWORD.into());
        let redis_prefix = get("REDIS_CHANNEL_PREFIX").unwrap_or_else(|| "smart-npc".into());
        if !redis_prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        {
            return Err(ConfigError {
                variable: "REDIS_CHANNEL_PREFIX",
                problem: "may hold only letters, digits and - _ : .".into(),
            });
        }

        let redis_timeout = Duration::from_millis(parse_number(
            "REDIS_TIMEOUT_MS",
            get("REDIS_TIMEOUT_MS"),
            // A Redis beside the gateway answers in well under a millisecond; 50 ms
            // keeps even the request that finds it hung (and opens the breaker) under
            // 100 ms.
            50,
            1,
            10_000,
        )?);
        let redis_cooldown = Duration::from_millis(parse_number(
            "REDIS_BREAKER_COOLDOWN_MS",
            get("REDIS_BREAKER_COOLDOWN_MS"),
            5_000,
            1,
            3_600_000,
        )?);

        let token_secret = get("TOKEN_SECRET");
        match &token_secret {
            Some(secret) if secret.len() < 32 => {
                return Err(ConfigError {
                    variable: "TOKEN_SECRET",
                    problem: "must be at least 32 characters".into(),
                })
            }
            None if production => {
                return Err(ConfigError {
                    variable: "TOKEN_SECRET",
                    problem: "is required in production (at least 32 random characters)".into(),
                })
            }
            _ => {}
        }
        let access_secs = parse_number(
            "ACCESS_TOKEN_TTL_SECS",
            get("ACCESS_TOKEN_TTL_SECS"),
            900,
            1,
            86_400,
        )?;
        let refresh_days = parse_number(
            "REFRESH_TOKEN_TTL_DAYS",
            get("REFRESH_TOKEN_TTL_DAYS"),
            30,
            1,
            365,
        )?;
        let trust_proxy_headers =
            parse_bool("TRUST_PROXY_HEADERS", get("TRUST_PROXY_HEADERS"), false)?;
        let cors_allowed_origins = parse_origins(get("CORS_ALLOWED_ORIGINS"))?;
        let metrics_bind_addr = match get("METRICS_BIND_ADDR") {
            None => None,
            Some(raw) => Some(raw.trim().parse::<SocketAddr>().map_err(|_| ConfigError {
                variable: "METRICS_BIND_ADDR",
                problem: format!("{raw:?} is not an address like 127.0.0.1:9100"),
            })?),
        };
        let access_log = AccessLog::parse(get("ACCESS_LOG"))?;
        let persisted_queries = PersistedQueries {
            mode: PersistedQueriesMode::parse(get("PERSISTED_QUERIES"))?,
            cache_entries: parse_number(
                "PERSISTED_QUERIES_CACHE_ENTRIES",
                get("PERSISTED_QUERIES_CACHE_ENTRIES"),
                2_000,
                1,
                1_000_000,
            )? as usize,
            cache_bytes: parse_number(
                "PERSISTED_QUERIES_CACHE_BYTES",
                get("PERSISTED_QUERIES_CACHE_BYTES"),
                8 * 1024 * 1024,
                1024,
                1024 * 1024 * 1024,
            )? as usize,
            ttl: Duration::from_secs(parse_number(
                "PERSISTED_QUERIES_TTL_SECS",
                get("PERSISTED_QUERIES_TTL_SECS"),
                86_400,
                1,
                365 * 86_400,
            )?),
        };
        let traces = Traces::from_lookup(get)?;
        let cors_max_age = Duration::from_secs(parse_number(
            "CORS_MAX_AGE_SECS",
            get("CORS_MAX_AGE_SECS"),
            600,
            0,
            86_400,
        )?);
        let limits = Limits {
            sign_in_failures_per_account: parse_number(
                "SIGNIN_FAILURES_PER_ACCOUNT",
                get("SIGNIN_FAILURES_PER_ACCOUNT"),
                5,
                1,
                1000,
            )?,
            sign_in_attempts_per_address: parse_number(
                "SIGNIN_ATTEMPTS_PER_ADDRESS",
                get("SIGNIN_ATTEMPTS_PER_ADDRESS"),
                30,
                1,
                100_000,
            )?,
            anonymous_submissions_per_address: parse_number(
                "ANONYMOUS_SUBMISSIONS_PER_ADDRESS",
                get("ANONYMOUS_SUBMISSIONS_PER_ADDRESS"),
                10,
                1,
                100_000,
            )?,
            sign_in_account_window: Duration::from_secs(15 * 60),
            sign_in_address_window: Duration::from_secs(5 * 60),
            anonymous_submission_window: Duration::from_secs(60 * 60),
            anonymous_uploads_per_address: parse_number(
                "ANONYMOUS_UPLOADS_PER_ADDRESS",
                get("ANONYMOUS_UPLOADS_PER_ADDRESS"),
                30,
                1,
                100_000,
            )?,
        };
        let storage = StorageSettings::parse(&get)?;
        let uploads = Uploads {
            max_file_bytes: parse_number(
                "UPLOAD_MAX_FILE_BYTES",
                get("UPLOAD_MAX_FILE_BYTES"),
                10 * 1024 * 1024,
                1024,
                100 * 1024 * 1024,
            )? as usize,
            max_files_per_request: parse_number(
                "UPLOAD_MAX_FILES_PER_REQUEST",
                get("UPLOAD_MAX_FILES_PER_REQUEST"),
                9,
                1,
                50,
            )? as usize,
            max_request_bytes: parse_number(
                "UPLOAD_MAX_REQUEST_BYTES",
                get("UPLOAD_MAX_REQUEST_BYTES"),
                32 * 1024 * 1024,
                64 * 1024,
                1024 * 1024 * 1024,
            )? as usize,
        };

        let days = |var: &'static str, default: u64| {
            parse_number(var, get(var), default, 1, 365).map(|d| d as i64)
        };
        let workflow = Workflow {
            deadlines: crate::domain::petition_flow::DeadlineRules {
                normal_days: days("DEADLINE_DAYS_NORMAL", 15)?,
                urgent_days: days("DEADLINE_DAYS_URGENT", 7)?,
                critical_days: days("DEADLINE_DAYS_CRITICAL", 3)?,
            },
            max_rounds: parse_number(
                "MAX_REHANDLING_ROUNDS",
                get("MAX_REHANDLING_ROUNDS"),
                2,
                1,
                10,
            )? as i32,
            auto_close_days: days("AUTO_CLOSE_DAYS", 7)?,
            escalate_overdue_days: days("ESCALATE_OVERDUE_DAYS", 3)?,
            supervision_interval: Duration::from_secs(parse_number(
                "SUPERVISION_INTERVAL_SECS",
                get("SUPERVISION_INTERVAL_SECS"),
                300,
                0,
                86_400,
            )?),
        };

        let wechat_timestamp_window = Duration::from_secs(parse_number(
            "WECHAT_TIMESTAMP_WINDOW_SECS",
            get("WECHAT_TIMESTAMP_WINDOW_SECS"),
            DEFAULT_WECHAT_WINDOW_SECS,
            1,
            86_400,
        )?);
        let wechat = match (
            get("WECHAT_TOKEN"),
            get("WECHAT_APP_ID"),
            get("WECHAT_ENCODING_AES_KEY"),
        ) {
            (None, None, None) => None,
            (Some(token), Some(app_id), Some(encoding_aes_key)) => {
                if crate::wechat::crypto::Cipher::new(&encoding_aes_key, &app_id).is_err() {
                    return Err(ConfigError {
                        variable: "WECHAT_ENCODING_AES_KEY",
                        problem: "must be the 43-character EncodingAESKey of the official account"
                            .into(),
                    });
                }
                if token.len() < 3
                    || token.len() > 32
                    || !token.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    return Err(ConfigError {
                        variable: "WECHAT_TOKEN",
                        problem: "must be 3-32 letters or digits".into(),
                    });
                }
                Some(Wechat {
                    token,
                    app_id,
                    encoding_aes_key,
                    default_station: get("WECHAT_DEFAULT_STATION"),
                    timestamp_window: wechat_timestamp_window,
                })
            }
            _ => {
                return Err(ConfigError {
                    variable: "WECHAT_TOKEN",
                    problem: "WECHAT_TOKEN, WECHAT_APP_ID and WECHAT_ENCODING_AES_KEY go together"
                        .into(),
                })
            }
        };
        let ignored_wechat_settings = if wechat.is_some() {
            Vec::new()
        } else {
            [
                "WECHAT_DEFAULT_STATION",
                "WECHAT_TIMESTAMP_WINDOW_SECS",
                "WECHAT_APP_SECRET",
                "WECHAT_TEMPLATE_ID",
            ]
            .into_iter()
            .filter(|variable| get(variable).is_some())
            .collect()
        };
        let wechat_notices = wechat_notices(&get, wechat.as_ref())?;
        let notify = Notify {
            poll: Duration::from_millis(parse_number(
                "NOTIFY_POLL_MS",
                get("NOTIFY_POLL_MS"),
                1_000,
                10,
                600_000,
            )?),
            max_attempts: parse_number("NOTIFY_MAX_ATTEMPTS", get("NOTIFY_MAX_ATTEMPTS"), 8, 1, 50)?
                as i32,
            retention_days: parse_number(
                "NOTIFY_RETENTION_DAYS",
                get("NOTIFY_RETENTION_DAYS"),
                180,
                1,
                3650,
            )? as i64,
            sms: sms::parse(&get)?,
        };
        let open311 = Open311 {
            jurisdiction_id: get("OPEN311_JURISDICTION_ID")
                .map(|j| j.trim().to_owned())
                .filter(|j| !j.is_empty())
                .unwrap_or_else(|| "heshun".to_owned()),
            submissions_per_key: parse_number(
                "OPEN311_SUBMISSIONS_PER_KEY",
                get("OPEN311_SUBMISSIONS_PER_KEY"),
                100,
                1,
                1_000_000,
            )?,
        };

        Ok(Settings {
            database_url,
            redis_url,
            redis_prefix,
            redis_timeout,
            redis_cooldown,
            bind_addr,
            production,
            public_base_url,
            public_base_url_set,
            migrate_on_start,
            max_page_size,
            auto_seed_demo,
            dashboard_enabled,
            demo_password,
            database_max_connections: database_max_connections as u32,
            database_acquire_timeout: Duration::from_millis(database_acquire_timeout_ms),
            shutdown_grace: Duration::from_secs(shutdown_secs),
            request_timeout: Duration::from_millis(request_timeout_ms),
            token_secret,
            access_token_ttl: Duration::from_secs(access_secs),
            refresh_token_ttl: Duration::from_secs(refresh_days * 86_400),
            trust_proxy_headers,
            cors_allowed_origins,
            cors_max_age,
            metrics_bind_addr,
            access_log,
            persisted_queries,
            traces,
            limits,
            workflow,
            storage,
            uploads,
            wechat,
            ignored_wechat_settings,
            open311,
            wechat_notices,
            notify,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// Something a production instance runs with that its operator must know about: a
/// missing or risky setting, as [`Settings::production_warnings`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductionWarning {
    /// The setting to look at.
    pub setting: &'static str,
    /// What it means and what to do, in one sentence.
    pub message: String,
}

impl Settings {
    /// The warnings `serve` logs at start in production mode (`SMART_NPC_PRODUCTION`),
    /// one per missing or risky setting; none outside production.
    pub fn production_warnings(&self) -> Vec<ProductionWarning> {
        if !self.production {
            return Vec::new();
        }
        let mut warnings = Vec::new();
        let mut warn = |setting: &'static str, message: String| {
            warnings.push(ProductionWarning { setting, message });
        };
        if let Some(message) = self.public_base_url_problem() {
            warn("PUBLIC_BASE_URL", message);
        }
        if self.metrics_bind_addr.is_none() {
            warn(
                "METRICS_BIND_ADDR",
                "METRICS_BIND_ADDR is unset: /metrics is served on the public port to anyone \
                 who asks, and every scrape queries the outbox; set it to an internal address \
                 (e.g. 10.0.0.5:9100) or block /metrics at the load balancer"
                    .into(),
            );
        }
        if self.is_sqlite() {
            warn(
                "DATABASE_URL",
                "DATABASE_URL is SQLite: one process and one writer at a time, no replicas, \
                 no pg_dump; use PostgreSQL in production"
                    .into(),
            );
        }
        if self.redis_url.is_none() {
            warn(
                "REDIS_URL",
                "REDIS_URL is unset: events travel in-process, so replicas cannot share live \
                 events (a subscriber misses what another replica writes) and rate limits count \
                 per process; set it whenever more than one replica runs"
                    .into(),
            );
        }
        if !self.trust_proxy_headers {
            warn(
                "TRUST_PROXY_HEADERS",
                "TRUST_PROXY_HEADERS is off: behind a load balancer every request seems to come \
                 from the proxy, so per-address limits count all callers together and the audit \
                 log records the proxy's address; turn it on when (and only when) a proxy that \
                 sets X-Forwarded-For to the caller's address stands in front"
                    .into(),
            );
        }
        if self.auto_seed_demo {
            let password = if self.demo_password == DEFAULT_DEMO_PASSWORD {
                "the documented default password"
            } else {
                "SMART_NPC_DEMO_PASSWORD"
            };
            warn(
                "AUTO_SEED_DEMO",
                format!(
                    "AUTO_SEED_DEMO is on: an empty database gets the demo data and its accounts \
                     (admin included) with {password}; turn it off in production"
                ),
            );
        }
        let plain: Vec<&str> = self
            .cors_allowed_origins
            .iter()
            .filter(|origin| origin.starts_with("http://"))
            .map(String::as_str)
            .collect();
        if !plain.is_empty() {
            warn(
                "CORS_ALLOWED_ORIGINS",
                format!(
                    "CORS_ALLOWED_ORIGINS lets pages served without HTTPS call the gateway with \
                     their users' credentials ({}); list only the HTTPS origins of your \
                     dashboards",
                    plain.join(", ")
                ),
            );
        }
        for &setting in &self.ignored_wechat_settings {
            warn(
                setting,
                format!(
                    "{setting} is set but the WeChat endpoint is off (WECHAT_TOKEN, \
                     WECHAT_APP_ID and WECHAT_ENCODING_AES_KEY are unset), so it does nothing"
                ),
            );
        }
        warnings
    }

    /// Why citizens could not use the links and QR codes built on `PUBLIC_BASE_URL`.
    fn public_base_url_problem(&self) -> Option<String> {
        let url = &self.public_base_url;
        if !self.public_base_url_set {
            return Some(format!(
                "PUBLIC_BASE_URL is unset: QR codes and links point at {url}, which citizens \
                 cannot reach; set it to the public address (https://npc.example.org)"
            ));
        }
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let local = host == "localhost"
            || host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
        if local {
            Some(format!(
                "PUBLIC_BASE_URL is {url}, an address of this machine: QR codes and links \
                 would not reach citizens; set it to the public address"
            ))
        } else if url.starts_with("http://") {
            Some(format!(
                "PUBLIC_BASE_URL is {url}, not HTTPS: citizens' messages and tracking codes \
                 would travel in clear; serve them over HTTPS (e.g. TLS at the load balancer)"
            ))
        } else {
            None
        }
    }
}

/// Template messages: `WECHAT_APP_SECRET` and `WECHAT_TEMPLATE_ID` together, on an
/// endpoint that is on (followers come only through it).
fn wechat_notices(
    get: &impl Fn(&str) -> Option<String>,
    wechat: Option<&Wechat>,
) -> Result<Option<WechatNotices>, ConfigError> {
    let api_base = get("WECHAT_API_BASE").map_or_else(
        || DEFAULT_WECHAT_API_BASE.to_owned(),
        |b| b.trim().to_owned(),
    );
    if !(api_base.starts_with("http://") || api_base.starts_with("https://"))
        || api_base.ends_with('/')
    {
        return Err(ConfigError {
            variable: "WECHAT_API_BASE",
            problem: format!(
                "{api_base:?} is not a base URL like https://api.weixin.qq.com (no trailing slash)"
            ),
        });
    }
    match (get("WECHAT_APP_SECRET"), get("WECHAT_TEMPLATE_ID"), wechat) {
        (None, None, _) | (_, _, None) => Ok(None),
        (Some(app_secret), Some(template_id), Some(wechat)) => Ok(Some(WechatNotices {
            app_id: wechat.app_id.clone(),
            app_secret,
            template_id,
            api_base,
        })),
        _ => Err(ConfigError {
            variable: "WECHAT_APP_SECRET",
            problem: "WECHAT_APP_SECRET and WECHAT_TEMPLATE_ID go together".into(),
        }),
    }
}

fn parse_bool(
    variable: &'static str,
    raw: Option<String>,
    default: bool,
) -> Result<bool, ConfigError> {
    match raw
        .as_deref()
        .map(str::trim)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError {
            variable,
            problem: format!("{other:?} is not one of true/false/1/0/yes/no/on/off"),
        }),
    }
}

/// Origins as a browser sends them in `Origin`: scheme, host and port only. A
/// wildcard is refused: with credentials allowed, `*` would let any site in.
fn parse_origins(raw: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let origin = origin.trim_end_matches('/');
            let invalid = || ConfigError {
                variable: "CORS_ALLOWED_ORIGINS",
                problem: format!(
                    "{origin:?} is not an origin like https://dash.example.org (scheme, host and port only; no wildcard)"
                ),
            };
            let url = url::Url::parse(origin).map_err(|_| invalid())?;
            let only_an_origin = matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some()
                && !origin.contains('*')
                && url.path() == "/"
                && url.query().is_none()
                && url.fragment().is_none()
                && url.username().is_empty()
                && url.password().is_none();
            if !only_an_origin {
                return Err(invalid());
            }
            // What browsers send: lower-case host, no default port.
            Ok(url.origin().ascii_serialization())
        })
        .collect()
}

fn parse_number(
    variable: &'static str,
    raw: Option<String>,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let Some(raw) = raw else { return Ok(default) };
    match raw.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError {
            variable,
            problem: format!("{raw:?} is not a whole number from {min} to {max}"),
        }),
    }
}

/// Hides the password part of a connection URL.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<unparsable url>".into(),
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("redis_prefix", &self.redis_prefix)
            .field("redis_timeout", &self.redis_timeout)
            .field("redis_cooldown", &self.redis_cooldown)
            .field("bind_addr", &self.bind_addr)
            .field("production", &self.production)
            .field("public_base_url", &self.public_base_url)
            .field("migrate_on_start", &self.migrate_on_start)
            .field("max_page_size", &self.max_page_size)
            .field("auto_seed_demo", &self.auto_seed_demo)
            .field("dashboard_enabled", &self.dashboard_enabled)
            .field("database_max_connections", &self.database_max_connections)
            .field("database_acquire_timeout", &self.database_acquire_timeout)
            .field("token_secret", &self.token_secret.as_ref().map(|_| "***"))
            .field("access_token_ttl", &self.access_token_ttl)
            .field("trust_proxy_headers", &self.trust_proxy_headers)
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("traces", &self.traces)
            .field("limits", &self.limits)
            .field("storage", &self.storage)
            .field("uploads", &self.uploads)
            .field("wechat", &self.wechat)
            .field("wechat_notices", &self.wechat_notices)
            .field("notify", &self.notify)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_the_embedded_setup() {
        let s = settings(&[]).expect("defaults");
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.bind_addr.to_string(), DEFAULT_BIND_ADDR);
        assert!(s.redis_url.is_none());
        assert!(!s.production);
        assert!(s.auto_seed_demo);
        assert_eq!(s.max_page_size, DEFAULT_MAX_PAGE_SIZE);
    }

    #[test]
    fn the_dashboard_is_on_unless_production_or_turned_on_there() {
        assert!(settings(&[]).unwrap().dashboard_enabled);
        let production = [("SMART_NPC_PRODUCTION", "true"), ("TOKEN_SECRET", SECRET)];
        assert!(!settings(&production).unwrap().dashboard_enabled);
        let enabled = [production[0], production[1], ("DASHBOARD_ENABLED", "true")];
        assert!(settings(&enabled).unwrap().dashboard_enabled);
        assert!(settings(&[("DASHBOARD_ENABLED", "maybe")]).is_err());
    }

    #[test]
    fn production_requires_a_token_secret() {
        let error = settings(&[("SMART_NPC_PRODUCTION", "true")]).expect_err("no secret");
        assert_eq!(error.variable, "TOKEN_SECRET");
        let error = settings(&[("TOKEN_SECRET", "short")]).expect_err("short secret");
        assert_eq!(error.variable, "TOKEN_SECRET");
    }

    #[test]
    fn production_turns_off_auto_seeding_by_default() {
        let s =
            settings(&[("SMART_NPC_PRODUCTION", "true"), ("TOKEN_SECRET", SECRET)]).expect("valid");
        assert!(s.production);
        assert!(!s.auto_seed_demo);
    }

    #[test]
    fn each_invalid_setting_names_its_variable() {
        let cases = [
            ("BIND_ADDR", "localhost"),
            ("DATABASE_URL", "mysql://x"),
            ("REDIS_URL", "http://x"),
            ("SMART_NPC_PRODUCTION", "maybe"),
            ("MAX_PAGE_SIZE", "0"),
            ("MAX_PAGE_SIZE", "abc"),
            ("PUBLIC_BASE_URL", "ftp://x"),
            ("REDIS_CHANNEL_PREFIX", "a b"),
            ("ACCESS_TOKEN_TTL_SECS", "0"),
            ("TRUST_PROXY_HEADERS", "sometimes"),
            ("SIGNIN_FAILURES_PER_ACCOUNT", "-1"),
            ("WECHAT_TOKEN", "lonely"),
            ("WECHAT_TIMESTAMP_WINDOW_SECS", "0"),
            ("WECHAT_TIMESTAMP_WINDOW_SECS", "soon"),
            ("REDIS_TIMEOUT_MS", "0"),
            ("REDIS_BREAKER_COOLDOWN_MS", "later"),
            ("CORS_ALLOWED_ORIGINS", "*"),
            ("CORS_ALLOWED_ORIGINS", "https://*.example.org"),
            ("CORS_ALLOWED_ORIGINS", "https://dash.example.org/path"),
            ("CORS_ALLOWED_ORIGINS", "ftp://dash.example.org"),
            ("CORS_MAX_AGE_SECS", "forever"),
            ("METRICS_BIND_ADDR", "everywhere"),
            ("ACCESS_LOG", "sometimes"),
            ("ACCESS_LOG", "1.5"),
            ("ACCESS_LOG", "-0.1"),
            ("PERSISTED_QUERIES", "sometimes"),
            ("PERSISTED_QUERIES_CACHE_ENTRIES", "0"),
            ("PERSISTED_QUERIES_CACHE_BYTES", "12"),
            ("PERSISTED_QUERIES_TTL_SECS", "never"),
        ];
        for (variable, value) in cases {
            let error = settings(&[(variable, value)]).expect_err(variable);
            assert_eq!(error.variable, variable, "{value}");
        }
    }

    #[test]
    fn traces_are_off_unless_an_endpoint_is_set() {
        assert_eq!(settings(&[]).expect("valid").traces, None);
        let traces = settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")])
            .expect("valid")
            .traces
            .expect("on");
        assert_eq!(traces.traces_url(), "http://collector:4318/v1/traces");
        assert_eq!(traces.service_name, DEFAULT_SERVICE_NAME);
        assert_eq!(traces.sample_ratio, 1.0);
        let traces = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_SERVICE_NAME", "npc-gateway"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
        ])
        .expect("valid")
        .traces
        .expect("on");
        assert_eq!(traces.service_name, "npc-gateway");
        assert_eq!(traces.sample_ratio, 0.25);
        for (variable, value) in [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318"),
            ("OTEL_TRACES_SAMPLER_ARG", "2"),
            ("OTEL_TRACES_SAMPLER_ARG", "half"),
        ] {
            let mut pairs = vec![(variable, value)];
            if variable != "OTEL_EXPORTER_OTLP_ENDPOINT" {
                pairs.push(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"));
            }
            let error = settings(&pairs).expect_err(value);
            assert_eq!(error.variable, variable, "{value}");
        }
    }

    #[test]
    fn access_log_is_on_off_or_a_share() {
        let access = |raw: &[(&str, &str)]| settings(raw).expect("valid").access_log;
        assert_eq!(access(&[]), AccessLog::On);
        assert_eq!(access(&[("ACCESS_LOG", "off")]), AccessLog::Off);
        assert_eq!(access(&[("ACCESS_LOG", "ON")]), AccessLog::On);
        assert_eq!(access(&[("ACCESS_LOG", "0.01")]), AccessLog::Sampled(0.01));
    }

    #[test]
    fn persisted_queries_default_to_apq_with_a_bounded_cache() {
        let s = settings(&[]).expect("defaults").persisted_queries;
        assert_eq!(s.mode, PersistedQueriesMode::Apq);
        assert_eq!(s.cache_entries, 2_000);
        assert_eq!(s.cache_bytes, 8 * 1024 * 1024);
        let mode = |raw: &str| {
            settings(&[("PERSISTED_QUERIES", raw)])
                .expect("valid")
                .persisted_queries
                .mode
        };
        assert_eq!(mode("Manifest"), PersistedQueriesMode::Manifest);
        assert_eq!(mode("off"), PersistedQueriesMode::Off);
    }

    #[test]
    fn wechat_timestamp_window_defaults_to_five_minutes() {
        let wechat = [
            ("WECHAT_TOKEN", "heshunToken"),
            ("WECHAT_APP_ID", "wx5823bf96d3bd56c7"),
            (
                "WECHAT_ENCODING_AES_KEY",
                "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            ),
        ];
        let s = settings(&wechat).expect("valid");
        assert_eq!(
            s.wechat.map(|w| w.timestamp_window),
            Some(Duration::from_secs(300))
        );
        let mut custom = wechat.to_vec();
        custom.push(("WECHAT_TIMESTAMP_WINDOW_SECS", "60"));
        let s = settings(&custom).expect("valid");
        assert_eq!(
            s.wechat.map(|w| w.timestamp_window),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn cors_origins_are_exact_origins_and_none_by_default() {
        assert!(settings(&[])
            .expect("defaults")
            .cors_allowed_origins
            .is_empty());
        let s = settings(&[(
            "CORS_ALLOWED_ORIGINS",
            " https://Dash.example.org/ , http://127.0.0.1:5173,",
        )])
        .expect("valid");
        assert_eq!(
            s.cors_allowed_origins,
            ["https://dash.example.org", "http://127.0.0.1:5173"]
        );
        assert_eq!(s.cors_max_age, Duration::from_secs(600));
    }

    /// A production instance with every setting an operator should give it.
    const WELL_CONFIGURED: &[(&str, &str)] = &[
        ("SMART_NPC_PRODUCTION", "true"),
        ("TOKEN_SECRET", SECRET),
        (
            "DATABASE_URL",
            "postgres://smart_npc:pw@postgres:5432/smart_npc",
        ),
        ("REDIS_URL", "redis://redis:6379"),
        ("PUBLIC_BASE_URL", "https://npc.example.org"),
        ("METRICS_BIND_ADDR", "0.0.0.0:9100"),
        ("TRUST_PROXY_HEADERS", "true"),
        ("CORS_ALLOWED_ORIGINS", "https://dash.example.org"),
    ];

    fn warned(pairs: &[(&str, &str)]) -> Vec<&'static str> {
        settings(pairs)
            .expect("valid")
            .production_warnings()
            .into_iter()
            .map(|w| w.setting)
            .collect()
    }

    /// `pairs` on top of the well-configured instance (a later pair wins; an empty
    /// value counts as unset, as in the environment).
    fn configured_with<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut all: Vec<(&str, &str)> = WELL_CONFIGURED
            .iter()
            .filter(|(k, _)| !pairs.iter().any(|(p, _)| p == k))
            .copied()
            .collect();
        all.extend_from_slice(pairs);
        all
    }

    #[test]
    fn a_well_configured_production_instance_gets_no_warning() {
        assert_eq!(warned(WELL_CONFIGURED), Vec::<&str>::new());
    }

    #[test]
    fn outside_production_nothing_is_warned() {
        assert_eq!(warned(&[]), Vec::<&str>::new());
        assert_eq!(
            warned(&configured_with(&[("SMART_NPC_PRODUCTION", "false")])),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn the_bare_production_instance_hears_about_each_missing_setting() {
        let all = warned(&[("SMART_NPC_PRODUCTION", "true"), ("TOKEN_SECRET", SECRET)]);
        assert_eq!(
            all,
            [
                "PUBLIC_BASE_URL",
                "METRICS_BIND_ADDR",
                "DATABASE_URL",
                "REDIS_URL",
                "TRUST_PROXY_HEADERS"
            ]
        );
        let s =
            settings(&[("SMART_NPC_PRODUCTION", "true"), ("TOKEN_SECRET", SECRET)]).expect("valid");
        let link = &s.production_warnings()[0].message;
        assert!(link.contains("http://127.0.0.1:8000"), "{link}");
    }

    #[test]
    fn each_risky_setting_is_warned_about_once_by_name() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("PUBLIC_BASE_URL", "")], "PUBLIC_BASE_URL"),
            (
                &[("PUBLIC_BASE_URL", "http://127.0.0.1:8000")],
                "PUBLIC_BASE_URL",
            ),
            (
                &[("PUBLIC_BASE_URL", "https://localhost")],
                "PUBLIC_BASE_URL",
            ),
            (
                &[("PUBLIC_BASE_URL", "http://[::1]:8000")],
                "PUBLIC_BASE_URL",
            ),
            (
                &[("PUBLIC_BASE_URL", "http://npc.example.org")],
                "PUBLIC_BASE_URL",
            ),
            (&[("METRICS_BIND_ADDR", "")], "METRICS_BIND_ADDR"),
            (
                &[("DATABASE_URL", "sqlite://npc.db?mode=rwc")],
                "DATABASE_URL",
            ),
            (&[("REDIS_URL", "")], "REDIS_URL"),
            (&[("TRUST_PROXY_HEADERS", "false")], "TRUST_PROXY_HEADERS"),
            (&[("AUTO_SEED_DEMO", "true")], "AUTO_SEED_DEMO"),
            (
                &[(
                    "CORS_ALLOWED_ORIGINS",
                    "https://a.example.org,http://b.example.org",
                )],
                "CORS_ALLOWED_ORIGINS",
            ),
            (
                &[("WECHAT_DEFAULT_STATION", "binhe")],
                "WECHAT_DEFAULT_STATION",
            ),
            (
                &[("WECHAT_TIMESTAMP_WINDOW_SECS", "60")],
                "WECHAT_TIMESTAMP_WINDOW_SECS",
            ),
        ];
        for (pairs, setting) in cases {
            assert_eq!(warned(&configured_with(pairs)), [*setting], "{pairs:?}");
        }
    }

    #[test]
    fn a_complete_wechat_setup_is_not_warned_about() {
        let s = configured_with(&[
            ("WECHAT_TOKEN", "heshunToken"),
            ("WECHAT_APP_ID", "wx5823bf96d3bd56c7"),
            (
                "WECHAT_ENCODING_AES_KEY",
                "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            ),
            ("WECHAT_DEFAULT_STATION", "binhe"),
        ]);
        assert_eq!(warned(&s), Vec::<&str>::new());
    }

    #[test]
    fn template_messages_need_the_endpoint_a_secret_and_a_template() {
        let endpoint = [
            ("WECHAT_TOKEN", "heshunToken"),
            ("WECHAT_APP_ID", "wx5823bf96d3bd56c7"),
            (
                "WECHAT_ENCODING_AES_KEY",
                "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            ),
        ];
        assert_eq!(settings(&endpoint).expect("valid").wechat_notices, None);
        let mut on = endpoint.to_vec();
        on.extend([
            ("WECHAT_APP_SECRET", "secret-of-the-account"),
            ("WECHAT_TEMPLATE_ID", "tpl-1"),
        ]);
        let s = settings(&on).expect("valid");
        let notices = s.wechat_notices.as_ref().expect("on");
        assert_eq!(notices.api_base, DEFAULT_WECHAT_API_BASE);
        assert_eq!(notices.app_id, "wx5823bf96d3bd56c7");
        assert!(!format!("{s:?}").contains("secret-of-the-account"));
        let mut lonely = endpoint.to_vec();
        lonely.push(("WECHAT_APP_SECRET", "secret"));
        let error = settings(&lonely).expect_err("needs the template");
        assert_eq!(error.variable, "WECHAT_APP_SECRET");
        let mut slash = on.clone();
        slash.push(("WECHAT_API_BASE", "http://127.0.0.1:9/"));
        assert_eq!(
            settings(&slash).expect_err("no trailing slash").variable,
            "WECHAT_API_BASE"
        );
        let off = settings(&[("WECHAT_APP_SECRET", "s"), ("WECHAT_TEMPLATE_ID", "t")]);
        assert_eq!(off.expect("valid").wechat_notices, None, "no endpoint");
    }

    #[test]
    fn migrate_on_start_is_on_unless_turned_off() {
        assert!(settings(&[]).expect("valid").migrate_on_start);
        let off = settings(&[("MIGRATE_ON_START", "false")]).expect("valid");
        assert!(!off.migrate_on_start);
        let error = settings(&[("MIGRATE_ON_START", "later")]).expect_err("invalid");
        assert_eq!(error.variable, "MIGRATE_ON_START");
    }

    #[test]
    fn debug_output_hides_passwords() {
        let s = settings(&[("DATABASE_URL", "postgres://app:s3cret@db/npc")]).expect("valid");
        let shown = format!("{s:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
