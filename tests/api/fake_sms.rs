//! A local stand-in for Tencent Cloud SMS (`SMS_API_BASE`), as far as `SendSms`
//! (API 2021-01-11) goes: `POST /` with the `X-TC-*` headers and a JSON body, answered
//! `{"Response": {"SendStatusSet": [{"Code": "Ok", ...}], "RequestId": ...}}`. It records
//! every request (headers and the body as sent) and can be told to be down (HTTP
//! 503), to answer an error code, or to hold each answer a while or until the test
//! lets it go (a send in flight).
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem::web::Data;
use poem::{handler, post, EndpointExt, Request, Response, Route};
use serde_json::{json, Value};
use tokio::sync::oneshot;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Ok,
    /// HTTP 503 to every request.
    Down,
    /// `Response.Error.Code` = this.
    Error(String),
}

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Lower-case names.
    pub headers: HashMap<String, String>,
    pub body: String,
    pub json: Value,
}

#[derive(Default)]
struct State {
    mode: Option<Mode>,
    hold: Duration,
    /// Answers wait for a permit here (closed: none wait) when set.
    gate: Option<Arc<tokio::sync::Semaphore>>,
    requests: Vec<Recorded>,
    /// Accepted texts: (phone, template id, params, session context).
    delivered: Vec<Value>,
}

#[derive(Clone)]
pub struct FakeSms {
    pub base: String,
    state: Arc<Mutex<State>>,
    _shutdown: Arc<oneshot::Sender<()>>,
}

#[handler]
async fn send_sms(request: &Request, body: String, state: Data<&Arc<Mutex<State>>>) -> Response {
    let headers = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let (hold, gate) = {
        let mut state = state.lock().unwrap();
        state.requests.push(Recorded {
            headers,
            body: body.clone(),
            json: parsed.clone(),
        });
        (state.hold, state.gate.clone())
    };
    if !hold.is_zero() {
        tokio::time::sleep(hold).await;
    }
    if let Some(gate) = gate {
        // Closed by `open_gate`: every answer goes.
        let _ = gate.acquire().await;
    }
    let mut state = state.lock().unwrap();
    let answer = match state.mode.clone().unwrap_or(Mode::Ok) {
        Mode::Down => {
            return Response::builder()
                .status(poem::http::StatusCode::SERVICE_UNAVAILABLE)
                .body("down")
        }
        Mode::Error(code) => json!({ "Response": {
            "Error": { "Code": code, "Message": "refused by the fake" },
            "RequestId": "fake" } }),
        Mode::Ok => {
            state.delivered.push(parsed.clone());
            json!({ "Response": { "SendStatusSet": [{
                "SerialNo": format!("serial-{}", state.delivered.len()),
                "PhoneNumber": parsed["PhoneNumberSet"][0],
                "Fee": 1,
                "SessionContext": parsed["SessionContext"],
                "Code": "Ok",
                "Message": "send success",
                "IsoCode": "CN" }],
                "RequestId": "fake" } })
        }
    };
    Response::builder()
        .content_type("application/json")
        .body(answer.to_string())
}

impl FakeSms {
    pub async fn start() -> FakeSms {
        let state = Arc::new(Mutex::new(State::default()));
        let app = Route::new().at("/", post(send_sms)).data(state.clone());
        let (base, shutdown) = crate::fake_wechat::serve_locally(app).await;
        FakeSms {
            base,
            state,
            _shutdown: shutdown,
        }
    }

    pub fn set(&self, mode: Mode) {
        self.state.lock().unwrap().mode = Some(mode);
    }

    /// Each answer waits this long (a send stays in flight meanwhile).
    pub fn hold(&self, by: Duration) {
        self.state.lock().unwrap().hold = by;
    }

    /// Each answer waits until [`FakeSms::open_gate`] (a send stays in flight until then).
    pub fn close_gate(&self) {
        self.state.lock().unwrap().gate = Some(Arc::new(tokio::sync::Semaphore::new(0)));
    }

    /// Lets every held and later answer go.
    pub fn open_gate(&self) {
        if let Some(gate) = self.state.lock().unwrap().gate.take() {
            gate.close();
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn delivered(&self) -> Vec<Value> {
        self.state.lock().unwrap().delivered.clone()
    }

    /// Waits (bounded) until `n` texts were accepted; returns them.
    pub async fn wait_delivered(&self, n: usize) -> Vec<Value> {
        self.wait(|s| s.delivered.len() >= n).await;
        self.delivered()
    }

    /// Waits (bounded) until `n` requests arrived.
    pub async fn wait_requests(&self, n: usize) {
        self.wait(|s| s.requests.len() >= n).await;
    }

    async fn wait(&self, done: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            {
                let state = self.state.lock().unwrap();
                if done(&state) {
                    return;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the fake SMS provider waited in vain; it saw {:?}",
                    state.requests.iter().map(|r| &r.body).collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
