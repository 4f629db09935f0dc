//! The migration CLI fails in one line, not with a panic.
use std::process::Command;

fn migration(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migration"));
    command.current_dir(dir).env_remove("DATABASE_URL");
    command
}

fn one_line_without_panic(output: &std::process::Output, mentions: &str) {
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].contains(mentions), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn status_without_database_url_says_so_in_one_line() {
    let dir = tempfile_dir();
    let output = migration(&dir).arg("status").output().unwrap();
    one_line_without_panic(&output, "DATABASE_URL");
}

#[test]
fn an_unreachable_database_says_so_in_one_line() {
    let dir = tempfile_dir();
    let output = migration(&dir)
        .env("DATABASE_URL", "sqlite://no/such/directory/x.db")
        .arg("status")
        .output()
        .unwrap();
    one_line_without_panic(&output, "cannot open the database");
}

#[test]
fn status_on_a_fresh_sqlite_file_works() {
    let dir = tempfile_dir();
    let output = migration(&dir)
        .env("DATABASE_URL", "sqlite://fresh.db?mode=rwc")
        .arg("status")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
}

/// A directory of this test's own (no `.env` in it).
fn tempfile_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "migration-cli-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
