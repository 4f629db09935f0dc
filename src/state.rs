//! The state every layer that serves requests may read: the database, the event bus,
//! settings, auth, and the live-update runtimes. Built once by `app`; the HTTP layer
//! wraps it with what only its own handlers use (`http::HttpState`), so that nothing
//! here belongs to a transport.
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::AuthKit;
use crate::config::Settings;
use crate::events::{EventBus, Live};
use crate::limits::redis_guard::RedisGuard;
use crate::service::statistics::live::LiveStatistics;

/// What every request handler may reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub bus: EventBus,
    pub settings: Arc<Settings>,
    pub auth: AuthKit,
    /// Live updates: the outbox relay, the subscriber fan-out, WebSocket settings.
    pub live: Live,
    /// Live statistics: one watcher per period and scope, shared by its subscribers.
    pub live_statistics: LiveStatistics,
    /// Redis on the request path (rate limits, replay claims), behind a short timeout
    /// and a circuit breaker; `None` without Redis.
    pub redis_guard: Option<RedisGuard>,
    /// "Now" for token expiry and the supervision deadlines; tests advance their own.
    pub clock: crate::clock::Clock,
    /// Attachments' bytes (`STORAGE_URL`).
    pub storage: crate::storage::Storage,
    /// The official account's API (one token cache per process, shared with the
    /// notifier); `None` without `WECHAT_APP_SECRET`.
    pub wechat_api: Option<crate::notify::wechat_api::WechatApi>,
}

impl AppState {
    /// The use cases' context for one request by `actor` from `client`.
    pub fn ctx<'a>(
        &'a self,
        actor: &'a crate::auth::Actor,
        client: &'a crate::auth::ClientInfo,
    ) -> crate::service::Ctx<'a> {
        crate::service::Ctx {
            db: &self.db,
            settings: &self.settings,
            auth: &self.auth,
            live: &self.live,
            storage: &self.storage,
            actor,
            client,
        }
    }
}
