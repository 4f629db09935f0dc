//! What else an attachment may belong to (issue 16): a step of an item's history (a
//! department's result documents: `petition_event_id`, with `petition_id` set too, so
//! the item's readers are the file's readers), a showcase story (`story_id`; the cover
//! is the one with `story_cover`) or a duty activity (`activity_id`, its photos). Each
//! target has an index `(target, id)` for its DataLoader; the partial index of uploads
//! nobody attached yet (`attachment_unattached_any`) names every target, so the daily purge never reads (nor
//! removes) an attached one of any kind.
use sea_orm_migration::prelude::*;

use crate::sql::run_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261212_000001_attachment_targets"
    }
}

const UP: &[&str] = &[
    "ALTER TABLE attachment ADD COLUMN petition_event_id {fk_id} REFERENCES petition_event (id)",
    "ALTER TABLE attachment ADD COLUMN story_id {fk_id} REFERENCES story (id) ON DELETE SET NULL",
    "ALTER TABLE attachment ADD COLUMN story_cover BOOLEAN NOT NULL DEFAULT FALSE",
    "ALTER TABLE attachment ADD COLUMN activity_id {fk_id} REFERENCES activity (id) ON DELETE SET NULL",
    "CREATE INDEX attachment_petition_event ON attachment (petition_event_id, id)",
    "CREATE INDEX attachment_story ON attachment (story_id, id)",
    "CREATE INDEX attachment_activity ON attachment (activity_id, id)",
    "CREATE INDEX attachment_unattached_any ON attachment (created_at) \
     WHERE petition_id IS NULL AND story_id IS NULL AND activity_id IS NULL",
    "DROP INDEX IF EXISTS attachment_unattached",
];

const DOWN: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS attachment_unattached ON attachment (created_at) WHERE petition_id IS NULL",
    "DROP INDEX IF EXISTS attachment_unattached_any",
    "DROP INDEX IF EXISTS attachment_activity",
    "DROP INDEX IF EXISTS attachment_story",
    "DROP INDEX IF EXISTS attachment_petition_event",
    "ALTER TABLE attachment DROP COLUMN activity_id",
    "ALTER TABLE attachment DROP COLUMN story_cover",
    "ALTER TABLE attachment DROP COLUMN story_id",
    "ALTER TABLE attachment DROP COLUMN petition_event_id",
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
