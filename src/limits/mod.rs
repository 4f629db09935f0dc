//! Guards on the request path that auth, WeChat and the services all use: fixed-window
//! rate limits, one-time replay claims, and the Redis connection behind a timeout and a
//! circuit breaker that both share. They sit beside `auth` and `events` rather than in
//! `service`, so that no lower layer reaches up into the use cases to throttle.
pub mod rate_limit;
pub mod redis_guard;
pub mod replay;
