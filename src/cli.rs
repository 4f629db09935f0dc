//! Command line: `smart-npc [serve|migrate|seed --demo|schema|persisted-queries|user]`.
use clap::{Parser, Subcommand};

use std::io::BufRead;

use crate::app::App;
use crate::config::Settings;
use crate::domain::import::plan::Action;
use crate::domain::import::read;
use crate::service::accounts::bootstrap::NewUser;
use crate::telemetry::Tracer;
use crate::{db, graphql};

#[derive(Parser, Debug)]
#[command(
    name = "smart-npc",
    version,
    about = "智慧人大 Smart NPC GraphQL gateway (Heshun County)",
    after_help = "Settings come from environment variables: --help lists each with its default.",
    after_long_help = settings_help()
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug, PartialEq, Eq)]
pub enum Command {
    /// Migrate, seed an empty embedded database with demo data, and serve (default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write seed data into an empty database.
    Seed {
        /// The Heshun County demo data.
        #[arg(long)]
        demo: bool,
        /// N times the demo's history (items, suggestions, activities, stories), the
        /// copies spread over 2021-2026; 1 is the demo itself (at most 1000).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
        scale: u32,
    },
    /// Check or rebuild the statistics rollup and the item tally.
    Statistics {
        #[command(subcommand)]
        command: StatisticsCommand,
    },
    /// Print the GraphQL schema (SDL) to stdout.
    Schema,
    /// Print the persisted-query manifest (assets/operations/) as JSON, in Apollo's
    /// persisted query manifest format: for the builders of client apps.
    PersistedQueries,
    /// Import a county's organisation from CSV or XLSX files (a file, or a folder of
    /// them): townships, departments, categories, stations, grids, deputies, resident
    /// assignments, grid links, liaisons and staff accounts. Checked as a whole first:
    /// any problem is listed (sheet, row, column, reason) and nothing is written.
    Import {
        /// Print what would change and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// A .csv or .xlsx file, or a folder of them.
        path: std::path::PathBuf,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatisticsCommand {
    /// Compare the rollup's figures with a computation from scratch, for every year
    /// and scope, and the item tally with a count of the items; exits non-zero
    /// listing the differences.
    Verify,
    /// Recompute the rollup from the items and suggestions, and the item tally from
    /// the items, each in one transaction.
    Rebuild,
}

#[derive(Subcommand, Debug, PartialEq, Eq)]
pub enum UserCommand {
    /// Create an account. The password is read from SMART_NPC_NEW_PASSWORD or, if
    /// unset, from the first line of stdin (never from the command line).
    Create {
        /// citizen, deputy, station-staff, department-handler, supervisor or admin
        #[arg(long, value_parser = parse_role)]
        role: entity::Role,
        /// A username or a mobile number.
        #[arg(long)]
        login: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// Station code (station staff).
        #[arg(long)]
        station: Option<String>,
        /// Department code (department handlers).
        #[arg(long)]
        department: Option<String>,
        /// Township code (township-scoped supervisors).
        #[arg(long)]
        township: Option<String>,
        /// The deputy's public code (deputy accounts).
        #[arg(long)]
        deputy: Option<String>,
    },
}

/// The settings tables of README.md (its one description of them), rendered for
/// `--help`: every row whose first column names environment variables.
pub fn settings_help() -> String {
    const README: &str = include_str!("../README.md");
    let mut help = String::from("Settings (environment variables, all optional):\n");
    for line in README.lines() {
        let cells: Vec<&str> = line.trim().trim_matches('|').split(" | ").collect();
        let [names, default, meaning] = cells[..] else {
            continue;
        };
        let Some(names) = setting_names(names) else {
            continue;
        };
        let plain = |text: &str| text.trim().replace('`', "");
        help.push_str(&format!(
            "\n  {}\n      default: {}\n      {}\n",
            names.join(", "),
            plain(default),
            plain(meaning)
        ));
    }
    help
}

/// `DEADLINE_DAYS_NORMAL` / `_URGENT` -> [DEADLINE_DAYS_NORMAL, DEADLINE_DAYS_URGENT];
/// None unless the cell holds only variable names.
fn setting_names(cell: &str) -> Option<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for part in cell.split(" / ") {
        let name = part.trim().strip_prefix('`')?.strip_suffix('`')?;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            return None;
        }
        match (name.starts_with('_'), names.first()) {
            (true, Some(first)) => {
                let stem = first
                    .rsplit_once('_')
                    .map_or(first.as_str(), |(stem, _)| stem);
                names.push(format!("{stem}{name}"));
            }
            (true, None) => return None,
            (false, _) => names.push(name.to_owned()),
        }
    }
    Some(names)
}

