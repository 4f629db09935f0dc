//! One operation of a WebSocket connection, and the resolutions its subscribers share.
//!
//! An operation is first *planned*: run once through the schema with a [`Plan`] in its
//! context data. A query or a mutation simply runs and answers; a subscription
//! resolver checks its arguments and the actor and leaves its source of items in the
//! plan. The operation then follows that source, and each item is resolved by running
//! the operation again with the item [`Injected`].
//!
//! Subscribers of the same operation — the same payload (document, variables,
//! operation name) on sessions of the same account, or anonymously — share one
//! [`SharedOperation`]: an item is resolved and serialised once for all of them, and
//! each connection only wraps the shared payload in its own message. A subscriber
//! therefore costs its source and a few pointers while idle, and a county-wide event
//! followed by thousands of dashboards is resolved once, not thousands of times.
use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use async_graphql::{Data, ErrorExtensions, Pos, Response};
use futures_util::future::{BoxFuture, Shared};
use futures_util::stream::BoxStream;
use futures_util::{Future, FutureExt, Stream, StreamExt};
use serde_json::{Map, Value};

use super::request_of;
use crate::auth::{Actor, ClientInfo};
use crate::db::write::WriteWatch;
use crate::graphql::metrics::{self, TimeoutOutcome};
use crate::graphql::subscription::serving::{Injected, LiveItem, Plan, Source};
use crate::graphql::AppSchema;
use crate::http::write_outcome;

/// Resolutions each shared operation keeps, newest last: enough for every subscriber
/// of a burst to find the one it needs.
const RECENT: usize = 8;

/// A serialised `ExecutionResult` (`{"data": ..., "errors": [...]}`).
pub type Payload = Arc<str>;

/// A resolved item: its payload, and whether it carries errors (such a resolution is
/// not kept for other subscribers: the next one tries again).
#[derive(Clone)]
struct Resolved {
    payload: Payload,
    failed: bool,
}

type Resolution = Shared<BoxFuture<'static, Resolved>>;

/// What an operation produces, in order.
pub enum OpItem {
    /// An answer of the planning run: a query's or a mutation's result, or errors.
    Response {
        first: bool,
        response: Box<Response>,
    },
    /// One item of a subscription.
    Payload(Payload),
    End,
}

/// The process's shared operations, by account session and payload. Cheap to clone.
#[derive(Clone, Default)]
pub struct SharedOperations {
    map: Arc<Mutex<HashMap<String, Weak<SharedOperation>>>>,
    resolutions: Arc<AtomicU64>,
}

impl SharedOperations {
    /// Distinct operations followed now.
    pub fn len(&self) -> usize {
        let map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.values().filter(|op| op.strong_count() > 0).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Items resolved so far (once per shared operation and item).
    pub fn resolutions(&self) -> u64 {
        self.resolutions.load(Ordering::Relaxed)
    }

    fn share(&self, key: String, seed: Seed) -> Arc<SharedOperation> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(op) = map.get(&key).and_then(Weak::upgrade) {
            return op;
        }
        let op = Arc::new(SharedOperation {
            key: key.clone(),
            seed,
            recent: Mutex::new(VecDeque::new()),
            registry: Arc::downgrade(&self.map),
            resolutions: self.resolutions.clone(),
        });
        map.insert(key, Arc::downgrade(&op));
        op
    }
}

/// Everything needed to run an operation again.
struct Seed {
    payload: Map<String, Value>,
    actor: Actor,
    client: ClientInfo,
    schema: AppSchema,
    session: Arc<Data>,
}

/// One operation as followed by all its subscribers in this process.
pub struct SharedOperation {
    key: String,
    seed: Seed,
    recent: Mutex<VecDeque<(u64, Resolution)>>,
    registry: Weak<Mutex<HashMap<String, Weak<SharedOperation>>>>,
    resolutions: Arc<AtomicU64>,
}

