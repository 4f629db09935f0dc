//! Freshness and replay protection for `/wechat/callback`.
//!
//! A signed request is only as good as its `(timestamp, nonce)`: in plain mode (and for
//! the GET verification) the signature is `sha1(sort(token, timestamp, nonce))` and
//! covers **no part of the body**, so whoever sees one signed URL can post any body with
//! it. Two rules close that:
//!
//! * **Freshness** ([`is_fresh`]): the signed `timestamp` must lie within the window
//!   (`WECHAT_TIMESTAMP_WINDOW_SECS`, default ±300 s) of our clock.
//! * **One message per `(timestamp, nonce)`** ([`ReplayGuard`]): the first request
//!   that passes the signature check claims its pair for the message it carries (a
//!   fingerprint of the parsed message, or of `echostr` for the GET). The same pair
//!   with the same message again is a retry and goes on (the delivery dedupe answers
//!   it with the stored reply); the same pair with anything else is refused.
//!
//! Why not refuse every repeated pair: WeChat retries a push three times when it gets
//! no answer within 5 s, and its documentation does not promise fresh signature
//! parameters per attempt; a retry must still get its passive reply. Why the pair and
//! not the `(timestamp, nonce, signature)` triple or `msg_signature`: for a checked
//! request the plain signature is a function of the pair (so the triple names the same
//! thing), while keying safe mode on `msg_signature` would leave the plain `signature`
//! WeChat sends beside it reusable for a forged plain-mode POST in the same window.
//! Keyed on the pair, a safe-mode push and a plain-mode forgery collide and the second
//! is refused. A retry re-encrypted with a fresh random prefix has the same decrypted
//! message, so the fingerprint is taken after decryption and parsing.
//!
//! Claims live for twice the window (a pair whose timestamp is up to a window in the
//! future stays claimed until that timestamp is a window old), in Redis when configured
//! so that every replica shares them, and always in a bounded in-process cache too,
//! which answers alone while Redis is slow or down (Redis is reached through the
//! [`RedisGuard`]: a short timeout and a circuit breaker shared with the rate limiter).
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use sha2::{Digest, Sha256};

use crate::service::redis_guard::RedisGuard;

/// Default of `WECHAT_TIMESTAMP_WINDOW_SECS`.
pub const DEFAULT_WINDOW_SECS: u64 = 300;
/// In-process claims kept at most; beyond this the oldest go first.
const LOCAL_CAPACITY: usize = 100_000;

/// Whether the signed `timestamp` (decimal seconds) is within `window_secs` of `now`,
/// either way (clocks drift). Anything but 1 to 12 digits is not fresh.
pub fn is_fresh(timestamp: &str, now: i64, window_secs: u64) -> bool {
    if timestamp.is_empty()
        || timestamp.len() > 12
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    match timestamp.parse::<i64>() {
        Ok(ts) => now.abs_diff(ts) <= window_secs,
        Err(_) => false,
    }
}

/// A 32-byte digest (the claim's key, or the message's fingerprint).
pub type Hash = [u8; 32];

fn digest(parts: &[&str]) -> Hash {
    let mut hasher = Sha256::new();
    for part in parts {
        // Length-prefixed, so that no two different part lists hash the same input.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().into()
}

/// The claim's key: the signed request's `(timestamp, nonce)`.
pub fn request_key(timestamp: &str, nonce: &str) -> Hash {
    digest(&["wechat-request", timestamp, nonce])
}

/// Fingerprint of a POSTed message ([`crate::wechat::message::Inbound::canonical`]).
pub fn message_fingerprint(canonical: &str) -> Hash {
    digest(&["message", canonical])
}

/// Fingerprint of a GET verification (its `echostr`, which the signature does not cover).
pub fn echo_fingerprint(echostr: &str) -> Hash {
    digest(&["echo", echostr])
}

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

    #[test]
    fn freshness_window() {
        let now = 1_750_000_000;
        assert!(is_fresh("1750000000", now, 300));
        assert!(is_fresh("1749999700", now, 300));
        assert!(is_fresh("1750000300", now, 300));
        assert!(!is_fresh("1749999699", now, 300));
        assert!(!is_fresh("1750000301", now, 300));
        // Two years old.
        assert!(!is_fresh("1686928000", now, 300));
        for bad in [
            "",
            "abc",
            "-1",
            "+1750000000",
            " 1750000000",
            "1e9",
            "9999999999999",
        ] {
            assert!(!is_fresh(bad, now, 300), "{bad:?}");
        }
    }

    #[test]
    fn keys_and_fingerprints_are_unambiguous() {
        assert_ne!(request_key("12", "3"), request_key("1", "23"));
        assert_ne!(message_fingerprint("x"), echo_fingerprint("x"));
        assert_eq!(request_key("1", "2"), request_key("1", "2"));
    }

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
