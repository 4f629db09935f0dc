//! Keyset pagination over a SeaORM query: the rows after/before a cursor, one extra
//! row to learn whether more exist, and `COUNT(*)` for `totalCount`.
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::domain::page::{Direction, Page, PageRequest};
use crate::error::AppResult;

/// The order of the key column in the list as clients see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrder {
    Ascending,
    /// Newest first (feeds).
    Descending,
}

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
    fetch_page_ordered(db, select, key_column, key_of, request, KeyOrder::Ascending).await
}

pub async fn fetch_page_ordered<E, C>(
    db: &C,
    select: Select<E>,
    key_column: E::Column,
    key_of: fn(&E::Model) -> i64,
    request: &PageRequest,
    order: KeyOrder,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total_count = select.clone().count(db).await?;
    let ascending = order == KeyOrder::Ascending;
    // "Comes after `k` in list order" and its opposite.
    let after = |k: i64| {
        if ascending {
            key_column.gt(k)
        } else {
            key_column.lt(k)
        }
    };
    let before = |k: i64| {
        if ascending {
            key_column.lt(k)
        } else {
            key_column.gt(k)
        }
    };
    let at_or_before = |k: i64| {
        if ascending {
            key_column.lte(k)
        } else {
            key_column.gte(k)
        }
    };
    let at_or_after = |k: i64| {
        if ascending {
            key_column.gte(k)
        } else {
            key_column.lte(k)
        }
    };
    let (list_order, reverse_order) = if ascending {
        (Order::Asc, Order::Desc)
    } else {
        (Order::Desc, Order::Asc)
    };

    let mut window = select.clone();
    if let Some(k) = request.after {
        window = window.filter(after(k));
    }
    if let Some(k) = request.before {
        window = window.filter(before(k));
    }
    let limit = request.size + 1;
    let mut rows = match request.direction {
        Direction::Forward => {
            window
                .order_by(key_column, list_order)
                .limit(limit)
                .all(db)
                .await?
        }
        Direction::Backward => {
            let mut rows = window
                .order_by(key_column, reverse_order)
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
        (Direction::Forward, Some(k), _) => {
            select.clone().filter(at_or_before(k)).count(db).await? > 0
        }
        (Direction::Backward, _, Some(k)) => select.filter(at_or_after(k)).count(db).await? > 0,
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
