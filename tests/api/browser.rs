//! Headless Chromium (Debian's, driven by playwright-core from `tests/browser/`): what
//! the browser tests share.
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

const CHROMIUM: &str = "/usr/bin/chromium";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// A browser test runs when `npm ci --prefix tests/browser` was run and Debian's
/// Chromium is installed; CI must have both.
pub fn browser_ready(test: &str) -> bool {
    let missing = if !browser_dir().join("node_modules/playwright-core").exists() {
        Some("run `npm ci --prefix tests/browser`")
    } else if !Path::new(CHROMIUM).exists() {
        Some("install Debian's chromium (`apt-get install -y chromium`)")
    } else {
        None
    };
    match missing {
        None => true,
        Some(what) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI must prepare the browser test: {what}")
        }
        Some(what) => {
            crate::skips::skipped(test, what);
            false
        }
    }
}

/// Runs `node tests/browser/{script} args...` and returns its last stdout line as JSON.
pub async fn node_script(script: &str, args: &[&str]) -> Value {
    let run = tokio::process::Command::new("node")
        .arg(browser_dir().join(script))
        .args(args)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .unwrap_or_else(|_| panic!("{script} took over 3 minutes"))
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|_| panic!("{script} printed no JSON: {stdout}\n{stderr}"))
}
