//! GraphQL over WebSocket on `/graphql/ws`: `graphql-transport-ws` as specified by
//! enisdenjo/graphql-ws (PROTOCOL.md), close codes included, and the legacy
//! `graphql-ws` (subscriptions-transport-ws) still used by older Apollo clients.
//!
//! The access token travels in the `connection_init` payload as `{"token": "..."}` or
//! `{"Authorization": "Bearer ..."}` and is checked before the connection is
//! acknowledged; the connection then acts as that account (or anonymously without a
//! token) until the token expires, when it closes with 4403 (clients reconnect with a
//! fresh token and resume from their cursors). Every operation — subscriptions, and
//! queries and mutations too — runs through the app's schema with the session's
//! current actor (read again for each operation, as HTTP reads it for each request)
//! and non-caching DataLoaders. A `subscribe` payload may name its document by hash
//! (`payload.extensions.persistedQuery`, [`crate::graphql::persisted`]), resolved
//! before anything else reads it; a refusal is the operation's `error` message.
//!
//! Revocation: a session that ended (signed out, revoked with a password change, its
//! account disabled) or an account that lost a role closes its connections with 4403
//! and the reason, on every replica: the change is announced (`events::control`), each
//! connection of the account reads its session again, and closes if it may no longer
//! act as before. Its subscriptions end with it; the client reconnects with the
//! rights it has now (or signs in again).
//!
//! One task per connection drives the socket and all of its operations: an idle
//! subscriber costs that task, small WebSocket buffers (`WS_BUFFER_BYTES`), its place
//! in the hub and its source of items; the items are resolved once per distinct
//! operation, however many subscribers follow it (see [`operation`]). Writes happen
//! one message at a time; while a slow client's socket is full its subscriptions stop
//! draining their (bounded) queues and later catch up from the outbox, so it never
//! holds anyone else up.
//!
//! Why our own rather than async-graphql-poem's `GraphQLSubscription`: that one runs
//! every subscription of every connection on its own (no resolution shared between
//! identical operations, see [`operation`]), fixes the actor at `connection_init` (here
//! the session is read again before each operation and on every access change, closing
//! with 4403 when it ended), and strays from graphql-transport-ws's close codes: an
//! invalid message closes with 1002 (spec: 4400), a subscribe before the ack with 1011
//! (4401), a duplicate id silently replaces the running operation (4409), and there is
//! no `connection_init` deadline (4408). It also has no per-address connection cap, no
//! send timeout that drops a peer that stops reading, and no close (1001) on shutdown.
use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub mod connections;
pub mod operation;

use async_graphql::{Data, Variables};
use futures_util::{FutureExt, SinkExt, StreamExt};
use poem::http::{header, StatusCode};
use poem::web::websocket::{CloseCode, Message, WebSocket, WebSocketConfig, WebSocketStream};
use poem::web::Data as PoemData;
use poem::{handler, IntoResponse, Request, Response};
use serde_json::{json, Map, Value};
use tokio::time::Instant;
use tokio_stream::StreamMap;
use tracing::Instrument;

use crate::auth::{Actor, ClientInfo};
use crate::error::AppError;
use crate::events::{AccessWatch, LiveSettings, Recheck};
use crate::graphql::extensions::code_request_errors;
use crate::graphql::{loaders, AppSchema};
use crate::http::graphql::client_of;
use crate::http::request_log::{access_logged, valid_request_id, RequestId};
use crate::http::HttpState;
use crate::service::accounts::{self, SessionState};
use operation::{message_around, OpItem, Operation, OperationLog, Outcome, Sharing};

pub const TRANSPORT_WS: &str = "graphql-transport-ws";
pub const LEGACY_WS: &str = "graphql-ws";

/// Close codes of graphql-transport-ws (PROTOCOL.md).
pub mod close {
    pub const INTERNAL_ERROR: u16 = 4500;
    /// RFC 6455 §7.4.1 (IANA registry): the server is overloaded, try again later.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    pub const BAD_REQUEST: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const SUBPROTOCOL_NOT_ACCEPTABLE: u16 = 4406;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const SUBSCRIBER_EXISTS: u16 = 4409;
    pub const TOO_MANY_INITS: u16 = 4429;
    pub const GOING_AWAY: u16 = 1001;
    pub const NORMAL: u16 = 1000;

    /// The reason of a 4403 for a `connection_init` token that is refused.
    pub fn token_refused(reason: &str) -> &'static str {
        match reason {
            "TOKEN_EXPIRED" => "Forbidden: token expired",
            "SESSION_REVOKED" => "Forbidden: session revoked",
            _ => "Forbidden: token invalid",
        }
    }
}

