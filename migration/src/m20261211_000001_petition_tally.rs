//! `petition_tally`: how many items stand in each (township, station, state, category,
//! urgency, overdue) — what `totalCount` of the ledgers and the supervisors' list adds
//! up instead of counting items, so a count reads a number of rows bounded by the
//! places and kinds there are, not by the history.
//!
//! Kept by the database itself: a trigger on `petition` moves the counts in the
//! transaction of every insert, update and delete, whichever code path (the workflow,
//! intake, the seeds and their bulk copies, a hand-written fix) makes the change. The
//! rollup (`statistics_rollup`) is kept by the service instead because its deltas are
//! a domain computation (rates, handling times, departments); this one is a plain
//! `GROUP BY` and a trigger is the one place no writer can bypass.
//!
//! A missing value is stored as -1 (ids) or '' (urgency), so every column is part of
//! the primary key. On PostgreSQL an update moves two rows and locks them in key order,
//! so two steps moving items crosswise between the same two rows never deadlock;
//! SQLite has one writer at a time.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::sql::run_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261211_000001_petition_tally"
    }
}

/// The tally's key of an item row (`NEW` or `OLD` in a trigger, `p` in the backfill).
fn key(row: &str) -> String {
    format!(
        "COALESCE({row}.township_id, -1), COALESCE({row}.station_id, -1), {row}.state, \
         COALESCE({row}.category_id, -1), COALESCE({row}.urgency, ''), {row}.is_overdue"
    )
}

const TABLE: &[&str] = &[
    "CREATE TABLE petition_tally (
        township_id {fk_id} NOT NULL,
        station_id {fk_id} NOT NULL,
        state VARCHAR(16) NOT NULL,
        category_id {fk_id} NOT NULL,
        urgency VARCHAR(16) NOT NULL,
        is_overdue BOOLEAN NOT NULL,
        items BIGINT NOT NULL,
        PRIMARY KEY (township_id, station_id, state, category_id, urgency, is_overdue)
    )",
    // A station ledger names the station only.
    "CREATE INDEX petition_tally_station ON petition_tally (station_id, state)",
];

