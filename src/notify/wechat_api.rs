//! The official account's API, as far as template messages need it (published
//! protocol: 获取 Access token, `GET {base}/cgi-bin/token?grant_type=client_credential
//! &appid=..&secret=..` → `{"access_token","expires_in"}`; 发送模板消息, `POST
//! {base}/cgi-bin/message/template/send?access_token=..` → `{"errcode":0,...}`).
//!
//! The `access_token` is shared by every replica (WeChat allows a limited number of
//! fetches a day, and a fetch makes the previous token expire within minutes): with
//! Redis it lives under `{prefix}:wechat:access_token` with a TTL five minutes short
//! of its lifetime, so it is refreshed before it expires; without Redis each process
//! keeps its own. A send answered 40001/42001/40014 (token invalid or expired) drops
//! the cached token, fetches a new one and sends once more at once.
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::config::WechatNotices;
use crate::events::EventBus;

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth another try later (network, WeChat busy, a token problem that persisted).
    Transient(String),
    /// Never worth retrying (the follower unsubscribed, refused, or is unknown).
    Permanent(String),
}

/// The template message of one notice.
#[derive(Debug, Clone)]
pub struct Template {
    pub open_id: String,
    /// The item's tracking page.
    pub url: String,
    pub first: String,
    pub tracking_code: String,
    pub status: String,
    pub time: String,
    pub remark: String,
}

impl Template {
    /// The request body of 发送模板消息 for `template_id`.
    pub fn body(&self, template_id: &str) -> Value {
        let field = |v: &str| json!({ "value": v });
        json!({
            "touser": self.open_id,
            "template_id": template_id,
            "url": self.url,
            "data": {
                "first": field(&self.first),
                "keyword1": field(&self.tracking_code),
                "keyword2": field(&self.status),
                "keyword3": field(&self.time),
                "remark": field(&self.remark),
            }
        })
    }
}

/// Error codes that mean "this token is no longer good".
const TOKEN_ERRORS: [i64; 3] = [40001, 40014, 42001];
/// Error codes that no retry will change: 43004 the follower unsubscribed, 43101 the
/// user refused, 40003 not a follower of this account.
const PERMANENT_ERRORS: [i64; 3] = [43004, 43101, 40003];

#[derive(Clone)]
pub struct WechatApi {
    http: reqwest::Client,
    settings: WechatNotices,
    cache: TokenCache,
}

impl WechatApi {
    pub fn new(settings: WechatNotices, bus: &EventBus) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            // The API answers in place; a redirect would carry the message (and its
            // access token) to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the WeChat HTTP client: {e}"))?;
        let cache = match bus {
            EventBus::Redis(bus) => TokenCache::Redis {
                connection: bus.connection.clone(),
                key: format!("{}:wechat:access_token", bus.prefix),
            },
            EventBus::InProcess => TokenCache::Process(Arc::default()),
        };
        Ok(WechatApi {
            http,
            settings,
            cache,
        })
    }

    pub fn template_id(&self) -> &str {
        &self.settings.template_id
    }

    /// Sends one template message.
    pub async fn send(&self, template: &Template) -> Result<(), SendError> {
        let token = self.token().await?;
        match self.send_with(&token, template).await? {
            Sent::Ok => Ok(()),
            Sent::TokenRejected => {
                self.cache.forget(&token).await;
                let token = self.token().await?;
                match self.send_with(&token, template).await? {
                    Sent::Ok => Ok(()),
                    Sent::TokenRejected => Err(SendError::Transient(
                        "WeChat rejected a freshly fetched access_token".into(),
                    )),
                }
            }
        }
    }

    async fn send_with(&self, token: &str, template: &Template) -> Result<Sent, SendError> {
        let url = format!("{}/cgi-bin/message/template/send", self.settings.api_base);
        let response = self
            .http
            .post(url)
            .query(&[("access_token", token)])
            .json(&template.body(&self.settings.template_id))
            .send()
            .await
            .map_err(unreachable)?;
        let answer = read_json(response).await?;
        match answer.get("errcode").and_then(Value::as_i64).unwrap_or(0) {
            0 => Ok(Sent::Ok),
            code if TOKEN_ERRORS.contains(&code) => Ok(Sent::TokenRejected),
            code => Err(refusal(code, &answer)),
        }
    }

    /// The shared token, fetched when there is none.
    async fn token(&self) -> Result<String, SendError> {
        if let Some(token) = self.cache.get().await {
            return Ok(token);
        }
        let response = self
            .http
            .get(format!("{}/cgi-bin/token", self.settings.api_base))
            .query(&[
                ("grant_type", "client_credential"),
                ("appid", self.settings.app_id.as_str()),
                ("secret", self.settings.app_secret.as_str()),
            ])
            .send()
            .await
            .map_err(unreachable)?;
        let answer = read_json(response).await?;
        let Some(token) = answer.get("access_token").and_then(Value::as_str) else {
            let code = answer.get("errcode").and_then(Value::as_i64).unwrap_or(-1);
            let message = answer.get("errmsg").and_then(Value::as_str).unwrap_or("");
            return Err(SendError::Transient(format!(
                "cannot fetch the access_token: errcode {code} {message}"
            )));
        };
        let lifetime = answer
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(7200);
        // Refreshed five minutes before WeChat expires it (at least a minute kept).
        let keep = Duration::from_secs(lifetime.saturating_sub(300).max(60));
        self.cache.put(token, keep).await;
        Ok(token.to_owned())
    }
}