impl Drop for SharedOperation {
    fn drop(&mut self) {
        if let Some(map) = self.registry.upgrade() {
            let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
            if map.get(&self.key).is_some_and(|op| op.strong_count() == 0) {
                map.remove(&self.key);
            }
        }
    }
}

fn internal_error_payload() -> Payload {
    Arc::from(
        r#"{"data":null,"errors":[{"message":"Internal server error","extensions":{"code":"INTERNAL"}}]}"#,
    )
}

impl SharedOperation {
    /// `item` resolved with the operation's selection set; resolved once however many
    /// subscribers ask.
    fn resolve(&self, item: LiveItem) -> Resolution {
        let key = item.key();
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, resolution)) = recent.iter().find(|(k, _)| *k == key) {
            return resolution.clone();
        }
        let seed = &self.seed;
        // The future owns what it needs (never `self`: it is kept in `recent`).
        let request = request_of(&seed.payload).map(|request| {
            request
                .data(seed.actor.clone())
                .data(seed.client.clone())
                .data(Injected(item))
        });
        let schema = seed.schema.clone();
        let session = seed.session.clone();
        self.resolutions.fetch_add(1, Ordering::Relaxed);
        let resolution = async move {
            let failed = Resolved {
                payload: internal_error_payload(),
                failed: true,
            };
            let Ok(request) = request else {
                return failed;
            };
            let response = schema
                .execute_stream_with_session_data(request, session)
                .next()
                .await;
            let Some(response) = response else {
                return failed;
            };
            match serde_json::to_string(&response) {
                Ok(json) => Resolved {
                    payload: Arc::from(json),
                    failed: response.is_err(),
                },
                Err(_) => failed,
            }
        }
        .boxed()
        .shared();
        recent.push_back((key, resolution.clone()));
        if recent.len() > RECENT {
            recent.pop_front();
        }
        resolution
    }

    /// Drops a failed resolution of item `key`: the next subscriber resolves it anew.
    fn forget(&self, key: u64, resolution: &Resolution) {
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent.retain(|(k, r)| !(*k == key && r.ptr_eq(resolution)));
    }
}

/// How an operation is shared, given to [`Operation::plan`].
pub struct Sharing {
    pub registry: SharedOperations,
    pub schema: AppSchema,
    pub session: Arc<Data>,
    pub actor: Actor,
    pub client: ClientInfo,
    pub payload: Map<String, Value>,
}

impl Sharing {
    fn key(&self) -> String {
        // The account's session and grants: two subscribers share only when every
        // resolver would see the same actor.
        let who = match &self.actor {
            Actor::Anonymous => String::new(),
            Actor::Account(p) => format!("{}:{}:{:?}", p.account_id, p.session_id, p.grants),
        };
        let payload = serde_json::to_string(&self.payload).unwrap_or_default();
        format!("{who}\n{payload}")
    }

    fn into_shared(self) -> Arc<SharedOperation> {
        let key = self.key();
        let registry = self.registry.clone();
        registry.share(
            key,
            Seed {
                payload: self.payload,
                actor: self.actor,
                client: self.client,
                schema: self.schema,
                session: self.session,
            },
        )
    }
}

/// One operation of one connection: it runs inside its span, and writes its access
/// line when it ends.
pub struct Operation {
    run: Run,
    log: OperationLog,
}

/// How an operation ended, for its access line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The client's `complete` (`stop` in the legacy protocol).
    Complete,
    /// The server's `complete`: the answer was sent, or the subscription's source ended.
    Done,
    /// Refused with an `error` message.
    Error,
    /// Started again under the same id (legacy protocol).
    Replaced,
    /// Still running when the connection closed.
    Closed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Complete => "complete",
            Outcome::Done => "done",
            Outcome::Error => "error",
            Outcome::Replaced => "replaced",
            Outcome::Closed => "closed",
        }
    }
}