fn parse_role(raw: &str) -> Result<entity::Role, String> {
    use entity::Role;
    match raw.trim().to_ascii_lowercase().replace('_', "-").as_str() {
        "citizen" => Ok(Role::Citizen),
        "deputy" => Ok(Role::Deputy),
        "station-staff" | "staff" => Ok(Role::StationStaff),
        "department-handler" | "handler" => Ok(Role::DepartmentHandler),
        "supervisor" => Ok(Role::Supervisor),
        "admin" => Ok(Role::Admin),
        other => Err(format!("unknown role {other:?}")),
    }
}

/// Runs a command; the error is one line for stderr.
pub async fn run(command: Command) -> Result<(), String> {
    if command == Command::Schema {
        print!("{}", graphql::sdl());
        return Ok(());
    }
    if command == Command::PersistedQueries {
        let manifest = serde_json::to_string_pretty(&graphql::persisted::manifest_json())
            .map_err(|e| format!("cannot print the manifest: {e}"))?;
        println!("{manifest}");
        return Ok(());
    }
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let database = db::connect(&settings).await?;
    match command {
        Command::Schema | Command::PersistedQueries => Ok(()),
        Command::Migrate => {
            db::migrate(&database)
                .await
                .map_err(|e| format!("migration failed: {e}"))?;
            say("migrations applied");
            Ok(())
        }
        Command::Seed { demo, scale } => {
            if !demo {
                return Err("nothing to seed: pass --demo for the Heshun demo data".into());
            }
            seed(&database, &settings, scale).await
        }
        Command::Statistics { command } => statistics(&database, command).await,
        Command::Import { dry_run, path } => {
            db::migrate(&database)
                .await
                .map_err(|e| format!("migration failed: {e}"))?;
            import(&database, &path, dry_run).await
        }
        Command::Serve => serve(settings, database).await,
        Command::User { command } => {
            db::migrate(&database)
                .await
                .map_err(|e| format!("migration failed: {e}"))?;
            let account =
                crate::service::accounts::bootstrap::create_user(&database, new_user(command)?)
                    .await?;
            say(&format!(
                "created account {} (id {})",
                account.login, account.id
            ));
            Ok(())
        }
    }
}

/// `seed --demo [--scale N]`: the demo, then its copies; how fast, in rows a second.
async fn seed(
    database: &sea_orm::DatabaseConnection,
    settings: &Settings,
    scale: u32,
) -> Result<(), String> {
    let started = std::time::Instant::now();
    let Some(report) = db::migrate_and_seed(database, Some(&settings.demo_password)).await? else {
        say("database already holds data; nothing seeded");
        return Ok(());
    };
    say(&format!("seeded demo data: {report:?}"));
    if scale > 1 {
        let copies = crate::seed::seed_copies(database, scale)
            .await
            .map_err(|e| format!("seeding failed: {e:?}"))?;
        say(&format!("seeded {scale}x: {copies:?}"));
    }
    let seconds = started.elapsed().as_secs_f64();
    let rows = crate::seed::rows_written(database)
        .await
        .map_err(|e| format!("cannot count the rows: {e:?}"))?;
    say(&format!(
        "{rows} rows in {seconds:.1} s ({:.0} rows/s, migrations included)",
        rows as f64 / seconds.max(1e-9)
    ));
    Ok(())
}

/// The files `import` reads: the file itself, or a folder's .csv and .xlsx files.
fn import_files(path: &std::path::Path) -> Result<Vec<read::File>, String> {
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let paths = if path.is_dir() {
        let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(path)
            .map_err(cannot)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.to_string_lossy().to_lowercase();
                name.ends_with(".csv") || name.ends_with(".xlsx")
            })
            .collect();
        paths.sort();
        paths
    } else {
        vec![path.to_owned()]
    };
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).map_err(cannot)?;
            let name = p
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            Ok(read::File { name, bytes })
        })
        .collect()
}

