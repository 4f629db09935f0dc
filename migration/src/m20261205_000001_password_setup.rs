//! `password_setup`: a one-time set-password code for an account created without a
//! password (by `smart-npc import`). Only the code's sha256 is kept; the code is shown
//! once, to whoever ran the import, and is spent by `setPasswordWithCode`.
use sea_orm_migration::prelude::*;

use crate::sql::run_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000001_password_setup"
    }
}

const UP: &[&str] = &[r#"CREATE TABLE password_setup (
        id {id},
        account_id {fk_id} NOT NULL REFERENCES account (id) ON DELETE CASCADE,
        code_hash VARCHAR(64) NOT NULL,
        expires_at {ts} NOT NULL,
        created_at {ts} NOT NULL,
        CONSTRAINT password_setup_one_per_account UNIQUE (account_id)
    )"#];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, &["DROP TABLE IF EXISTS password_setup"]).await
    }
}
