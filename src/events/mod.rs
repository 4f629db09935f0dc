//! Live-update plumbing. Without `REDIS_URL` events stay in this process; with it they
//! travel through Redis pub/sub so that every replica sees them.
//!
//! The path of an event: a service writes an outbox row in the transaction of the
//! change ([`outbox`]); this process's [`relay`] publishes committed rows in
//! sequence order on the bus and marks them published; each replica's [`hub`] takes
//! them in (from its own relay, and from its one Redis subscription in [`feed`]) and
//! fans them out to its subscribers, each a [`stream`] that first replays from the
//! outbox what its subscriber missed. Who sees what is decided in [`visibility`].
//!
//! Beside events, replicas exchange [`control`] messages: prompts to act at once (an
//! account's access changed) that are neither stored nor replayed.
pub mod control;
pub mod event;
pub mod feed;
pub mod filter;
pub mod hub;
pub mod outbox;
pub mod relay;
pub mod settings;
pub mod store;
pub mod stream;
pub mod visibility;

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sea_orm::DatabaseConnection;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

pub use control::{AccessChange, AccessWatch, AccessWatchers, Control, Recheck};
pub use event::{decode_cursor, encode_cursor, LiveEvent};
pub use filter::{EventFilter, Interest};
pub use settings::LiveSettings;
pub use visibility::{may_see, Viewer};

use crate::error::AppResult;

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

impl RedisBus {
    /// The one pub/sub channel every replica's relay publishes on.
    pub fn channel(&self) -> String {
        format!("{}:events", self.prefix)
    }

    /// The pub/sub channel of [`control`] messages.
    pub fn control_channel(&self) -> String {
        format!("{}:control", self.prefix)
    }
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

/// This process's live-update runtime: the hub, the relay's wake-up and the transport
/// settings. Cheap to clone.
#[derive(Clone)]
pub struct Live {
    inner: Arc<LiveInner>,
}

struct LiveInner {
    db: DatabaseConnection,
    bus: EventBus,
    hub: hub::Hub,
    wake: Arc<Notify>,
    settings: LiveSettings,
    /// Stops the background tasks.
    shutdown: watch::Sender<bool>,
    /// Tells WebSocket connections to close (the server is shutting down).
    closing: watch::Sender<bool>,
    /// Signed-in WebSocket connections, prompted when their account's access changes.
    access: AccessWatchers,
    /// Names this process on the control channel.
    origin: u64,
}

impl Live {
    /// `db` is the app's pool; the live machinery opens a small one of its own with
    /// the same options (see [`own_pool`]).
    pub fn new(db: DatabaseConnection, bus: EventBus, settings: LiveSettings) -> Self {
        let db = own_pool(&db, settings.database_connections);
        let (shutdown, _) = watch::channel(false);
        let (closing, _) = watch::channel(false);
        Live {
            inner: Arc::new(LiveInner {
                hub: hub::Hub::new(
                    db.clone(),
                    settings.subscriber_buffer,
                    settings.fanout_batch,
                ),
                db,
                bus,
                wake: Arc::new(Notify::new()),
                settings,
                shutdown,
                closing,
                access: AccessWatchers::default(),
                origin: rand::random(),
            }),
        }
    }

    /// Starts the relay, the Redis subscription (with Redis) and the reconciliation;
    /// they stop when the returned value is dropped.
    pub async fn start(&self) -> LiveTasks {
        let inner = &self.inner;
        if let Err(e) = inner.hub.initialise().await {
            tracing::warn!(error = %e, "cannot read the outbox watermark at start");
        }
        let mut handles = Vec::new();
        let relay = relay::Relay::new(
            inner.db.clone(),
            inner.bus.clone(),
            inner.hub.clone(),
            inner.wake.clone(),
            inner.settings.relay_poll,
        );
        handles.push(tokio::spawn(relay.run(inner.shutdown.subscribe())));
        if let EventBus::Redis(bus) = &inner.bus {
            handles.push(tokio::spawn(feed::run(
                bus.clone(),
                inner.db.clone(),
                inner.hub.clone(),
                feed::ControlSink {
                    access: inner.access.clone(),
                    origin: inner.origin,
                },
                inner.shutdown.subscribe(),
            )));
        }
        handles.push(tokio::spawn(feed::reconcile(
            inner.db.clone(),
            inner.hub.clone(),
            inner.settings.reconcile,
            inner.shutdown.subscribe(),
        )));
        LiveTasks {
            handles,
            live: self.clone(),
        }
    }

    /// Tells the relay that events were just committed.
    pub fn wake_relay(&self) {
        self.inner.wake.notify_one();
    }

