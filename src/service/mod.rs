//! Use cases, one module per area: open a transaction, check permission, apply a
//! domain rule, write rows and outbox events, commit.
pub mod account_admin;
pub mod accounts;
pub mod audit;
pub mod bootstrap;
pub mod node;
pub mod org;
pub mod paging;
pub mod rate_limit;
