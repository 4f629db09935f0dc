//! The app's sense of "now": the system clock, shifted by an offset that only tests
//! move. Code whose outcome depends on time passing (token and session expiry, the
//! supervision job's deadlines) reads it here, so a test can advance time instead of
//! sleeping through it.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Cheap to clone; clones share one offset, so advancing a test's copy moves the
/// running app's time too.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Milliseconds added to the system time; zero unless a test advanced it.
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        let offset = chrono::Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst));
        Utc::now()
            .checked_add_signed(offset)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Sets this clock (and every clone of it) to `at`, from where it runs on: for
    /// tests that need a time of day.
    pub fn set(&self, at: DateTime<Utc>) {
        let ms = (at - Utc::now()).num_milliseconds();
        self.offset_ms.store(ms, Ordering::SeqCst);
    }

    /// Moves this clock (and every clone of it) forward: for tests.
    pub fn advance(&self, by: Duration) {
        // Bounded so that `now` stays representable however far a test goes.
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
        self.offset_ms
            .fetch_add(ms.min(i64::MAX / 4), Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_advance_together() {
        let clock = Clock::system();
        let copy = clock.clone();
        let before = clock.now();
        copy.advance(Duration::from_secs(3600));
        let after = clock.now();
        assert!(after - before >= chrono::Duration::seconds(3600));
        assert!(after - before < chrono::Duration::seconds(3660));
        let at = DateTime::parse_from_rfc3339("2026-12-03T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        copy.set(at);
        let now = clock.now();
        assert!((now - at).num_seconds().abs() < 60, "{now}");
    }
}
