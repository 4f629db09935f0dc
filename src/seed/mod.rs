//! `seed --demo [--scale N]`: the deterministic Heshun County demo data. Rows get
//! explicit ids (the database is empty, or holds only what this seed wrote) so that
//! related rows can be built in memory and written in large multi-row batches;
//! identity sequences are moved past them afterwards.
//!
//! `--scale N` adds N - 1 copies of the demo's year of history (items with their
//! histories, department parts and ratings; suggestions; activities; stories) to the
//! base demo, each in a year of [`COPY_YEARS`] in turn and each drawn from its own
//! random stream, one transaction per copy; the organisation and accounts are not
//! copied. Every copy has the report's counts, so 2025 (copies 0, 6, 12, …) holds
//! [`copies_in`]`(N, 2025)` times the report's figures.
mod accounts;
pub mod data;
pub mod duty;
mod org;
pub mod petitions;
mod rng;

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    IntoActiveModel, Iterable, PaginatorTrait, QueryOrder, Statement, TransactionTrait,
};

use crate::error::AppResult;

/// What a seeding run wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub townships: usize,
    pub stations: usize,
    pub grids: usize,
    pub departments: usize,
    pub deputies: usize,
    pub resident_assignments: usize,
    pub liaisons: usize,
    pub accounts: usize,
    pub duty: duty::DutyReport,
    pub petitions: petitions::PetitionReport,
}

/// Whether the database holds no organisation data yet.
pub async fn is_empty<C: ConnectionTrait>(db: &C) -> AppResult<bool> {
    Ok(entity::township::Entity::find().count(db).await? == 0)
}

/// Seeds the demo data into an empty database, in one transaction. Returns `None`
/// (and writes nothing) when the database already holds data.
pub async fn seed_demo(
    db: &DatabaseConnection,
    demo_password: &str,
) -> AppResult<Option<SeedReport>> {
    if !is_empty(db).await? {
        return Ok(None);
    }
    let txn = db.begin().await?;
    let mut report = org::seed(&txn).await?;
    report.accounts = accounts::seed(&txn, demo_password).await?;
    report.duty = duty::seed(&txn).await?;
    report.petitions = petitions::seed(&txn, &HistoryCopy::base()).await?;
    reset_sequences(&txn).await?;
    fill_rollup(&txn).await?;
    txn.commit().await?;
    Ok(Some(report))
}

/// The largest `--scale`.
pub const MAX_SCALE: u32 = 1000;

/// The years the copies of the demo's history fall in, in turn (copy 0 is the demo).
pub const COPY_YEARS: [i32; 6] = [2025, 2026, 2021, 2022, 2023, 2024];

/// How many of `scale` copies fall in `year`.
pub fn copies_in(scale: u32, year: i32) -> u32 {
    (0..scale)
        .filter(|k| COPY_YEARS[*k as usize % COPY_YEARS.len()] == year)
        .count() as u32
}

/// One copy of the demo's year of history: its year, its random stream and where its
/// ids start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryCopy {
    pub index: usize,
    pub year: i32,
    pub ids: IdBase,
}

impl HistoryCopy {
    /// The demo itself: 2025, ids from 1.
    pub fn base() -> Self {
        HistoryCopy {
            index: 0,
            year: COPY_YEARS[0],
            ids: IdBase::default(),
        }
    }