/// Engine codes for failures before execution: such an operation gets an `error`
/// message rather than `next`.
const REQUEST_ERROR_CODES: &[&str] = &[
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "QUERY_TOO_DEEP",
    "QUERY_TOO_COMPLEX",
    "BAD_REQUEST",
    "OPERATION_RESOLUTION_FAILURE",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    /// graphql-transport-ws
    Transport,
    /// graphql-ws (subscriptions-transport-ws)
    Legacy,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::Transport => TRANSPORT_WS,
            Protocol::Legacy => LEGACY_WS,
        }
    }
}

/// The subprotocol to speak: `graphql-transport-ws` whenever the client offers it.
fn negotiate(offered: Option<&str>) -> Option<Protocol> {
    let offered: Vec<&str> = offered
        .map(|h| h.split(',').map(str::trim).collect())
        .unwrap_or_default();
    if offered.iter().any(|p| p.eq_ignore_ascii_case(TRANSPORT_WS)) {
        Some(Protocol::Transport)
    } else if offered.iter().any(|p| p.eq_ignore_ascii_case(LEGACY_WS)) {
        Some(Protocol::Legacy)
    } else {
        None
    }
}

/// Credentials in a `connection_init` payload: `Ok(None)` when there are none,
/// `Err` when they are malformed.
fn token_of(payload: Option<&Value>) -> Result<Option<String>, ()> {
    let Some(payload) = payload else {
        return Ok(None);
    };
    if let Some(token) = payload.get("token") {
        return match token.as_str() {
            Some(t) if !t.trim().is_empty() => Ok(Some(t.trim().to_owned())),
            _ => Err(()),
        };
    }
    let authorization = ["Authorization", "authorization"].iter().find_map(|key| {
        payload
            .get(key)
            .or_else(|| payload.get("headers").and_then(|h| h.get(key)))
    });
    match authorization {
        None => Ok(None),
        Some(value) => value
            .as_str()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| Some(t.to_owned()))
            .ok_or(()),
    }
}

fn websocket_config(settings: &LiveSettings) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(settings.buffer_bytes)
        // Each message is flushed as it is sent: no write buffering target.
        .write_buffer_size(0)
        .max_message_size(Some(settings.max_message_bytes))
        .max_frame_size(Some(settings.max_message_bytes))
}

#[handler]
pub async fn graphql_ws(
    req: &Request,
    websocket: WebSocket,
    state: PoemData<&HttpState>,
    schema: PoemData<&AppSchema>,
) -> Response {
    let state = state.clone();
    let schema = schema.clone();
    let client = client_of(req, state.settings.trust_proxy_headers);
    let Some(permit) = state.ws.connections.try_acquire(&client.ip) else {
        return Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header(header::RETRY_AFTER, "10")
            .body("too many WebSocket connections from this address");
    };
    let protocol = negotiate(
        req.headers()
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok()),
    );
    let config = websocket_config(state.live.settings());
    // The connection's lines carry the upgrade request's id (its span ends with the
    // 101 answer); each operation's span adds the operation's id.
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map_or_else(String::new, |id| id.0.clone());
    let span = tracing::info_span!("websocket", request_id = %request_id);
    websocket
        .protocols(protocol.map(Protocol::name))
        .config(config)
        .on_upgrade(move |socket| {
            async move {
                let _permit = permit;
                let _open = crate::graphql::metrics::ConnectionGauge::open();
                match protocol {
                    Some(protocol) => {
                        Connection::new(state, schema, client, protocol, request_id)
                            .run(socket)
                            .await
                    }
                    None => refuse_subprotocol(socket).await,
                }
            }
            .instrument(span)
        })
        .into_response()
}

async fn refuse_subprotocol(mut socket: WebSocketStream) {
    let _ = socket
        .send(Message::Close(Some((
            CloseCode::from(close::SUBPROTOCOL_NOT_ACCEPTABLE),
            "Subprotocol not acceptable".into(),
        ))))
        .await;
    let _ = socket.close().await;
}

/// What woke the connection's loop.
enum Wake {
    Incoming(Option<std::io::Result<Message>>),
    Operation(String, OpItem),
    InitTimeout,
    TokenExpired,
    /// The account's access changed (or such a prompt may have been missed).
    AccessChanged(Recheck),
    Tick,
    Closing,
}

/// Why the connection's session may not run anything more.
enum Stale {
    /// Close with this code and reason.
    Close(u16, String),
    /// The session could not be read (the database failed).
    Unreadable,
}