/// An operation's span (the connection's request id, the operation id, the operation's
/// name once parsed, the account) and its access line, written when it is dropped.
pub struct OperationLog {
    span: tracing::Span,
    started: std::time::Instant,
    /// `ACCESS_LOG` chose this operation for a line.
    logged: bool,
    outcome: Outcome,
}

impl OperationLog {
    pub fn new(span: tracing::Span, logged: bool) -> Self {
        OperationLog {
            span,
            started: std::time::Instant::now(),
            logged,
            outcome: Outcome::Closed,
        }
    }
}

impl Drop for OperationLog {
    fn drop(&mut self) {
        if self.logged {
            let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let outcome = self.outcome.as_str();
            self.span.in_scope(|| {
                tracing::info!(target: "smart_npc::access", outcome, ms, "ws operation");
            });
        }
    }
}

impl Operation {
    /// The operation's span, to handle its messages in.
    pub fn span(&self) -> &tracing::Span {
        &self.log.span
    }

    /// Ends the operation (dropping it) with `outcome` on its access line.
    pub fn end(mut self, outcome: Outcome) {
        self.log.outcome = outcome;
    }
}

impl Stream for Operation {
    type Item = OpItem;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<OpItem>> {
        let Operation { run, log } = self.get_mut();
        let _entered = log.span.enter();
        run.poll_next_unpin(cx)
    }
}

/// The operation's state machine.
struct Run {
    phase: Phase,
}

enum Phase {
    Planning {
        responses: BoxStream<'static, Response>,
        plan: Plan,
        answered: bool,
        sharing: Box<Sharing>,
        deadline: Pin<Box<tokio::time::Sleep>>,
        /// `REQUEST_TIMEOUT_MS`.
        period: Duration,
        /// The operation's writes (one with a write open or committed gets one more
        /// period: see `http::write_outcome`), and whether the first period is over.
        writes: WriteWatch,
        past_deadline: bool,
    },
    Following {
        shared: Arc<SharedOperation>,
        source: Source,
        resolving: Option<(u64, Resolution)>,
    },
    /// `End` is next.
    Ending,
    Done,
}

fn error_response(error: async_graphql::Error) -> Box<Response> {
    Box::new(Response::from_errors(vec![
        error.into_server_error(Pos::default())
    ]))
}

impl Operation {
    /// Plans the operation (`request` carries the actor and client already). A query
    /// or mutation still running after `timeout` is dropped and answers `TIMEOUT`,
    /// unless a write of it is open or committed: that one gets one more `timeout`
    /// (see `http::write_outcome`); a subscription's planning is only
    /// its resolver's checks, after which it follows its source for as long as wanted.
    pub fn plan(request: async_graphql::Request, sharing: Sharing, timeout: Duration) -> Self {
        let plan = Plan::default();
        let responses = sharing
            .schema
            .execute_stream_with_session_data(request.data(plan.clone()), sharing.session.clone());
        Operation {
            run: Run {
                phase: Phase::Planning {
                    responses,
                    plan,
                    answered: false,
                    sharing: Box::new(sharing),
                    deadline: Box::pin(tokio::time::sleep(timeout)),
                    period: timeout,
                    writes: WriteWatch::new(),
                    past_deadline: false,
                },
            },
            log: OperationLog::new(tracing::Span::none(), false),
        }
    }

    /// Runs under `log`'s span and writes its access line (before the first poll: the
    /// schema runs only when polled).
    pub fn logged(mut self, log: OperationLog) -> Self {
        self.log = log;
        self
    }
}

fn timeout_response(write_committed: bool) -> Box<Response> {
    let error = async_graphql::Error::new(write_outcome::timeout_message(write_committed))
        .extend_with(|_, e| {
            e.set("code", "TIMEOUT");
            if write_committed {
                e.set("writeCommitted", true);
            }
        });
    error_response(error)
}

