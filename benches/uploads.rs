//! Upload throughput, and the gateway's memory, under concurrent 10 MB photo uploads
//! (issue 16).
//!
//! Starts the release binary (`smart-npc serve`, the embedded default on a SQLite file
//! and a file store of its own, demo data), signs in as the demo citizen and sends
//! `UPLOADS_BENCH_CONCURRENCY` (default 20) clients' uploads at once, each
//! `UPLOADS_BENCH_EACH` (default 5) times: `uploadAttachment(file, purpose: PETITION)` by
//! the GraphQL multipart request spec, with a JPEG of noise just under the 10 MiB limit
//! (noise does not compress: the photo is as heavy to decode as its size says). Every
//! upload must succeed. The gateway's resident memory is sampled every 20 ms from
//! `/proc/<pid>/status` (its own process only: the clients live here); the peak must stay
//! bounded (a few decodings at a time, files in temporary files), not grow with the
//! number of uploads in flight.
//!
//! Run: `cargo bench --bench uploads` (release; figures go to BENCHMARKS.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_smart-npc");
/// `UPLOAD_MAX_FILE_BYTES`' default (10 MiB); the photo stays just under it.
const LIMIT: usize = 10 * 1024 * 1024;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A JPEG of noise (xorshift; reproducible) between 90% and 100% of the limit.
fn photo() -> Vec<u8> {
    let (mut width, mut state) = (3600u32, 0x2545_f491_4f6c_dd1du64);
    loop {
        let height = width * 3 / 4;
        let image = image::RgbImage::from_fn(width, height, |_, _| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            image::Rgb([state as u8, (state >> 8) as u8, (state >> 16) as u8])
        });
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&image)
            .unwrap();
        if out.len() <= LIMIT {
            assert!(out.len() > LIMIT * 9 / 10, "{} bytes: too small", out.len());
            return out;
        }
        width = (f64::from(width) * (LIMIT as f64 / out.len() as f64).sqrt() * 0.98) as u32;
    }
}

/// The binary on a database and store in `dir`; where it listens.
async fn start(dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TMPDIR", dir)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/bench.db?mode=rwc", dir.display()),
        )
        .env("STORAGE_URL", dir.join("files").display().to_string())
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("SUPERVISION_INTERVAL_SECS", "0")
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the gateway exited before listening");
        if let Some(rest) = line.split("GraphiQL at http://").nth(1) {
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, format!("http://{addr}"))
}

/// Kibibytes of `field` (`VmRSS`, `VmHWM`) of process `pid`.
fn memory(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

async fn upload(client: &reqwest::Client, base: &str, token: &str, file: &'static [u8]) -> Value {
    let operations = json!({
        "query": "mutation($f: Upload!) { uploadAttachment(file: $f, purpose: PETITION) { id size width height } }",
        "variables": { "f": null },
    });
    let part = reqwest::multipart::Part::bytes(file)
        .file_name("photo.jpg")
        .mime_str("image/jpeg")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.f"] }).to_string())
        .part("0", part);
    client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let concurrency = env_number("UPLOADS_BENCH_CONCURRENCY", 20);
    let each = env_number("UPLOADS_BENCH_EACH", 5);
    // Leaked once: every request borrows it (no copy per upload on this side).
    let file: &'static [u8] = Box::leak(photo().into_boxed_slice());
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = start(dir.path()).await;
    let pid = child.id().unwrap();
    let client = reqwest::Client::new();
    let signed: Value = client
        .post(format!("{base}/graphql"))
        .json(&json!({
            "query": "mutation($p: String!) { signIn(login: \"citizen\", password: $p) { accessToken } }",
            "variables": { "p": smart_npc::config::DEFAULT_DEMO_PASSWORD },
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signed["data"]["signIn"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("sign-in: {signed}"))
        .to_owned();
    // One upload first: the store and the code paths warmed, the baseline taken after.
    let first = upload(&client, &base, &token, file).await;
    assert!(first["errors"].is_null(), "{first}");
    let baseline = memory(pid, "VmRSS");

    let peak = Arc::new(AtomicU64::new(baseline));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(memory(pid, "VmRSS"), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    println!(
        "uploads: {concurrency} clients × {each} uploads of a {:.2} MB JPEG (noise), release binary, SQLite + local store",
        file.len() as f64 / 1e6
    );
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, base, token) = (client.clone(), base.clone(), token.clone());
            tokio::spawn(async move {
                let mut took = Vec::new();
                for _ in 0..each {
                    let at = Instant::now();
                    let answer = upload(&client, &base, &token, file).await;
                    assert!(answer["errors"].is_null(), "{answer}");
                    assert!(answer["data"]["uploadAttachment"]["id"].is_string());
                    took.push(at.elapsed());
                }
                took
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    let elapsed = started.elapsed();
    sampler.abort();
    latencies.sort();
    let uploads = latencies.len();
    println!(
        "  {uploads} uploads in {elapsed:.2?}: {:.1} uploads/s, {:.1} MB/s in",
        uploads as f64 / elapsed.as_secs_f64(),
        (uploads * file.len()) as f64 / 1e6 / elapsed.as_secs_f64()
    );
    println!(
        "  latency p50={:.2?} p99={:.2?} max={:.2?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default()
    );
    println!(
        "  gateway memory: {:.0} MiB resident after one upload; peak {:.0} MiB during the run (VmHWM {:.0} MiB)",
        baseline as f64 / 1024.0,
        peak.load(Ordering::Relaxed) as f64 / 1024.0,
        memory(pid, "VmHWM") as f64 / 1024.0
    );
}
