//! Redis on a request's path (rate-limit counters, WeChat replay claims): a short
//! timeout and a circuit breaker, so that a hung or lost Redis costs a request at most
//! one short wait, once, instead of Redis's own timeouts on every call.
//!
//! Closed: calls go to Redis, each bounded by `REDIS_TIMEOUT_MS`. The first one that
//! fails or times out opens the breaker: for `REDIS_BREAKER_COOLDOWN_MS` every caller
//! falls back at once (the rate limiter counts in-process, the replay cache checks
//! in-process). After the cool-down the next caller still falls back, and starts one
//! probe (`PING`, same timeout) in the background: an answer closes the breaker, none
//! opens it for another cool-down. So no request ever waits on Redis while it is known
//! to be slow or down. Each fallback is counted ([`RedisGuard::status`], shown by
//! `/readyz`) and each change of state logged.
//!
//! Why hand-written: the maintained crate for this (`failsafe`) admits every call while
//! half-open, so a burst arriving after the cool-down would all wait on a Redis that
//! may still hang; and its calls are the protected operations themselves, where we
//! want the probe off the request path. What is needed is the small state machine
//! below.
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use redis::RedisResult;

use crate::events::EventBus;

/// The shared Redis connection, behind a timeout and a circuit breaker. Cheap to clone;
/// clones share the breaker.
#[derive(Clone)]
pub struct RedisGuard {
    inner: Arc<Inner>,
}

struct Inner {
    connection: ConnectionManager,
    timeout: Duration,
    breaker: Mutex<Breaker>,
    fallbacks: AtomicU64,
}

/// What `/readyz` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuardStatus {
    pub circuit: Circuit,
    /// Calls that went on without Redis since the start.
    pub fallbacks: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Circuit {
    Closed,
    Open,
    /// Open, with a probe in flight.
    Probing,
}

impl Circuit {
    pub fn as_str(self) -> &'static str {
        match self {
            Circuit::Closed => "closed",
            Circuit::Open => "open",
            Circuit::Probing => "probing",
        }
    }
}

/// Why a call went without Redis.
#[derive(Debug)]
enum Fault {
    Timeout(Duration),
    Failed(redis::RedisError),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Timeout(after) => write!(f, "no answer within {} ms", after.as_millis()),
            Fault::Failed(e) => write!(f, "{e}"),
        }
    }
}

impl RedisGuard {
    /// The guard over the bus's Redis connection, when the bus is Redis.
    pub fn for_bus(bus: &EventBus, timeout: Duration, cooldown: Duration) -> Option<Self> {
        match bus {
            EventBus::Redis(redis) => Some(Self::new(redis.connection.clone(), timeout, cooldown)),
            EventBus::InProcess => None,
        }
    }

    pub fn new(connection: ConnectionManager, timeout: Duration, cooldown: Duration) -> Self {
        RedisGuard {
            inner: Arc::new(Inner {
                connection,
                timeout,
                breaker: Mutex::new(Breaker::new(cooldown)),
                fallbacks: AtomicU64::new(0),
            }),
        }
    }

    /// Runs `call` on the connection, unless the breaker is open. `None`: go on without
    /// Redis (`purpose` names the caller in the logs).
    pub async fn run<T, F, Fut>(&self, purpose: &'static str, call: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        match self.breaker().admit(Instant::now()) {
            Admit::Call => {}
            Admit::Fallback => return self.fall_back(purpose),
            Admit::FallbackAndProbe => {
                self.spawn_probe();
                return self.fall_back(purpose);
            }
        }
        let outcome = tokio::time::timeout(self.inner.timeout, call(self.inner.connection.clone()))
            .await
            .map_err(|_| Fault::Timeout(self.inner.timeout))
            .and_then(|answer| answer.map_err(Fault::Failed));
        match outcome {
            Ok(value) => {
                if self.breaker().succeeded() {
                    tracing::info!(
                        "Redis answers again: shared rate limits and replay claims resume"
                    );
                }
                Some(value)
            }
            Err(Fault::Failed(e)) if redis_answered(&e) => {
                // Redis is there; this call went wrong (a bug, not an outage).
                tracing::error!(purpose, error = %e, "Redis refused a command");
                self.fall_back(purpose)
            }
            Err(fault) => {
                self.failed(purpose, &fault);
                self.fall_back(purpose)
            }
        }
    }

    pub fn status(&self) -> GuardStatus {
        GuardStatus {
            circuit: self.breaker().circuit(),
            fallbacks: self.inner.fallbacks.load(Ordering::Relaxed),
        }
    }

    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        // The breaker's state is valid whatever a panicking holder did.
        self.inner
            .breaker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn fall_back<T>(&self, purpose: &'static str) -> Option<T> {
        self.inner.fallbacks.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(purpose, "Redis unavailable: going on in-process");
        None
    }

    fn failed(&self, purpose: &'static str, fault: &Fault) {
        let cooldown = {
            let mut breaker = self.breaker();
            breaker.failed(Instant::now()).then_some(breaker.cooldown)
        };
        if let Some(cooldown) = cooldown {
            tracing::warn!(
                purpose,
                fault = %fault,
                cooldown_ms = cooldown.as_millis() as u64,
                "Redis is slow or down: rate limits and WeChat replay claims are per process until it answers again"
            );
        }
    }

    /// One `PING` in the background: its answer decides whether the breaker closes.
    fn spawn_probe(&self) {
        let guard = self.clone();
        tokio::spawn(async move {
            let mut connection = guard.inner.connection.clone();
            let ping = redis::cmd("PING");
            let answer = tokio::time::timeout(
                guard.inner.timeout,
                ping.query_async::<String>(&mut connection),
            )
            .await;
            match answer {
                Ok(Ok(_)) => {
                    guard.breaker().succeeded();
                    tracing::info!(
                        "Redis answers again: shared rate limits and replay claims resume"
                    );
                }
                Ok(Err(e)) => {
                    guard.breaker().failed(Instant::now());
                    tracing::debug!(error = %e, "Redis probe failed; trying again after the cool-down");
                }
                Err(_) => {
                    guard.breaker().failed(Instant::now());
                    tracing::debug!("Redis probe timed out; trying again after the cool-down");
                }
            }
        });
    }
}

