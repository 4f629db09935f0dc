//! `open311_key`: the API keys admins issue to Open311 GeoReport v2 clients (`POST
//! /open311/v2/requests.json`). Only the key's SHA-256 is kept (the key is 32 random
//! bytes, shown once when issued); its first characters are kept apart so that an admin
//! can tell keys apart. Each key files its requests at one station. An index on
//! `petition.collected_at` serves `GET requests`' window, newest first.
use sea_orm_migration::prelude::*;

use crate::sql::run_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261210_000001_open311_keys"
    }
}

const UP: &[&str] = &[
    r#"CREATE TABLE open311_key (
        id {id},
        name VARCHAR(64) NOT NULL,
        key_prefix VARCHAR(16) NOT NULL,
        key_hash VARCHAR(64) NOT NULL UNIQUE,
        station_id {fk_id} NOT NULL REFERENCES station (id) ON DELETE CASCADE,
        created_by_account_id {fk_id} REFERENCES account (id) ON DELETE SET NULL,
        created_at {ts} NOT NULL,
        revoked_at {ts}
    )"#,
    // `GET /open311/v2/requests` reads a window of items by time, newest first.
    "CREATE INDEX petition_collected_at ON petition (collected_at, id)",
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
                "DROP INDEX IF EXISTS petition_collected_at",
                "DROP TABLE IF EXISTS open311_key",
            ],
        )
        .await
    }
}
