//! `seed --demo`: the deterministic Heshun County demo data. Rows get explicit ids
//! (the database is empty) so that related rows can be built in memory and written
//! in large batches; identity sequences are moved past them afterwards.
mod accounts;
pub mod data;
pub mod duty;
mod org;
pub mod petitions;
mod rng;

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryOrder, TransactionTrait,
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
    report.petitions = petitions::seed(&txn).await?;
    reset_sequences(&txn).await?;
    txn.commit().await?;
    Ok(Some(report))
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

/// Writes rows in batches small enough for SQLite's bound-parameter limit.
pub(crate) async fn insert_all<A, C>(db: &C, rows: Vec<A>) -> AppResult<()>
where
    A: ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    C: ConnectionTrait,
{
    const BATCH: usize = 200;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(BATCH).collect();
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