/// Whether `now` lacks a right `before` had: a grant, or the deputy it spoke for.
fn lost_rights(before: &Actor, now: &Actor) -> bool {
    match (before.principal(), now.principal()) {
        (Some(before), Some(now)) => {
            before.deputy_id != now.deputy_id
                || before.grants.iter().any(|g| !now.grants.contains(g))
        }
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Waits for a prompt to re-check the session; never, for a connection without one.
async fn access_changed(watch: Option<&AccessWatch>) -> Recheck {
    match watch {
        Some(watch) => watch.changed().await,
        None => std::future::pending().await,
    }
}

/// The result of handling one wake-up: messages to send, then maybe a close.
#[derive(Default)]
struct Reply {
    messages: Vec<Message>,
    close: Option<(u16, String)>,
    /// End without a close frame (the peer is gone).
    drop: bool,
}

impl Reply {
    fn send(&mut self, message: Value) {
        self.messages.push(Message::Text(message.to_string()));
    }

    fn close(&mut self, code: u16, reason: impl Into<String>) {
        self.close = Some((code, reason.into()));
    }
}

struct Connection {
    /// The upgrade request's id, on every operation's span.
    request_id: String,
    state: HttpState,
    schema: AppSchema,
    client: ClientInfo,
    protocol: Protocol,
    settings: LiveSettings,
    init_received: bool,
    /// Set once acknowledged; read again before each operation.
    actor: Option<Actor>,
    /// The access token of `connection_init`, when one was given.
    token: Option<String>,
    /// Prompts when the account's access changes (signed-in connections).
    access: Option<AccessWatch>,
    /// When the access token of `connection_init` expires: the connection then closes
    /// with 4403, and the client reconnects with a fresh token and resumes from its
    /// cursors (graphql-ws retries on 4403).
    expires_at: Option<Instant>,
    operations: StreamMap<String, Operation>,
    /// Items produced while starting an operation, sent before anything else.
    ready: VecDeque<(String, OpItem)>,
}

fn is_request_error(response: &async_graphql::Response) -> bool {
    !response.errors.is_empty()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| {
            match e.extensions.as_ref().and_then(|ext| ext.get("code")) {
                Some(async_graphql::Value::String(code)) => {
                    REQUEST_ERROR_CODES.contains(&code.as_str())
                }
                None => true,
                Some(_) => false,
            }
        })
}

/// `{query, operationName?, variables?, extensions?}` into a request.
fn request_of(payload: &Map<String, Value>) -> Result<async_graphql::Request, &'static str> {
    let query = match payload.get("query") {
        Some(Value::String(query)) => query.clone(),
        _ => return Err("payload.query must be a string"),
    };
    if super::multipart::document_forges_upload(&query)
        || payload
            .get("variables")
            .is_some_and(super::multipart::forges_upload)
    {
        return Err("files are uploaded over HTTP (a multipart request), not here");
    }
    let mut request = async_graphql::Request::new(query);
    match payload.get("operationName") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => request = request.operation_name(name.clone()),
        Some(_) => return Err("payload.operationName must be a string or null"),
    }
    match payload.get("variables") {
        None | Some(Value::Null) => {}
        Some(v @ Value::Object(_)) => request = request.variables(Variables::from_json(v.clone())),
        Some(_) => return Err("payload.variables must be an object or null"),
    }
    match payload.get("extensions") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (key, value) in map {
                let value = async_graphql::Value::from_json(value.clone())
                    .map_err(|_| "payload.extensions is not valid")?;
                request.extensions.insert(key.clone(), value);
            }
        }
        Some(_) => return Err("payload.extensions must be an object or null"),
    }
    Ok(request)
}

/// The DataLoaders of every WebSocket operation: one non-caching set per process,
/// shared by all connections. Without a cache a loader only batches the keys that
/// concurrent resolvers ask for and hands each caller its own, so nothing outlives a
/// load or passes between actors; sharing them keeps an idle subscriber small.
fn shared_loaders(state: &HttpState) -> Arc<Data> {
    state
        .ws
        .shared_data
        .get_or_init(|| {
            let mut data = Data::default();
            loaders::register_into(&mut data, &state.db, false);
            Arc::new(data)
        })
        .clone()
}

/// What `/graphql/ws` keeps per process besides its operations. Cheap to clone.
#[derive(Clone)]
pub struct Sockets {
    /// Open connections per client address (`WS_MAX_CONNECTIONS_PER_ADDRESS`).
    pub connections: connections::ConnectionLimiter,
    /// GraphQL context data built once and shared by every operation ([`shared_loaders`]).
    shared_data: Arc<OnceLock<Arc<Data>>>,
}

