//! Skipped tests are visible: a test that cannot run here (a client from npm or PyPI
//! not installed, no PostgreSQL or Redis) says so on the terminal at once, past the
//! harness's output capture, and is listed again when the run ends (`tests/skipped.rs`,
//! the last test binary cargo runs). In CI (`CI=true`) such a test fails instead.
use std::io::Write;

/// Where skips are collected for the closing list: one line per skip,
/// `<cargo's pid>\t<test>: <why>`, so that the list shows this run's skips only.
pub const LIST: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/skipped-tests.txt");

/// Records that `test` was skipped and why (the command that would let it run).
pub fn skipped(test: &str, why: &str) {
    let line = format!("{test}: {why}");
    // Straight to the terminal: libtest captures `eprintln!` of passing tests.
    let _ = writeln!(std::io::stderr(), "skipped {line}");
    let cargo = std::os::unix::process::parent_id();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(LIST);
    if let Ok(mut file) = file {
        let _ = writeln!(file, "{cargo}\t{line}");
    }
}
