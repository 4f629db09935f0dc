//! `/wechat/callback`'s claimed `(timestamp, nonce)` pairs: the first request that
//! passes the signature check claims its pair for the message it carries; see
//! `wechat::replay` for why the pair and why retries of the same message go on.
//! Claims live in Redis when configured (through the [`RedisGuard`]) and always in a
//! bounded in-process cache too, which answers alone while Redis is slow or down.
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

use crate::limits::redis_guard::RedisGuard;
use crate::wechat::replay::Hash;

/// In-process claims kept at most; beyond this the oldest go first.
const LOCAL_CAPACITY: usize = 100_000;

/// What a claim found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The pair was unused: it is now this message's.
    First,
    /// The pair was claimed by the same message: a retry.
    Retry,
    /// The pair was claimed by another message: refuse.
    Replay,
}

impl Claim {
    fn of(ours: &Hash, stored: &Hash, first: bool) -> Claim {
        if first {
            Claim::First
        } else if ours == stored {
            Claim::Retry
        } else {
            Claim::Replay
        }
    }
}

/// The replay cache. Cheap to clone; clones share it.
#[derive(Clone)]
pub struct ReplayGuard {
    local: Arc<Mutex<Local>>,
    /// The guarded connection and the key prefix (`{REDIS_CHANNEL_PREFIX}:wechat:replay:`).
    redis: Option<(RedisGuard, String)>,
    ttl: Duration,
}

impl std::fmt::Debug for ReplayGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayGuard")
            .field("redis", &self.redis.is_some())
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl ReplayGuard {
    /// Shares claims through Redis (keys under `{prefix}:wechat:replay:`) when given a
    /// guard. `window` is the timestamp window; claims live twice as long.
    pub fn new(redis: Option<RedisGuard>, prefix: &str, window: Duration) -> Self {
        let redis = redis.map(|guard| (guard, format!("{prefix}:wechat:replay:")));
        Self::with(redis, window, LOCAL_CAPACITY)
    }

    /// In-process only, holding at most `capacity` claims.
    pub fn in_process(window: Duration, capacity: usize) -> Self {
        Self::with(None, window, capacity)
    }

    fn with(redis: Option<(RedisGuard, String)>, window: Duration, capacity: usize) -> Self {
        ReplayGuard {
            local: Arc::new(Mutex::new(Local {
                claims: HashMap::new(),
                order: VecDeque::new(),
                capacity: capacity.max(1),
            })),
            redis,
            ttl: window.saturating_mul(2).max(Duration::from_secs(1)),
        }
    }

    /// Claims `key` for the message `fingerprint`.
    pub async fn claim(&self, key: &Hash, fingerprint: &Hash) -> Claim {
        if let Some((guard, prefix)) = &self.redis {
            let shared = guard
                .run("wechat replay claim", |connection| {
                    self.claim_in_redis(connection, prefix, key, fingerprint)
                })
                .await;
            if let Some((first, stored)) = shared {
                let claim = Claim::of(fingerprint, &stored, first);
                // Remember it here too, for when Redis is away. A claim this
                // replica made while it was (and Redis never saw) still counts.
                let local = self.with_local(|l| l.claim(key, &stored, Instant::now(), self.ttl));
                return match (claim, local) {
                    (Claim::Replay, _) | (_, Some(Claim::Replay)) => Claim::Replay,
                    _ => claim,
                };
            }
        }
        self.with_local(|l| l.claim(key, fingerprint, Instant::now(), self.ttl))
            // A poisoned lock means a panic elsewhere mid-update: refuse rather than
            // let replays through.
            .unwrap_or(Claim::Replay)
    }

    /// `SET key fingerprint NX EX ttl` and `GET key` in one transaction: whether we
    /// set it, and the fingerprint it holds.
    async fn claim_in_redis(
        &self,
        mut connection: ConnectionManager,
        prefix: &str,
        key: &Hash,
        fingerprint: &Hash,
    ) -> redis::RedisResult<(bool, Hash)> {
        let full = format!("{prefix}{}", hex::encode(key));
        let ours = hex::encode(fingerprint);
        let (set, stored): (Option<String>, Option<String>) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&full)
            .arg(&ours)
            .arg("NX")
            .arg("EX")
            .arg(self.ttl.as_secs().max(1))
            .cmd("GET")
            .arg(&full)
            .query_async(&mut connection)
            .await?;
        let stored = stored
            .as_deref()
            .and_then(|h| hex::decode(h).ok())
            .and_then(|bytes| Hash::try_from(bytes.as_slice()).ok())
            // Unreadable (or gone): only our own value is known to be safe to accept.
            .unwrap_or([0; 32]);
        Ok((set.is_some(), stored))
    }

    fn with_local<T>(&self, f: impl FnOnce(&mut Local) -> T) -> Option<T> {
        self.local.lock().ok().map(|mut local| f(&mut local))
    }
}

