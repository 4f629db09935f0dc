//! Keyset pagination over a SeaORM query: the rows after/before a cursor, one extra
//! row to learn whether more exist, and `COUNT(*)` for `totalCount` (each only when the
//! client's selection asks for it).
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
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
    let list = Keyset {
        key_column,
        key_of,
        order,
        order_on: None,
    };
    fetch_page_of_parts(db, &[select], list, request).await
}

/// How a list is ordered: by one key column, ascending or descending.
pub struct Keyset<E: EntityTrait> {
    pub key_column: E::Column,
    pub key_of: fn(&E::Model) -> i64,
    pub order: KeyOrder,
    /// The expression the order and the cursors are written on, when not `key_column`:
    /// a joined table's column equal to it, whose index serves the order (the planner
    /// does not carry a range on one side of a join's equality to the other).
    pub order_on: Option<sea_orm::sea_query::SimpleExpr>,
}

impl<E: EntityTrait> Keyset<E> {
    fn key(&self) -> Expr {
        match &self.order_on {
            Some(on) => Expr::expr(on.clone()),
            None => Expr::col((E::default(), self.key_column)),
        }
    }

    /// "Comes after `k` in list order".
    fn after(&self, k: i64) -> SimpleExpr {
        match self.order {
            KeyOrder::Ascending => self.key().gt(k),
            KeyOrder::Descending => self.key().lt(k),
        }
    }

    fn before(&self, k: i64) -> SimpleExpr {
        match self.order {
            KeyOrder::Ascending => self.key().lt(k),
            KeyOrder::Descending => self.key().gt(k),
        }
    }

    fn at_or_before(&self, k: i64) -> SimpleExpr {
        match self.order {
            KeyOrder::Ascending => self.key().lte(k),
            KeyOrder::Descending => self.key().gte(k),
        }
    }

    fn at_or_after(&self, k: i64) -> SimpleExpr {
        match self.order {
            KeyOrder::Ascending => self.key().gte(k),
            KeyOrder::Descending => self.key().lte(k),
        }
    }

    /// The order rows are read in for `direction` (a backward page is read from its
    /// end, then reversed).
    fn read_order(&self, direction: Direction) -> Order {
        match (self.order, direction) {
            (KeyOrder::Ascending, Direction::Forward)
            | (KeyOrder::Descending, Direction::Backward) => Order::Asc,
            _ => Order::Desc,
        }
    }
}

/// One page of the union of `parts`, which must be disjoint (say, one part per state
/// of a multi-state filter). Each part is read on its own, `size + 1` rows in key
/// order, so each can use an index `(…, key)` that fits it exactly; the parts are then
/// merged. A single `state IN (a, b)` cannot be read in key order from an index on
/// `(state, id)`: the planner walks the primary key and discards, or reads every match
/// and sorts. Counts are summed (only when `totalCount` is asked for) and no row is
/// read when only `totalCount` is.
pub async fn fetch_page_of_parts<E, C>(
    db: &C,
    parts: &[Select<E>],
    list: Keyset<E>,
    request: &PageRequest,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let mut total_count = 0;
    if request.want_count {
        for part in parts {
            total_count += part.clone().count(db).await?;
        }
    }
    if !request.want_rows {
        return Ok(Page {
            items: Vec::new(),
            has_previous_page: false,
            has_next_page: false,
            total_count,
        });
    }
    let (mut rows, more) = read_window(db, parts, &list, request).await?;
    if request.direction == Direction::Backward {
        rows.reverse();
    }
    // Whether anything lies on the far side of the cursor we came from.
    let beyond = match (request.direction, request.after, request.before) {
        (Direction::Forward, Some(k), _) => Some(list.at_or_before(k)),
        (Direction::Backward, _, Some(k)) => Some(list.at_or_after(k)),
        _ => None,
    };
    let mut beyond_cursor = false;
    if let Some(condition) = beyond {
        for part in parts {
            let probe: Option<i64> = part
                .clone()
                .select_only()
                .column(list.key_column)
                .filter(condition.clone())
                .limit(1)
                .into_tuple()
                .one(db)
                .await?;
            if probe.is_some() {
                beyond_cursor = true;
                break;
            }
        }
    }
    let (has_previous_page, has_next_page) = match request.direction {
        Direction::Forward => (beyond_cursor, more),
        Direction::Backward => (more, beyond_cursor),
    };
    Ok(Page {
        items: rows
            .into_iter()
            .map(|row| ((list.key_of)(&row), row))
            .collect(),
        has_previous_page,
        has_next_page,
        total_count,
    })
}

/// The page's rows in read order (at most `size`), and whether more lie beyond.
async fn read_window<E, C>(
    db: &C,
    parts: &[Select<E>],
    list: &Keyset<E>,
    request: &PageRequest,
) -> AppResult<(Vec<E::Model>, bool)>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let limit = request.size + 1;
    let read_order = list.read_order(request.direction);
    let mut rows = Vec::new();
    for part in parts {
        let mut window = part.clone();
        if let Some(k) = request.after {
            window = window.filter(list.after(k));
        }
        if let Some(k) = request.before {
            window = window.filter(list.before(k));
        }
        rows.extend(
            window
                .order_by(SimpleExpr::from(list.key()), read_order.clone())
                .limit(limit)
                .all(db)
                .await?,
        );
    }
    if parts.len() > 1 {
        rows.sort_by_key(|row| (list.key_of)(row));
        if matches!(read_order, Order::Desc) {
            rows.reverse();
        }
    }
    let more = rows.len() as u64 > request.size;
    rows.truncate(request.size as usize);
    Ok((rows, more))
}

