//! Live-update plumbing. Without `REDIS_URL` events stay in this process; with it they
//! travel through Redis pub/sub so that every replica sees them.
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// The process's event bus. Cheap to clone.
#[derive(Clone)]
pub enum EventBus {
    InProcess,
    Redis(RedisBus),
}

#[derive(Clone)]
pub struct RedisBus {
    pub connection: ConnectionManager,
    pub client: redis::Client,
    pub prefix: String,
}

impl EventBus {
    /// Opens the Redis side lazily: the gateway starts (degraded) even while Redis is
    /// down, and reconnects on its own when Redis returns.
    pub fn redis(url: &str, prefix: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("invalid REDIS_URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| format!("cannot set up Redis: {e}"))?;
        Ok(EventBus::Redis(RedisBus {
            connection,
            client,
            prefix: prefix.to_owned(),
        }))
    }

    pub fn describe(&self) -> &'static str {
        match self {
            EventBus::InProcess => "in-process",
            EventBus::Redis(_) => "redis",
        }
    }

    /// `Ok` when the bus can carry events now.
    pub async fn check(&self) -> Result<(), String> {
        match self {
            EventBus::InProcess => Ok(()),
            EventBus::Redis(bus) => {
                let mut connection = bus.connection.clone();
                let command = redis::cmd("PING");
                let ping = command.query_async::<String>(&mut connection);
                match tokio::time::timeout(Duration::from_secs(2), ping).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(format!("redis unreachable: {}", e.category())),
                    Err(_) => Err("redis unreachable: timed out".into()),
                }
            }
        }
    }
}
