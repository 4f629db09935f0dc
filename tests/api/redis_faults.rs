//! A Redis that hangs (accepts connections, answers nothing) or is gone: rate-limited
//! requests go on with per-process limits, and `/readyz` says which it is. The Redis
//! here is the test's own `redis-server` on a port it picks, frozen with SIGSTOP;
//! the shared one is never touched.
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{Fixture, TestApp, DEMO_PASSWORD};

/// A `redis-server` of the test's own. Resumed and killed when dropped.
pub(crate) struct OwnRedis {
    child: Child,
    port: u16,
    killed: bool,
}

impl OwnRedis {
    /// `None` (the test is skipped) where redis-server is not installed, except in CI.
    pub(crate) async fn start(test: &str) -> Option<OwnRedis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let spawned = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
                panic!("{test}: redis-server is needed in CI: {e}")
            }
            Err(e) => {
                crate::skips::skipped(test, &format!("cannot run redis-server ({e})"));
                return None;
            }
        };
        let redis = OwnRedis {
            child,
            port,
            killed: false,
        };
        // Waits for the server this test started to listen (a start-up wait, not a
        // retry around the system under test).
        let client = redis::Client::open(redis.url()).unwrap();
        for _ in 0..200 {
            if let Ok(mut connection) = client.get_multiplexed_async_connection().await {
                if redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
                    .is_ok()
                {
                    return Some(redis);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{test}: redis-server on port {port} did not start");
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal}");
    }

    /// Stops the process: connections are still accepted (by the kernel), nothing is
    /// answered.
    pub(crate) fn freeze(&self) {
        self.signal("-STOP");
    }

    pub(crate) fn kill(&mut self) {
        if !self.killed {
            self.killed = true;
            let _ = Command::new("kill")
                .args(["-CONT", &self.child.id().to_string()])
                .status();
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn readyz(app: &TestApp) -> (u16, Value) {
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

const SUBMIT: &str =
    "mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { trackingCode } }";

#[tokio::test]
async fn with_redis_frozen_sign_ins_and_anonymous_submissions_go_on_under_per_process_limits() {
    let test =
        "with_redis_frozen_sign_ins_and_anonymous_submissions_go_on_under_per_process_limits";
    let Some(mut redis) = OwnRedis::start(test).await else {
        return;
    };
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("REDIS_URL", &redis.url())
        .env("SIGNIN_ATTEMPTS_PER_ADDRESS", "3")
        .env("ANONYMOUS_SUBMISSIONS_PER_ADDRESS", "2")
        .spawn()
        .await;
    let station = app
        .gql("{ stations(first: 1) { edges { node { id } } } }")
        .send()
        .await
        .data()["stations"]["edges"][0]["node"]["id"]
        .clone();

    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["events"], "ok (redis)");
    assert_eq!(body["redisCircuit"]["state"], "closed", "{body}");
    assert_eq!(body["redisCircuit"]["fallbacks"], 0, "{body}");

    redis.freeze();

    // Sign-ins answer, and correctly; the limit per address still holds, now counted
    // in this process (3 allowed, the 4th refused).
    for login in ["admin", "staff", "citizen"] {
        let r = app.sign_in(login, DEMO_PASSWORD).await;
        assert_eq!(r.data()["signIn"]["account"]["login"], login);
    }
    let r = app.sign_in("admin", DEMO_PASSWORD).await;
    assert_eq!(r.error_code(), Some("RATE_LIMITED"), "{:?}", r.body);

    // Anonymous submissions likewise: 2 allowed, the 3rd refused.
    let mut codes = Vec::new();
    for i in 0..2 {
        let r = app
            .gql(SUBMIT)
            .vars(json!({ "i": { "title": format!("路灯不亮 {i}"), "content": "滨河路路灯不亮，请维修。", "submitterPhone": "13812345678", "stationId": station } }))
            .send()
            .await;
        codes.push(
            r.data()["submitPetition"]["trackingCode"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let r = app
        .gql(SUBMIT)
        .vars(json!({ "i": { "title": "路灯不亮 3", "content": "滨河路路灯不亮，请维修。", "submitterPhone": "13812345678", "stationId": station } }))
        .send()
        .await;
    assert_eq!(r.error_code(), Some("RATE_LIMITED"), "{:?}", r.body);
    // What was accepted was stored.
    for code in &codes {
        let tracked = app
            .gql("query($c: String!) { trackPetition(trackingCode: $c) { status { trackingCode } } }")
            .vars(json!({ "c": code }))
            .send()
            .await;
        assert_eq!(
            tracked.data()["trackPetition"]["status"]["trackingCode"],
            *code
        );
    }

    // Readiness tells a hung Redis from a lost one, and shows the fallbacks.
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["database"], "ok");
    assert!(
        body["events"]
            .as_str()
            .unwrap()
            .starts_with("redis timeout"),
        "{body}"
    );
    assert_ne!(body["redisCircuit"]["state"], "closed", "{body}");
    assert!(
        body["redisCircuit"]["fallbacks"].as_u64().unwrap() >= 7,
        "every limiter call went without Redis: {body}"
    );

    redis.kill();
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body["events"], "redis unreachable: connection refused",
        "{body}"
    );
}

/// The attempts a replica counted while Redis answered still count once it stops: the
/// per-process limit holds at once, rather than starting again from zero.
#[tokio::test]
async fn attempts_made_before_redis_froze_still_count_after() {
    let test = "attempts_made_before_redis_froze_still_count_after";
    let Some(redis) = OwnRedis::start(test).await else {
        return;
    };
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("REDIS_URL", &redis.url())
        .env("SIGNIN_ATTEMPTS_PER_ADDRESS", "3")
        .spawn()
        .await;
    for login in ["admin", "staff"] {
        let r = app.sign_in(login, "Wrong-password-1").await;
        assert_eq!(
            r.error_reason(),
            Some("INVALID_CREDENTIALS"),
            "{:?}",
            r.body
        );
    }
    let (_, body) = readyz(&app).await;
    assert_eq!(
        body["redisCircuit"]["fallbacks"], 0,
        "counted in Redis: {body}"
    );

    redis.freeze();

    let r = app.sign_in("handler", "Wrong-password-1").await;
    assert_eq!(
        r.error_reason(),
        Some("INVALID_CREDENTIALS"),
        "{:?}",
        r.body
    );
    // The 4th attempt from this address, whatever answered the first two.
    let r = app.sign_in("citizen", DEMO_PASSWORD).await;
    assert_eq!(r.error_code(), Some("RATE_LIMITED"), "{:?}", r.body);
}