/// The in-process claims: a map, and the keys in insertion order (which is also expiry
/// order: every claim lives equally long) to expire and evict from the front.
struct Local {
    claims: HashMap<Hash, (Hash, Instant)>,
    order: VecDeque<(Hash, Instant)>,
    capacity: usize,
}

impl Local {
    fn claim(&mut self, key: &Hash, fingerprint: &Hash, now: Instant, ttl: Duration) -> Claim {
        while let Some((oldest, expires)) = self.order.front().copied() {
            if expires > now {
                break;
            }
            self.order.pop_front();
            self.claims.remove(&oldest);
        }
        if let Some((stored, _)) = self.claims.get(key) {
            return Claim::of(fingerprint, stored, false);
        }
        if self.claims.len() >= self.capacity {
            tracing::warn!(
                capacity = self.capacity,
                "wechat replay cache: in-process cache full, forgetting the oldest claim"
            );
            if let Some((oldest, _)) = self.order.pop_front() {
                self.claims.remove(&oldest);
            }
        }
        let expires = now + ttl;
        self.claims.insert(*key, (*fingerprint, expires));
        self.order.push_back((*key, expires));
        Claim::First
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wechat::replay::{message_fingerprint, request_key};

    #[tokio::test]
    async fn first_then_retry_then_replay() {
        let guard = ReplayGuard::in_process(Duration::from_secs(300), 100);
        let key = request_key("1750000000", "nonce");
        let (a, b) = (message_fingerprint("a"), message_fingerprint("b"));
        assert_eq!(guard.claim(&key, &a).await, Claim::First);
        assert_eq!(guard.claim(&key, &a).await, Claim::Retry);
        assert_eq!(guard.claim(&key, &b).await, Claim::Replay);
        // The first message keeps the pair.
        assert_eq!(guard.claim(&key, &a).await, Claim::Retry);
        let other = request_key("1750000000", "nonce2");
        assert_eq!(guard.claim(&other, &b).await, Claim::First);
        // Clones share the cache.
        assert_eq!(guard.clone().claim(&other, &a).await, Claim::Replay);
    }

    #[test]
    fn claims_expire_and_the_cache_is_bounded() {
        let mut local = Local {
            claims: HashMap::new(),
            order: VecDeque::new(),
            capacity: 3,
        };
        let ttl = Duration::from_secs(600);
        let t0 = Instant::now();
        let (a, b) = (message_fingerprint("a"), message_fingerprint("b"));
        let k = |i: u32| request_key(&i.to_string(), "n");
        assert_eq!(local.claim(&k(1), &a, t0, ttl), Claim::First);
        // Expired: the pair is free again (its timestamp is out of the window by then).
        assert_eq!(local.claim(&k(1), &b, t0 + ttl, ttl), Claim::First);
        assert_eq!(local.claims.len(), 1);
        for i in 2..=10 {
            assert_eq!(local.claim(&k(i), &a, t0 + ttl, ttl), Claim::First);
            assert!(local.claims.len() <= 3 && local.order.len() <= 3);
        }
        // The newest are kept, the oldest forgotten.
        assert_eq!(local.claim(&k(10), &b, t0 + ttl, ttl), Claim::Replay);
        assert_eq!(local.claim(&k(2), &b, t0 + ttl, ttl), Claim::First);
    }
}
