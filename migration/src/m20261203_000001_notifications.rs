//! Notifications (issue 15): one `notification_delivery` row per (outbox event,
//! recipient, channel), written by the notifier in the transaction that advances its
//! position in the outbox (`notifier_position`), so replicas and restarts never derive
//! a notice twice and a crash never loses one. In-app notices are rows of the same
//! table (channel `in_app`, read by their account). A follower may stop template
//! messages with `退订` (`wechat_follower.notices_off`).
use sea_orm_migration::prelude::*;

use crate::sql::run_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000001_notifications"
    }
}

const UP: &[&str] = &[
    r#"CREATE TABLE notification_delivery (
        id {id},
        event_seq {fk_id} NOT NULL,
        recipient VARCHAR(96) NOT NULL,
        channel VARCHAR(16) NOT NULL CHECK (channel IN ('in_app', 'wechat')),
        account_id {fk_id} REFERENCES account (id) ON DELETE CASCADE,
        open_id VARCHAR(64),
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
    "CREATE INDEX notification_delivery_inbox ON notification_delivery (account_id, channel, id)",
    "CREATE INDEX notification_delivery_status ON notification_delivery (status, id)",
    r#"CREATE TABLE notifier_position (
        name VARCHAR(32) NOT NULL PRIMARY KEY,
        seq {fk_id} NOT NULL
    )"#,
    "ALTER TABLE wechat_follower ADD COLUMN notices_off BOOLEAN NOT NULL DEFAULT FALSE",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(
            manager,
            &[
                "DROP TABLE IF EXISTS notification_delivery",
                "DROP TABLE IF EXISTS notifier_position",
                "ALTER TABLE wechat_follower DROP COLUMN notices_off",
            ],
        )
        .await
    }
}
