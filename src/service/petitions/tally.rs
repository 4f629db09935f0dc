//! `totalCount` of the station ledgers and the supervisors' list, added up from
//! `petition_tally` (kept by a trigger; see the migration
//! `m20261211_000001_petition_tally`) instead of counting the items: the rows read are
//! bounded by the places, states, categories and urgencies there are, not by the
//! history. A filter on the collection date is not in the tally; such counts still
//! count the matching items (on the list's index).
use entity::petition_tally::{Column, Entity};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Statement,
};

use super::queries::ItemFilter;
use crate::error::AppResult;

/// Where a list looks.
#[derive(Debug, Clone)]
pub enum Place {
    /// The whole county.
    County,
    /// Some townships.
    Townships(Vec<i64>),
    Station(i64),
}

/// Whether the tally can answer a count under `filter`.
pub fn covers(filter: &ItemFilter) -> bool {
    filter.from.is_none() && filter.to.is_none()
}

/// How many items in `place` match `filter` (which [`covers`] must accept).
pub async fn count<C: ConnectionTrait>(
    db: &C,
    place: &Place,
    filter: &ItemFilter,
) -> AppResult<u64> {
    let mut query = Entity::find()
        .select_only()
        .expr(Expr::cust("CAST(COALESCE(SUM(items), 0) AS BIGINT)"));
    query = match place {
        Place::County => query,
        Place::Townships(ids) => query.filter(Column::TownshipId.is_in(ids.iter().copied())),
        Place::Station(id) => query.filter(Column::StationId.eq(*id)),
    };
    if !filter.states.is_empty() {
        query = query.filter(Column::State.is_in(filter.states.iter().map(|s| s.to_value())));
    }
    if let Some(c) = filter.category_id {
        query = query.filter(Column::CategoryId.eq(c));
    }
    if let Some(u) = filter.urgency {
        query = query.filter(Column::Urgency.eq(u.to_value()));
    }
    if let Some(o) = filter.overdue {
        query = query.filter(Column::IsOverdue.eq(o));
    }
    let total: Option<i64> = query.into_tuple().one(db).await?;
    Ok(u64::try_from(total.unwrap_or(0)).unwrap_or(0))
}

/// The tally's rows that differ from a count of the items: (kept, counted) per key, a
/// missing row as 0. Empty when the tally is right.
pub async fn verify<C: ConnectionTrait>(db: &C) -> AppResult<Vec<(Key, i64, i64)>> {
    use std::collections::BTreeMap;
    let kept = Entity::find().all(db).await?;
    let counted = Entity::find()
        .from_raw_sql(Statement::from_string(
            db.get_database_backend(),
            migration::m20261211_000001_petition_tally::recount_select(),
        ))
        .all(db)
        .await?;
    let mut both: BTreeMap<Key, (i64, i64)> = BTreeMap::new();
    for row in kept {
        both.entry(key_of(&row)).or_default().0 = row.items;
    }
    for row in counted {
        both.entry(key_of(&row)).or_default().1 = row.items;
    }
    Ok(both
        .into_iter()
        .filter(|(_, (kept, counted))| kept != counted)
        .map(|(key, (kept, counted))| (key, kept, counted))
        .collect())
}

/// A tally row's key: (township, station, state, category, urgency, overdue).
pub type Key = (i64, i64, String, i64, String, bool);

fn key_of(row: &entity::petition_tally::Model) -> Key {
    (
        row.township_id,
        row.station_id,
        row.state.clone(),
        row.category_id,
        row.urgency.clone(),
        row.is_overdue,
    )
}

/// Recounts the tally from the items, in one transaction; the rows written.
pub async fn rebuild(db: &DatabaseConnection) -> AppResult<u64> {
    crate::db::write::transaction(db, |txn| async move {
        let txn = &*txn;
        txn.execute_unprepared("DELETE FROM petition_tally").await?;
        let sql = migration::m20261211_000001_petition_tally::recount_sql();
        Ok(txn.execute_unprepared(&sql).await?.rows_affected())
    })
    .await
}
