//! `/wechat/callback`: the official account's server endpoint (消息推送). GET verifies
//! the server; POST carries messages in plain or safe mode (AES). Bad signatures, stale
//! timestamps and replayed `(timestamp, nonce)` pairs get 403 (see
//! [`crate::wechat::replay`]), malformed or undecryptable bodies 400, with nothing
//! stored. Off (404) unless configured.
use std::time::Duration;

use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{handler, Body, IntoResponse, Response};
use serde::Deserialize;
use tracing::Instrument;

use crate::config::Wechat;
use crate::http::HttpState;
use crate::limits::replay::Claim;
use crate::wechat::crypto::{msg_signature, signature, signatures_match, Cipher};
use crate::wechat::message::{self, Inbound, MAX_BODY_BYTES};
use crate::wechat::replay::{self, Hash};

#[derive(Deserialize)]
pub struct Params {
    signature: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
    echostr: Option<String>,
    encrypt_type: Option<String>,
    msg_signature: Option<String>,
}

/// WeChat waits 5 seconds for an answer; past this we answer "success" and let the
/// retry (deduplicated) pick up the stored reply.
const ANSWER_WITHIN: Duration = Duration::from_millis(4500);

fn status(code: StatusCode, text: &'static str) -> Response {
    Response::builder()
        .status(code)
        .content_type("text/plain; charset=utf-8")
        .body(text)
}

fn config(state: &HttpState) -> Option<&Wechat> {
    state.settings.wechat.as_ref()
}

fn plain_signature_ok(cfg: &Wechat, p: &Params) -> bool {
    match (&p.signature, &p.timestamp, &p.nonce) {
        (Some(sig), Some(ts), Some(nonce)) => {
            signatures_match(&signature(&cfg.token, ts, nonce), sig)
        }
        _ => false,
    }
}

/// The signed `timestamp` is within the configured window of our clock.
fn fresh(cfg: &Wechat, p: &Params) -> bool {
    p.timestamp.as_deref().is_some_and(|ts| {
        replay::is_fresh(
            ts,
            chrono::Utc::now().timestamp(),
            cfg.timestamp_window.as_secs(),
        )
    })
}

/// Claims the request's `(timestamp, nonce)` for the message it carries; `false` when
/// another message already holds them (a retry of the same message is fine: the
/// delivery dedupe gives it the stored reply). Call only once the signature is good.
async fn first_use(state: &HttpState, p: &Params, fingerprint: &Hash) -> bool {
    let (Some(timestamp), Some(nonce)) = (&p.timestamp, &p.nonce) else {
        return false;
    };
    let claim = state
        .wechat_replay
        .claim(&replay::request_key(timestamp, nonce), fingerprint)
        .await;
    match claim {
        Claim::First => true,
        Claim::Retry => {
            tracing::debug!("wechat: the same request again, answered as a retry");
            true
        }
        Claim::Replay => {
            tracing::warn!("wechat: refused a replayed timestamp and nonce with another message");
            false
        }
    }
}

#[handler]
pub async fn verify(Query(p): Query<Params>, state: Data<&HttpState>) -> Response {
    let Some(cfg) = config(&state) else {
        return status(StatusCode::NOT_FOUND, "not found");
    };
    let Some(echo) = p.echostr.as_deref().filter(|_| plain_signature_ok(cfg, &p)) else {
        return status(StatusCode::FORBIDDEN, "invalid signature");
    };
    if !fresh(cfg, &p) {
        return status(StatusCode::FORBIDDEN, "stale timestamp");
    }
    // `echostr` is not signed: a captured verification URL must not echo other text.
    if !first_use(&state, &p, &replay::echo_fingerprint(echo)).await {
        return status(StatusCode::FORBIDDEN, "replayed request");
    }
    Response::builder()
        .content_type("text/plain; charset=utf-8")
        .body(echo.to_owned())
}

