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

impl AuthKit {
    /// A throwaway kit for the command line, which hashes passwords but signs nobody
    /// in: random token keys, an in-process limiter, the system clock.
    pub fn offline() -> Self {
        AuthKit {
            hasher: password::PasswordHasher::new(),
            keys: token::TokenKeys::random(),
            limiter: RateLimiter::in_process(),
            clock: crate::clock::Clock::system(),
        }
    }
}