impl Stream for Run {
    type Item = OpItem;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<OpItem>> {
        let this = self.get_mut();
        loop {
            match &mut this.phase {
                Phase::Planning {
                    responses,
                    plan,
                    answered,
                    deadline,
                    period,
                    writes,
                    past_deadline,
                    ..
                } => match writes.sync_scope(|| responses.poll_next_unpin(cx)) {
                    Poll::Pending => {
                        if *answered || deadline.as_mut().poll(cx).is_pending() {
                            return Poll::Pending;
                        }
                        if !*past_deadline && writes.writing() {
                            // A write is open or committed: one more period to answer
                            // with what it wrote (see `http::write_outcome::within`).
                            *past_deadline = true;
                            metrics::timed_out(TimeoutOutcome::WaitedForWrite);
                            tracing::warn!("operation over WebSocket ran past its timeout while writing; waiting one more period for its answer");
                            deadline
                                .as_mut()
                                .reset(tokio::time::Instant::now() + *period);
                            let _waiting = deadline.as_mut().poll(cx);
                            return Poll::Pending;
                        }
                        if !*past_deadline {
                            metrics::timed_out(TimeoutOutcome::Stopped);
                        }
                        tracing::warn!("operation over WebSocket timed out");
                        let write_committed = writes.committed();
                        this.phase = Phase::Ending;
                        return Poll::Ready(Some(OpItem::Response {
                            first: true,
                            response: timeout_response(write_committed),
                        }));
                    }
                    Poll::Ready(Some(mut response)) => {
                        write_outcome::mark_committed(&mut response, writes);
                        let first = !*answered;
                        *answered = true;
                        return Poll::Ready(Some(OpItem::Response {
                            first,
                            response: Box::new(response),
                        }));
                    }
                    Poll::Ready(None) => {
                        let (source, answered) = (plan.take(), *answered);
                        let Phase::Planning { sharing, .. } =
                            std::mem::replace(&mut this.phase, Phase::Ending)
                        else {
                            unreachable!("in the planning phase")
                        };
                        match source {
                            Some(source) if !answered => {
                                this.phase = Phase::Following {
                                    shared: sharing.into_shared(),
                                    source,
                                    resolving: None,
                                };
                            }
                            Some(_) | None if answered => {}
                            _ => {
                                // Nothing answered and nothing to follow: a subscription
                                // selecting several root fields.
                                let mut error = async_graphql::Error::new(
                                    "订阅只能选择一个字段 (a subscription selects exactly one field)",
                                );
                                error = error.extend_with(|_, e| e.set("code", "BAD_REQUEST"));
                                return Poll::Ready(Some(OpItem::Response {
                                    first: true,
                                    response: error_response(error),
                                }));
                            }
                        }
                    }
                },
                Phase::Following {
                    shared,
                    source,
                    resolving,
                } => {
                    if let Some((key, resolution)) = resolving {
                        let resolved = std::task::ready!(resolution.poll_unpin(cx));
                        if resolved.failed {
                            shared.forget(*key, resolution);
                        }
                        *resolving = None;
                        return Poll::Ready(Some(OpItem::Payload(resolved.payload)));
                    }
                    match std::task::ready!(source.poll_next_unpin(cx)) {
                        Some(Ok(item)) => *resolving = Some((item.key(), shared.resolve(item))),
                        Some(Err(e)) => {
                            this.phase = Phase::Ending;
                            return Poll::Ready(Some(OpItem::Response {
                                first: false,
                                response: error_response(e.into_graphql()),
                            }));
                        }
                        None => this.phase = Phase::Ending,
                    }
                }
                Phase::Ending => {
                    this.phase = Phase::Done;
                    return Poll::Ready(Some(OpItem::End));
                }
                Phase::Done => return Poll::Ready(None),
            }
        }
    }
}

/// `{"id": id, "type": kind, "payload": payload}` around an already serialised payload.
pub fn message_around(id: &str, kind: &str, payload: &str) -> String {
    let id = serde_json::to_string(id).unwrap_or_else(|_| "\"\"".into());
    format!(r#"{{"id":{id},"type":"{kind}","payload":{payload}}}"#)
}
