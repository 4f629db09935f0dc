//! `/graphql/ws` accepts both subprotocols and acknowledges `connection_init`.
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::TestApp;

async fn handshake(app: &TestApp, protocol: &str) -> (String, serde_json::Value) {
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("upgrade");
    let chosen = response.headers()["sec-websocket-protocol"]
        .to_str()
        .unwrap()
        .to_owned();
    socket
        .send(Message::text(r#"{"type":"connection_init","payload":{}}"#))
        .await
        .unwrap();
    let reply = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
        .await
        .expect("reply in time");
    let text = reply.unwrap().unwrap().into_text().unwrap().to_string();
    (chosen, serde_json::from_str(&text).unwrap())
}

#[tokio::test]
async fn both_subprotocols_are_accepted() {
    let app = TestApp::spawn().await;
    let (chosen, ack) = handshake(&app, "graphql-transport-ws").await;
    assert_eq!(chosen, "graphql-transport-ws");
    assert_eq!(ack["type"], "connection_ack");
    let (chosen, ack) = handshake(&app, "graphql-ws").await;
    assert_eq!(chosen, "graphql-ws");
    assert_eq!(ack["type"], "connection_ack");
}

async fn init_with(app: &TestApp, payload: serde_json::Value) -> Option<serde_json::Value> {
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("upgrade");
    let init = serde_json::json!({ "type": "connection_init", "payload": payload });
    socket.send(Message::text(init.to_string())).await.unwrap();
    match tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
        .await
        .expect("reply in time")
    {
        Some(Ok(Message::Text(text))) => Some(serde_json::from_str(&text).unwrap()),
        _ => None,
    }
}

#[tokio::test]
async fn connection_init_checks_the_token() {
    let app = TestApp::spawn_demo().await;
    let token = app.token("supervisor").await;
    let ack = init_with(&app, serde_json::json!({ "token": token })).await;
    assert_eq!(ack.unwrap()["type"], "connection_ack");
    let ack = init_with(
        &app,
        serde_json::json!({ "Authorization": format!("Bearer {token}") }),
    )
    .await;
    assert_eq!(ack.unwrap()["type"], "connection_ack");
    let refused = init_with(&app, serde_json::json!({ "token": "forged" })).await;
    assert!(
        refused.is_none_or(|m| m["type"] != "connection_ack"),
        "a bad token is not acknowledged"
    );
}