/// `import [--dry-run] <file or folder>`: each change on stdout, then the one-time
/// codes of new accounts; the problems on stdout and a non-zero exit if any.
async fn import(
    database: &sea_orm::DatabaseConnection,
    path: &std::path::Path,
    dry_run: bool,
) -> Result<(), String> {
    let files = import_files(path)?;
    let kit = crate::auth::AuthKit::offline();
    let cli = crate::auth::ClientInfo {
        ip: "cli".into(),
        user_agent: None,
    };
    let outcome = crate::service::import::import(database, &kit, &cli, None, &files, dry_run)
        .await
        .map_err(|e| format!("import failed: {e:?}"))?;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(problems) => {
            for problem in &problems {
                println!("错误 {problem}");
            }
            return Err(format!(
                "导入失败：{} 处错误，未写入任何数据 (import failed: nothing written)",
                problems.len()
            ));
        }
    };
    for change in &outcome.plan.changes {
        let kind = change.kind.names().1;
        match &change.action {
            Action::Create => println!("新增 {kind} {}", change.key),
            Action::Update(columns) => {
                println!("更新 {kind} {}: {}", change.key, columns.join("、"))
            }
        }
    }
    for code in &outcome.codes {
        println!(
            "设置密码码 {} {} (有效期至 {})",
            code.login,
            code.code,
            code.expires_at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    let (changed, unchanged) = (outcome.plan.changes.len(), outcome.plan.unchanged);
    say(&match (dry_run, outcome.written) {
        (true, _) => {
            format!("dry run: {changed} rows would change, {unchanged} unchanged; nothing written")
        }
        (false, true) => format!("imported: {changed} rows changed, {unchanged} unchanged"),
        (false, false) => format!("nothing to import: {unchanged} rows unchanged"),
    });
    Ok(())
}

/// `statistics verify|rebuild`.
async fn statistics(
    database: &sea_orm::DatabaseConnection,
    command: StatisticsCommand,
) -> Result<(), String> {
    db::migrate(database)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    let failed = |e: crate::error::AppError| format!("statistics {command:?} failed: {e:?}");
    match command {
        StatisticsCommand::Rebuild => {
            let rows = crate::service::statistics::rollup::rebuild(database)
                .await
                .map_err(failed)?;
            say(&format!("statistics rollup rebuilt: {rows} rows"));
            let rows = crate::service::petitions::tally::rebuild(database)
                .await
                .map_err(failed)?;
            say(&format!("item tally rebuilt: {rows} rows"));
            Ok(())
        }
        StatisticsCommand::Verify => {
            let (compared, differences) = crate::service::statistics::verify::verify(database)
                .await
                .map_err(failed)?;
            for d in &differences {
                println!(
                    "DIFFERENT {} to {} {:?}\n  from scratch: {:?}\n  rollup:       {:?}",
                    d.from, d.to, d.scope, d.expected, d.found
                );
            }
            let tally = crate::service::petitions::tally::verify(database)
                .await
                .map_err(failed)?;
            for (key, kept, counted) in &tally {
                println!("DIFFERENT item tally {key:?}: kept {kept}, counted {counted}");
            }
            if !tally.is_empty() {
                return Err(format!(
                    "the item tally differs from the items in {} rows (run `smart-npc statistics rebuild`)",
                    tally.len()
                ));
            }
            if differences.is_empty() {
                say(&format!(
                    "statistics rollup verified: {compared} periods and scopes agree"
                ));
                Ok(())
            } else {
                Err(format!(
                    "statistics rollup differs from the items in {} of {compared} periods and scopes (run `smart-npc statistics rebuild`)",
                    differences.len()
                ))
            }
        }
    }
}

/// The account `user create` asks for, with the password from
/// `SMART_NPC_NEW_PASSWORD` or the first line of stdin.
fn new_user(command: UserCommand) -> Result<NewUser, String> {
    let UserCommand::Create {
        role,
        login,
        display_name,
        phone,
        station,
        department,
        township,
        deputy,
    } = command;
    Ok(NewUser {
        role,
        login,
        display_name,
        phone,
        station,
        department,
        township,
        deputy,
        password: read_password()?,
    })
}

fn read_password() -> Result<String, String> {
    if let Ok(password) = std::env::var("SMART_NPC_NEW_PASSWORD") {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err("no password: set SMART_NPC_NEW_PASSWORD or pipe it on stdin".into());
    }
    Ok(password)
}

async fn serve(
    mut settings: Settings,
    database: sea_orm::DatabaseConnection,
) -> Result<(), String> {
    for warning in settings.production_warnings() {
        tracing::warn!(setting = warning.setting, "production: {}", warning.message);
    }
    let demo_password = settings
        .auto_seed_demo
        .then_some(settings.demo_password.as_str());
    if !settings.migrate_on_start {
        // A deploy that runs `smart-npc migrate` once: refuse a database that is behind
        // rather than serve on a schema this binary does not know.
        db::ensure_migrated(&database).await?;
    }
    // With MIGRATE_ON_START off nothing is pending by now: this only seeds (when asked).
    if settings.migrate_on_start || demo_password.is_some() {
        if let Some(report) = db::migrate_and_seed(&database, demo_password).await? {
            tracing::info!(?report, "empty database seeded with the Heshun demo data");
        }
    }
    keep_token_secret(&mut settings, &database)?;
    let app = App::new(database, settings)?;
    let (acceptor, addr) = app
        .bind()
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", app.state.settings.bind_addr))?;
    tracing::info!(%addr, events = app.state.bus.describe(), production = app.state.settings.production, "smart-npc listening");
    if let Some(metrics_addr) = app.state.settings.metrics_bind_addr {
        crate::http::serve_metrics(metrics_addr, app.state.app.clone()).await?;
    }
    if !app.state.settings.production {
        say(&format!(
            "smart-npc: GraphiQL at http://{addr}/  (GraphQL: http://{addr}/graphql)"
        ));
    }
    app.serve(acceptor, shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))
}

