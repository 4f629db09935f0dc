//! The outbox reads of the live machinery: replay ranges, the published watermark,
//! and the relay's claim.
use chrono::Utc;
use entity::outbox_event::{self, Column, Entity};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};

use super::event::LiveEvent;
use super::filter::EventFilter;

/// Rows read per query when replaying.
pub const PAGE: u64 = 500;

/// Events with `after < seq <= upto` in sequence order, at most `limit`; `filter`
/// narrows by topic, kind and scope columns in SQL (visibility is applied by the
/// caller, in one place).
pub async fn range<C: ConnectionTrait>(
    db: &C,
    after: i64,
    upto: i64,
    filter: Option<&EventFilter>,
    limit: u64,
) -> Result<Vec<LiveEvent>, DbErr> {
    let mut query = Entity::find()
        .filter(Column::Seq.gt(after))
        .filter(Column::Seq.lte(upto));
    if let Some(filter) = filter {
        if !filter.topics.is_empty() {
            query = query.filter(Column::Topic.is_in(filter.topics.clone()));
        }
        if !filter.kinds.is_empty() {
            query = query.filter(Column::Kind.is_in(filter.kinds.clone()));
        }
        for (column, value) in [
            (Column::PetitionId, filter.petition_id),
            (Column::StationId, filter.station_id),
            (Column::TownshipId, filter.township_id),
            (Column::DepartmentId, filter.department_id),
            (Column::AccountId, filter.account_id),
        ] {
            if let Some(value) = value {
                query = query.filter(column.eq(value));
            }
        }
    }
    Ok(query
        .order_by_asc(Column::Seq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(LiveEvent::from)
        .collect())
}

/// The highest published sequence (every lower one is published or never existed).
pub async fn max_published<C: ConnectionTrait>(db: &C) -> Result<Option<i64>, DbErr> {
    let max: Option<Option<i64>> = Entity::find()
        .select_only()
        .column_as(Column::Seq.max(), "max_seq")
        .filter(Column::PublishedAt.is_not_null())
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten())
}

/// The highest sequence below `seq` that is visible now.
pub async fn max_below<C: ConnectionTrait>(db: &C, seq: i64) -> Result<Option<i64>, DbErr> {
    let max: Option<Option<i64>> = Entity::find()
        .select_only()
        .column_as(Column::Seq.max(), "max_seq")
        .filter(Column::Seq.lt(seq))
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten())
}

/// Committed, unpublished rows in sequence order.
pub async fn unpublished<C: ConnectionTrait>(
    db: &C,
    limit: u64,
) -> Result<Vec<outbox_event::Model>, DbErr> {
    Entity::find()
        .filter(Column::PublishedAt.is_null())
        .order_by_asc(Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// Marks rows published unless someone else already did; returns how many it marked.
pub async fn claim<C: ConnectionTrait>(db: &C, seqs: &[i64]) -> Result<u64, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::PublishedAt, Expr::value(Utc::now()))
        .filter(Column::Seq.is_in(seqs.iter().copied()))
        .filter(Column::PublishedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// PostgreSQL: one relay at a time per database (released at the end of the
/// transaction). `false` when another replica's relay holds it. In the same round trip
/// the transaction stops waiting for its WAL flush at commit: were its claim lost in a
/// crash, its rows would go out again and subscribers drop them by sequence.
pub async fn try_relay_lock<C: ConnectionTrait>(db: &C) -> Result<bool, DbErr> {
    // An arbitrary constant naming "the smart-npc outbox relay"; advisory locks are
    // per database, so test databases in one cluster do not contend.
    const KEY: i64 = 0x5_4d41_5254_4e50;
    let row = db
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_try_advisory_xact_lock($1) AS locked, \
             set_config('synchronous_commit', 'off', true) AS synchronous_commit",
            [KEY.into()],
        ))
        .await?;
    match row {
        Some(row) => row.try_get::<bool>("", "locked"),
        None => Ok(false),
    }
}

/// PostgreSQL: the transactions that may still be writing outbox rows, by virtual
/// transaction id. A transaction that drew a sequence number holds a ROW EXCLUSIVE
/// lock on the table from before it drew it until it ends, so once every writer seen
/// after a gap appeared has ended, that gap can no longer fill.
pub async fn outbox_writers<C: ConnectionTrait>(db: &C) -> Result<Vec<String>, DbErr> {
    let rows = db
        .query_all(Statement::from_string(
            DbBackend::Postgres,
            "SELECT virtualtransaction AS vxid FROM pg_locks \
             WHERE locktype = 'relation' AND relation = 'outbox_event'::regclass \
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND mode = 'RowExclusiveLock' AND pid IS DISTINCT FROM pg_backend_pid()",
        ))
        .await?;
    rows.iter()
        .map(|row| row.try_get::<String>("", "vxid"))
        .collect()
}

/// How many of `writers` are still running.
pub async fn writers_still_running<C: ConnectionTrait>(
    db: &C,
    writers: &[String],
) -> Result<usize, DbErr> {
    // Virtual transaction ids look like "5/1234"; anything else never came from pg_locks.
    let list: Vec<String> = writers
        .iter()
        .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_digit() || c == '/'))
        .map(|w| format!("'{w}'"))
        .collect();
    if list.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'relation' \
         AND relation = 'outbox_event'::regclass AND virtualtransaction IN ({})",
        list.join(", ")
    );
    let row = db
        .query_one(Statement::from_string(DbBackend::Postgres, sql))
        .await?;
    Ok(match row {
        Some(row) => row.try_get::<i64>("", "n")? as usize,
        None => 0,
    })
}
