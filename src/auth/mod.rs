//! Who is asking and how they prove it: passwords (argon2id), access and refresh
//! tokens, and the [`Actor`] every service call receives.
pub mod actor;
pub mod kept_secret;
pub mod password;
pub mod token;

pub use actor::{Actor, Grant, Principal};

use crate::limits::rate_limit::RateLimiter;

/// Where a request came from, for throttling and the audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: Option<String>,
}

/// What the account services need besides the database.
#[derive(Clone)]
pub struct AuthKit {
    pub hasher: password::PasswordHasher,
    pub keys: token::TokenKeys,
    pub limiter: RateLimiter,
    /// Token and session expiry are measured against it.
    pub clock: crate::clock::Clock,
}