/// The embedded default without `TOKEN_SECRET`: a secret generated once and kept
/// beside the SQLite file ([`crate::auth::kept_secret`]), so that tokens outlive a
/// restart. Production requires `TOKEN_SECRET` (checked with the settings); on
/// PostgreSQL without it every process keeps a random secret of its own (replicas
/// must share `TOKEN_SECRET`).
fn keep_token_secret(
    settings: &mut Settings,
    database: &sea_orm::DatabaseConnection,
) -> Result<(), String> {
    if settings.token_secret.is_some() || settings.production {
        return Ok(());
    }
    if let Some(file) = db::sqlite_file(database) {
        let path = crate::auth::kept_secret::beside(&file);
        settings.token_secret = Some(crate::auth::kept_secret::load_or_create(&path)?);
        tracing::info!(path = %path.display(), "TOKEN_SECRET unset: access tokens are signed with the secret kept beside the database");
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// `LOG_FORMAT`: how log lines reach stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// For people: colours only when stderr is a terminal, so a file or a journal gets
    /// no escape codes.
    Text,
    /// One JSON object a line, for a log shipper: the event's fields at the top level,
    /// the request's (`request_id`, `operation`, `account_id`) under `span`.
    Json,
}

impl LogFormat {
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        match raw.map(|r| r.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!("LOG_FORMAT: {other:?} is not text or json")),
        }
    }
}

/// Set once `LOG_FORMAT=json` is in force: then even the lines for people go out as
/// JSON, so that every stderr line parses.
static JSON_LOGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A line for the person at the terminal (stderr, whatever `RUST_LOG` says); a log
/// event under `LOG_FORMAT=json`.
pub fn say(message: &str) {
    if JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed) {
        tracing::info!("{message}");
    } else {
        eprintln!("{message}");
    }
}