/// A page of a to-many relation asked for under one parent (a DataLoader key: the
/// parents of one level asking for the same page and filter are loaded together).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageKey<F> {
    pub parent: i64,
    pub page: PageRequest,
    pub filter: F,
}

/// How a relation is paged per parent: the expression naming a row's parent and the
/// key column it is ordered by (ascending).
pub struct PerParent<E: EntityTrait> {
    pub parent: sea_orm::sea_query::SimpleExpr,
    pub key_column: E::Column,
    pub key_of: fn(&E::Model) -> i64,
}

const PARENT: &str = "page_parent";
const ROW: &str = "page_row";

/// The same page of a to-many relation for many parents in one statement: `query`
/// (already joined and filtered to `parents`) numbered per parent in key order
/// (`ROW_NUMBER() OVER (PARTITION BY parent ORDER BY key)`, SQLite ≥ 3.25 and
/// PostgreSQL), of which only the first `size + 1` of each parent come back; and,
/// only when `totalCount` is asked for, `COUNT(*) … GROUP BY parent`, which reads no
/// row. Every parent gets a page (an empty one when it has no rows), with the same
/// Relay semantics as [`Page::from_sorted`].
pub async fn pages_per_parent<E, C>(
    db: &C,
    query: Select<E>,
    per: PerParent<E>,
    parents: &[i64],
    request: &PageRequest,
) -> AppResult<std::collections::HashMap<i64, Page<E::Model>>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut counts = std::collections::HashMap::new();
    if request.want_count {
        counts = count_per_parent(db, query.clone(), per.parent.clone()).await?;
    }
    let mut rows: std::collections::HashMap<i64, Vec<E::Model>> = Default::default();
    if request.want_rows {
        rows = window_per_parent(db, query, &per, request).await?;
    }
    let mut pages = std::collections::HashMap::new();
    for parent in parents {
        let mut own = rows.remove(parent).unwrap_or_default();
        let more = own.len() as u64 > request.size;
        own.truncate(request.size as usize);
        if request.direction == Direction::Backward {
            own.reverse();
        }
        let (has_previous_page, has_next_page) = match request.direction {
            Direction::Forward => (request.after.is_some(), more),
            Direction::Backward => (more, request.before.is_some()),
        };
        let page = Page {
            items: own.into_iter().map(|m| ((per.key_of)(&m), m)).collect(),
            has_previous_page,
            has_next_page,
            total_count: counts.get(parent).copied().unwrap_or(0),
        };
        pages.insert(*parent, page);
    }
    Ok(pages)
}

async fn count_per_parent<E, C>(
    db: &C,
    query: Select<E>,
    parent: sea_orm::sea_query::SimpleExpr,
) -> AppResult<std::collections::HashMap<i64, u64>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let counts: Vec<(i64, i64)> = query
        .select_only()
        .expr_as(parent.clone(), PARENT)
        .expr_as(Expr::cust("COUNT(*)"), "page_count")
        .group_by(parent)
        .into_tuple()
        .all(db)
        .await?;
    Ok(counts
        .into_iter()
        .map(|(parent, n)| (parent, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// Each parent's first `size + 1` rows after/before the cursors, in read order.
async fn window_per_parent<E, C>(
    db: &C,
    query: Select<E>,
    per: &PerParent<E>,
    request: &PageRequest,
) -> AppResult<std::collections::HashMap<i64, Vec<E::Model>>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    use sea_orm::sea_query::{Alias, Asterisk, OverStatement, Query, WindowStatement};
    use sea_orm::{FromQueryResult, QueryTrait};
    let list = Keyset::<E> {
        key_column: per.key_column,
        key_of: per.key_of,
        order: KeyOrder::Ascending,
        order_on: None,
    };
    let mut inner = query.into_query();
    if let Some(k) = request.after {
        inner.and_where(list.after(k));
    }
    if let Some(k) = request.before {
        inner.and_where(list.before(k));
    }
    let mut window = WindowStatement::new();
    window.add_partition_by(per.parent.clone());
    window.order_by_expr(list.key().into(), list.read_order(request.direction));
    inner
        .expr_as(per.parent.clone(), Alias::new(PARENT))
        .expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new(ROW));
    let limit = i64::try_from(request.size + 1).unwrap_or(i64::MAX);
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, Alias::new("page_window"))
        .and_where(Expr::col(Alias::new(ROW)).lte(limit))
        .order_by(Alias::new(PARENT), Order::Asc)
        .order_by(Alias::new(ROW), Order::Asc)
        .to_owned();
    let results = db
        .query_all(db.get_database_backend().build(&outer))
        .await?;
    let mut grouped: std::collections::HashMap<i64, Vec<E::Model>> = Default::default();
    for row in results {
        let parent: i64 = row.try_get("", PARENT)?;
        let model = E::Model::from_query_result(&row, "")?;
        grouped.entry(parent).or_default().push(model);
    }
    Ok(grouped)
}
