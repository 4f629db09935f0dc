//! Pure rules: no I/O, no database. Unit-tested beside the code.
pub mod calendar;
pub mod compliance;
pub mod deputy_code;
pub mod event;
pub mod idempotency;
pub mod login;
pub mod mask;
pub mod node_id;
pub mod notice;
pub mod page;
pub mod pairing_rules;
pub mod password_policy;
pub mod petition_flow;
pub mod phone;
pub mod scope;
pub mod statistics_rollup;
pub mod tracking;
