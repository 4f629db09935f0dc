//! Fixed-window counters for abuse limits. Backed by Redis when configured, so that
//! every replica shares the counts; in-process otherwise. Each process remembers what
//! Redis last said, so that while Redis is slow or unreachable the limits still hold
//! per replica, counting on from the hits made before it stopped. Redis is reached
//! through the [`RedisGuard`]: a short timeout and a circuit breaker, so that a hung
//! Redis does not hold up sign-ins and anonymous submissions.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{AppError, AppResult};
use crate::limits::redis_guard::RedisGuard;

#[derive(Clone)]
pub struct RateLimiter {
    local: Arc<Mutex<HashMap<String, Window>>>,
    /// The guarded connection and the key prefix (`{REDIS_CHANNEL_PREFIX}:ratelimit:`).
    redis: Option<(RedisGuard, String)>,
}

#[derive(Clone, Copy, Debug)]
struct Window {
    ends: Instant,
    count: u64,
}

/// Beyond this many live keys the in-process table drops expired windows.
const PRUNE_AT: usize = 10_000;

fn limited(retry_after: Duration) -> AppError {
    let secs = retry_after.as_secs().max(1);
    AppError::RateLimited {
        message: format!("操作过于频繁,请{secs}秒后再试 (too many attempts; retry in {secs} s)"),
        retry_after_secs: secs,
    }
}

impl RateLimiter {
    /// Shares counts through Redis (keys under `{prefix}:ratelimit:`) when given a guard.
    pub fn new(redis: Option<RedisGuard>, prefix: &str) -> Self {
        RateLimiter {
            local: Arc::new(Mutex::new(HashMap::new())),
            redis: redis.map(|guard| (guard, format!("{prefix}:ratelimit:"))),
        }
    }

    pub fn in_process() -> Self {
        RateLimiter {
            local: Arc::new(Mutex::new(HashMap::new())),
            redis: None,
        }
    }

    /// Counts one hit; `RATE_LIMITED` once `key` has more than `limit` in `window`.
    pub async fn hit(&self, key: &str, limit: u64, window: Duration) -> AppResult<()> {
        let (count, remaining) = self.count(key, window, 1).await;
        if count > limit {
            Err(limited(remaining))
        } else {
            Ok(())
        }
    }

    /// Gives back one hit of `key` (a reservation made by [`RateLimiter::hit`] for
    /// something that then did not happen), never below zero in this process.
    pub async fn release(&self, key: &str, window: Duration) {
        self.count(key, window, -1).await;
    }

    /// `RATE_LIMITED` when `key` already reached `limit` (without counting).
    pub async fn check(&self, key: &str, limit: u64, window: Duration) -> AppResult<()> {
        let (count, remaining) = self.count(key, window, 0).await;
        if count >= limit {
            Err(limited(remaining))
        } else {
            Ok(())
        }
    }

    pub async fn reset(&self, key: &str) {
        if let Some((guard, prefix)) = &self.redis {
            let command = redis::cmd("DEL").arg(format!("{prefix}{key}")).to_owned();
            guard
                .run("rate limit reset", |mut connection| async move {
                    command.query_async::<()>(&mut connection).await
                })
                .await;
        }
        if let Ok(mut local) = self.local.lock() {
            local.remove(key);
        }
    }

    /// Adds `by` to the window's count; returns the count and the time left.
    ///
    /// While Redis answers, its count (across replicas) is the answer, and this process
    /// remembers it with the key's remaining time. When Redis stops answering in the
    /// middle of a window, counting goes on here from what Redis last said, so the hits
    /// already made still count and the per-replica limit holds at once instead of
    /// starting again from zero. A reset elsewhere reaches this copy with the next
    /// answer from Redis.
    async fn count(&self, key: &str, window: Duration, by: i64) -> (u64, Duration) {
        match self.count_shared(key, window, by).await {
            Some(shared) => {
                self.remember(key, shared);
                shared
            }
            None => self.count_locally(key, window, by),
        }
    }

    /// Keeps Redis's answer as this process's count of `key` (nothing for a key never hit).
    fn remember(&self, key: &str, (count, remaining): (u64, Duration)) {
        let Ok(mut local) = self.local.lock() else {
            return;
        };
        if count == 0 {
            local.remove(key);
            return;
        }
        local.insert(
            key.to_owned(),
            Window {
                ends: Instant::now() + remaining,
                count,
            },
        );
    }

    /// The count across replicas; `None` without Redis or while it does not answer.
    async fn count_shared(&self, key: &str, window: Duration, by: i64) -> Option<(u64, Duration)> {
        let (guard, prefix) = self.redis.as_ref()?;
        let full = format!("{prefix}{key}");
        let millis = window.as_millis().max(1) as u64;
        let pipe = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&full)
            .arg(0)
            .arg("NX")
            .arg("PX")
            .arg(millis)
            .ignore()
            .cmd("INCRBY")
            .arg(&full)
            .arg(by)
            .cmd("PTTL")
            .arg(&full)
            .to_owned();
        let (count, ttl) = guard
            .run("rate limit", |mut connection| async move {
                pipe.query_async::<(i64, i64)>(&mut connection).await
            })
            .await?;
        Some((
            count.max(0) as u64,
            Duration::from_millis(ttl.max(0) as u64),
        ))
    }

    fn count_locally(&self, key: &str, window: Duration, by: i64) -> (u64, Duration) {
        let now = Instant::now();
        let Ok(mut local) = self.local.lock() else {
            return (0, Duration::ZERO);
        };
        if local.len() > PRUNE_AT {
            local.retain(|_, w| w.ends > now);
        }
        let entry = local.entry(key.to_owned()).or_insert(Window {
            ends: now + window,
            count: 0,
        });
        if entry.ends <= now {
            *entry = Window {
                ends: now + window,
                count: 0,
            };
        }
        entry.count = entry.count.saturating_add_signed(by);
        (entry.count, entry.ends.saturating_duration_since(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_limit_plus_one_is_refused_with_retry_after() {
        let limiter = RateLimiter::in_process();
        let window = Duration::from_secs(60);
        for _ in 0..3 {
            limiter.hit("k", 3, window).await.expect("within the limit");
        }
        let err = limiter
            .hit("k", 3, window)
            .await
            .expect_err("over the limit");
        match err {
            AppError::RateLimited {
                retry_after_secs, ..
            } => assert!((1..=60).contains(&retry_after_secs)),
            other => panic!("{other:?}"),
        }
        limiter
            .hit("other", 3, window)
            .await
            .expect("keys are independent");
        limiter.release("k", window).await;
        limiter.release("k", window).await;
        limiter
            .hit("k", 3, window)
            .await
            .expect("two hits given back");
        limiter.reset("k").await;
        limiter
            .hit("k", 3, window)
            .await
            .expect("reset clears the window");
    }

    #[tokio::test]
    async fn windows_expire() {
        let limiter = RateLimiter::in_process();
        let window = Duration::from_millis(30);
        limiter.hit("k", 1, window).await.expect("first");
        assert!(limiter.hit("k", 1, window).await.is_err());
        tokio::time::sleep(Duration::from_millis(40)).await;
        limiter.hit("k", 1, window).await.expect("a new window");
    }

    #[tokio::test]
    async fn check_does_not_count() {
        let limiter = RateLimiter::in_process();
        let window = Duration::from_secs(60);
        for _ in 0..10 {
            limiter
                .check("k", 2, window)
                .await
                .expect("checks are free");
        }
        limiter.hit("k", 2, window).await.expect("1");
        limiter.hit("k", 2, window).await.expect("2");
        assert!(limiter.check("k", 2, window).await.is_err());
    }
}
