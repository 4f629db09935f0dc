//! Reads of the organisation: townships, stations, grids, deputies, departments.
//! This reference data is public (citizens pick a station or deputy from it); personal
//! fields such as a deputy's phone are not part of these reads.

pub mod management;

use std::collections::HashMap;

use entity::{department, deputy, deputy_station, grid, station, township};
use sea_orm::sea_query::{Expr, LikeExpr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Select,
};

use crate::db::paging::{fetch_page, pages_per_parent, PerParent};
use crate::domain::page::{Page, PageRequest};
use crate::error::AppResult;
use crate::service::support::group;

#[derive(Debug, Default, Clone)]
pub struct StationFilter {
    pub kind: Option<entity::StationKind>,
    pub brand: Option<bool>,
    pub township_id: Option<i64>,
    pub name: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct DeputyFilter {
    pub level: Option<entity::CongressLevel>,
    pub station_id: Option<i64>,
    pub township_id: Option<i64>,
    pub name: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct DepartmentFilter {
    pub level: Option<entity::DepartmentLevel>,
    pub township_id: Option<i64>,
}

/// `%` and `_` in user text are literals, not wildcards.
fn contains_pattern(text: &str) -> LikeExpr {
    let escaped = text
        .trim()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

pub async fn townships<C: ConnectionTrait>(
    db: &C,
    page: &PageRequest,
) -> AppResult<Page<township::Model>> {
    fetch_page(
        db,
        township::Entity::find(),
        township::Column::Id,
        |m| m.id,
        page,
    )
    .await
}

fn station_query(filter: &StationFilter) -> Select<station::Entity> {
    let mut query = station::Entity::find();
    if let Some(kind) = filter.kind {
        query = query.filter(station::Column::Kind.eq(kind));
    }
    if let Some(brand) = filter.brand {
        query = query.filter(station::Column::IsBrand.eq(brand));
    }
    if let Some(township_id) = filter.township_id {
        query = query.filter(station::Column::TownshipId.eq(township_id));
    }
    if let Some(name) = filter.name.as_deref().filter(|n| !n.trim().is_empty()) {
        query = query.filter(
            Expr::col((station::Entity, station::Column::Name)).like(contains_pattern(name)),
        );
    }
    query
}

pub async fn stations<C: ConnectionTrait>(
    db: &C,
    filter: &StationFilter,
    page: &PageRequest,
) -> AppResult<Page<station::Model>> {
    fetch_page(
        db,
        station_query(filter),
        station::Column::Id,
        |m| m.id,
        page,
    )
    .await
}

fn active_assignments() -> Condition {
    Condition::all().add(deputy_station::Column::Until.is_null())
}

pub async fn deputies<C: ConnectionTrait>(
    db: &C,
    filter: &DeputyFilter,
    page: &PageRequest,
) -> AppResult<Page<deputy::Model>> {
    let mut query = deputy::Entity::find();
    if let Some(level) = filter.level {
        query = query.filter(deputy::Column::Level.eq(level));
    }
    if let Some(station_id) = filter.station_id {
        query = query.filter(
            deputy::Column::Id.in_subquery(
                Query::select()
                    .column(deputy_station::Column::DeputyId)
                    .from(deputy_station::Entity)
                    .cond_where(
                        active_assignments().add(deputy_station::Column::StationId.eq(station_id)),
                    )
                    .to_owned(),
            ),
        );
    }
    if let Some(township_id) = filter.township_id {
        // A deputy belongs to a township by electoral unit or by a station there.
        let at_station_in_township = Query::select()
            .column(deputy_station::Column::DeputyId)
            .from(deputy_station::Entity)
            .inner_join(
                station::Entity,
                Expr::col((station::Entity, station::Column::Id))
                    .equals((deputy_station::Entity, deputy_station::Column::StationId)),
            )
            .cond_where(
                active_assignments()
                    .add(Expr::col((station::Entity, station::Column::TownshipId)).eq(township_id)),
            )
            .to_owned();
        query = query.filter(
            Condition::any()
                .add(deputy::Column::TownshipId.eq(township_id))
                .add(deputy::Column::Id.in_subquery(at_station_in_township)),
        );
    }
    if let Some(name) = filter.name.as_deref().filter(|n| !n.trim().is_empty()) {
        query = query
            .filter(Expr::col((deputy::Entity, deputy::Column::Name)).like(contains_pattern(name)));
    }
    fetch_page(db, query, deputy::Column::Id, |m| m.id, page).await
}

pub async fn departments<C: ConnectionTrait>(
    db: &C,
    filter: &DepartmentFilter,
    page: &PageRequest,
) -> AppResult<Page<department::Model>> {
    let mut query = department::Entity::find();
    if let Some(level) = filter.level {
        query = query.filter(department::Column::Level.eq(level));
    }
    if let Some(township_id) = filter.township_id {
        query = query.filter(department::Column::TownshipId.eq(township_id));
    }
    fetch_page(db, query, department::Column::Id, |m| m.id, page).await
}

pub async fn deputy_by_code<C: ConnectionTrait>(
    db: &C,
    code: &str,
) -> AppResult<Option<deputy::Model>> {
    let code = crate::domain::deputy_code::parse(code)?;
    Ok(deputy::Entity::find()
        .filter(deputy::Column::Code.eq(code))
        .one(db)
        .await?)
}

// ------------------------------------------------------------------ batch reads
// Each function answers one DataLoader batch with one statement.

pub(crate) async fn by_ids<E, C>(
    db: &C,
    id_column: E::Column,
    ids: &[i64],
    key_of: fn(&E::Model) -> i64,
) -> AppResult<HashMap<i64, E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let rows = E::find()
        .filter(id_column.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| (key_of(&row), row)).collect())
}

pub async fn townships_by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, township::Model>> {
    by_ids::<township::Entity, _>(db, township::Column::Id, ids, |m| m.id).await
}

pub async fn stations_by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, station::Model>> {
    by_ids::<station::Entity, _>(db, station::Column::Id, ids, |m| m.id).await
}

pub async fn grids_by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, grid::Model>> {
    by_ids::<grid::Entity, _>(db, grid::Column::Id, ids, |m| m.id).await
}

pub async fn deputies_by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, deputy::Model>> {
    by_ids::<deputy::Entity, _>(db, deputy::Column::Id, ids, |m| m.id).await
}

pub async fn departments_by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, department::Model>> {
    by_ids::<department::Entity, _>(db, department::Column::Id, ids, |m| m.id).await
}

/// A page of each station's grids, paged per station in SQL.
pub async fn grid_pages<C: ConnectionTrait>(
    db: &C,
    station_ids: &[i64],
    _filter: &(),
    page: &PageRequest,
) -> AppResult<HashMap<i64, Page<grid::Model>>> {
    let query =
        grid::Entity::find().filter(grid::Column::StationId.is_in(station_ids.iter().copied()));
    let per = PerParent {
        parent: Expr::col((grid::Entity, grid::Column::StationId)).into(),
        key_column: grid::Column::Id,
        key_of: |m: &grid::Model| m.id,
    };
    pages_per_parent(db, query, per, station_ids, page).await
}

/// Whether the deputy is currently assigned to the station (one of its residents).
pub async fn is_resident<C: ConnectionTrait>(
    db: &C,
    deputy_id: i64,
    station_id: i64,
) -> AppResult<bool> {
    let assignments = deputy_station::Entity::find()
        .filter(
            active_assignments()
                .add(deputy_station::Column::DeputyId.eq(deputy_id))
                .add(deputy_station::Column::StationId.eq(station_id)),
        )
        .count(db)
        .await?;
    Ok(assignments > 0)
}

/// A page of each station's resident deputies, paged per station in SQL (DataLoader
/// batch: one statement for every station of a level).
pub async fn resident_pages<C: ConnectionTrait>(
    db: &C,
    station_ids: &[i64],
    _filter: &(),
    page: &PageRequest,
) -> AppResult<HashMap<i64, Page<deputy::Model>>> {
    let query = deputy::Entity::find()
        .join_rev(JoinType::InnerJoin, deputy_station::Relation::Deputy.def())
        .filter(
            active_assignments()
                .add(deputy_station::Column::StationId.is_in(station_ids.iter().copied())),
        );
    let per = PerParent {
        parent: Expr::col((deputy_station::Entity, deputy_station::Column::StationId)).into(),
        key_column: deputy::Column::Id,
        key_of: |m: &deputy::Model| m.id,
    };
    pages_per_parent(db, query, per, station_ids, page).await
}

/// A page of each township's stations, paged per township in SQL.
pub async fn township_station_pages<C: ConnectionTrait>(
    db: &C,
    township_ids: &[i64],
    _filter: &(),
    page: &PageRequest,
) -> AppResult<HashMap<i64, Page<station::Model>>> {
    let query = station::Entity::find()
        .filter(station::Column::TownshipId.is_in(township_ids.iter().copied()));
    let per = PerParent {
        parent: Expr::col((station::Entity, station::Column::TownshipId)).into(),
        key_column: station::Column::Id,
        key_of: |m: &station::Model| m.id,
    };
    pages_per_parent(db, query, per, township_ids, page).await
}

/// Stations each deputy is currently assigned to.
pub async fn stations_by_deputy<C: ConnectionTrait>(
    db: &C,
    deputy_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<station::Model>>> {
    let rows = deputy_station::Entity::find()
        .filter(
            active_assignments()
                .add(deputy_station::Column::DeputyId.is_in(deputy_ids.iter().copied())),
        )
        .find_also_related(station::Entity)
        .order_by_asc(deputy_station::Column::StationId)
        .all(db)
        .await?;
    Ok(group(rows.into_iter().filter_map(|(link, station)| {
        station.map(|s| (link.deputy_id, s))
    })))
}

/// Whether `actor` may see a deputy's full contact details: admins, supervisors of
/// the deputy's township (or county-wide), the deputy, and staff of a station the
/// deputy serves at. Everyone else sees them masked.
pub fn may_see_deputy_contact(
    actor: &crate::auth::Actor,
    deputy: &deputy::Model,
    deputy_station_ids: &[i64],
) -> bool {
    actor.is_admin()
        || actor.supervises_township(deputy.township_id)
        || actor.deputy_id() == Some(deputy.id)
        || deputy_station_ids.iter().any(|s| actor.is_staff_of(*s))
}

pub async fn categories_by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, entity::category::Model>> {
    by_ids::<entity::category::Entity, _>(db, entity::category::Column::Id, ids, |m| m.id).await
}

/// The managed taxonomy, in display order.
pub async fn categories<C: ConnectionTrait>(db: &C) -> AppResult<Vec<entity::category::Model>> {
    Ok(entity::category::Entity::find()
        .filter(entity::category::Column::Active.eq(true))
        .order_by_asc(entity::category::Column::SortOrder)
        .all(db)
        .await?)
}

/// The standing committee's special committees (专门委员会), by code.
pub async fn special_committees<C: ConnectionTrait>(
    db: &C,
) -> AppResult<Vec<entity::special_committee::Model>> {
    Ok(entity::special_committee::Entity::find()
        .order_by_asc(entity::special_committee::Column::Code)
        .all(db)
        .await?)
}

/// A special committee's member deputies, by deputy code.
pub async fn committee_members<C: ConnectionTrait>(
    db: &C,
    committee_id: i64,
) -> AppResult<Vec<entity::deputy::Model>> {
    use entity::committee_deputy;
    Ok(entity::deputy::Entity::find()
        .inner_join(committee_deputy::Entity)
        .filter(committee_deputy::Column::CommitteeId.eq(committee_id))
        .order_by_asc(entity::deputy::Column::Code)
        .all(db)
        .await?)
}