impl Sockets {
    pub fn new(settings: &LiveSettings) -> Self {
        Sockets {
            connections: connections::ConnectionLimiter::new(settings.max_connections_per_address),
            shared_data: Arc::default(),
        }
    }
}

fn errors_json(response: &async_graphql::Response) -> Value {
    serde_json::to_value(&response.errors).unwrap_or_else(|_| json!([]))
}

/// The `error` payload of an operation the server could not run.
fn internal_errors() -> Value {
    json!([{ "message": "Internal server error", "extensions": { "code": "INTERNAL" } }])
}

fn response_json(response: &async_graphql::Response) -> Value {
    serde_json::to_value(response).unwrap_or_else(|_| json!({}))
}

impl Connection {
    fn new(
        state: HttpState,
        schema: AppSchema,
        client: ClientInfo,
        protocol: Protocol,
        request_id: String,
    ) -> Self {
        let settings = state.live.settings().clone();
        Connection {
            request_id,
            state,
            schema,
            client,
            protocol,
            settings,
            init_received: false,
            actor: None,
            token: None,
            access: None,
            expires_at: None,
            operations: StreamMap::new(),
            ready: VecDeque::new(),
        }
    }

    async fn run(mut self, socket: WebSocketStream) {
        let (mut sink, mut incoming) = socket.split();
        // Until `connection_init`: its deadline; then the access token's expiry.
        let deadline = tokio::time::sleep(self.settings.init_timeout);
        tokio::pin!(deadline);
        let mut expiry_armed = false;
        let keepalive = self.settings.keepalive;
        let mut ticks = tokio::time::interval_at(Instant::now() + keepalive, keepalive);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut closing = self.state.live.closing_signal();
        let mut last_heard = Instant::now();
        let mut already_closing = *closing.borrow();
        let mut running = crate::graphql::metrics::OperationsGauge::default();
        loop {
            running.sync(self.operations.len());
            let wake = if already_closing {
                already_closing = false;
                Wake::Closing
            } else if let Some(recheck) = self.access.as_ref().and_then(AccessWatch::try_changed) {
                // Before anything else: nothing more runs or is delivered on a session
                // that may have ended.
                Wake::AccessChanged(recheck)
            } else if let Some((id, item)) = self.ready.pop_front() {
                Wake::Operation(id, item)
            } else {
                tokio::select! {
                    message = incoming.next() => Wake::Incoming(message),
                    Some((id, item)) = self.operations.next(), if !self.operations.is_empty() => {
                        Wake::Operation(id, item)
                    }
                    () = &mut deadline, if !self.init_received || self.expires_at.is_some() => {
                        if self.init_received { Wake::TokenExpired } else { Wake::InitTimeout }
                    }
                    recheck = access_changed(self.access.as_ref()) => Wake::AccessChanged(recheck),
                    _ = ticks.tick() => Wake::Tick,
                    Ok(()) = closing.changed() => Wake::Closing,
                }
            };
            let mut reply = Reply::default();
            match wake {
                Wake::Incoming(message) => {
                    last_heard = Instant::now();
                    // Boxed: the handlers' futures (token checks hit the database) are
                    // large and needed only while a message is handled, not while the
                    // connection idles.
                    Box::pin(self.on_incoming(message, &mut reply)).await;
                    if let (Some(at), false) = (self.expires_at, expiry_armed) {
                        expiry_armed = true;
                        deadline.as_mut().reset(at);
                    }
                }
                Wake::Operation(id, item) => self.on_operation(id, item, &mut reply),
                Wake::InitTimeout => {
                    reply.close(close::INIT_TIMEOUT, "Connection initialisation timeout")
                }
                Wake::TokenExpired => reply.close(close::FORBIDDEN, "Forbidden: token expired"),
                Wake::AccessChanged(recheck) => match Box::pin(self.read_session()).await {
                    Ok(()) => {}
                    Err(Stale::Close(code, reason)) => {
                        tracing::info!(?recheck, %reason, "closing a connection whose access changed");
                        reply.close(code, reason);
                    }
                    // A prompt that concerns this account: it may well have lost access, and
                    // that cannot be ruled out now.
                    Err(Stale::Unreadable) if matches!(recheck, Recheck::Changed(_)) => {
                        reply.close(close::INTERNAL_ERROR, "Internal server error")
                    }
                    // A precaution after a Redis reconnect: the next operation checks again.
                    Err(Stale::Unreadable) => {}
                },
                Wake::Tick => {
                    if last_heard.elapsed() > keepalive * 3 {
                        reply.drop = true;
                    } else {
                        reply.messages.push(Message::Ping(Vec::new()));
                        if self.protocol == Protocol::Legacy && self.actor.is_some() {
                            reply.send(json!({ "type": "ka" }));
                        }
                    }
                }
                Wake::Closing => reply.close(close::GOING_AWAY, "Server shutting down"),
            }
            // Operations advance only while this loop runs: a peer that stops reading
            // must not hold it (and with it a mutation's open transaction) for long.
            let send_timeout = self.settings.send_timeout;
            for message in reply.messages {
                match tokio::time::timeout(send_timeout, sink.send(message)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return,
                    Err(_) => {
                        tracing::info!("dropping a WebSocket peer that stopped reading");
                        return;
                    }
                }
            }
            if reply.drop {
                return;
            }
            if let Some((code, reason)) = reply.close {
                let closing = async {
                    let _ = sink
                        .send(Message::Close(Some((CloseCode::from(code), reason))))
                        .await;
                    let _ = sink.close().await;
                };
                let _ = tokio::time::timeout(send_timeout, closing).await;
                return;
            }
        }
    }

