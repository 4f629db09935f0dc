//! The binary: settings errors, subcommands, graceful shutdown.
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_smart-npc");

fn command(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("BIND_ADDR")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

fn assert_one_clear_line(stderr: &[u8], mentions: &str) {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {text}");
    assert!(lines[0].contains(mentions), "{text}");
    assert!(!text.contains("panicked"), "{text}");
}

#[tokio::test]
async fn invalid_settings_exit_non_zero_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("BIND_ADDR", "not-an-address"),
        ("DATABASE_URL", "mysql://db/x"),
        ("MAX_PAGE_SIZE", "0"),
        ("SMART_NPC_PRODUCTION", "perhaps"),
    ] {
        let output = command(dir.path())
            .env(var, value)
            .arg("serve")
            .output()
            .await
            .unwrap();
        assert!(!output.status.success(), "{var}");
        assert_one_clear_line(&output.stderr, var);
    }
}

#[tokio::test]
async fn an_unreachable_database_exits_non_zero_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path())
        .env("DATABASE_URL", "postgres://nobody:secret@127.0.0.1:1/none")
        .arg("migrate")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert_one_clear_line(&output.stderr, "cannot open database");
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("secret"),
        "passwords are never printed"
    );

    let missing_dir = dir.path().join("no/such/dir/x.db");
    let output = command(dir.path())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", missing_dir.display()),
        )
        .arg("migrate")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert_one_clear_line(&output.stderr, "cannot open database");
}

#[tokio::test]
async fn schema_command_prints_the_checked_in_sdl() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path()).arg("schema").output().await.unwrap();
    assert!(output.status.success());
    let on_disk = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql"),
    )
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), on_disk);
}

#[tokio::test]
async fn migrate_and_seed_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let migrate = command(dir.path())
        .env("DATABASE_URL", &url)
        .arg("migrate")
        .output()
        .await
        .unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let seed = command(dir.path())
        .env("DATABASE_URL", &url)
        .args(["seed", "--demo"])
        .output()
        .await
        .unwrap();
    assert!(
        seed.status.success(),
        "{}",
        String::from_utf8_lossy(&seed.stderr)
    );
    assert!(String::from_utf8_lossy(&seed.stderr).contains("seeded demo data"));
    let again = command(dir.path())
        .env("DATABASE_URL", &url)
        .args(["seed", "--demo"])
        .output()
        .await
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing seeded"));
    let no_flag = command(dir.path())
        .env("DATABASE_URL", &url)
        .arg("seed")
        .output()
        .await
        .unwrap();
    assert!(!no_flag.status.success());
    let unknown = command(dir.path())
        .arg("frobnicate")
        .output()
        .await
        .unwrap();
    assert!(!unknown.status.success());
}

/// Starts `serve` in `dir` with `env`; returns the child and the address it listens on.
async fn start_serving(
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (tokio::process::Child, String) {
    let mut cmd = command(dir);
    cmd.env("BIND_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("GraphiQL at http://").nth(1) {
                return rest.split('/').next().unwrap().to_owned();
            }
        }
        panic!("server exited before listening");
    })
    .await
    .expect("server starts");
    // Keep reading, so that the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}

/// Sends SIGTERM and expects a clean exit (the timeout only guards against a hang).
async fn stop(mut child: tokio::process::Child) {
    let pid = child.id().unwrap().to_string();
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(kill.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "graceful shutdown exits 0: {status}");
}

