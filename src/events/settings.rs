//! Settings of the live-update machinery and of `/graphql/ws`, read from environment
//! variables with defaults sized for many idle subscribers on a small machine.
use std::time::Duration;

/// Tunables of the outbox relay, the fan-out hub and the WebSocket transport.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveSettings {
    /// `WS_INIT_TIMEOUT_MS`: a connection must send `connection_init` within this time
    /// (graphql-transport-ws closes it with 4408 otherwise).
    pub init_timeout: Duration,
    /// `WS_MAX_SUBSCRIPTIONS_PER_CONNECTION`: concurrent operations on one connection.
    pub max_operations_per_connection: usize,
    /// `WS_MAX_CONNECTIONS_PER_ADDRESS`: concurrent WebSocket connections per client
    /// address (HTTP 429 beyond it).
    pub max_connections_per_address: usize,
    /// `WS_KEEPALIVE_SECS`: how often an idle connection is pinged; a peer silent for
    /// three intervals is dropped.
    pub keepalive: Duration,
    /// `WS_BUFFER_BYTES`: the WebSocket read buffer of each connection.
    pub buffer_bytes: usize,
    /// `WS_MAX_MESSAGE_BYTES`: the largest message a client may send.
    pub max_message_bytes: usize,
    /// `WS_SEND_TIMEOUT_MS`: how long a message to the client may wait for the peer to
    /// take it; a peer that stops reading is dropped then (and its operations with it,
    /// so no write transaction waits on a socket).
    pub send_timeout: Duration,
    /// `LIVE_SUBSCRIBER_BUFFER`: events queued per subscriber before it counts as
    /// lagging (a lagging subscriber is caught up from the database).
    pub subscriber_buffer: usize,
    /// `LIVE_FANOUT_BATCH`: subscribers the hub wakes for an event before it lets the
    /// runtime run other ready work (queries, mutations); see `hub.rs`.
    pub fanout_batch: usize,
    /// `OUTBOX_POLL_MS`: how often the relay looks for unpublished events when no local
    /// commit woke it (events written by other processes).
    pub relay_poll: Duration,
    /// `LIVE_RECONCILE_MS`: how often the hub compares itself with the outbox, a safety
    /// net for messages the bus did not deliver (a Redis reconnect).
    pub reconcile: Duration,
    /// `LIVE_DATABASE_CONNECTIONS`: the live machinery's own pool (relay, hub,
    /// replays), apart from the request pool (SQLite: at most 2).
    pub database_connections: u32,
    /// `LIVE_STATISTICS_QUIET_MS`: live statistics are recomputed once their scope has
    /// had no event for this long...
    pub statistics_quiet: Duration,
    /// `LIVE_STATISTICS_MAX_DELAY_MS`: ...or this long after the first event of a
    /// burst, whichever comes first.
    pub statistics_max_delay: Duration,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            init_timeout: Duration::from_secs(3),
            max_operations_per_connection: 64,
            max_connections_per_address: 256,
            keepalive: Duration::from_secs(25),
            // What tungstenite reads at a time, kept by every connection. A subscriber
            // sends a few small messages (subscribe, pong): 1 KiB reads them in one call,
            // a larger one grows the buffer to its size; an idle connection keeps 3 KiB
            // less than with the 4 KiB of before (BENCHMARKS.md, issue 14).
            buffer_bytes: 1024,
            max_message_bytes: 64 * 1024,
            send_timeout: Duration::from_secs(10),
            subscriber_buffer: 64,
            fanout_batch: 32,
            relay_poll: Duration::from_millis(250),
            reconcile: Duration::from_millis(1000),
            database_connections: 4,
            statistics_quiet: Duration::from_millis(250),
            statistics_max_delay: Duration::from_millis(2000),
        }
    }
}

impl LiveSettings {
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let d = LiveSettings::default();
        let number = |key: &str, default: u64, min: u64, max: u64| -> Result<u64, String> {
            match lookup(key).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(raw) => match raw.trim().parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => Ok(n),
                    _ => Err(format!(
                        "invalid setting {key}: {raw:?} is not a whole number from {min} to {max}"
                    )),
                },
            }
        };
        let ms = |d: Duration| d.as_millis() as u64;
        Ok(LiveSettings {
            init_timeout: Duration::from_millis(number(
                "WS_INIT_TIMEOUT_MS",
                ms(d.init_timeout),
                10,
                600_000,
            )?),
            max_operations_per_connection: number(
                "WS_MAX_SUBSCRIPTIONS_PER_CONNECTION",
                d.max_operations_per_connection as u64,
                1,
                10_000,
            )? as usize,
            max_connections_per_address: number(
                "WS_MAX_CONNECTIONS_PER_ADDRESS",
                d.max_connections_per_address as u64,
                1,
                1_000_000,
            )? as usize,
            keepalive: Duration::from_secs(number(
                "WS_KEEPALIVE_SECS",
                d.keepalive.as_secs(),
                1,
                3600,
            )?),
            buffer_bytes: number("WS_BUFFER_BYTES", d.buffer_bytes as u64, 256, 1 << 20)? as usize,
            max_message_bytes: number(
                "WS_MAX_MESSAGE_BYTES",
                d.max_message_bytes as u64,
                1024,
                16 << 20,
            )? as usize,
            send_timeout: Duration::from_millis(number(
                "WS_SEND_TIMEOUT_MS",
                ms(d.send_timeout),
                10,
                600_000,
            )?),
            subscriber_buffer: number(
                "LIVE_SUBSCRIBER_BUFFER",
                d.subscriber_buffer as u64,
                1,
                100_000,
            )? as usize,
            fanout_batch: number("LIVE_FANOUT_BATCH", d.fanout_batch as u64, 1, 100_000)? as usize,
            relay_poll: Duration::from_millis(number(
                "OUTBOX_POLL_MS",
                ms(d.relay_poll),
                5,
                60_000,
            )?),
            reconcile: Duration::from_millis(number(
                "LIVE_RECONCILE_MS",
                ms(d.reconcile),
                50,
                600_000,
            )?),
            database_connections: number(
                "LIVE_DATABASE_CONNECTIONS",
                d.database_connections as u64,
                1,
                100,
            )? as u32,
            statistics_quiet: Duration::from_millis(number(
                "LIVE_STATISTICS_QUIET_MS",
                ms(d.statistics_quiet),
                0,
                600_000,
            )?),
            statistics_max_delay: Duration::from_millis(number(
                "LIVE_STATISTICS_MAX_DELAY_MS",
                ms(d.statistics_max_delay),
                0,
                3_600_000,
            )?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let none = LiveSettings::from_lookup(|_| None).expect("defaults");
        assert_eq!(none, LiveSettings::default());
        assert_eq!(none.init_timeout, Duration::from_secs(3));
        let set = LiveSettings::from_lookup(|k| (k == "WS_INIT_TIMEOUT_MS").then(|| "500".into()))
            .expect("valid");
        assert_eq!(set.init_timeout, Duration::from_millis(500));
        let error = LiveSettings::from_lookup(|k| (k == "WS_BUFFER_BYTES").then(|| "0".into()))
            .expect_err("too small");
        assert!(error.contains("WS_BUFFER_BYTES"), "{error}");
    }
}
