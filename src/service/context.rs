//! The per-request context of a use case: what a service function needs besides its
//! own arguments. The transport builds it once per request (`graphql::context::service`)
//! and every service function takes `&Ctx` first, instead of the same five to seven
//! positional arguments.
use sea_orm::DatabaseConnection;

use crate::auth::{Actor, AuthKit, ClientInfo};
use crate::config::Settings;
use crate::events::Live;

/// Borrowed from the request's data: cheap to build, nothing cloned.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub db: &'a DatabaseConnection,
    pub settings: &'a Settings,
    pub auth: &'a AuthKit,
    pub live: &'a Live,
    /// Who is asking: permissions are checked against it.
    pub actor: &'a Actor,
    /// Where the request came from, for throttling and the audit log.
    pub client: &'a ClientInfo,
}