/// Whether the error is Redis's own answer (so Redis is up), not a lost or broken
/// connection.
fn redis_answered(e: &redis::RedisError) -> bool {
    use redis::{ErrorKind, ServerErrorKind};
    matches!(
        e.kind(),
        ErrorKind::Server(ServerErrorKind::ResponseError)
            | ErrorKind::UnexpectedReturnType
            | ErrorKind::Parse
    )
}

/// The breaker's state machine, clocked by the caller.
#[derive(Debug)]
struct Breaker {
    state: State,
    cooldown: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    Open { until: Instant },
    Probing,
}

#[derive(Debug, PartialEq, Eq)]
enum Admit {
    Call,
    Fallback,
    /// Fall back, and start the one probe.
    FallbackAndProbe,
}

impl Breaker {
    fn new(cooldown: Duration) -> Self {
        Breaker {
            state: State::Closed,
            cooldown,
        }
    }

    fn admit(&mut self, now: Instant) -> Admit {
        match self.state {
            State::Closed => Admit::Call,
            State::Open { until } if now >= until => {
                self.state = State::Probing;
                Admit::FallbackAndProbe
            }
            State::Open { .. } | State::Probing => Admit::Fallback,
        }
    }

    /// A call or probe failed: open for a cool-down. True when it was closed.
    fn failed(&mut self, now: Instant) -> bool {
        let was_closed = self.state == State::Closed;
        self.state = State::Open {
            until: now + self.cooldown,
        };
        was_closed
    }

    /// A call or probe answered: close. True when it was not closed.
    fn succeeded(&mut self) -> bool {
        let was_open = self.state != State::Closed;
        self.state = State::Closed;
        was_open
    }

    fn circuit(&self) -> Circuit {
        match self.state {
            State::Closed => Circuit::Closed,
            State::Open { .. } => Circuit::Open,
            State::Probing => Circuit::Probing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_on_a_failure_and_probes_once_after_the_cooldown() {
        let cooldown = Duration::from_secs(5);
        let mut breaker = Breaker::new(cooldown);
        let t0 = Instant::now();
        assert_eq!(breaker.admit(t0), Admit::Call);
        assert!(breaker.failed(t0), "closed -> open");
        assert_eq!(breaker.circuit(), Circuit::Open);
        // During the cool-down every caller falls back at once.
        assert_eq!(breaker.admit(t0 + Duration::from_secs(1)), Admit::Fallback);
        assert_eq!(breaker.admit(t0 + cooldown), Admit::FallbackAndProbe);
        // While the probe is out, nobody else probes or calls.
        assert_eq!(breaker.admit(t0 + cooldown), Admit::Fallback);
        assert_eq!(breaker.circuit(), Circuit::Probing);
        // The probe fails: another cool-down from then.
        let t1 = t0 + cooldown + Duration::from_millis(150);
        assert!(!breaker.failed(t1), "already open");
        assert_eq!(breaker.admit(t1 + Duration::from_secs(4)), Admit::Fallback);
        assert_eq!(breaker.admit(t1 + cooldown), Admit::FallbackAndProbe);
        // The probe answers: closed, calls go to Redis again.
        assert!(breaker.succeeded());
        assert_eq!(breaker.admit(t1 + cooldown), Admit::Call);
        assert!(!breaker.succeeded(), "already closed");
    }
}