#[handler]
pub async fn receive(Query(p): Query<Params>, body: Body, state: Data<&HttpState>) -> Response {
    let Some(cfg) = config(&state) else {
        return status(StatusCode::NOT_FOUND, "not found");
    };
    let Ok(bytes) = body.into_bytes_limit(MAX_BODY_BYTES).await else {
        return status(StatusCode::BAD_REQUEST, "body too large");
    };
    let Ok(xml) = std::str::from_utf8(&bytes) else {
        return status(StatusCode::BAD_REQUEST, "body is not UTF-8");
    };
    let safe_mode = p.encrypt_type.as_deref() == Some("aes");
    // Safe mode: check msg_signature over the ciphertext, then decrypt (appid and
    // padding are checked by the cipher).
    let (inbound, cipher) = if safe_mode {
        let Ok(cipher) = Cipher::new(&cfg.encoding_aes_key, &cfg.app_id) else {
            return status(StatusCode::INTERNAL_SERVER_ERROR, "misconfigured");
        };
        let Ok((_, encrypted)) = message::parse_encrypted_envelope(xml) else {
            return status(StatusCode::BAD_REQUEST, "malformed envelope");
        };
        let signed = match (&p.msg_signature, &p.timestamp, &p.nonce) {
            (Some(sig), Some(ts), Some(nonce)) => {
                signatures_match(&msg_signature(&cfg.token, ts, nonce, &encrypted), sig)
            }
            _ => false,
        };
        if !signed {
            return status(StatusCode::FORBIDDEN, "invalid signature");
        }
        if !fresh(cfg, &p) {
            return status(StatusCode::FORBIDDEN, "stale timestamp");
        }
        let Ok(plain) = cipher.decrypt(&encrypted) else {
            return status(StatusCode::BAD_REQUEST, "cannot decrypt");
        };
        match message::parse(&plain) {
            Ok(m) => (m, Some(cipher)),
            Err(_) => return status(StatusCode::BAD_REQUEST, "malformed message"),
        }
    } else {
        if !plain_signature_ok(cfg, &p) {
            return status(StatusCode::FORBIDDEN, "invalid signature");
        }
        if !fresh(cfg, &p) {
            return status(StatusCode::FORBIDDEN, "stale timestamp");
        }
        match message::parse(xml) {
            Ok(m) => (m, None),
            Err(_) => return status(StatusCode::BAD_REQUEST, "malformed message"),
        }
    };
    // The fingerprint is of the parsed message: a safe-mode retry re-encrypted with a
    // fresh random prefix is still the same message.
    if !first_use(
        &state,
        &p,
        &replay::message_fingerprint(&inbound.canonical()),
    )
    .await
    {
        return status(StatusCode::FORBIDDEN, "replayed request");
    }
    // WeChat's servers relay every follower, who is known by open id, not by address.
    let relay = crate::auth::ClientInfo {
        ip: "wechat".into(),
        user_agent: None,
    };
    // Handled in a task of its own: past WeChat's answer window the follower gets no
    // immediate reply, but what the message does (an item, a rating) still finishes
    // — dropping it midway could lose it, since WeChat's retries are refused as
    // replays once claimed.
    let handling = {
        let (app, inbound) = (state.app.clone(), inbound.clone());
        tokio::spawn(
            async move {
                let ctx = app.ctx(&crate::auth::Actor::Anonymous, &relay);
                crate::service::wechat::handle(&ctx, &inbound, app.wechat_api.as_ref()).await
            }
            .in_current_span(),
        )
    };
    let reply = match tokio::time::timeout(ANSWER_WITHIN, handling).await {
        Ok(Ok(Ok(reply))) => reply,
        Ok(Ok(Err(e))) => {
            tracing::warn!(error = ?e, "wechat message failed");
            Some("系统繁忙,请稍后再试。".to_owned())
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "wechat message handling panicked");
            Some("系统繁忙,请稍后再试。".to_owned())
        }
        Err(_) => None,
    };
    let Some(text) = reply else {
        return "success".into_response();
    };
    answer(&inbound, &text, cipher.as_ref(), cfg, &p)
}

fn answer(
    inbound: &Inbound,
    text: &str,
    cipher: Option<&Cipher>,
    cfg: &Wechat,
    p: &Params,
) -> Response {
    let xml = message::text_reply(
        inbound.from_user(),
        inbound.to_user(),
        chrono::Utc::now().timestamp(),
        text,
    );
    let body = match cipher {
        None => xml,
        Some(cipher) => {
            let encrypted = cipher.encrypt(&xml);
            let timestamp = p
                .timestamp
                .clone()
                .unwrap_or_else(|| chrono::Utc::now().timestamp().to_string());
            let nonce = p.nonce.clone().unwrap_or_else(|| {
                crate::auth::token::new_refresh_token()
                    .chars()
                    .take(10)
                    .collect()
            });
            let sig = msg_signature(&cfg.token, &timestamp, &nonce, &encrypted);
            message::encrypted_reply(&encrypted, &sig, &timestamp, &nonce)
        }
    };
    Response::builder()
        .content_type("application/xml; charset=utf-8")
        .body(body)
}