    /// Mixed into the generators' seeds; nothing for the base copy.
    pub fn salt(&self) -> u64 {
        (self.index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

/// The highest id of each table a copy writes to (its rows take the ids after them).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IdBase {
    pub petition: i64,
    pub petition_event: i64,
    pub petition_department: i64,
    pub petition_rating: i64,
    pub suggestion: i64,
    pub activity: i64,
    pub activity_participant: i64,
    pub activity_station: i64,
    pub story: i64,
    pub outbox_seq: i64,
}

impl IdBase {
    async fn after_existing<C: ConnectionTrait>(db: &C) -> AppResult<Self> {
        let max = |table: &'static str, key: &'static str| async move {
            let sql = format!("SELECT CAST(COALESCE(MAX({key}), 0) AS BIGINT) AS m FROM {table}");
            let row = db
                .query_one(Statement::from_string(db.get_database_backend(), sql))
                .await?;
            Ok::<i64, crate::error::AppError>(match row {
                Some(row) => row.try_get::<i64>("", "m")?,
                None => 0,
            })
        };
        Ok(IdBase {
            petition: max("petition", "id").await?,
            petition_event: max("petition_event", "id").await?,
            petition_department: max("petition_department", "id").await?,
            petition_rating: max("petition_rating", "id").await?,
            suggestion: max("suggestion", "id").await?,
            activity: max("activity", "id").await?,
            activity_participant: max("activity_participant", "id").await?,
            activity_station: max("activity_station", "id").await?,
            story: max("story", "id").await?,
            outbox_seq: max("outbox_event", "seq").await?,
        })
    }
}

/// A tracking code for a copied item, unique by construction: its id through a
/// bijection of the codes' range (31^10 values), written in the codes' alphabet. (The
/// base demo's codes are drawn at random; meeting one of them is a one-in-a-million
/// chance at scale 1000, and would fail the seed loudly on the unique index.)
pub fn tracking_code_of(id: i64) -> String {
    const RANGE: u128 = 819_628_286_980_801; // 31^10
    let mut x = (id as u128 * 1_000_003 + 7_777_777) % RANGE;
    crate::domain::tracking::tracking_code_from(|| {
        let digit = (x % 31) as u64;
        x /= 31;
        digit
    })
}

/// What `seed --demo --scale N` added to the demo.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScaleReport {
    pub copies: usize,
    pub items: usize,
    pub suggestions: usize,
    pub activities: usize,
    pub stories: usize,
}

/// Adds copies 1..`scale` of the demo's history (after [`seed_demo`]), one transaction
/// per copy, then the sequences and the statistics rollup.
pub async fn seed_copies(db: &DatabaseConnection, scale: u32) -> AppResult<ScaleReport> {
    let mut report = ScaleReport::default();
    for index in 1..scale.min(MAX_SCALE) as usize {
        let txn = db.begin().await?;
        let copy = HistoryCopy {
            index,
            year: COPY_YEARS[index % COPY_YEARS.len()],
            ids: IdBase::after_existing(&txn).await?,
        };
        let items = petitions::seed(&txn, &copy).await?;
        let duty = duty::history(&txn, &copy).await?;
        txn.commit().await?;
        report.copies += 1;
        report.items += items.items;
        report.suggestions += items.suggestions;
        report.activities += duty.activities;
        report.stories += duty.stories;
    }
    let txn = db.begin().await?;
    reset_sequences(&txn).await?;
    fill_rollup(&txn).await?;
    txn.commit().await?;
    Ok(report)
}

/// Rows in the tables the seed writes (and the rollup), for `seed`'s rows a second.
pub async fn rows_written<C: ConnectionTrait>(db: &C) -> AppResult<u64> {
    let mut total = 0u64;
    for table in TABLES_WITH_ID
        .iter()
        .chain(&["outbox_event", "statistics_rollup"])
    {
        let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table}");
        if let Some(row) = db
            .query_one(Statement::from_string(db.get_database_backend(), sql))
            .await?
        {
            total += row.try_get::<i64>("", "n")?.max(0) as u64;
        }
    }
    Ok(total)
}

/// Recomputes the statistics rollup from the items and suggestions (the seed writes
/// rows directly, not through the services that keep it up to date).
async fn fill_rollup<C: ConnectionTrait>(db: &C) -> AppResult<()> {
    db.execute_unprepared("DELETE FROM statistics_rollup")
        .await?;
    for statement in
        migration::m20261202_000001_statistics_rollup::backfill(db.get_database_backend())
    {
        db.execute_unprepared(&statement).await?;
    }
    Ok(())
}

/// The instant the demo data is "as of": the start of 2025.
pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// Every row of a seeded table in `order` (its id), so that what later steps derive
/// from the rows is the same on every run.
pub(crate) async fn all_in_order<E, C>(db: &C, order: E::Column) -> AppResult<Vec<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    Ok(E::find().order_by_asc(order).all(db).await?)
}

/// Writes rows in multi-row INSERTs, as many rows each as SQLite's bound-parameter
/// limit (32,766) allows, at most 1,000.
pub(crate) async fn insert_all<A, C>(db: &C, rows: Vec<A>) -> AppResult<()>
where
    A: ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    C: ConnectionTrait,
{
    let columns = <A::Entity as EntityTrait>::Column::iter().count().max(1);
    let batch = (30_000 / columns).clamp(1, 1000);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(batch).collect();
        A::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

const TABLES_WITH_ID: &[&str] = &[
    "township",
    "station",
    "grid",
    "department",
    "special_committee",
    "deputy",
    "deputy_station",
    "deputy_grid",
    "liaison",
    "committee_deputy",
    "pairing",
    "campaign",
    "activity",
    "activity_participant",
    "activity_station",
    "account",
    "account_role",
    "auth_session",
    "audit_log",
    "category",
    "petition",
    "petition_department",
    "petition_event",
    "petition_rating",
    "suggestion",
    "story",
];

/// PostgreSQL identity sequences do not move when ids are given explicitly.
async fn reset_sequences<C: ConnectionTrait>(db: &C) -> AppResult<()> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let keyed = TABLES_WITH_ID
        .iter()
        .map(|t| (*t, "id"))
        .chain([("outbox_event", "seq")]);
    for (table, key) in keyed {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{key}'), COALESCE((SELECT MAX({key}) FROM {table}), 0) + 1, false)"
        );
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}