    async fn on_incoming(&mut self, message: Option<std::io::Result<Message>>, reply: &mut Reply) {
        match message {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => reply.drop = true,
            // tungstenite answers pings itself.
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(Message::Binary(_))) => match self.protocol {
                Protocol::Transport => reply.close(close::BAD_REQUEST, "Invalid message received"),
                Protocol::Legacy => reply.send(json!({
                    "type": "error",
                    "payload": { "message": "Message must be JSON-parseable." }
                })),
            },
            Some(Ok(Message::Text(text))) => match self.protocol {
                Protocol::Transport => self.on_transport_message(&text, reply).await,
                Protocol::Legacy => self.on_legacy_message(&text, reply).await,
            },
        }
    }

    /// Checks the `connection_init` payload and opens the session.
    async fn initialise(&mut self, payload: Option<&Value>) -> Result<(), (u16, &'static str)> {
        if payload.is_some_and(|p| !(p.is_null() || p.is_object())) {
            return Err((close::BAD_REQUEST, "Invalid connection_init payload"));
        }
        let actor = match token_of(payload.filter(|p| p.is_object())) {
            Err(()) => return Err((close::FORBIDDEN, close::token_refused("TOKEN_INVALID"))),
            Ok(None) => Actor::Anonymous,
            Ok(Some(token)) => {
                let now = self.state.clock.now().timestamp();
                let claims = self.state.auth.keys.verify(&token, now).ok();
                // Registered before the session is read: a revocation committed meanwhile
                // still prompts a re-check.
                let access = claims
                    .as_ref()
                    .map(|claims| self.state.live.watch_access(claims.sub));
                match accounts::actor_for_token(&self.state.db, &self.state.auth, &token).await {
                    Ok(actor) => {
                        if let Some(claims) = claims {
                            let left = u64::try_from(claims.exp - now).unwrap_or(0);
                            self.expires_at = Some(Instant::now() + Duration::from_secs(left));
                        }
                        self.token = Some(token);
                        self.access = access;
                        actor
                    }
                    Err(AppError::Unauthenticated { reason, .. }) => {
                        return Err((close::FORBIDDEN, close::token_refused(reason)))
                    }
                    // No database connection in time: like HTTP's 503, come back later.
                    Err(AppError::Unavailable) => {
                        return Err((close::TRY_AGAIN_LATER, "Try again later"));
                    }
                    Err(e) => {
                        tracing::error!(error = ?e, "WebSocket authentication failed");
                        return Err((close::INTERNAL_ERROR, "Internal server error"));
                    }
                }
            }
        };
        self.actor = Some(actor);
        Ok(())
    }

    /// Reads the connection's session again, through the check HTTP requests go
    /// through: `Ok` when it may still act as before (the actor is then current, with
    /// any grant added since), else why not.
    async fn read_session(&mut self) -> Result<(), Stale> {
        let Some(token) = &self.token else {
            return Ok(());
        };
        let forbidden =
            |reason: &str| Stale::Close(close::FORBIDDEN, format!("Forbidden: {reason}"));
        match accounts::session_state(&self.state.db, &self.state.auth, token).await {
            Ok(SessionState::Active(actor)) => {
                if self
                    .actor
                    .as_ref()
                    .is_some_and(|before| lost_rights(before, &actor))
                {
                    return Err(forbidden("role revoked"));
                }
                self.actor = Some(actor);
                Ok(())
            }
            Ok(SessionState::Ended(end)) => Err(forbidden(end.describe())),
            Err(AppError::Unauthenticated {
                reason: "TOKEN_EXPIRED",
                ..
            }) => Err(forbidden("token expired")),
            Err(AppError::Unauthenticated { .. }) => Err(forbidden("session revoked")),
            Err(e) => {
                tracing::error!(error = ?e, "cannot read a WebSocket connection's session");
                Err(Stale::Unreadable)
            }
        }
    }

    /// The span an operation's messages are handled and its resolvers run in: the
    /// connection's request id and the operation's id (as sent when it is a sane one,
    /// else quoted and cut short), its name once parsed, and the account.
    fn operation_span(&self, id: &str) -> tracing::Span {
        let operation_id = if valid_request_id(id) {
            id.to_owned()
        } else {
            format!("{:?}", id.chars().take(64).collect::<String>())
        };
        let span = tracing::info_span!(
            "ws_operation",
            request_id = %self.request_id,
            operation_id = %operation_id,
            operation = tracing::field::Empty,
            account_id = tracing::field::Empty,
        );
        if let Some(Actor::Account(principal)) = &self.actor {
            span.record("account_id", principal.account_id);
        }
        span
    }

    fn start(
        &mut self,
        id: String,
        payload: &Map<String, Value>,
        request: async_graphql::Request,
        span: tracing::Span,
    ) {
        let Some(actor) = self.actor.clone() else {
            return;
        };
        let sharing = Sharing {
            registry: self.state.ws_operations.clone(),
            schema: self.schema.clone(),
            session: shared_loaders(&self.state),
            actor: actor.clone(),
            client: self.client.clone(),
            payload: payload.clone(),
        };
        let request = request.data(actor).data(self.client.clone());
        let log = OperationLog::new(span, access_logged(self.state.settings.access_log, false));
        let mut operation =
            Operation::plan(request, sharing, self.state.settings.request_timeout).logged(log);
        // One poll now runs the operation up to its first wait: a subscription is
        // registered with the hub before the next client message is read, so a client
        // that sends `subscribe` then anything else (a ping) is live by the answer.
        match operation.next().now_or_never() {
            None => {}
            Some(Some(item)) => self.ready.push_back((id.clone(), item)),
            Some(None) => return operation.end(Outcome::Done),
        }
        self.operations.insert(id, operation);
    }

    fn too_many_operations(&self) -> bool {
        self.operations.len() >= self.settings.max_operations_per_connection
    }

    fn limit_error(&self) -> Value {
        json!([{
            "message": format!(
                "每个连接最多{}个订阅 (at most {} operations per connection)",
                self.settings.max_operations_per_connection,
                self.settings.max_operations_per_connection
            ),
            "extensions": { "code": "RATE_LIMITED" }
        }])
    }

    async fn on_transport_message(&mut self, text: &str, reply: &mut Reply) {
        const INVALID: &str = "Invalid message received";
        let Ok(Value::Object(message)) = serde_json::from_str::<Value>(text) else {
            return reply.close(close::BAD_REQUEST, INVALID);
        };
        let Some(kind) = message.get("type").and_then(Value::as_str) else {
            return reply.close(close::BAD_REQUEST, INVALID);
        };
        match kind {
            "connection_init" => {
                if self.init_received {
                    return reply.close(close::TOO_MANY_INITS, "Too many initialisation requests");
                }
                self.init_received = true;
                match self.initialise(message.get("payload")).await {
                    Ok(()) => reply.send(json!({ "type": "connection_ack" })),
                    Err((code, reason)) => reply.close(code, reason),
                }
            }
            "ping" => match message.get("payload") {
                Some(payload) if !payload.is_null() => {
                    reply.send(json!({ "type": "pong", "payload": payload }))
                }
                _ => reply.send(json!({ "type": "pong" })),
            },
            "pong" => {}
            "subscribe" => {
                let id = match message.get("id").and_then(Value::as_str) {
                    Some(id) if !id.is_empty() => id.to_owned(),
                    _ => return reply.close(close::BAD_REQUEST, INVALID),
                };
                let Some(payload) = message.get("payload").and_then(Value::as_object) else {
                    return reply.close(close::BAD_REQUEST, INVALID);
                };
                // Before the document is looked up or registered: nothing is kept for
                // a connection that has not initialised, and a refusal never answers
                // for an id that is already running.
                if self.actor.is_none() {
                    return reply.close(close::UNAUTHORIZED, "Unauthorized");
                }
                if self.operations.contains_key(&id) {
                    return reply.close(
                        close::SUBSCRIBER_EXISTS,
                        format!("Subscriber for {id} already exists"),
                    );
                }
                // A document named by its hash (or checked against the manifest).
                let payload =
                    match self.state.persisted.resolve_params(payload).await {
                        Ok(payload) => payload,
                        Err(refusal) => return reply.send(
                            json!({ "id": id, "type": "error", "payload": [refusal.error_json()] }),
                        ),
                    };
                let request = match request_of(&payload) {
                    Ok(request) => request,
                    Err(reason) => return reply.close(close::BAD_REQUEST, reason),
                };
                let span = self.operation_span(&id);
                let operation_span = span.clone();
                async {
                    match self.read_session().await {
                        Ok(()) => {}
                        Err(Stale::Close(code, reason)) => return reply.close(code, reason),
                        Err(Stale::Unreadable) => {
                            return reply.send(
                                json!({ "id": id, "type": "error", "payload": internal_errors() }),
                            )
                        }
                    }
                    if self.too_many_operations() {
                        return reply.send(
                            json!({ "id": id, "type": "error", "payload": self.limit_error() }),
                        );
                    }
                    self.start(id, &payload, request, operation_span);
                }
                .instrument(span)
                .await
            }
            "complete" => match message.get("id").and_then(Value::as_str) {
                Some(id) if !id.is_empty() => {
                    if let Some(operation) = self.operations.remove(id) {
                        operation.end(Outcome::Complete);
                    }
                }
                _ => reply.close(close::BAD_REQUEST, INVALID),
            },
            _ => reply.close(close::BAD_REQUEST, INVALID),
        }
    }

    async fn on_legacy_message(&mut self, text: &str, reply: &mut Reply) {
        let Ok(Value::Object(message)) = serde_json::from_str::<Value>(text) else {
            return reply.send(json!({
                "type": "error",
                "payload": { "message": "Message must be JSON-parseable." }
            }));
        };
        let id = message.get("id").and_then(Value::as_str).map(str::to_owned);
        let error = |id: &Option<String>, text: &str| {
            let mut error = json!({ "type": "error", "payload": { "message": text } });
            if let Some(id) = id {
                error["id"] = json!(id);
            }
            error
        };
        match message.get("type").and_then(Value::as_str) {
            Some("connection_init") => {
                if self.init_received {
                    reply.send(json!({
                        "type": "connection_error",
                        "payload": { "message": "Too many initialisation requests" }
                    }));
                    return reply.close(close::TOO_MANY_INITS, "Too many initialisation requests");
                }
                self.init_received = true;
                match self.initialise(message.get("payload")).await {
                    Ok(()) => {
                        reply.send(json!({ "type": "connection_ack" }));
                        reply.send(json!({ "type": "ka" }));
                    }
                    Err((code, reason)) => {
                        reply.send(
                            json!({ "type": "connection_error", "payload": { "message": reason } }),
                        );
                        reply.close(code, reason);
                    }
                }
            }
            Some("start") => {
                let Some(id) = id.filter(|id| !id.is_empty()) else {
                    return reply.send(error(&None, "An operation id is required."));
                };
                let Some(payload) = message.get("payload").and_then(Value::as_object) else {
                    return reply.send(error(&Some(id), "payload must be an object"));
                };
                // Nothing is looked up or registered for a connection not initialised.
                if self.actor.is_none() {
                    return reply.close(close::UNAUTHORIZED, "Unauthorized");
                }
                let payload =
                    match self.state.persisted.resolve_params(payload).await {
                        Ok(payload) => payload,
                        Err(refusal) => return reply.send(
                            json!({ "id": id, "type": "error", "payload": refusal.error_json() }),
                        ),
                    };
                let request = match request_of(&payload) {
                    Ok(request) => request,
                    Err(reason) => return reply.send(error(&Some(id), reason)),
                };
                let span = self.operation_span(&id);
                let operation_span = span.clone();
                async {
                    match self.read_session().await {
                        Ok(()) => {}
                        Err(Stale::Close(code, reason)) => return reply.close(code, reason),
                        Err(Stale::Unreadable) => {
                            return reply.send(error(&Some(id), "Internal server error"))
                        }
                    }
                    // subscriptions-transport-ws replaces an operation started again.
                    if let Some(operation) = self.operations.remove(&id) {
                        operation.end(Outcome::Replaced);
                    }
                    if self.too_many_operations() {
                        return reply
                            .send(error(&Some(id), "too many operations on this connection"));
                    }
                    self.start(id, &payload, request, operation_span);
                }
                .instrument(span)
                .await
            }
            Some("stop") => {
                if let Some(id) = id {
                    if let Some(operation) = self.operations.remove(&id) {
                        operation.end(Outcome::Complete);
                        reply.send(json!({ "id": id, "type": "complete" }));
                    }
                }
            }
            Some("connection_terminate") => reply.close(close::NORMAL, "Terminated"),
            _ => reply.send(error(&id, "Invalid message type!")),
        }
    }

    fn on_operation(&mut self, id: String, mut item: OpItem, reply: &mut Reply) {
        if let OpItem::Response { response, .. } = &mut item {
            code_request_errors(response);
        }
        match (item, self.protocol) {
            (OpItem::Response { first, response }, Protocol::Transport) => {
                if first && is_request_error(&response) {
                    if let Some(operation) = self.operations.remove(&id) {
                        operation.end(Outcome::Error);
                    }
                    reply.send(
                        json!({ "id": id, "type": "error", "payload": errors_json(&response) }),
                    );
                } else {
                    reply.send(
                        json!({ "id": id, "type": "next", "payload": response_json(&response) }),
                    );
                }
            }
            (OpItem::Response { response, .. }, Protocol::Legacy) => {
                reply
                    .send(json!({ "id": id, "type": "data", "payload": response_json(&response) }));
            }
            (OpItem::Payload(payload), protocol) => {
                let kind = match protocol {
                    Protocol::Transport => "next",
                    Protocol::Legacy => "data",
                };
                reply
                    .messages
                    .push(Message::Text(message_around(&id, kind, &payload)));
            }
            (OpItem::End, _) => {
                // Removed now, so that the id is free again as soon as the client
                // reads `complete`.
                if let Some(operation) = self.operations.remove(&id) {
                    operation.end(Outcome::Done);
                }
                reply.send(json!({ "id": id, "type": "complete" }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_protocol_wins_when_both_are_offered() {
        assert_eq!(
            negotiate(Some("graphql-ws, graphql-transport-ws")),
            Some(Protocol::Transport)
        );
        assert_eq!(negotiate(Some("graphql-ws")), Some(Protocol::Legacy));
        assert_eq!(negotiate(Some("mqtt")), None);
        assert_eq!(negotiate(None), None);
    }

    #[test]
    fn tokens_come_from_the_init_payload() {
        assert_eq!(token_of(None), Ok(None));
        assert_eq!(token_of(Some(&json!({}))), Ok(None));
        assert_eq!(
            token_of(Some(&json!({ "token": "t" }))),
            Ok(Some("t".into()))
        );
        assert_eq!(
            token_of(Some(&json!({ "Authorization": "Bearer t" }))),
            Ok(Some("t".into()))
        );
        assert_eq!(
            token_of(Some(&json!({ "headers": { "authorization": "Bearer t" } }))),
            Ok(Some("t".into()))
        );
        assert_eq!(
            token_of(Some(&json!({ "Authorization": "Basic x" }))),
            Err(())
        );
        assert_eq!(token_of(Some(&json!({ "token": 5 }))), Err(()));
    }

    #[test]
    fn losing_a_grant_or_the_deputy_link_is_losing_rights() {
        use crate::auth::{Grant, Principal};
        use entity::Role;
        let grant = |role, station_id| Grant {
            role,
            station_id,
            department_id: None,
            township_id: None,
        };
        let actor = |grants: Vec<Grant>, deputy_id| {
            Actor::Account(Principal {
                account_id: 1,
                session_id: 2,
                login: "x".into(),
                display_name: "x".into(),
                deputy_id,
                grants,
            })
        };
        let both = actor(
            vec![grant(Role::Admin, None), grant(Role::StationStaff, Some(3))],
            None,
        );
        let admin = actor(vec![grant(Role::Admin, None)], None);
        assert!(lost_rights(&both, &admin));
        assert!(!lost_rights(&admin, &both), "a grant added is no loss");
        assert!(!lost_rights(&both, &both));
        let elsewhere = actor(
            vec![grant(Role::Admin, None), grant(Role::StationStaff, Some(4))],
            None,
        );
        assert!(lost_rights(&both, &elsewhere), "another scope is a loss");
        assert!(lost_rights(
            &admin,
            &actor(vec![grant(Role::Admin, None)], Some(5))
        ));
        assert!(lost_rights(&admin, &Actor::Anonymous));
        assert!(!lost_rights(&Actor::Anonymous, &admin));
    }

    #[test]
    fn request_payloads_are_checked() {
        let ok = json!({ "query": "{ x }", "variables": { "a": 1 }, "operationName": null });
        assert!(request_of(ok.as_object().expect("object")).is_ok());
        for bad in [
            json!({}),
            json!({ "query": 1 }),
            json!({ "query": "{ x }", "variables": [] }),
            json!({ "query": "{ x }", "operationName": 3 }),
        ] {
            assert!(
                request_of(bad.as_object().expect("object")).is_err(),
                "{bad}"
            );
        }
    }
}
