//! Requests before fan-out: deliveries run on a runtime of their own, and nothing a
//! query or mutation waits for lives there (see `src/events/runtime.rs`).
use serde_json::json;

use crate::helpers::{Fixture, TestApp};
use crate::live::{first_deputy, publish_story};
use crate::ws_client::Ws;

const STORIES: &str = "subscription { showcaseStories { seq storyId title } }";

/// Holds every worker thread of the fan-out runtime until dropped.
struct Stall {
    release: Vec<std::sync::mpsc::Sender<()>>,
}

impl Stall {
    async fn all_threads(app: &TestApp) -> Stall {
        let threads = app.state.live.fanout_threads();
        assert!(threads >= 1, "the fan-out runtime runs once the app serves");
        let fanout = app.state.live.fanout();
        let mut release = Vec::new();
        let mut holding = Vec::new();
        for _ in 0..threads {
            let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
            let (held_tx, held_rx) = tokio::sync::oneshot::channel::<()>();
            fanout.spawn(async move {
                let _ = held_tx.send(());
                // Deliberately blocking: this thread does nothing else until released.
                let _ = release_rx.recv();
            });
            release.push(release_tx);
            holding.push(held_rx);
        }
        // Each blocker runs on a thread of its own (a held thread takes nothing more).
        for held in holding {
            held.await.expect("the blocker started");
        }
        Stall { release }
    }
}

impl Drop for Stall {
    fn drop(&mut self) {
        for release in &self.release {
            let _ = release.send(());
        }
    }
}

#[tokio::test]
async fn queries_and_mutations_are_answered_while_fanout_is_stalled_and_deliveries_follow() {
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("LIVE_FANOUT_THREADS", "2")
        // A queue of two: the burst released at the end overflows it, and the
        // subscriber catches up from the outbox.
        .env("LIVE_SUBSCRIBER_BUFFER", "2")
        .spawn()
        .await;
    let admin = app.token("admin").await;
    // Serving, so the fan-out runtime runs.
    assert_eq!(app.state.live.fanout_threads(), 2);
    let deputy = first_deputy(&app, &admin).await;
    let mut ws = Ws::transport(app.addr).await;
    ws.init(None).await;
    ws.subscribe("s", STORIES, json!({})).await;
    ws.registered().await;

    let stall = Stall::all_threads(&app).await;
    let watermark = app.state.live.hub().watermark();
    // Mutations (three each: create, submit, publish) and a query, all answered with
    // every fan-out thread held.
    let mut published = Vec::new();
    for title in ["一", "二", "三", "四", "五"] {
        published.push(publish_story(&app.base, &admin, &deputy, title).await);
    }
    let count = app
        .gql("{ townships { totalCount } }")
        .bearer(Some(&admin))
        .send()
        .await;
    assert!(count.data()["townships"]["totalCount"].as_i64().unwrap() > 0);
    // The relay runs on the fan-out runtime: nothing was dispatched meanwhile.
    assert_eq!(
        app.state.live.hub().watermark(),
        watermark,
        "fan-out work ran while every fan-out thread was held"
    );

    drop(stall);
    // Late, but every event, once, in order.
    let mut received = Vec::new();
    let mut last_seq = 0;
    while received.len() < published.len() {
        let event = ws.next_data("s").await["showcaseStories"].clone();
        let seq = event["seq"].as_i64().unwrap();
        assert!(seq > last_seq, "in order, without duplicate: {event}");
        last_seq = seq;
        received.push(event["storyId"].clone());
    }
    assert_eq!(received, published);
}
