//! The official account's API, as far as template messages need it (published
//! protocol: 获取 Access token, `GET {base}/cgi-bin/token?grant_type=client_credential
//! &appid=..&secret=..` → `{"access_token","expires_in"}`; 发送模板消息, `POST
//! {base}/cgi-bin/message/template/send?access_token=..` → `{"errcode":0,...}`).
//!
//! The `access_token` is shared by every replica (WeChat allows a limited number of
//! fetches a day, and a fetch makes the previous token expire within minutes): with
//! Redis it lives under `{prefix}:wechat:access_token` with a TTL five minutes short
//! of its lifetime, so it is refreshed before it expires, and one replica at a time
//! fetches it (the lock `{prefix}:wechat:access_token:lock`; the others wait for its
//! token). Each process also keeps the last token it saw: when Redis fails, it goes on
//! with that one (and fetches only when it has none); without Redis each process keeps
//! its own. A send answered 40001/42001/40014 (token invalid or expired) drops
//! the cached token, fetches a new one and sends once more at once.
//!
//! 获取临时素材 (`GET {base}/cgi-bin/media/get?access_token=..&media_id=..`) fetches
//! the photo of a follower's image message through the same token (and the same one
//! refresh): the file's bytes, or `{"errcode",...}` as JSON. One `WechatApi` is built
//! per process (`app`) and shared by the notifier and the WeChat callback.
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::config::WechatNotices;
use crate::events::EventBus;

pub use super::SendError;

/// The largest answer read from WeChat (its answers are a few hundred bytes).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

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
        let cache = TokenCache::new(bus);
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

    /// The shared token, fetched when there is none: by one replica at a time (a
    /// Redis lock; the others wait for its token), by one task at a time per process.
    async fn token(&self) -> Result<String, SendError> {
        if let Some(token) = self.cache.get().await {
            return Ok(token);
        }
        let _one_fetch = self.cache.fetching.lock().await;
        if let Some(token) = self.cache.get().await {
            return Ok(token);
        }
        match self.cache.lock().await {
            Lock::Held(mark) => {
                let fetched = self.fetch_token().await;
                self.cache.unlock(&mark).await;
                fetched
            }
            Lock::Taken => match self.cache.wait_for_token().await {
                Some(token) => Ok(token),
                // The holder gave up or died: fetch it ourselves.
                None => self.fetch_token().await,
            },
            // No Redis: this process fetches, and keeps what it fetched.
            Lock::Unavailable => self.fetch_token().await,
        }
    }

    /// Fetches a token from WeChat and keeps it.
    async fn fetch_token(&self) -> Result<String, SendError> {
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

/// Why a photo could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaError {
    /// WeChat answered `{"errcode": code}` (40007: no such media, expired after three
    /// days; token errors that persisted after one refresh).
    Api(i64),
    /// WeChat answered JSON without a file (a video's `video_url`, ...).
    NotAFile,
    /// WeChat could not be reached, or answered an HTTP error.
    Unreachable(String),
}

/// What one media request came to.
enum Fetched {
    Bytes(Vec<u8>),
    TokenRejected,
}

impl WechatApi {
    /// The file of a follower's media (`MediaId`), at most `max_bytes + 1` bytes read:
    /// a longer file comes back cut there, for the caller's size check to refuse.
    pub async fn media(&self, media_id: &str, max_bytes: usize) -> Result<Vec<u8>, MediaError> {
        let token = self.token().await.map_err(media_unreachable)?;
        match self.media_with(&token, media_id, max_bytes).await? {
            Fetched::Bytes(bytes) => Ok(bytes),
            Fetched::TokenRejected => {
                self.cache.forget(&token).await;
                let token = self.token().await.map_err(media_unreachable)?;
                match self.media_with(&token, media_id, max_bytes).await? {
                    Fetched::Bytes(bytes) => Ok(bytes),
                    Fetched::TokenRejected => Err(MediaError::Api(42001)),
                }
            }
        }
    }

