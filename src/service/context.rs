//! The per-request context of a use case: what a service function needs besides its
//! own arguments. The transport builds it once per request (`AppState::ctx`, reached from
//! resolvers through `graphql::context::service_ctx`)
//! and every service function takes `&Ctx` first, instead of the same five to seven
//! positional arguments.
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::auth::{Actor, AuthKit, ClientInfo};
use crate::config::Settings;
use crate::events::Live;
use crate::storage::Storage;

/// Borrowed from the request's data: cheap to build, nothing cloned.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub db: &'a DatabaseConnection,
    pub settings: &'a Settings,
    pub auth: &'a AuthKit,
    pub live: &'a Live,
    /// Where attachments' bytes are kept.
    pub storage: &'a Storage,
    /// Who is asking: permissions are checked against it.
    pub actor: &'a Actor,
    /// Where the request came from, for throttling and the audit log.
    pub client: &'a ClientInfo,
}

impl<'a> Ctx<'a> {
    /// The context of work nobody asked for (the supervision job): anonymous, so it
    /// may do only what its steps' System capacity allows, and "system" in the audit
    /// log and the throttles.
    pub fn system(
        db: &'a DatabaseConnection,
        settings: &'a Settings,
        auth: &'a AuthKit,
        live: &'a Live,
        storage: &'a Storage,
    ) -> Self {
        static ANONYMOUS: Actor = Actor::Anonymous;
        static SYSTEM: std::sync::OnceLock<ClientInfo> = std::sync::OnceLock::new();
        let client = SYSTEM.get_or_init(|| ClientInfo {
            ip: "system".into(),
            user_agent: None,
        });
        Self {
            db,
            settings,
            auth,
            live,
            storage,
            actor: &ANONYMOUS,
            client,
        }
    }

    /// The app's "now" (see `clock`): what decides deadlines, expiry and windows, so
    /// that a test can advance it.
    pub fn now(&self) -> DateTime<Utc> {
        self.auth.clock.now()
    }
}
