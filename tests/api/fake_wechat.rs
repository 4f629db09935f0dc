//! A local stand-in for the WeChat API (`WECHAT_API_BASE`), as far as template
//! messages go, following the published protocol: `GET /cgi-bin/token` issues access
//! tokens for the right app id and secret; `POST /cgi-bin/message/template/send`
//! takes a template message with a valid token. It records every request and can be
//! told to fail: down (HTTP 503), busy (errcode -1), the follower unsubscribed
//! (43004), or every token issued so far expired (42001); or to hold token answers
//! until the test lets them go (a fetch in flight).
//!
//! `GET /cgi-bin/media/get?access_token=..&media_id=..` (获取临时素材) serves the files
//! put with [`FakeWechat::put_media`], as WeChat does: the bytes with their content
//! type, or `{"errcode":40007}` as JSON for a media id it does not know (and the token
//! errors above).
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem::web::{Data, Json, Query};
use poem::{get, handler, post, EndpointExt, IntoResponse, Response, Route};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::oneshot;

pub const APP_SECRET: &str = "heshunAppSecret0123456789abcdef";
pub const TEMPLATE_ID: &str = "tplProgress-0001";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Ok,
    /// HTTP 503 to every send.
    Down,
    /// errcode 43004: the follower no longer follows the account.
    Unsubscribed,
}

#[derive(Default)]
struct State {
    mode: Option<Mode>,
    issued: Vec<String>,
    expired: HashSet<String>,
    /// Token requests that arrived (answered or waiting).
    token_requests: usize,
    /// Token answers wait for a permit here when set.
    token_gate: Option<Arc<tokio::sync::Semaphore>>,
    /// Every send request: (token, body).
    attempts: Vec<(String, Value)>,
    /// The messages accepted, in order.
    delivered: Vec<Value>,
    /// Media by id: (content type, bytes).
    media: HashMap<String, (String, Vec<u8>)>,
    /// Every media request: (token, media id).
    media_requests: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct FakeWechat {
    pub base: String,
    state: Arc<Mutex<State>>,
    _shutdown: Arc<oneshot::Sender<()>>,
}

#[derive(Deserialize)]
struct TokenParams {
    grant_type: String,
    appid: String,
    secret: String,
}

#[derive(Deserialize)]
struct SendParams {
    access_token: String,
}

#[handler]
async fn token(Query(p): Query<TokenParams>, state: Data<&Arc<Mutex<State>>>) -> Json<Value> {
    if p.grant_type != "client_credential"
        || p.appid != crate::wechat::APP_ID
        || p.secret != APP_SECRET
    {
        return Json(json!({ "errcode": 40125, "errmsg": "invalid appsecret" }));
    }
    let gate = {
        let mut state = state.lock().unwrap();
        state.token_requests += 1;
        state.token_gate.clone()
    };
    if let Some(gate) = gate {
        // Closed by `open_token_gate`: every answer goes.
        let _ = gate.acquire().await;
    }
    let mut state = state.lock().unwrap();
    let token = format!("ACCESS_TOKEN_{}", state.issued.len() + 1);
    state.issued.push(token.clone());
    Json(json!({ "access_token": token, "expires_in": 7200 }))
}

#[handler]
fn send(
    Query(p): Query<SendParams>,
    Json(body): Json<Value>,
    state: Data<&Arc<Mutex<State>>>,
) -> Response {
    let mut state = state.lock().unwrap();
    state.attempts.push((p.access_token.clone(), body.clone()));
    let answer = match state.mode.unwrap_or(Mode::Ok) {
        Mode::Down => {
            return Response::builder()
                .status(poem::http::StatusCode::SERVICE_UNAVAILABLE)
                .body("down")
        }
        _ if state.expired.contains(&p.access_token) => {
            json!({ "errcode": 42001, "errmsg": "access_token expired" })
        }
        _ if !state.issued.contains(&p.access_token) => {
            json!({ "errcode": 40001, "errmsg": "invalid credential" })
        }
        Mode::Unsubscribed => json!({ "errcode": 43004, "errmsg": "require subscribe" }),
        Mode::Ok => {
            state.delivered.push(body);
            json!({ "errcode": 0, "errmsg": "ok", "msgid": state.delivered.len() })
        }
    };
    Json(answer).into_response()
}

#[derive(Deserialize)]
struct MediaParams {
    access_token: String,
    media_id: String,
}

#[handler]
fn media(Query(p): Query<MediaParams>, state: Data<&Arc<Mutex<State>>>) -> Response {
    let mut state = state.lock().unwrap();
    state
        .media_requests
        .push((p.access_token.clone(), p.media_id.clone()));
    let error = if state.mode == Some(Mode::Down) {
        return Response::builder()
            .status(poem::http::StatusCode::SERVICE_UNAVAILABLE)
            .body("down");
    } else if state.expired.contains(&p.access_token) {
        json!({ "errcode": 42001, "errmsg": "access_token expired" })
    } else if !state.issued.contains(&p.access_token) {
        json!({ "errcode": 40001, "errmsg": "invalid credential" })
    } else if let Some((content_type, bytes)) = state.media.get(&p.media_id) {
        return Response::builder()
            .content_type(content_type.as_str())
            .header(
                "Content-disposition",
                format!("attachment; filename=\"{}.jpg\"", p.media_id),
            )
            .body(bytes.clone());
    } else {
        json!({ "errcode": 40007, "errmsg": "invalid media_id" })
    };
    // WeChat answers its errors as `text/plain` JSON.
    Response::builder()
        .content_type("text/plain")
        .body(error.to_string())
}

impl FakeWechat {
    pub async fn start() -> FakeWechat {
        let state = Arc::new(Mutex::new(State::default()));
        let app = Route::new()
            .at("/cgi-bin/token", get(token))
            .at("/cgi-bin/message/template/send", post(send))
            .at("/cgi-bin/media/get", get(media))
            .data(state.clone());
        let (base, shutdown) = serve_locally(app).await;
        FakeWechat {
            base,
            state,
            _shutdown: shutdown,
        }
    }