    async fn media_with(
        &self,
        token: &str,
        media_id: &str,
        max_bytes: usize,
    ) -> Result<Fetched, MediaError> {
        let response = self
            .http
            .get(format!("{}/cgi-bin/media/get", self.settings.api_base))
            .query(&[("access_token", token), ("media_id", media_id)])
            .send()
            .await
            .map_err(|e| media_unreachable(unreachable(e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(MediaError::Unreachable(format!(
                "WeChat answered HTTP {status}"
            )));
        }
        let json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json") || t.starts_with("text/"));
        let body = read_up_to(response, max_bytes + 1).await?;
        // An error is JSON whatever its header says; a file never starts with `{`.
        if !(json || body.first() == Some(&b'{')) {
            return Ok(Fetched::Bytes(body));
        }
        let answer: Value = serde_json::from_slice(&body).map_err(|_| MediaError::NotAFile)?;
        match answer.get("errcode").and_then(Value::as_i64) {
            Some(code) if TOKEN_ERRORS.contains(&code) => Ok(Fetched::TokenRejected),
            Some(code) if code != 0 => Err(MediaError::Api(code)),
            _ => Err(MediaError::NotAFile),
        }
    }
}

fn media_unreachable(error: SendError) -> MediaError {
    match error {
        SendError::Transient(m) | SendError::Permanent(m) => MediaError::Unreachable(m),
    }
}

/// The body's first `limit` bytes (what follows is not read).
async fn read_up_to(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, MediaError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        MediaError::Unreachable(format!("WeChat answered in part: {}", e.without_url()))
    })? {
        let room = limit - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == limit {
            break;
        }
    }
    Ok(body)
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
    let body = super::read_capped(response, MAX_RESPONSE_BYTES, "WeChat").await?;
    serde_json::from_slice(&body)
        .map_err(|_| SendError::Transient("WeChat answered no JSON".into()))
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

/// How long a Redis command of the token cache may take before this process goes on
/// with its own copy.
const REDIS_WAIT: Duration = Duration::from_secs(1);
/// How long the refresh lock is held at most (a fetch times out after 10 s).
const LOCK_MS: u64 = 15_000;
/// How long a replica waits for another's fetch before fetching itself.
const WAIT_FOR_OTHER: Duration = Duration::from_secs(12);

/// The refresh lock, as this replica found it.
enum Lock {
    /// Ours, with this mark (released only while it is still ours).
    Held(String),
    /// Another replica is fetching.
    Taken,
    /// Redis is off or failed: no lock to take.
    Unavailable,
}

/// Where the token is kept: in Redis (shared by the replicas) when there is Redis,
/// and always in this process too, so that a Redis error falls back to the last token
/// this process saw (not to a fetch per send).
#[derive(Clone)]
struct TokenCache {
    redis: Option<SharedToken>,
    local: Arc<Mutex<Option<(String, Instant)>>>,
    /// One fetch at a time in this process.
    fetching: Arc<Mutex<()>>,
}

#[derive(Clone)]
struct SharedToken {
    connection: redis::aio::ConnectionManager,
    key: String,
    lock_key: String,
}

impl SharedToken {
    async fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, String> {
        let mut connection = self.connection.clone();
        match tokio::time::timeout(REDIS_WAIT, command.query_async::<T>(&mut connection)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("Redis did not answer in time".into()),
        }
    }
}

impl TokenCache {
    fn new(bus: &EventBus) -> Self {
        let redis = match bus {
            EventBus::Redis(bus) => Some(SharedToken {
                connection: bus.connection.clone(),
                key: format!("{}:wechat:access_token", bus.prefix),
                lock_key: format!("{}:wechat:access_token:lock", bus.prefix),
            }),
            EventBus::InProcess => None,
        };
        TokenCache {
            redis,
            local: Arc::default(),
            fetching: Arc::default(),
        }
    }

    async fn local(&self) -> Option<String> {
        let slot = self.local.lock().await;
        slot.as_ref()
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(token, _)| token.clone())
    }

    async fn get(&self) -> Option<String> {
        let Some(shared) = &self.redis else {
            return self.local().await;
        };
        let mut command = redis::cmd("GET");
        command.arg(&shared.key);
        match shared.query::<Option<String>>(&command).await {
            Ok(token) => token,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the WeChat access_token from Redis; using this process's");
                self.local().await
            }
        }
    }

    async fn put(&self, token: &str, keep: Duration) {
        *self.local.lock().await = Some((token.to_owned(), Instant::now() + keep));
        if let Some(shared) = &self.redis {
            let mut command = redis::cmd("SET");
            command
                .arg(&shared.key)
                .arg(token)
                .arg("PX")
                .arg(keep.as_millis() as u64);
            if let Err(e) = shared.query::<()>(&command).await {
                tracing::warn!(error = %e, "cannot share the WeChat access_token in Redis");
            }
        }
    }

    /// Takes the refresh lock (`SET NX PX` with a mark of ours).
    async fn lock(&self) -> Lock {
        let Some(shared) = &self.redis else {
            return Lock::Unavailable;
        };
        let mark = format!("{:032x}", rand::random::<u128>());
        let mut command = redis::cmd("SET");
        command
            .arg(&shared.lock_key)
            .arg(&mark)
            .arg("NX")
            .arg("PX")
            .arg(LOCK_MS);
        match shared.query::<Option<String>>(&command).await {
            Ok(Some(_)) => Lock::Held(mark),
            Ok(None) => Lock::Taken,
            Err(e) => {
                tracing::warn!(error = %e, "cannot lock the WeChat token refresh in Redis");
                Lock::Unavailable
            }
        }
    }

    async fn unlock(&self, mark: &str) {
        if let Some(shared) = &self.redis {
            let _ = shared
                .query::<i64>(&compare_and_delete(&shared.lock_key, mark))
                .await;
        }
    }

    /// Waits (bounded) for the token another replica is fetching.
    async fn wait_for_token(&self) -> Option<String> {
        let deadline = Instant::now() + WAIT_FOR_OTHER;
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Some(token) = self.get().await {
                return Some(token);
            }
        }
        None
    }

    /// Drops `token` if it is still the cached one (a replica may have replaced it).
    async fn forget(&self, token: &str) {
        {
            let mut slot = self.local.lock().await;
            if slot.as_ref().is_some_and(|(t, _)| t == token) {
                *slot = None;
            }
        }
        if let Some(shared) = &self.redis {
            if let Err(e) = shared
                .query::<i64>(&compare_and_delete(&shared.key, token))
                .await
            {
                tracing::warn!(error = %e, "cannot drop the WeChat access_token in Redis");
            }
        }
    }
}

/// Deletes `key` if it holds `value`, in one step (Redis has no such command).
fn compare_and_delete(key: &str, value: &str) -> redis::Cmd {
    let mut command = redis::cmd("EVAL");
    command
        .arg("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0")
        .arg(1)
        .arg(key)
        .arg(value);
    command
}
