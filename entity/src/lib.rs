//! SeaORM entities for the Smart NPC schema (see the `migration` crate).
//!
//! One module per table; the string enums behind the `CHECK (... IN (...))` columns
//! live in [`enums`] and are re-exported here.

pub mod account;
pub mod account_role;
pub mod activity;
pub mod activity_participant;
pub mod activity_station;
pub mod attachment;
pub mod audit_log;
pub mod auth_session;
pub mod campaign;
pub mod category;
pub mod committee_deputy;
pub mod department;
pub mod deputy;
pub mod deputy_grid;
pub mod deputy_station;
pub mod enums;
pub mod grid;
pub mod idempotency_key;
pub mod liaison;
pub mod notification_delivery;
pub mod notification_reminder;
pub mod notifier_position;
pub mod open311_key;
pub mod outbox_event;
pub mod pairing;
pub mod password_setup;
pub mod petition;
pub mod petition_department;
pub mod petition_event;
pub mod petition_rating;
pub mod petition_tally;
pub mod prelude;
pub mod special_committee;
pub mod station;
pub mod statistics_rollup;
pub mod story;
pub mod suggestion;
pub mod township;
pub mod wechat_delivery;
pub mod wechat_follower;

pub use enums::*;
