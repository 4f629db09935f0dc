//! Keyset pagination over a SeaORM query: the rows after/before a cursor, one extra
//! row to learn whether more exist, and `COUNT(*)` for `totalCount`.
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::domain::page::{Direction, Page, PageRequest};
use crate::error::AppResult;

pub async fn fetch_page<E, C>(
    db: &C,
    select: Select<E>,
    key_column: E::Column,
    key_of: fn(&E::Model) -> i64,
    request: &PageRequest,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total_count = select.clone().count(db).await?;
    let mut window = select.clone();
    if let Some(after) = request.after {
        window = window.filter(key_column.gt(after));
    }
    if let Some(before) = request.before {
        window = window.filter(key_column.lt(before));
    }
    let limit = request.size + 1;
    let mut rows = match request.direction {
        Direction::Forward => window.order_by_asc(key_column).limit(limit).all(db).await?,
        Direction::Backward => {
            let mut rows = window
                .order_by_desc(key_column)
                .limit(limit)
                .all(db)
                .await?;
            rows.reverse();
            rows
        }
    };
    let more = rows.len() as u64 > request.size;
    if more {
        match request.direction {
            Direction::Forward => {
                rows.pop();
            }
            Direction::Backward => {
                rows.remove(0);
            }
        }
    }
    // Whether anything lies on the far side of the cursor we came from.
    let beyond_cursor = match (request.direction, request.after, request.before) {
        (Direction::Forward, Some(after), _) => {
            select
                .clone()
                .filter(key_column.lte(after))
                .count(db)
                .await?
                > 0
        }
        (Direction::Backward, _, Some(before)) => {
            select.filter(key_column.gte(before)).count(db).await? > 0
        }
        _ => false,
    };
    let (has_previous_page, has_next_page) = match request.direction {
        Direction::Forward => (beyond_cursor, more),
        Direction::Backward => (more, beyond_cursor),
    };
    Ok(Page {
        items: rows.into_iter().map(|row| (key_of(&row), row)).collect(),
        has_previous_page,
        has_next_page,
        total_count,
    })
}
