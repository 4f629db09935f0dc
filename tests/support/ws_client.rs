//! The one WebSocket client of the tests (`tests/api`) and the benchmarks (`benches/`):
//! graphql-transport-ws (or the legacy subprotocol, or none) on `/graphql/ws`.
//! Included by each with `#[path = "…/tests/support/ws_client.rs"] mod ws_client;`,
//! so a bench may leave some of it unused.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The longest any single expected message may take (tests).
pub const WAIT: Duration = Duration::from_secs(20);

#[derive(Debug)]
pub enum Frame {
    Json(Value),
    Closed(u16, String),
}

pub struct Ws {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// How long `json`, `closed` and the handshake wait for a message.
    wait: Duration,
}

impl Ws {
    pub async fn open(addr: SocketAddr, protocol: Option<&str>) -> Ws {
        Self::try_open(addr, protocol).await.expect("upgrade")
    }

    pub async fn try_open(
        addr: SocketAddr,
        protocol: Option<&str>,
    ) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        Self::try_open_with(addr, protocol, None, false).await
    }

    /// Opens with the given socket buffers and Nagle's algorithm on or off (benchmarks
    /// hold thousands of sockets and measure latency).
    pub async fn try_open_with(
        addr: SocketAddr,
        protocol: Option<&str>,
        config: Option<WebSocketConfig>,
        no_delay: bool,
    ) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let mut request = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .unwrap();
        if let Some(protocol) = protocol {
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
        }
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(request, config, no_delay).await?;
        Ok(Ws { socket, wait: WAIT })
    }

    /// Opens with extra headers on the upgrade request (`X-Request-Id`, `traceparent`).
    pub async fn open_with_headers(
        addr: SocketAddr,
        protocol: &str,
        headers: &[(&'static str, &str)],
    ) -> Ws {
        let mut request = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
        for (name, value) in headers {
            request.headers_mut().insert(*name, value.parse().unwrap());
        }
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("upgrade");
        Ws { socket, wait: WAIT }
    }

    pub async fn transport(addr: SocketAddr) -> Ws {
        Self::open(addr, Some("graphql-transport-ws")).await
    }

    /// Waits up to `wait` for each expected message instead of [`WAIT`].
    pub fn waiting(mut self, wait: Duration) -> Ws {
        self.wait = wait;
        self
    }

    pub async fn send(&mut self, message: Value) {
        self.send_raw(&message.to_string()).await;
    }

    /// Sends, and says whether the socket took it (it may have been closed).
    pub async fn try_send(&mut self, message: Value) -> bool {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .is_ok()
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.socket.send(Message::text(text)).await.unwrap();
    }

    /// The next message or close, skipping control frames; `None` after `within`.
    pub async fn frame_within(&mut self, within: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let next = tokio::time::timeout_at(deadline, self.socket.next()).await;
            match next {
                Err(_) => return None,
                Ok(None) => return Some(Frame::Closed(1006, "stream ended".into())),
                Ok(Some(Err(e))) => return Some(Frame::Closed(1006, e.to_string())),
                Ok(Some(Ok(Message::Text(text)))) => {
                    return Some(Frame::Json(serde_json::from_str(&text).unwrap()))
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Some(match frame {
                        Some(f) => Frame::Closed(u16::from(f.code), f.reason.to_string()),
                        None => Frame::Closed(1005, String::new()),
                    })
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next text message, with no time limit; `None` once the socket closed or
    /// failed. Cancel-safe (for `select!`): a frame is consumed only when returned.
    pub async fn recv(&mut self) -> Option<Value> {
        let text = self.recv_text().await?;
        Some(serde_json::from_str(&text).unwrap())
    }

    /// The next text message as it came, unparsed (`None` once closed). Cancel-safe
    /// as `recv` is.
    pub async fn recv_text(&mut self) -> Option<tokio_tungstenite::tungstenite::Utf8Bytes> {
        loop {
            match self.socket.next().await {
                Some(Ok(Message::Text(text))) => return Some(text),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    pub async fn frame(&mut self) -> Frame {
        self.frame_within(self.wait)
            .await
            .expect("a message in time")
    }

    pub async fn json(&mut self) -> Value {
        match self.frame().await {
            Frame::Json(v) => v,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    pub async fn closed(&mut self) -> (u16, String) {
        match self.frame().await {
            Frame::Closed(code, reason) => (code, reason),
            Frame::Json(v) => panic!("expected a close, got {v}"),
        }
    }

    pub async fn init(&mut self, token: Option<&str>) {
        let payload = match token {
            Some(token) => json!({ "token": token }),
            None => json!({}),
        };
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        let ack = self.json().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// Returns once every operation sent before is registered: the server registers a
    /// subscription before it reads the next message, so the answer to a ping follows.
    pub async fn registered(&mut self) {
        self.send(json!({ "type": "ping" })).await;
        let pong = self.json().await;
        assert_eq!(pong["type"], "pong", "{pong}");
    }

    /// The `data` of the next `next` message of operation `id`.
    pub async fn next_data(&mut self, id: &str) -> Value {
        let message = self.json().await;
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(message["id"], id, "{message}");
        assert!(message["payload"].get("errors").is_none(), "{message}");
        message["payload"]["data"].clone()
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
