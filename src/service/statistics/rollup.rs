//! The statistics rollup (`statistics_rollup`, see `domain::statistics_rollup` for its
//! layout): written in the transaction of every change that moves a figure, read by
//! `statistics` and `liveStatistics` (a few rows per month of the period, whatever the
//! history), rebuilt from the tables and checked against the from-scratch computation
//! ([`super::recompute`], the specification) by `smart-npc statistics rebuild|verify`.
use chrono::{Datelike, Duration, NaiveDate};
use entity::{station, suggestion};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Statement, Value};

use super::{int, rate, CategoryCount, Scope, Sql, Statistics};
use crate::domain::statistics_rollup::{
    Counters, Delta, Grain, ItemFacts, SuggestionFacts, ALL, NONE,
};
use crate::error::AppResult;

/// Rows per statement (18 values each: well inside SQLite's bound-parameter limit).
const ROWS_PER_STATEMENT: usize = 500;

/// Adds `delta` to the rollup's rows (creating missing ones), in key order.
pub async fn apply<C: ConnectionTrait>(db: &C, delta: &Delta) -> AppResult<()> {
    let rows: Vec<_> = delta.rows().collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let backend = db.get_database_backend();
        let mut sql = Sql::new(backend, "INSERT INTO statistics_rollup (department_id, township_id, station_id, grain, bucket, category_id, ");
        sql.push(&Counters::COLUMNS.join(", "));
        sql.push(") VALUES ");
        for (i, (key, counters)) in chunk.iter().enumerate() {
            let mut values: Vec<Value> = vec![
                key.department_id.into(),
                key.township_id.into(),
                key.station_id.into(),
                (key.grain as i16).into(),
                key.bucket.into(),
                key.category_id.into(),
            ];
            values.extend(counters.values().map(Value::from));
            let holes: Vec<String> = values.into_iter().map(|v| sql.bind(v)).collect();
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.push(&holes.join(", "));
            sql.push(")");
        }
        sql.push(" ON CONFLICT (department_id, township_id, station_id, grain, bucket, category_id) DO UPDATE SET ");
        let sets: Vec<String> = Counters::COLUMNS
            .iter()
            .map(|c| format!("{c} = statistics_rollup.{c} + excluded.{c}"))
            .collect();
        sql.push(&sets.join(", "));
        db.execute(sql.statement()).await?;
    }
    Ok(())
}

/// An item changed (`before` is `None` for a new one): its figures move accordingly.
pub async fn item_changed<C: ConnectionTrait>(
    db: &C,
    before: Option<&ItemFacts>,
    after: Option<&ItemFacts>,
) -> AppResult<()> {
    apply(db, &Delta::item(before, after)).await
}

/// What of a suggestion the figures depend on (its station's township looked up).
pub async fn suggestion_facts<C: ConnectionTrait>(
    db: &C,
    row: &suggestion::Model,
) -> AppResult<SuggestionFacts> {
    let township = match row.station_id {
        Some(s) => station::Entity::find_by_id(s)
            .one(db)
            .await?
            .map(|s| s.township_id),
        None => None,
    };
    Ok(SuggestionFacts::of(row, township))
}

/// A suggestion changed (`before` is `None` for a new one).
pub async fn suggestion_changed<C: ConnectionTrait>(
    db: &C,
    before: Option<&suggestion::Model>,
    after: &suggestion::Model,
) -> AppResult<()> {
    let after = suggestion_facts(db, after).await?;
    // The place never changes: only what the row says about adoption.
    let before = before.map(|row| SuggestionFacts::of(row, after.township_id));
    apply(db, &Delta::suggestion(before.as_ref(), Some(&after))).await
}

/// The (grain, first, last) bucket ranges that cover `[from, to]`: whole months from
/// month rows, the days before the first and after the last whole month from day rows.
pub fn ranges(from: NaiveDate, to: NaiveDate) -> Vec<(Grain, NaiveDate, NaiveDate)> {
    let first_of = |d: NaiveDate| d.with_day(1).unwrap_or(d);
    let next_month = |d: NaiveDate| {
        let (y, m) = if d.month() == 12 {
            (d.year() + 1, 1)
        } else {
            (d.year(), d.month() + 1)
        };
        NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(d)
    };
    // The first whole month starts at `from` or the month after; the last ends at `to`
    // or the month before.
    let start = if from.day() == 1 {
        from
    } else {
        next_month(from)
    };
    let end = if (to + Duration::days(1)).day() == 1 {
        first_of(to)
    } else {
        first_of(to) - Duration::days(1)
    };
    let end = first_of(end);
    if end < start {
        return vec![(Grain::Day, from, to)];
    }
    let mut ranges = vec![(Grain::Month, start, end)];
    if from < start {
        ranges.push((Grain::Day, from, start - Duration::days(1)));
    }
    let after = next_month(end);
    if after <= to {
        ranges.push((Grain::Day, after, to));
    }
    ranges
}

