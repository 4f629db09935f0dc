//! What every area's use cases share: the audit log, idempotent creation, and the
//! scope checks of permissions. Not use cases of their own (but for the audit log's
//! reading, which admins reach through the accounts area).
pub mod audit;
pub mod idempotency;
pub mod scope;
