//! `attachment`: an uploaded file (a photo or a PDF) and what it is attached to. The
//! bytes live in the object store under their SHA-256 (`blobs/<sha>`, the thumbnail
//! `thumbs/<sha>`), so the same file is stored once however often it is uploaded; a
//! row is one upload by one person. An upload nobody attached within a day is purged
//! by the supervision job.
use sea_orm_migration::prelude::*;

use crate::sql::run_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000001_attachments"
    }
}

const UP: &[&str] = &[
    r#"CREATE TABLE attachment (
        id {id},
        public_id VARCHAR(32) NOT NULL UNIQUE,
        purpose VARCHAR(16) NOT NULL CHECK (purpose IN ('petition', 'result', 'story', 'activity')),
        owner_account_id {fk_id} REFERENCES account (id),
        petition_id {fk_id} REFERENCES petition (id),
        sha256 VARCHAR(64) NOT NULL,
        content_type VARCHAR(64) NOT NULL,
        size BIGINT NOT NULL,
        width INTEGER,
        height INTEGER,
        has_thumbnail BOOLEAN NOT NULL,
        created_at {ts} NOT NULL,
        attached_at {ts}
    )"#,
    "CREATE INDEX attachment_petition ON attachment (petition_id, id)",
    "CREATE INDEX attachment_unattached ON attachment (created_at) WHERE petition_id IS NULL",
    "CREATE INDEX attachment_sha256 ON attachment (sha256)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, &["DROP TABLE IF EXISTS attachment"]).await
    }
}
