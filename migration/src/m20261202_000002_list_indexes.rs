//! Indexes that fit the lists: every list pages by keyset on `id` (`ORDER BY id
//! LIMIT n+1`, `id > cursor`), so an index that serves a filter *and* the order is
//! `(filter columns…, id)`. With it both engines read the page straight off the
//! index instead of walking the primary key and discarding what does not match (or
//! reading every match and sorting). Multi-state filters are read one state at a
//! time on `(…, state, id)` and merged (`db::paging`), so they fit these too.
use sea_orm_migration::prelude::*;

use crate::sql::run_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000002_list_indexes"
    }
}

const UP: &[&str] = &[
    // `petitions(filter: {states})`, county-wide: one state at a time.
    "CREATE INDEX petition_state_id ON petition (state, id)",
    // Station ledgers, with and without a state filter. Replaces (station_id, state),
    // which is a prefix of it.
    "DROP INDEX petition_station_state",
    "CREATE INDEX petition_station_state_id ON petition (station_id, state, id)",
    "CREATE INDEX petition_station_id ON petition (station_id, id)",
    // Supervisors of a township.
    "CREATE INDEX petition_township_state_id ON petition (township_id, state, id)",
    "CREATE INDEX petition_township_id ON petition (township_id, id)",
    // A deputy's items, a citizen's own items, a category.
    "CREATE INDEX petition_deputy_id ON petition (deputy_id, id)",
    "CREATE INDEX petition_submitter_id ON petition (submitter_account_id, id)",
    "CREATE INDEX petition_category_id ON petition (category_id, id)",
    // A department's inbox: its parts in item order.
    "CREATE INDEX petition_department_inbox_item ON petition_department (department_id, petition_id)",
    // A deputy's suggestions and a department's, in list order.
    "CREATE INDEX suggestion_deputy_id ON suggestion (deputy_id, id)",
    "CREATE INDEX suggestion_department_id ON suggestion (department_id, id)",
    // Relations paged per parent in SQL (`ROW_NUMBER() OVER (PARTITION BY parent
    // ORDER BY key)`): the pairings of a deputy, on either side.
    "CREATE INDEX pairing_senior_id ON pairing (senior_deputy_id, id)",
    "CREATE INDEX pairing_junior_id ON pairing (junior_deputy_id, id)",
];

const DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS pairing_junior_id",
    "DROP INDEX IF EXISTS pairing_senior_id",
    "DROP INDEX IF EXISTS suggestion_department_id",
    "DROP INDEX IF EXISTS suggestion_deputy_id",
    "DROP INDEX IF EXISTS petition_department_inbox_item",
    "DROP INDEX IF EXISTS petition_category_id",
    "DROP INDEX IF EXISTS petition_submitter_id",
    "DROP INDEX IF EXISTS petition_deputy_id",
    "DROP INDEX IF EXISTS petition_township_id",
    "DROP INDEX IF EXISTS petition_township_state_id",
    "DROP INDEX IF EXISTS petition_station_id",
    "DROP INDEX IF EXISTS petition_station_state_id",
    "CREATE INDEX petition_station_state ON petition (station_id, state)",
    "DROP INDEX IF EXISTS petition_state_id",
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
