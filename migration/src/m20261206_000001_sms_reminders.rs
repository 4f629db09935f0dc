//! Notifications, second slice (issue 15): text messages (SMS) and reminders.
//!
//! - `petition.sms_consent`: the citizen agreed, on submission, to be told by SMS at
//!   the phone they left (`submitter_phone`); off unless they said so.
//! - `notification_delivery` takes the channel `sms` and the phone it goes to
//!   (SQLite cannot alter a CHECK constraint: its table is rebuilt, ids kept).
//! - Indexes: the unread count (account, channel, read_at), the sender's "oldest
//!   pending of each recipient" and the daily cap (recipient, channel, status, id),
//!   and the retention purge (created_at).
//! - `notification_reminder`: one row per reminder kind, period and account, unique,
//!   written in the transaction of the reminder's event, so that replicas running the
//!   supervision job at once remind each person once per period.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, TransactionTrait};

use crate::sql::{render, run_all};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000001_sms_reminders"
    }
}

const SQLITE_REBUILD: &[&str] = &[
    r#"CREATE TABLE notification_delivery_new (
        id {id},
        event_seq {fk_id} NOT NULL,
        recipient VARCHAR(96) NOT NULL,
        channel VARCHAR(16) NOT NULL CHECK (channel IN ('in_app', 'wechat', 'sms')),
        account_id {fk_id} REFERENCES account (id) ON DELETE CASCADE,
        open_id VARCHAR(64),
        phone VARCHAR(20),
        petition_id {fk_id} REFERENCES petition (id) ON DELETE SET NULL,
        kind VARCHAR(48) NOT NULL,
        title VARCHAR(100) NOT NULL,
        body TEXT NOT NULL,
        status VARCHAR(16) NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at {ts} NOT NULL,
        claimed_until {ts},
        last_error TEXT,
        read_at {ts},
        created_at {ts} NOT NULL,
        sent_at {ts},
        CONSTRAINT notification_delivery_once UNIQUE (event_seq, recipient, channel)
    )"#,
    r#"INSERT INTO notification_delivery_new (id, event_seq, recipient, channel, account_id,
        open_id, petition_id, kind, title, body, status, attempts, next_attempt_at,
        claimed_until, last_error, read_at, created_at, sent_at)
      SELECT id, event_seq, recipient, channel, account_id, open_id, petition_id, kind,
        title, body, status, attempts, next_attempt_at, claimed_until, last_error, read_at,
        created_at, sent_at FROM notification_delivery"#,
    "DROP TABLE notification_delivery",
    "ALTER TABLE notification_delivery_new RENAME TO notification_delivery",
    "CREATE INDEX notification_delivery_inbox ON notification_delivery (account_id, channel, id)",
    "CREATE INDEX notification_delivery_status ON notification_delivery (status, id)",
];

const POSTGRES_ALTER: &[&str] = &[
    "ALTER TABLE notification_delivery DROP CONSTRAINT notification_delivery_channel_check",
    "ALTER TABLE notification_delivery ADD CONSTRAINT notification_delivery_channel_check CHECK (channel IN ('in_app', 'wechat', 'sms'))",
    "ALTER TABLE notification_delivery ADD COLUMN phone VARCHAR(20)",
];

const BOTH: &[&str] = &[
    "ALTER TABLE petition ADD COLUMN sms_consent BOOLEAN NOT NULL DEFAULT FALSE",
    "CREATE INDEX notification_delivery_unread ON notification_delivery (account_id, channel, read_at)",
    "CREATE INDEX notification_delivery_recipient ON notification_delivery (recipient, channel, status, id)",
    "CREATE INDEX notification_delivery_created ON notification_delivery (created_at)",
    r#"CREATE TABLE notification_reminder (
        id {id},
        kind VARCHAR(32) NOT NULL,
        period VARCHAR(64) NOT NULL,
        account_id {fk_id} NOT NULL REFERENCES account (id) ON DELETE CASCADE,
        created_at {ts} NOT NULL,
        CONSTRAINT notification_reminder_once UNIQUE (kind, period, account_id)
    )"#,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => run_all(manager, POSTGRES_ALTER).await?,
            _ => {
                // One transaction, so the copy, drop and rename all run on one connection
                // (on a pool, a connection that did not see the drop refuses the rename).
                let txn = manager.get_connection().begin().await?;
                for statement in SQLITE_REBUILD {
                    txn.execute_unprepared(&render(DatabaseBackend::Sqlite, statement))
                        .await?;
                }
                txn.commit().await?;
            }
        }
        run_all(manager, BOTH).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(
            manager,
            &[
                "DROP TABLE IF EXISTS notification_reminder",
                "DROP INDEX IF EXISTS notification_delivery_unread",
                "DROP INDEX IF EXISTS notification_delivery_recipient",
                "DROP INDEX IF EXISTS notification_delivery_created",
                "DELETE FROM notification_delivery WHERE channel = 'sms'",
                "ALTER TABLE notification_delivery DROP COLUMN phone",
                "ALTER TABLE petition DROP COLUMN sms_consent",
            ],
        )
        .await
    }
}