/// The place columns' values a scope reads (see the layout).
fn place(scope: &Scope) -> (i64, i64, i64) {
    (
        scope.department_id.unwrap_or(ALL),
        scope.township_id.unwrap_or(ALL),
        scope.station_id.unwrap_or(ALL),
    )
}

fn select(db: &impl ConnectionTrait, from: NaiveDate, to: NaiveDate, scope: &Scope) -> Statement {
    let mut sql = Sql::new(db.get_database_backend(), "SELECT category_id");
    for c in Counters::COLUMNS {
        sql.push(&format!(", CAST(SUM({c}) AS BIGINT) AS {c}"));
    }
    sql.push(" FROM (");
    let (department, township, station) = place(scope);
    for (i, (grain, first, last)) in ranges(from, to).into_iter().enumerate() {
        let p: Vec<String> = [
            Value::from(department),
            township.into(),
            station.into(),
            (grain as i16).into(),
            first.into(),
            last.into(),
        ]
        .into_iter()
        .map(|v| sql.bind(v))
        .collect();
        if i > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push(&format!("SELECT * FROM statistics_rollup WHERE department_id = {} AND township_id = {} AND station_id = {} AND grain = {} AND bucket >= {} AND bucket <= {}", p[0], p[1], p[2], p[3], p[4], p[5]));
        if let Some(c) = scope.category_id {
            let c = sql.bind(c);
            sql.push(&format!(" AND category_id = {c}"));
        }
    }
    // Categories by id, the uncategorised (and the suggestions' row) last.
    sql.push(&format!(") r GROUP BY category_id ORDER BY CASE WHEN category_id = {NONE} THEN 1 ELSE 0 END, category_id"));
    sql.statement()
}

/// The figures of `[from, to]` (inclusive dates, China time) for `scope`, from the
/// rollup: [`super::compute`].
pub async fn read<C: ConnectionTrait>(
    db: &C,
    from: NaiveDate,
    to: NaiveDate,
    scope: &Scope,
) -> AppResult<Statistics> {
    let mut total = Counters::default();
    let mut by_category = Vec::new();
    for row in db.query_all(select(db, from, to, scope)).await? {
        let mut values = [0i64; 12];
        for (value, column) in values.iter_mut().zip(Counters::COLUMNS) {
            *value = int(&row, column)?;
        }
        let counters = Counters::from_values(values);
        total = total + counters;
        if counters.collected > 0 {
            let category: i64 = int(&row, "category_id")?;
            by_category.push(CategoryCount {
                category_id: (category != NONE).then_some(category),
                collected: counters.collected,
                completed: counters.completed,
            });
        }
    }
    Ok(figures(total, by_category))
}

fn figures(c: Counters, by_category: Vec<CategoryCount>) -> Statistics {
    Statistics {
        items_collected: c.collected,
        items_completed: c.completed,
        completion_rate: rate(c.completed, c.collected),
        completed_with_deadline: c.with_deadline,
        completed_on_time: c.on_time,
        on_time_rate: rate(c.on_time, c.with_deadline),
        rated: c.rated,
        satisfied: c.satisfied,
        satisfaction_rate: rate(c.satisfied, c.rated),
        average_handling_hours: if c.handled == 0 {
            0.0
        } else {
            c.handling_ms as f64 / c.handled as f64 / 3_600_000.0
        },
        overdue_count: c.overdue,
        urgent_completed: c.urgent_completed,
        suggestions_made: c.suggestions_made,
        suggestions_adopted: c.suggestions_adopted,
        by_category,
    }
}

/// Recomputes the whole rollup from the items and suggestions, in one transaction
/// (readers see the old rows until it commits). Returns the rows written.
pub async fn rebuild(db: &DatabaseConnection) -> AppResult<u64> {
    crate::db::write::transaction(db, |txn| async move {
        let txn = &*txn;
        txn.execute_unprepared("DELETE FROM statistics_rollup")
            .await?;
        let mut rows = 0;
        for statement in
            migration::m20261202_000001_statistics_rollup::backfill(txn.get_database_backend())
        {
            rows += txn.execute_unprepared(&statement).await?.rows_affected();
        }
        Ok(rows)
    })
    .await
}
