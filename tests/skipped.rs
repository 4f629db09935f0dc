//! The closing list of a test run: what was skipped and why (see tests/api/skips.rs).
//! Cargo runs this binary after `api`, and there are no doc-tests after it, so the
//! list is the last thing `cargo test --workspace` prints.
use std::io::Write;

const LIST: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/skipped-tests.txt");

fn main() {
    let cargo = std::os::unix::process::parent_id().to_string();
    let recorded = std::fs::read_to_string(LIST).unwrap_or_default();
    let (ours, others): (Vec<&str>, Vec<&str>) = recorded
        .lines()
        .filter(|line| !line.is_empty())
        .partition(|line| line.split('\t').next() == Some(cargo.as_str()));
    let mut out = std::io::stdout().lock();
    if ours.is_empty() {
        let _ = writeln!(out, "\nskipped tests: none");
    } else {
        let _ = writeln!(
            out,
            "\nskipped tests ({}), each counted as passed:",
            ours.len()
        );
        for line in &ours {
            let _ = writeln!(
                out,
                "  - {}",
                line.split_once('\t').map_or(*line, |(_, l)| l)
            );
        }
        let _ = writeln!(out, "(CI=true turns each of them into a failure)");
    }
    // Keep what another cargo process still running recorded (a targeted run such as
    // `cargo test --test api` never reaches this binary: its lines go once it ended).
    let running = |line: &&&str| {
        let pid = line.split('\t').next().unwrap_or("");
        !pid.is_empty() && std::path::Path::new("/proc").join(pid).exists()
    };
    let rest: String = others
        .iter()
        .filter(running)
        .map(|line| format!("{line}\n"))
        .collect();
    let _ = if rest.is_empty() {
        std::fs::remove_file(LIST)
    } else {
        std::fs::write(LIST, rest)
    };
}
