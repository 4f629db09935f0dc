//! Statistics of the loop for a period and a scope, with the same results (and the
//! same order) on SQLite and PostgreSQL. [`compute`] reads them from the rollup that
//! every change keeps up to date ([`rollup`]); [`recompute`] computes them from the
//! items and suggestions (aggregates in SQL, never loading rows): it is the
//! specification the rollup is checked against (`smart-npc statistics verify`).
pub mod live;
pub mod rollup;
pub mod verify;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, QueryResult, Statement, Value};

use crate::domain::calendar::day_start;
use crate::error::{AppError, AppResult};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scope {
    pub township_id: Option<i64>,
    pub station_id: Option<i64>,
    pub department_id: Option<i64>,
    pub category_id: Option<i64>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Statistics {
    pub items_collected: i64,
    /// 办结: resolved or closed.
    pub items_completed: i64,
    pub completion_rate: f64,
    /// Completed items that had a deadline, and of those the ones done by it.
    pub completed_with_deadline: i64,
    pub completed_on_time: i64,
    pub on_time_rate: f64,
    pub rated: i64,
    pub satisfied: i64,
    /// (basically) satisfied / rated.
    pub satisfaction_rate: f64,
    /// From collection to result, over completed items.
    pub average_handling_hours: f64,
    pub overdue_count: i64,
    /// Urgent or critical items completed (急难愁盼).
    pub urgent_completed: i64,
    pub suggestions_made: i64,
    /// Adopted or partly adopted.
    pub suggestions_adopted: i64,
    pub by_category: Vec<CategoryCount>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CategoryCount {
    pub category_id: Option<i64>,
    pub collected: i64,
    pub completed: i64,
}

fn rate(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// SQL with placeholders in the backend's spelling and the values to bind.
struct Sql {
    backend: DatabaseBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn new(backend: DatabaseBackend, text: &str) -> Self {
        Sql {
            backend,
            text: text.to_owned(),
            values: Vec::new(),
        }
    }

    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DatabaseBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }

    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

fn seconds_between(backend: DatabaseBackend, later: &str, earlier: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("EXTRACT(EPOCH FROM ({later} - {earlier}))"),
        _ => format!("((julianday({later}) - julianday({earlier})) * 86400.0)"),
    }
}

fn scope_filter(sql: &mut Sql, scope: &Scope) {
    if let Some(t) = scope.township_id {
        let p = sql.bind(t);
        sql.push(&format!(" AND p.township_id = {p}"));
    }
    if let Some(s) = scope.station_id {
        let p = sql.bind(s);
        sql.push(&format!(" AND p.station_id = {p}"));
    }
    if let Some(d) = scope.department_id {
        let p = sql.bind(d);
        sql.push(&format!(" AND p.id IN (SELECT pd.petition_id FROM petition_department pd WHERE pd.department_id = {p})"));
    }
    if let Some(c) = scope.category_id {
        let p = sql.bind(c);
        sql.push(&format!(" AND p.category_id = {p}"));
    }
}

fn int(row: &QueryResult, column: &str) -> AppResult<i64> {
    row.try_get::<Option<i64>>("", column)
        .map(Option::unwrap_or_default)
        .map_err(|e| AppError::internal(format!("statistics column {column}: {e}")))
}

/// A period the figures can be computed for: `to` not before `from`, ten years at most.
pub fn check_period(from: NaiveDate, to: NaiveDate) -> AppResult<()> {
    if to < from {
        return Err(AppError::bad_input(
            "to",
            "结束日期早于开始日期 (to is before from)",
        ));
    }
    if (to - from).num_days() > 3660 {
        return Err(AppError::bad_input(
            "to",
            "统计区间最长10年 (at most ten years)",
        ));
    }
    Ok(())
}

/// `from` and `to` are inclusive calendar dates (China time); from the rollup.
pub async fn compute<C: ConnectionTrait>(
    db: &C,
    from: NaiveDate,
    to: NaiveDate,
    scope: &Scope,
) -> AppResult<Statistics> {
    check_period(from, to)?;
    rollup::read(db, from, to, scope).await
}

/// [`compute`] from scratch: scans the period's items and suggestions.
pub async fn recompute<C: ConnectionTrait>(
    db: &C,
    from: NaiveDate,
    to: NaiveDate,
    scope: &Scope,
) -> AppResult<Statistics> {
    check_period(from, to)?;
    let period = Period {
        start: day_start(from),
        end: day_start(
            to.succ_opt()
                .ok_or_else(|| AppError::bad_input("to", "日期无效 (invalid date)"))?,
        ),
    };
    let mut stats = petition_totals(db, &period, scope).await?;
    stats.by_category = by_category(db, &period, scope).await?;
    // Suggestions have no category: a category's figures have none.
    if scope.category_id.is_none() {
        (stats.suggestions_made, stats.suggestions_adopted) =
            suggestion_counts(db, &period, scope).await?;
    }
    Ok(stats)
}

/// `[start, end)`: the period's first instant and the instant after its last day.
struct Period {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

const COMPLETED: &str = "p.state IN ('resolved', 'closed')";

/// The items collected in the period within the scope, and their rates.
async fn petition_totals<C: ConnectionTrait>(
    db: &C,
    period: &Period,
    scope: &Scope,
) -> AppResult<Statistics> {
    let backend = db.get_database_backend();
    let handling = seconds_between(backend, "p.resolved_at", "p.collected_at");
    let mut sql = Sql::new(backend, "");
    let completed = COMPLETED;
    sql.push(&format!(
        "SELECT COUNT(*) AS collected, \
         COALESCE(SUM(CASE WHEN {completed} THEN 1 ELSE 0 END), 0) AS completed, \
         COALESCE(SUM(CASE WHEN {completed} AND p.deadline IS NOT NULL THEN 1 ELSE 0 END), 0) AS with_deadline, \
         COALESCE(SUM(CASE WHEN {completed} AND p.deadline IS NOT NULL AND p.resolved_at <= p.deadline THEN 1 ELSE 0 END), 0) AS on_time, \
         COALESCE(SUM(CASE WHEN p.satisfaction IS NOT NULL THEN 1 ELSE 0 END), 0) AS rated, \
         COALESCE(SUM(CASE WHEN p.satisfaction IN ('satisfied', 'basically_satisfied') THEN 1 ELSE 0 END), 0) AS satisfied, \
         CAST(AVG(CASE WHEN {completed} AND p.resolved_at IS NOT NULL THEN {handling} END) AS DOUBLE PRECISION) AS avg_seconds, \
         COALESCE(SUM(CASE WHEN p.is_overdue THEN 1 ELSE 0 END), 0) AS overdue, \
         COALESCE(SUM(CASE WHEN {completed} AND p.urgency IN ('urgent', 'critical') THEN 1 ELSE 0 END), 0) AS urgent \
         FROM petition p WHERE p.collected_at >= "
    ));
    let (a, b) = (sql.bind(period.start), sql.bind(period.end));
    sql.push(&format!("{a} AND p.collected_at < {b}"));
    scope_filter(&mut sql, scope);
    let row = db
        .query_one(sql.statement())
        .await?
        .ok_or_else(|| AppError::internal("statistics: no row"))?;
    let mut stats = Statistics {
        items_collected: int(&row, "collected")?,
        items_completed: int(&row, "completed")?,
        completed_with_deadline: int(&row, "with_deadline")?,
        completed_on_time: int(&row, "on_time")?,
        rated: int(&row, "rated")?,
        satisfied: int(&row, "satisfied")?,
        overdue_count: int(&row, "overdue")?,
        urgent_completed: int(&row, "urgent")?,
        ..Default::default()
    };
    let avg_seconds: Option<f64> = row
        .try_get("", "avg_seconds")
        .map_err(|e| AppError::internal(format!("statistics avg: {e}")))?;
    stats.average_handling_hours = avg_seconds.unwrap_or(0.0) / 3600.0;
    stats.completion_rate = rate(stats.items_completed, stats.items_collected);
    stats.on_time_rate = rate(stats.completed_on_time, stats.completed_with_deadline);
    stats.satisfaction_rate = rate(stats.satisfied, stats.rated);
    Ok(stats)
}

async fn by_category<C: ConnectionTrait>(
    db: &C,
    period: &Period,
    scope: &Scope,
) -> AppResult<Vec<CategoryCount>> {
    let mut sql = Sql::new(db.get_database_backend(), "");
    sql.push(&format!(
        "SELECT p.category_id AS category_id, COUNT(*) AS collected, \
         COALESCE(SUM(CASE WHEN {COMPLETED} THEN 1 ELSE 0 END), 0) AS completed \
         FROM petition p WHERE p.collected_at >= "
    ));
    let (a, b) = (sql.bind(period.start), sql.bind(period.end));
    sql.push(&format!("{a} AND p.collected_at < {b}"));
    scope_filter(&mut sql, scope);
    // Categories by id, the uncategorised last (whatever the backend's NULL order).
    sql.push(" GROUP BY p.category_id ORDER BY CASE WHEN p.category_id IS NULL THEN 1 ELSE 0 END, p.category_id");
    let mut counts = Vec::new();
    for row in db.query_all(sql.statement()).await? {
        counts.push(CategoryCount {
            category_id: row
                .try_get::<Option<i64>>("", "category_id")
                .map_err(|e| AppError::internal(format!("statistics category: {e}")))?,
            collected: int(&row, "collected")?,
            completed: int(&row, "completed")?,
        });
    }
    Ok(counts)
}

/// Suggestions made in the period (by the scope's stations/townships/departments),
/// and how many were adopted.
async fn suggestion_counts<C: ConnectionTrait>(
    db: &C,
    period: &Period,
    scope: &Scope,
) -> AppResult<(i64, i64)> {
    let mut sql = Sql::new(db.get_database_backend(), "");
    sql.push(
        "SELECT COUNT(*) AS made, \
         COALESCE(SUM(CASE WHEN s.adoption IN ('adopted', 'partly_adopted') THEN 1 ELSE 0 END), 0) AS adopted \
         FROM suggestion s WHERE s.submitted_at >= ",
    );
    let (a, b) = (sql.bind(period.start), sql.bind(period.end));
    sql.push(&format!("{a} AND s.submitted_at < {b}"));
    if let Some(t) = scope.township_id {
        let p = sql.bind(t);
        sql.push(&format!(
            " AND s.station_id IN (SELECT st.id FROM station st WHERE st.township_id = {p})"
        ));
    }
    if let Some(s) = scope.station_id {
        let p = sql.bind(s);
        sql.push(&format!(" AND s.station_id = {p}"));
    }
    if let Some(d) = scope.department_id {
        let p = sql.bind(d);
        sql.push(&format!(" AND s.department_id = {p}"));
    }
    let row = db
        .query_one(sql.statement())
        .await?
        .ok_or_else(|| AppError::internal("statistics: no row"))?;
    Ok((int(&row, "made")?, int(&row, "adopted")?))
}