/// Like [`say`], for the error a command ends with.
pub fn say_error(message: &str) {
    if JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed) {
        tracing::error!("{message}");
    } else {
        eprintln!("{message}");
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (`info` by default), in `format`; with
/// `traces`, spans are exported over OTLP as well (see [`crate::telemetry`]), and the
/// returned exporter must be shut down on the way out to send its last spans.
pub fn init_logging(
    format: LogFormat,
    traces: Option<&crate::config::Traces>,
) -> Result<Option<Tracer>, String> {
    JSON_LOGS.store(
        format == LogFormat::Json,
        std::sync::atomic::Ordering::Relaxed,
    );
    use std::io::IsTerminal;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer, Registry};
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Text => Box::new(fmt.with_ansi(std::io::stderr().is_terminal())),
        LogFormat::Json => Box::new(
            fmt.json()
                .with_ansi(false)
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false),
        ),
    };
    // The spans opened for traces only stay out of the log: a line logged inside one
    // still shows the request's span (its id, operation and account).
    let logged =
        log_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")));
    let (tracer, exported) = match traces {
        Some(traces) => {
            let (tracer, layer) = Tracer::start(traces)?;
            (Some(tracer), Some(layer))
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(fmt.with_filter(logged))
        .with(exported)
        .try_init()
        .map_err(|e| format!("cannot start logging: {e}"))?;
    Ok(tracer)
}

/// The log's filter: `RUST_LOG`'s, leaving out the spans whose target starts with
/// `otel::` (opened for traces only). Static, so the subscriber knows the most verbose
/// level it keeps: `try_init` passes that on to the `log` crate's bridge, and a library's
/// `log::trace!` (tungstenite logs each WebSocket frame) then costs a comparison. A
/// filter function there gave no level, the bridge was set to TRACE, and every such line
/// became a record the subscriber refused: about 4 % of the CPU of live fan-out
/// (BENCHMARKS.md, issue 14).
pub fn log_filter(
    env: tracing_subscriber::EnvFilter,
) -> impl tracing_subscriber::layer::Filter<tracing_subscriber::Registry> {
    use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets};
    env.and(
        Targets::new()
            .with_default(LevelFilter::TRACE)
            .with_target(crate::telemetry::TRACE_ONLY, LevelFilter::OFF),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn the_log_filter_tells_how_verbose_it_gets() {
        use tracing_subscriber::filter::LevelFilter;
        use tracing_subscriber::layer::Filter;
        use tracing_subscriber::{EnvFilter, Registry};
        let hint = |directives: &str| {
            Filter::<Registry>::max_level_hint(&log_filter(EnvFilter::new(directives)))
        };
        assert_eq!(hint("info"), Some(LevelFilter::INFO));
        assert_eq!(hint("warn,sqlx=debug"), Some(LevelFilter::DEBUG));
        assert_eq!(hint("trace"), Some(LevelFilter::TRACE));
    }

    #[test]
    fn spans_for_traces_only_stay_out_of_the_log() {
        use tracing_subscriber::layer::Filter;
        use tracing_subscriber::{EnvFilter, Registry};
        let filter = log_filter(EnvFilter::new("trace"));
        let interest = |meta: &'static tracing::Metadata<'static>| {
            Filter::<Registry>::callsite_enabled(&filter, meta)
        };
        let traced = tracing::info_span!(target: "otel::graphql", "operation");
        let logged = tracing::info_span!(target: "smart_npc::http", "request");
        assert!(interest(traced.metadata().unwrap()).is_never());
        assert!(interest(logged.metadata().unwrap()).is_always());
    }

    /// Every variable the settings read, found by watching what they look up.
    fn variables_read() -> Vec<String> {
        let seen = RefCell::new(Vec::new());
        let lookup = |key: &str| {
            seen.borrow_mut().push(key.to_owned());
            match key {
                // Set, so that the settings that only matter with WeChat or traces
                // are read too.
                "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://127.0.0.1:4318".to_owned()),
                "WECHAT_TOKEN" => Some("heshunToken".to_owned()),
                "WECHAT_APP_ID" => Some("wx5823bf96d3bd56c7".to_owned()),
                "WECHAT_ENCODING_AES_KEY" => {
                    Some("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG".to_owned())
                }
                _ => None,
            }
        };
        Settings::from_lookup(lookup).expect("valid");
        crate::events::LiveSettings::from_lookup(lookup).expect("valid");
        let mut seen = seen.into_inner();
        // Read before the settings, to log their errors in the chosen format.
        seen.push("RUST_LOG".to_owned());
        seen.push("LOG_FORMAT".to_owned());
        seen.sort();
        seen.dedup();
        seen
    }

    #[test]
    fn help_names_every_setting_with_its_default() {
        let help = settings_help();
        let variables = variables_read();
        assert!(variables.len() > 40, "{variables:?}");
        for variable in variables {
            let entry = help
                .split("\n\n")
                .find(|entry| {
                    entry
                        .lines()
                        .next()
                        .is_some_and(|names| names.trim().split(", ").any(|n| n == variable))
                })
                .unwrap_or_else(|| panic!("{variable} is not in README's settings tables"));
            assert!(entry.contains("default: "), "{entry}");
        }
        assert!(
            help.contains("DEADLINE_DAYS_URGENT, DEADLINE_DAYS_CRITICAL"),
            "{help}"
        );
    }

    #[test]
    fn the_help_renders_through_clap() {
        use clap::CommandFactory;
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("CORS_ALLOWED_ORIGINS"), "{help}");
        assert!(
            help.contains("default: sqlite://smart-npc.db?mode=rwc"),
            "{help}"
        );
    }

    #[test]
    fn log_format_is_text_unless_json() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("text")), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some(" JSON ")), Ok(LogFormat::Json));
        let error = LogFormat::parse(Some("xml")).expect_err("xml");
        assert!(error.starts_with("LOG_FORMAT"), "{error}");
    }
}
