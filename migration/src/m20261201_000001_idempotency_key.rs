//! `idempotency_key`: what a creating mutation answered for a client's key, so a
//! retry answers the same and creates nothing. Written in the transaction that
//! creates the object; rows older than 24 hours are ignored and purged.
use sea_orm_migration::prelude::*;

use crate::sql::run_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000001_idempotency_key"
    }
}

const UP: &[&str] = &[
    r#"CREATE TABLE idempotency_key (
        id {id},
        scope VARCHAR(80) NOT NULL,
        idempotency_key VARCHAR(128) NOT NULL,
        operation VARCHAR(64) NOT NULL,
        request_hash VARCHAR(64) NOT NULL,
        object_id {fk_id},
        response TEXT NOT NULL,
        created_at {ts} NOT NULL,
        CONSTRAINT idempotency_key_per_scope UNIQUE (scope, idempotency_key)
    )"#,
    "CREATE INDEX idempotency_key_created ON idempotency_key (created_at)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, &["DROP TABLE IF EXISTS idempotency_key"]).await
    }
}