fn postgres_trigger() -> Vec<String> {
    let add = "PERFORM petition_tally_add";
    vec![
        "CREATE FUNCTION petition_tally_add(t BIGINT, s BIGINT, st VARCHAR, c BIGINT, u VARCHAR, o BOOLEAN, d BIGINT)
         RETURNS void LANGUAGE plpgsql AS $$
         BEGIN
           INSERT INTO petition_tally VALUES (t, s, st, c, u, o, d)
           ON CONFLICT (township_id, station_id, state, category_id, urgency, is_overdue)
           DO UPDATE SET items = petition_tally.items + EXCLUDED.items;
         END $$"
            .to_owned(),
        format!(
            "CREATE FUNCTION petition_tally_track() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF TG_OP = 'INSERT' THEN
                 {add}({new}, 1);
               ELSIF TG_OP = 'DELETE' THEN
                 {add}({old}, -1);
               ELSIF ROW({old}) IS DISTINCT FROM ROW({new}) THEN
                 -- Lock the two rows in key order (see the module's comment).
                 IF ROW({old}) < ROW({new}) THEN
                   {add}({old}, -1);
                   {add}({new}, 1);
                 ELSE
                   {add}({new}, 1);
                   {add}({old}, -1);
                 END IF;
               END IF;
               RETURN NULL;
             END $$",
            new = key("NEW"),
            old = key("OLD"),
        ),
        // Every change to an item rewrites a row or two here: a small, hot table whose
        // dead row versions autovacuum should clear after every thousand changes, not
        // only once a fifth of the table changed (its default).
        "ALTER TABLE petition_tally SET (autovacuum_vacuum_scale_factor = 0, \
         autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0, \
         autovacuum_analyze_threshold = 1000)"
            .to_owned(),
        "CREATE TRIGGER petition_tally AFTER INSERT OR DELETE
         OR UPDATE OF township_id, station_id, state, category_id, urgency, is_overdue
         ON petition FOR EACH ROW EXECUTE FUNCTION petition_tally_track()"
            .to_owned(),
    ]
}

/// SQLite: `INSERT OR IGNORE` a zero row, then add to it (an upsert, spelled so that
/// every SQLite version accepts it inside a trigger).
fn sqlite_trigger() -> Vec<String> {
    let matches = |row: &str| {
        format!(
            "township_id = COALESCE({row}.township_id, -1) AND station_id = COALESCE({row}.station_id, -1) \
             AND state = {row}.state AND category_id = COALESCE({row}.category_id, -1) \
             AND urgency = COALESCE({row}.urgency, '') AND is_overdue = {row}.is_overdue"
        )
    };
    let add = |row: &str, d: i32| {
        format!(
            "INSERT OR IGNORE INTO petition_tally VALUES ({key}, 0);
             UPDATE petition_tally SET items = items + ({d}) WHERE {matches};",
            key = key(row),
            matches = matches(row),
        )
    };
    let changed = [
        "township_id",
        "station_id",
        "state",
        "category_id",
        "urgency",
        "is_overdue",
    ]
    .iter()
    .map(|c| format!("OLD.{c} IS NOT NEW.{c}"))
    .collect::<Vec<_>>()
    .join(" OR ");
    vec![
        format!(
            "CREATE TRIGGER petition_tally_insert AFTER INSERT ON petition BEGIN {} END",
            add("NEW", 1)
        ),
        format!(
            "CREATE TRIGGER petition_tally_delete AFTER DELETE ON petition BEGIN {} END",
            add("OLD", -1)
        ),
        format!(
            "CREATE TRIGGER petition_tally_update
             AFTER UPDATE OF township_id, station_id, state, category_id, urgency, is_overdue
             ON petition WHEN {changed} BEGIN {} {} END",
            add("OLD", -1),
            add("NEW", 1)
        ),
    ]
}

/// The tally computed from the items, as rows of `petition_tally` (`smart-npc
/// statistics verify` compares the table with it).
pub fn recount_select() -> String {
    "SELECT COALESCE(p.township_id, -1) AS township_id, COALESCE(p.station_id, -1) AS station_id, \
     p.state AS state, COALESCE(p.category_id, -1) AS category_id, \
     COALESCE(p.urgency, '') AS urgency, p.is_overdue AS is_overdue, COUNT(*) AS items \
     FROM petition p GROUP BY 1, 2, 3, 4, 5, 6"
        .to_owned()
}

/// Fills the (empty) table from the items: the backfill here, and `smart-npc
/// statistics rebuild`.
pub fn recount_sql() -> String {
    format!("INSERT INTO petition_tally {}", recount_select())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, TABLE).await?;
        let db = manager.get_connection();
        let trigger = match manager.get_database_backend() {
            DatabaseBackend::Postgres => postgres_trigger(),
            _ => sqlite_trigger(),
        };
        for statement in trigger {
            db.execute_unprepared(&statement).await?;
        }
        db.execute_unprepared(&recount_sql()).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements: &[&str] = match manager.get_database_backend() {
            DatabaseBackend::Postgres => &[
                "DROP TRIGGER IF EXISTS petition_tally ON petition",
                "DROP FUNCTION IF EXISTS petition_tally_track()",
                "DROP FUNCTION IF EXISTS petition_tally_add(BIGINT, BIGINT, VARCHAR, BIGINT, VARCHAR, BOOLEAN, BIGINT)",
                "DROP TABLE IF EXISTS petition_tally",
            ],
            _ => &[
                "DROP TRIGGER IF EXISTS petition_tally_insert",
                "DROP TRIGGER IF EXISTS petition_tally_delete",
                "DROP TRIGGER IF EXISTS petition_tally_update",
                "DROP TABLE IF EXISTS petition_tally",
            ],
        };
        run_all(manager, statements).await
    }
}
