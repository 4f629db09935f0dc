//! Concurrent WebSocket connections per client address (`WS_MAX_CONNECTIONS_PER_ADDRESS`),
//! counted by the transport that owns the connections.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Concurrent WebSocket connections per client address.
#[derive(Clone)]
pub struct ConnectionLimiter {
    max: usize,
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

/// One counted connection; released when dropped.
pub struct ConnectionPermit {
    address: String,
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

impl ConnectionLimiter {
    pub fn new(max: usize) -> Self {
        ConnectionLimiter {
            max,
            counts: Arc::default(),
        }
    }

    pub fn try_acquire(&self, address: &str) -> Option<ConnectionPermit> {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = counts.entry(address.to_owned()).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(ConnectionPermit {
            address: address.to_owned(),
            counts: self.counts.clone(),
        })
    }

    pub fn open_from(&self, address: &str) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(address)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_permits_are_counted_per_address() {
        let limiter = ConnectionLimiter::new(2);
        let a1 = limiter.try_acquire("a").expect("first");
        let _a2 = limiter.try_acquire("a").expect("second");
        assert!(
            limiter.try_acquire("a").is_none(),
            "third is over the limit"
        );
        let _b = limiter.try_acquire("b").expect("other address");
        drop(a1);
        assert_eq!(limiter.open_from("a"), 1);
        assert!(limiter.try_acquire("a").is_some());
    }
}