enum Sent {
    Ok,
    TokenRejected,
}

/// WeChat could not be reached. Described without the URL: it carries the app secret or
/// the access token, and the reason is kept in `lastError`, which admins read.
fn unreachable(error: reqwest::Error) -> SendError {
    SendError::Transient(format!("cannot reach WeChat: {}", error.without_url()))
}

async fn read_json(response: reqwest::Response) -> Result<Value, SendError> {
    let status = response.status();
    if !status.is_success() {
        return Err(SendError::Transient(format!(
            "WeChat answered HTTP {status}"
        )));
    }
    response
        .json::<Value>()
        .await
        .map_err(|e| SendError::Transient(format!("WeChat answered no JSON: {}", e.without_url())))
}

fn refusal(code: i64, answer: &Value) -> SendError {
    let message = answer.get("errmsg").and_then(Value::as_str).unwrap_or("");
    let reason = format!("errcode {code}: {message}");
    if PERMANENT_ERRORS.contains(&code) {
        SendError::Permanent(reason)
    } else {
        SendError::Transient(reason)
    }
}

/// Where the token is kept: Redis (shared by the replicas) or this process.
#[derive(Clone)]
enum TokenCache {
    Redis {
        connection: redis::aio::ConnectionManager,
        key: String,
    },
    Process(Arc<Mutex<Option<(String, Instant)>>>),
}

impl TokenCache {
    async fn get(&self) -> Option<String> {
        match self {
            TokenCache::Redis { connection, key } => {
                let mut connection = connection.clone();
                let mut command = redis::cmd("GET");
                command.arg(key);
                match command.query_async::<Option<String>>(&mut connection).await {
                    Ok(token) => token,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the WeChat access_token from Redis");
                        None
                    }
                }
            }
            TokenCache::Process(slot) => {
                let slot = slot.lock().await;
                slot.as_ref()
                    .filter(|(_, until)| Instant::now() < *until)
                    .map(|(token, _)| token.clone())
            }
        }
    }

    async fn put(&self, token: &str, keep: Duration) {
        match self {
            TokenCache::Redis { connection, key } => {
                let mut connection = connection.clone();
                let mut command = redis::cmd("SET");
                command
                    .arg(key)
                    .arg(token)
                    .arg("PX")
                    .arg(keep.as_millis() as u64);
                if let Err(e) = command.query_async::<()>(&mut connection).await {
                    tracing::warn!(error = %e, "cannot share the WeChat access_token in Redis");
                }
            }
            TokenCache::Process(slot) => {
                *slot.lock().await = Some((token.to_owned(), Instant::now() + keep));
            }
        }
    }

    /// Drops `token` if it is still the cached one (a replica may have replaced it).
    async fn forget(&self, token: &str) {
        match self {
            TokenCache::Redis { connection, key } => {
                let mut connection = connection.clone();
                // Compare and delete in one step (Redis has no such command).
                let mut command = redis::cmd("EVAL");
                command
                    .arg("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0")
                    .arg(1)
                    .arg(key)
                    .arg(token);
                if let Err(e) = command.query_async::<i64>(&mut connection).await {
                    tracing::warn!(error = %e, "cannot drop the WeChat access_token in Redis");
                }
            }
            TokenCache::Process(slot) => {
                let mut slot = slot.lock().await;
                if slot.as_ref().is_some_and(|(t, _)| t == token) {
                    *slot = None;
                }
            }
        }
    }
}
