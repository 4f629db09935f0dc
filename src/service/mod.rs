//! Use cases, one module per area: open a transaction, check permission, apply a
//! domain rule, write rows and outbox events, commit.
pub mod account_admin;
pub mod accounts;
pub mod activities;
pub mod audit;
pub mod bootstrap;
pub mod compliance;
pub mod idempotency;
pub mod live_statistics;
pub mod management;
pub mod node;
pub mod org;
pub mod outbox;
pub mod paging;
pub mod pairings;
pub mod petitions;
pub mod scope;
pub mod statistics;
pub mod stories;
pub mod suggestions;
pub mod wechat;
pub mod write;