    /// The events `filter` selects that `viewer` may see, from just after `after`
    /// (replayed from the outbox) or from now on.
    pub fn subscribe(
        &self,
        viewer: Viewer,
        filter: EventFilter,
        after: Option<i64>,
    ) -> BoxStream<'static, AppResult<Arc<LiveEvent>>> {
        stream::subscribe(
            self.inner.hub.clone(),
            self.inner.db.clone(),
            Interest { filter, viewer },
            after,
        )
        .boxed()
    }

    pub fn settings(&self) -> &LiveSettings {
        &self.inner.settings
    }

    pub fn hub(&self) -> &hub::Hub {
        &self.inner.hub
    }

    /// The live machinery's own small pool (see [`own_pool`]): background work that
    /// polls the database (the notifier) uses it, not the requests' pool.
    pub fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    /// Registers a signed-in WebSocket connection of `account_id`: it is prompted when
    /// the account's access changes, on this replica or any other.
    pub fn watch_access(&self, account_id: i64) -> AccessWatch {
        self.inner.access.watch(account_id)
    }

    /// Sends `control` to every replica: to this process's connections at once and,
    /// with Redis, on the control channel. Call it after the change has committed (the
    /// connections read it back). A failed PUBLISH is retried in the background, so the
    /// caller's change, already committed, never fails because of it.
    pub async fn announce(&self, control: Control) {
        let inner = &self.inner;
        inner.access.deliver(&control);
        let EventBus::Redis(bus) = &inner.bus else {
            return;
        };
        let envelope = control::Envelope {
            origin: inner.origin,
            control,
        };
        let message = match serde_json::to_string(&envelope) {
            Ok(message) => message,
            Err(e) => {
                tracing::error!(error = %e, "cannot encode a control message");
                return;
            }
        };
        if let Err(e) = publish_control(bus, &message).await {
            tracing::warn!(error = %e, control = ?envelope.control, "cannot publish a control message; retrying");
            let bus = bus.clone();
            let mut shutdown = inner.shutdown.subscribe();
            tokio::spawn(async move {
                for failures in 2..=CONTROL_ATTEMPTS {
                    tokio::select! {
                        () = tokio::time::sleep(relay::backoff(failures)) => {}
                        _ = shutdown.changed() => return,
                    }
                    if publish_control(&bus, &message).await.is_ok() {
                        tracing::info!(failures, "control message published");
                        return;
                    }
                }
                tracing::error!("control message dropped after repeated failures");
            });
        }
    }

    /// Changes to `true` when the server begins to shut down: WebSocket connections
    /// close (1001), clients reconnect elsewhere and resume from their cursor.
    pub fn closing_signal(&self) -> watch::Receiver<bool> {
        self.inner.closing.subscribe()
    }

    pub fn begin_shutdown(&self) {
        self.inner.closing.send_replace(true);
    }
}

/// Attempts at publishing one control message: with the backoff capped at 2 s, about
/// ten minutes; by then the replicas that missed it have re-subscribed (and so
/// re-checked every connection) or the access tokens it concerned have expired.
const CONTROL_ATTEMPTS: u32 = 300;

async fn publish_control(bus: &RedisBus, message: &str) -> Result<(), String> {
    let mut connection = bus.connection.clone();
    let mut command = redis::cmd("PUBLISH");
    command.arg(bus.control_channel()).arg(message);
    let publish = command.query_async::<i64>(&mut connection);
    match tokio::time::timeout(Duration::from_secs(2), publish).await {
        Ok(Ok(_receivers)) => Ok(()),
        Ok(Err(e)) => Err(format!("redis PUBLISH failed: {}", e.category())),
        Err(_) => Err("redis PUBLISH timed out".into()),
    }
}

/// A pool of its own, opened lazily with the options of the app's pool: the relay, the
/// hub and subscriber replays never compete with requests for connections, so a
/// reconnect storm of thousands of replays cannot starve queries and mutations.
fn own_pool(db: &DatabaseConnection, max: u32) -> DatabaseConnection {
    use sea_orm::{ConnectionTrait, DbBackend};
    let acquire = Duration::from_secs(5);
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let options = (*db.get_postgres_connection_pool().connect_options()).clone();
            let pool = crate::db::postgres_pool_options(max, acquire).connect_lazy_with(options);
            sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool)
        }
        DbBackend::Sqlite => {
            let options = (*db.get_sqlite_connection_pool().connect_options()).clone();
            let pool =
                crate::db::sqlite_pool_options(max.min(2), acquire).connect_lazy_with(options);
            sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
        }
        _ => db.clone(),
    }
}

/// The background tasks of [`Live::start`]; dropping it stops them and tells open
/// WebSocket connections to close.
pub struct LiveTasks {
    handles: Vec<JoinHandle<()>>,
    live: Live,
}

impl Drop for LiveTasks {
    fn drop(&mut self) {
        self.live.inner.closing.send_replace(true);
        self.live.inner.shutdown.send_replace(true);
        for handle in &self.handles {
            handle.abort();
        }
    }
}
