//! Use cases, one folder per area, named as the GraphQL modules that call them: open a
//! transaction, check permission, apply a domain rule, write rows and outbox events,
//! commit. Plumbing the areas share sits in [`support`]; paging and the write
//! transaction are database mechanics and live in `db`.
pub mod accounts;
pub mod attachments;
pub mod context;
pub mod duty;
pub mod exports;
pub mod import;
pub mod node;
pub mod notifications;
pub mod open311;
pub mod open_data;
pub mod org;
pub mod petitions;
pub mod places;
pub mod reminders;
pub mod statistics;
pub mod suggestions;
pub mod support;
pub mod wechat;
pub mod wechat_photos;

pub use context::Ctx;
