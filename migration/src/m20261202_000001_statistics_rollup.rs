//! `statistics_rollup`: the figures of `statistics`, kept as counters so that a period's
//! figures are read from a few rows whatever the history.
//!
//! One row per (grain, bucket, township, station, department, category):
//! * `grain` 0 is a day (China time; `bucket` is that date), 1 a month (`bucket` is its
//!   first day). Every change is counted in both; a period reads whole months from
//!   month rows and its partial months at either end from day rows.
//! * `township_id`, `station_id`, `department_id`: `0` means "all" (not broken down),
//!   `-1` "none" (the item has no such value). An item is counted under the places it
//!   can be asked for: (all, all), (its township, all), (all, its station) and (its
//!   township, its station) — those it has values for — each once with department
//!   "all" and once per department taking part in it. So any combination of scope
//!   arguments reads one contiguous range of the primary key.
//! * `category_id`: the item's category, `-1` when uncategorised (suggestions have none).
//!
//! The application keeps the rows up to date in the transaction of every change
//! (`service::statistics::rollup`); [`backfill`] recomputes them from the items and
//! suggestions (this migration, and `smart-npc statistics rebuild`).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::sql::run_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000001_statistics_rollup"
    }
}

const UP: &[&str] = &[r#"CREATE TABLE statistics_rollup (
        grain SMALLINT NOT NULL,
        bucket {date} NOT NULL,
        township_id BIGINT NOT NULL,
        station_id BIGINT NOT NULL,
        department_id BIGINT NOT NULL,
        category_id BIGINT NOT NULL,
        collected BIGINT NOT NULL DEFAULT 0,
        completed BIGINT NOT NULL DEFAULT 0,
        with_deadline BIGINT NOT NULL DEFAULT 0,
        on_time BIGINT NOT NULL DEFAULT 0,
        rated BIGINT NOT NULL DEFAULT 0,
        satisfied BIGINT NOT NULL DEFAULT 0,
        handled BIGINT NOT NULL DEFAULT 0,
        handling_ms BIGINT NOT NULL DEFAULT 0,
        overdue BIGINT NOT NULL DEFAULT 0,
        urgent_completed BIGINT NOT NULL DEFAULT 0,
        suggestions_made BIGINT NOT NULL DEFAULT 0,
        suggestions_adopted BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (department_id, township_id, station_id, grain, bucket, category_id)
    )"#];

/// The backend's spelling of the pieces [`backfill`] needs: the China date (UTC+8, no
/// daylight saving) and month of an instant, and the handling time in milliseconds,
/// each instant taken to its nearest millisecond (SQLite keeps no more).
fn dialect(backend: DatabaseBackend) -> [(&'static str, &'static str); 3] {
    match backend {
        DatabaseBackend::Postgres => [
            (
                "{day}",
                "CAST((({col}) AT TIME ZONE 'UTC') + INTERVAL '8 hours' AS DATE)",
            ),
            (
                "{month}",
                "CAST(date_trunc('month', (({col}) AT TIME ZONE 'UTC') + INTERVAL '8 hours') AS DATE)",
            ),
            (
                "{handling_ms}",
                "(CAST(ROUND(EXTRACT(EPOCH FROM p.resolved_at) * 1000) AS BIGINT) - CAST(ROUND(EXTRACT(EPOCH FROM p.collected_at) * 1000) AS BIGINT))",
            ),
        ],
        _ => [
            ("{day}", "date({col}, '+8 hours')"),
            ("{month}", "date({col}, '+8 hours', 'start of month')"),
            (
                "{handling_ms}",
                "(CAST(ROUND(unixepoch(p.resolved_at, 'subsec') * 1000) AS INTEGER) - CAST(ROUND(unixepoch(p.collected_at, 'subsec') * 1000) AS INTEGER))",
            ),
        ],
    }
}