/// The default command on a fresh directory: creates the SQLite file, migrates, seeds,
/// serves, and stops cleanly on SIGTERM.
#[tokio::test]
async fn serve_seeds_a_fresh_sqlite_file_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr) = start_serving(dir.path(), &[]).await;
    assert!(
        dir.path().join("smart-npc.db").exists(),
        "the default database file is created"
    );
    let client = reqwest::Client::new();
    let body: serde_json::Value = client
        .post(format!("http://{addr}/graphql"))
        .json(&serde_json::json!({ "query": "{ stations { totalCount } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["stations"]["totalCount"], 72);

    stop(child).await;
}

#[tokio::test]
async fn open_connections_cannot_block_shutdown() {
    use tokio::io::AsyncWriteExt;

    let dir = tempfile::tempdir().unwrap();
    let (child, addr) = start_serving(dir.path(), &[("SHUTDOWN_GRACE_SECS", "1")]).await;
    let mut socket = crate::ws_client::Ws::transport(addr.parse().unwrap()).await;
    socket.init(None).await;
    socket
        .subscribe(
            "1",
            "subscription { liveEvents { __typename } }",
            serde_json::json!({}),
        )
        .await;
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{")
        .await
        .unwrap();

    // Without the fix the process never exits: `stop` times out.
    stop(child).await;
    drop((socket, slow));
}

#[tokio::test]
async fn user_create_reads_the_password_from_env_or_stdin_never_argv() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("users.db").display()
    );
    let seeded = command(dir.path())
        .env("DATABASE_URL", &url)
        .args(["seed", "--demo"])
        .output()
        .await
        .unwrap();
    assert!(seeded.status.success());

    let from_env = command(dir.path())
        .env("DATABASE_URL", &url)
        .env("SMART_NPC_NEW_PASSWORD", "Trusted-Admin-2025")
        .args(["user", "create", "--role", "admin", "--login", "root"])
        .output()
        .await
        .unwrap();
    assert!(
        from_env.status.success(),
        "{}",
        String::from_utf8_lossy(&from_env.stderr)
    );

    let mut child = command(dir.path())
        .env("DATABASE_URL", &url)
        .env_remove("SMART_NPC_NEW_PASSWORD")
        .args([
            "user",
            "create",
            "--role",
            "station-staff",
            "--station",
            "binhe",
            "--login",
            "binhe2",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Binhe-Staff-2025\n")
        .await
        .unwrap();
    let output = child.wait_with_output().await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    for (args, password, mentions) in [
        (
            vec!["user", "create", "--role", "admin", "--login", "weakling"],
            "weak",
            "password",
        ),
        (
            vec![
                "user",
                "create",
                "--role",
                "station-staff",
                "--login",
                "nostation",
            ],
            "Strong-enough-9",
            "stationId",
        ),
        (
            vec![
                "user",
                "create",
                "--role",
                "station-staff",
                "--station",
                "nowhere",
                "--login",
                "x.y",
            ],
            "Strong-enough-9",
            "no station",
        ),
        (
            vec!["user", "create", "--role", "emperor", "--login", "x.z"],
            "Strong-enough-9",
            "unknown role",
        ),
        (
            vec!["user", "create", "--role", "admin", "--login", "root"],
            "Strong-enough-9",
            "CONFLICT",
        ),
    ] {
        let out = command(dir.path())
            .env("DATABASE_URL", &url)
            .env("SMART_NPC_NEW_PASSWORD", password)
            .args(&args)
            .output()
            .await
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(mentions),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let argv_password = command(dir.path())
        .args([
            "user",
            "create",
            "--role",
            "admin",
            "--login",
            "x",
            "--password",
            "p",
        ])
        .output()
        .await
        .unwrap();
    assert!(
        !argv_password.status.success(),
        "there is no --password flag"
    );

    // The created accounts sign in through the API.
    let app_dir = dir.path().to_owned();
    let mut server = command(&app_dir)
        .env("DATABASE_URL", &url)
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("GraphiQL at http://").nth(1) {
                return rest.split('/').next().unwrap().to_owned();
            }
        }
        panic!("server exited");
    })
    .await
    .unwrap();
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .json(&serde_json::json!({ "query": "mutation { signIn(login: \"binhe2\", password: \"Binhe-Staff-2025\") { account { roles { role station { name } } } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["data"]["signIn"]["account"]["roles"][0]["role"], "STATION_STAFF",
        "{body}"
    );
}
