//! A special committee's code (issue 18): the natural key an import file names it by,
//! as townships, stations and departments have theirs. Committees stored before get
//! `committee-<id>`.
use sea_orm_migration::prelude::*;

use crate::sql::run_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261214_000001_committee_code"
    }
}

const UP: &[&str] = &[
    "ALTER TABLE special_committee ADD COLUMN code VARCHAR(32) NOT NULL DEFAULT ''",
    "UPDATE special_committee SET code = 'committee-' || CAST(id AS VARCHAR(20)) WHERE code = ''",
    "CREATE UNIQUE INDEX special_committee_code ON special_committee (code)",
];

const DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS special_committee_code",
    "ALTER TABLE special_committee DROP COLUMN code",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, DOWN).await
    }
}