/// Each item's and suggestion's counters, once per place it is counted under (see the
/// module's description); `{bucket}` is its day or month.
const FACTS: &str = r#"
WITH item AS (
    SELECT {bucket_p} AS bucket,
        COALESCE(p.township_id, -1) AS township_id,
        COALESCE(p.station_id, -1) AS station_id,
        COALESCE(p.category_id, -1) AS category_id,
        p.id AS petition_id,
        1 AS collected,
        CASE WHEN p.state IN ('resolved', 'closed') THEN 1 ELSE 0 END AS completed,
        CASE WHEN p.state IN ('resolved', 'closed') AND p.deadline IS NOT NULL THEN 1 ELSE 0 END AS with_deadline,
        CASE WHEN p.state IN ('resolved', 'closed') AND p.deadline IS NOT NULL AND p.resolved_at <= p.deadline THEN 1 ELSE 0 END AS on_time,
        CASE WHEN p.satisfaction IS NOT NULL THEN 1 ELSE 0 END AS rated,
        CASE WHEN p.satisfaction IN ('satisfied', 'basically_satisfied') THEN 1 ELSE 0 END AS satisfied,
        CASE WHEN p.state IN ('resolved', 'closed') AND p.resolved_at IS NOT NULL THEN 1 ELSE 0 END AS handled,
        CASE WHEN p.state IN ('resolved', 'closed') AND p.resolved_at IS NOT NULL THEN {handling_ms} ELSE 0 END AS handling_ms,
        CASE WHEN p.is_overdue THEN 1 ELSE 0 END AS overdue,
        CASE WHEN p.state IN ('resolved', 'closed') AND p.urgency IN ('urgent', 'critical') THEN 1 ELSE 0 END AS urgent_completed,
        0 AS suggestions_made,
        0 AS suggestions_adopted
    FROM petition p
),
sugg AS (
    SELECT {bucket_s} AS bucket,
        COALESCE(st.township_id, -1) AS township_id,
        COALESCE(s.station_id, -1) AS station_id,
        -1 AS category_id,
        COALESCE(s.department_id, -1) AS department_id,
        0 AS collected, 0 AS completed, 0 AS with_deadline, 0 AS on_time, 0 AS rated,
        0 AS satisfied, 0 AS handled, 0 AS handling_ms, 0 AS overdue, 0 AS urgent_completed,
        1 AS suggestions_made,
        CASE WHEN s.adoption IN ('adopted', 'partly_adopted') THEN 1 ELSE 0 END AS suggestions_adopted
    FROM suggestion s LEFT JOIN station st ON st.id = s.station_id
),
item_place AS (
    SELECT i.*, 0 AS department_id FROM item i
    UNION ALL
    SELECT i.*, pd.department_id FROM item i
        JOIN (SELECT DISTINCT petition_id, department_id FROM petition_department) pd
        ON pd.petition_id = i.petition_id
),
counted AS (
    SELECT bucket, township_id, station_id, department_id, category_id, collected, completed,
        with_deadline, on_time, rated, satisfied, handled, handling_ms, overdue,
        urgent_completed, suggestions_made, suggestions_adopted
    FROM item_place
    UNION ALL
    SELECT bucket, township_id, station_id, 0, category_id, collected, completed,
        with_deadline, on_time, rated, satisfied, handled, handling_ms, overdue,
        urgent_completed, suggestions_made, suggestions_adopted
    FROM sugg
    UNION ALL
    SELECT bucket, township_id, station_id, department_id, category_id, collected, completed,
        with_deadline, on_time, rated, satisfied, handled, handling_ms, overdue,
        urgent_completed, suggestions_made, suggestions_adopted
    FROM sugg WHERE department_id <> -1
),
placed AS (
    SELECT bucket, 0 AS township_id, 0 AS station_id, department_id, category_id, collected, completed,
        with_deadline, on_time, rated, satisfied, handled, handling_ms, overdue,
        urgent_completed, suggestions_made, suggestions_adopted
    FROM counted
    UNION ALL
    SELECT bucket, township_id, 0, department_id, category_id, collected, completed,
        with_deadline, on_time, rated, satisfied, handled, handling_ms, overdue,
        urgent_completed, suggestions_made, suggestions_adopted
    FROM counted WHERE township_id <> -1
    UNION ALL
    SELECT bucket, 0, station_id, department_id, category_id, collected, completed,
        with_deadline, on_time, rated, satisfied, handled, handling_ms, overdue,
        urgent_completed, suggestions_made, suggestions_adopted
    FROM counted WHERE station_id <> -1
    UNION ALL
    SELECT bucket, township_id, station_id, department_id, category_id, collected, completed,
        with_deadline, on_time, rated, satisfied, handled, handling_ms, overdue,
        urgent_completed, suggestions_made, suggestions_adopted
    FROM counted WHERE township_id <> -1 AND station_id <> -1
)
INSERT INTO statistics_rollup (grain, bucket, township_id, station_id, department_id,
    category_id, collected, completed, with_deadline, on_time, rated, satisfied, handled,
    handling_ms, overdue, urgent_completed, suggestions_made, suggestions_adopted)
SELECT {grain}, bucket, township_id, station_id, department_id, category_id,
    SUM(collected), SUM(completed), SUM(with_deadline), SUM(on_time), SUM(rated),
    SUM(satisfied), SUM(handled), SUM(handling_ms), SUM(overdue), SUM(urgent_completed),
    SUM(suggestions_made), SUM(suggestions_adopted)
FROM placed
GROUP BY bucket, township_id, station_id, department_id, category_id
"#;

/// The statements that fill an empty `statistics_rollup` from the items and
/// suggestions, in the backend's spelling: the day rows, then the month rows.
pub fn backfill(backend: DatabaseBackend) -> Vec<String> {
    let spelling = dialect(backend);
    let spell = |name: &str| {
        spelling
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, sql)| *sql)
    };
    [("0", "{day}"), ("1", "{month}")]
        .iter()
        .map(|(grain, bucket)| {
            FACTS
                .replace("{grain}", grain)
                .replace(
                    "{bucket_p}",
                    &spell(bucket).replace("{col}", "p.collected_at"),
                )
                .replace(
                    "{bucket_s}",
                    &spell(bucket).replace("{col}", "s.submitted_at"),
                )
                .replace("{handling_ms}", spell("{handling_ms}"))
        })
        .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, UP).await?;
        let db = manager.get_connection();
        for statement in backfill(manager.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, &["DROP TABLE IF EXISTS statistics_rollup"]).await
    }
}
