//! Production mode on the real binary: the start-up warnings about missing or risky
//! settings (`Settings::production_warnings`, logged once each), and a replica that
//! does not migrate (`MIGRATE_ON_START=false`).
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_smart-npc");
const TOKEN_SECRET: &str = "production-test-secret-0123456789abcdef";

fn command(dir: &std::path::Path, settings: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env("DATABASE_URL", "sqlite://production.db?mode=rwc")
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env("SUPERVISION_INTERVAL_SECS", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for variable in [
        "REDIS_URL",
        "PUBLIC_BASE_URL",
        "METRICS_BIND_ADDR",
        "TRUST_PROXY_HEADERS",
        "CORS_ALLOWED_ORIGINS",
        "AUTO_SEED_DEMO",
        "MIGRATE_ON_START",
        "WECHAT_TOKEN",
        "WECHAT_APP_ID",
        "WECHAT_ENCODING_AES_KEY",
        "WECHAT_DEFAULT_STATION",
        "WECHAT_TIMESTAMP_WINDOW_SECS",
        "ACCESS_LOG",
    ] {
        command.env_remove(variable);
    }
    for (variable, value) in settings {
        command.env(variable, value);
    }
    command
}

/// Serves with `settings` until it says it listens; returns the setting each warning
/// line names, with the warnings' messages.
async fn warnings_at_start(settings: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    warnings_at_start_in(dir.path(), settings).await
}

async fn warnings_at_start_in(
    dir: &std::path::Path,
    settings: &[(&str, &str)],
) -> BTreeMap<String, Vec<String>> {
    let mut child = command(dir, settings).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut warnings: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let started = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let event: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            let message = event["message"].as_str().unwrap_or_default().to_owned();
            if message == "smart-npc listening" {
                return;
            }
            if event["level"] == "WARN" {
                let setting = event["setting"].as_str().unwrap_or("(none)").to_owned();
                warnings.entry(setting).or_default().push(message);
            }
        }
        panic!("the gateway exited before listening: {warnings:?}");
    })
    .await;
    started.expect("the gateway starts");
    let _ = child.kill().await;
    warnings
}

/// A bare production instance (SQLite, no Redis, no public address, metrics on the
/// public port, no proxy settings, a WeChat setting without the endpoint) hears of
/// each, once, with the setting named; a well-set one only of what it still lacks.
#[tokio::test]
async fn production_mode_warns_once_about_each_missing_or_risky_setting() {
    let bare = warnings_at_start(&[
        ("SMART_NPC_PRODUCTION", "true"),
        ("TOKEN_SECRET", TOKEN_SECRET),
        ("WECHAT_DEFAULT_STATION", "binhe"),
    ])
    .await;
    let named: Vec<&str> = bare.keys().map(String::as_str).collect();
    assert_eq!(
        named,
        [
            "DATABASE_URL",
            "METRICS_BIND_ADDR",
            "PUBLIC_BASE_URL",
            "REDIS_URL",
            "TRUST_PROXY_HEADERS",
            "WECHAT_DEFAULT_STATION"
        ],
        "{bare:#?}"
    );
    for (setting, messages) in &bare {
        assert_eq!(messages.len(), 1, "{setting}: {messages:?}");
        assert!(messages[0].starts_with("production: "), "{messages:?}");
        assert!(messages[0].contains(setting.as_str()), "{messages:?}");
    }
    assert!(
        bare["PUBLIC_BASE_URL"][0].contains("http://127.0.0.1:"),
        "says where links would point: {:?}",
        bare["PUBLIC_BASE_URL"]
    );

    let set = warnings_at_start(&[
        ("SMART_NPC_PRODUCTION", "true"),
        ("TOKEN_SECRET", TOKEN_SECRET),
        ("PUBLIC_BASE_URL", "https://npc.example.org"),
        ("METRICS_BIND_ADDR", "127.0.0.1:0"),
        ("TRUST_PROXY_HEADERS", "true"),
        ("AUTO_SEED_DEMO", "true"),
    ])
    .await;
    let named: Vec<&str> = set.keys().map(String::as_str).collect();
    assert_eq!(
        named,
        ["AUTO_SEED_DEMO", "DATABASE_URL", "REDIS_URL"],
        "{set:#?}"
    );
}

#[tokio::test]
async fn outside_production_nothing_is_warned_at_start() {
    let warnings = warnings_at_start(&[
        ("WECHAT_DEFAULT_STATION", "binhe"),
        ("AUTO_SEED_DEMO", "false"),
    ])
    .await;
    assert!(
        warnings.keys().all(|setting| setting == "(none)"),
        "{warnings:#?}"
    );
    assert!(
        warnings
            .values()
            .flatten()
            .all(|m| !m.starts_with("production:")),
        "{warnings:#?}"
    );
}

/// `MIGRATE_ON_START=false`: `serve` refuses an unmigrated database in one line that
/// says what to run; after `smart-npc migrate` it serves.
#[tokio::test]
async fn a_replica_that_does_not_migrate_refuses_a_database_that_is_behind() {
    let dir = tempfile::tempdir().unwrap();
    let settings = [
        ("MIGRATE_ON_START", "false"),
        ("AUTO_SEED_DEMO", "false"),
        ("LOG_FORMAT", "text"),
    ];
    let refused = command(dir.path(), &settings).output().await.unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("MIGRATE_ON_START") && lines[0].contains("smart-npc migrate"),
        "{stderr}"
    );

    let migrated = command(dir.path(), &settings)
        .arg("migrate")
        .output()
        .await
        .unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let warnings = warnings_at_start_in(
        dir.path(),
        &[("MIGRATE_ON_START", "false"), ("AUTO_SEED_DEMO", "false")],
    )
    .await;
    assert!(warnings.is_empty(), "{warnings:#?}");

    // A newer release migrated the database further (a rolling upgrade): this binary
    // still serves on it.
    let db = sea_orm::Database::connect(format!(
        "sqlite://{}?mode=rw",
        dir.path().join("production.db").display()
    ))
    .await
    .unwrap();
    use sea_orm::ConnectionTrait;
    db.execute_unprepared(
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m29990101_000001_from_a_newer_release', 0)",
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    let warnings = warnings_at_start_in(
        dir.path(),
        &[("MIGRATE_ON_START", "false"), ("AUTO_SEED_DEMO", "false")],
    )
    .await;
    assert!(warnings.is_empty(), "{warnings:#?}");
}
