//! Database migrations for smart-npc. They run unchanged on SQLite and PostgreSQL.
pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_schema;
mod m20261201_000001_idempotency_key;
pub mod m20261202_000001_statistics_rollup;
mod m20261202_000002_list_indexes;
mod m20261203_000001_notifications;
mod m20261204_000001_attachments;
mod m20261205_000001_password_setup;
mod m20261206_000001_sms_reminders;
mod m20261208_000001_places;
mod m20261210_000001_open311_keys;
pub mod m20261211_000001_petition_tally;
mod m20261212_000001_attachment_targets;
mod m20261214_000001_committee_code;
mod sql;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_schema::Migration),
            Box::new(m20261201_000001_idempotency_key::Migration),
            Box::new(m20261202_000001_statistics_rollup::Migration),
            Box::new(m20261202_000002_list_indexes::Migration),
            Box::new(m20261203_000001_notifications::Migration),
            Box::new(m20261204_000001_attachments::Migration),
            Box::new(m20261205_000001_password_setup::Migration),
            Box::new(m20261206_000001_sms_reminders::Migration),
            Box::new(m20261208_000001_places::Migration),
            Box::new(m20261210_000001_open311_keys::Migration),
            Box::new(m20261211_000001_petition_tally::Migration),
            Box::new(m20261212_000001_attachment_targets::Migration),
            Box::new(m20261214_000001_committee_code::Migration),
        ]
    }
}