    /// Serves `bytes` as `content_type` for `media_id`.
    pub fn put_media(&self, media_id: &str, content_type: &str, bytes: Vec<u8>) {
        self.state
            .lock()
            .unwrap()
            .media
            .insert(media_id.to_owned(), (content_type.to_owned(), bytes));
    }

    /// Every media request so far: (token, media id).
    pub fn media_requests(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().media_requests.clone()
    }

    pub fn set(&self, mode: Mode) {
        self.state.lock().unwrap().mode = Some(mode);
    }

    /// Every token issued so far expires now.
    pub fn expire_tokens(&self) {
        let mut state = self.state.lock().unwrap();
        let issued = state.issued.clone();
        state.expired.extend(issued);
    }

    /// Each token answer waits until [`FakeWechat::open_token_gate`].
    pub fn close_token_gate(&self) {
        self.state.lock().unwrap().token_gate = Some(Arc::new(tokio::sync::Semaphore::new(0)));
    }

    /// Lets every held and later token answer go.
    pub fn open_token_gate(&self) {
        if let Some(gate) = self.state.lock().unwrap().token_gate.take() {
            gate.close();
        }
    }

    /// Waits (bounded) until `n` token requests arrived.
    pub async fn wait_token_requests(&self, n: usize) {
        self.wait(|s| s.token_requests >= n).await;
    }

    pub fn tokens_issued(&self) -> usize {
        self.state.lock().unwrap().issued.len()
    }

    pub fn attempts(&self) -> Vec<(String, Value)> {
        self.state.lock().unwrap().attempts.clone()
    }

    pub fn delivered(&self) -> Vec<Value> {
        self.state.lock().unwrap().delivered.clone()
    }

    /// Waits (bounded) until `n` messages were delivered; returns them.
    pub async fn wait_delivered(&self, n: usize) -> Vec<Value> {
        self.wait(|s| s.delivered.len() >= n).await;
        self.delivered()
    }

    /// Waits (bounded) until `n` send requests arrived.
    pub async fn wait_attempts(&self, n: usize) {
        self.wait(|s| s.attempts.len() >= n).await;
    }

    async fn wait(&self, done: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            {
                let state = self.state.lock().unwrap();
                if done(&state) {
                    return;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the fake WeChat API waited in vain; it saw {:?}",
                    state.attempts
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Serves `app` on a free port of 127.0.0.1 until the returned sender is dropped;
/// its base URL (`http://127.0.0.1:port`). The fake providers' server.
pub(crate) async fn serve_locally(
    app: impl poem::Endpoint + 'static,
) -> (String, Arc<oneshot::Sender<()>>) {
    use poem::listener::{Acceptor, Listener};
    let acceptor = poem::listener::TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(
        poem::Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
            app,
            async move {
                let _ = rx.await;
            },
            None,
        ),
    );
    (format!("http://{addr}"), Arc::new(tx))
}
