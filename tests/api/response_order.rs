//! Responses follow the selection set's order (GraphQL spec, "Serialization Format"),
//! over HTTP and over WebSocket, not the alphabet.
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::TestApp;

/// Where each of `keys` first appears in `text`, which must be in that order.
fn assert_in_order(text: &str, keys: &[&str]) {
    let positions: Vec<usize> = keys
        .iter()
        .map(|key| {
            text.find(&format!("\"{key}\""))
                .unwrap_or_else(|| panic!("{key} missing from {text}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "{keys:?} out of order in {text}"
    );
}

#[tokio::test]
async fn http_answers_in_the_order_asked() {
    let app = TestApp::spawn().await;
    let text = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ z: __typename a: __typename m: __typename }" }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_in_order(&text, &["z", "a", "m"]);
    // GET takes the same path out.
    let text = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ b: __typename a: __typename }")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_in_order(&text, &["b", "a"]);
}

#[tokio::test]
async fn the_readme_example_answers_in_its_own_order() {
    let app = TestApp::spawn_demo().await;
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let start = readme
        .find("```graphql\n{\n  liaison:")
        .expect("README example")
        + 11;
    let query = &readme[start..start + readme[start..].find("```").unwrap()];
    let text = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_in_order(&text, &["liaison", "points", "posts", "base"]);
    // Inside objects too: the fields of each node as selected.
    assert_in_order(&text, &["name", "feature"]);
}

#[tokio::test]
async fn websocket_answers_in_the_order_asked() {
    let app = TestApp::spawn().await;
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": {} });
    let subscribe = json!({ "type": "subscribe", "id": "1", "payload": {
        "query": "{ z: __typename a: __typename m: __typename }" } });
    for message in [init, subscribe] {
        socket
            .send(Message::text(message.to_string()))
            .await
            .unwrap();
    }
    let mut next = None;
    while let Ok(Some(Ok(message))) =
        tokio::time::timeout(std::time::Duration::from_secs(10), socket.next()).await
    {
        if let Message::Text(text) = message {
            if text.contains("\"next\"") {
                next = Some(text.to_string());
                break;
            }
        }
    }
    let text = next.expect("a next message");
    assert_in_order(&text, &["z", "a", "m"]);
}

#[tokio::test]
async fn subscription_events_answer_in_the_order_asked() {
    let app = TestApp::spawn_demo().await;
    let mut ws = crate::ws_client::Ws::transport(app.addr).await;
    ws.init(None).await;
    // liveStatistics answers with the current figures at once: no event to provoke.
    ws.subscribe(
        "s",
        "subscription { liveStatistics { z: __typename satisfactionRate itemsCollected a: onTimeRate } }",
        json!({}),
    )
    .await;
    let data = ws.next_data("s").await;
    // serde_json keeps the order it read (preserve_order), so its text shows the wire's.
    let text = serde_json::to_string(&data).unwrap();
    assert_in_order(&text, &["z", "satisfactionRate", "itemsCollected", "a"]);
}
