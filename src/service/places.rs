//! Places (issue 16): the stations nearest a point, and the items on a map.
//!
//! No PostGIS: points are integer columns (`domain::place`), a bounding box is a range
//! on the `(latitude_e7, longitude_e7)` index of `station` or `petition`, and the exact
//! great-circle distance orders what the box let through, in Rust, on both backends.
use std::collections::HashMap;

use entity::{petition, petition_department, petition_event, station, PetitionState};
use sea_orm::sea_query::{Expr, Func, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::auth::Actor;
use crate::db::write;
use crate::domain::petition_flow::{is_terminal, state_name};
use crate::domain::place::{
    cell_point, cell_size_e7, BoundingBox, Location, Point, EARTH_RADIUS_M, LAT_OFFSET_E7,
    LON_OFFSET_E7,
};
use crate::error::{AppError, AppResult};
use crate::service::petitions::queries::visible_many;
use crate::service::petitions::Relation;
use crate::service::Ctx;

/// `nearestStations(first:)` at most.
pub const MAX_NEAREST: i32 = 50;
/// The first search radius; each round that finds too few searches four times as far.
const FIRST_RADIUS_M: f64 = 5_000.0;
/// A map box's longer side, at most (degrees): bounds what one request may count.
pub const MAP_MAX_SPAN_DEGREES: f64 = 5.0;
/// Up to this span (degrees, about 22 km north-south) a map shows points.
pub const MAP_POINTS_MAX_SPAN_DEGREES: f64 = 0.2;
/// `itemsOnMap(first:)`: points per answer, at most.
pub const MAP_MAX_POINTS: i32 = 500;
/// Counts are never in cells smaller than 0.05° (about 5 km): anyone may read them.
const MIN_CELL_E7: i32 = 500_000;

/// The `first` stations nearest `centre` (that have coordinates), nearest first, each
/// with its distance in metres; ties by id.
pub async fn nearest_stations<C: ConnectionTrait>(
    db: &C,
    centre: Point,
    first: i32,
) -> AppResult<Vec<(station::Model, f64)>> {
    if !(1..=MAX_NEAREST).contains(&first) {
        return Err(AppError::bad_input(
            "first",
            format!("须为1到{MAX_NEAREST}之间 (first must be 1 to {MAX_NEAREST})"),
        ));
    }
    let wanted = first as usize;
    let mut radius = FIRST_RADIUS_M;
    let nearest = loop {
        // Half the circumference reaches every point: the last round has no box.
        let everywhere = radius >= std::f64::consts::PI * EARTH_RADIUS_M;
        let bbox = (!everywhere).then(|| BoundingBox::around(centre, radius));
        let mut near: Vec<(i64, f64)> = located_stations(db, bbox)
            .await?
            .into_iter()
            .map(|(id, p)| (id, centre.distance_m(p)))
            .filter(|(_, d)| everywhere || *d <= radius)
            .collect();
        // Every station within `radius` is in the box: once `wanted` of them are,
        // none outside can be nearer than those.
        if everywhere || near.len() >= wanted {
            near.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            near.truncate(wanted);
            break near;
        }
        radius *= 4.0;
    };
    with_models(db, nearest).await
}

/// Stations with coordinates, in the box when one is given (the index's range).
async fn located_stations<C: ConnectionTrait>(
    db: &C,
    bbox: Option<BoundingBox>,
) -> AppResult<Vec<(i64, Point)>> {
    let mut query = station::Entity::find()
        .select_only()
        .column(station::Column::Id)
        .column(station::Column::LatitudeE7)
        .column(station::Column::LongitudeE7)
        .filter(station::Column::LatitudeE7.is_not_null())
        .filter(station::Column::LongitudeE7.is_not_null());
    if let Some(b) = bbox {
        query = query
            .filter(station::Column::LatitudeE7.between(b.south_e7, b.north_e7))
            .filter(station::Column::LongitudeE7.between(b.west_e7, b.east_e7));
    }
    let rows: Vec<(i64, i32, i32)> = query.into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(id, lat_e7, lon_e7)| (id, Point { lat_e7, lon_e7 }))
        .collect())
}

async fn with_models<C: ConnectionTrait>(
    db: &C,
    ranked: Vec<(i64, f64)>,
) -> AppResult<Vec<(station::Model, f64)>> {
    let mut models: HashMap<i64, station::Model> = station::Entity::find()
        .filter(station::Column::Id.is_in(ranked.iter().map(|(id, _)| *id)))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    Ok(ranked
        .into_iter()
        .filter_map(|(id, d)| models.remove(&id).map(|m| (m, d)))
        .collect())
}

/// What a map shows for a box.
#[derive(Debug)]
pub enum ItemMap {
    /// The items in the box the actor may see (merged ones left out), by id;
    /// `truncated` when there are more.
    Points {
        items: Vec<(petition::Model, Relation)>,
        truncated: bool,
    },
    /// Located items (all but merged ones) counted per square cell of `size_e7`.
    Cells { size_e7: i32, cells: Vec<MapCell> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapCell {
    /// The cell's items' centroid, rounded to a quarter of the cell.
    pub centre: Point,
    pub count: i64,
}

/// The items on a map of `bbox`: points for an actor who may see items and a box of
/// at most [`MAP_POINTS_MAX_SPAN_DEGREES`], else counts per cell.
pub async fn items_on_map<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    bbox: BoundingBox,
    first: i32,
) -> AppResult<ItemMap> {
    if bbox.span_degrees() > MAP_MAX_SPAN_DEGREES {
        return Err(AppError::bad_input(
            "north",
            format!("地图范围过大 (the box may span at most {MAP_MAX_SPAN_DEGREES}°)"),
        ));
    }
    if !(1..=MAP_MAX_POINTS).contains(&first) {
        return Err(AppError::bad_input(
            "first",
            format!("须为1到{MAP_MAX_POINTS}之间 (first must be 1 to {MAP_MAX_POINTS})"),
        ));
    }
    match viewing_scope(actor) {
        Some(scope) if bbox.span_degrees() <= MAP_POINTS_MAX_SPAN_DEGREES => {
            points(db, actor, bbox, scope, first as u64).await
        }
        _ => cells(db, bbox).await,
    }
}

fn in_box(b: BoundingBox) -> Condition {
    Condition::all()
        .add(petition::Column::LatitudeE7.between(b.south_e7, b.north_e7))
        .add(petition::Column::LongitudeE7.between(b.west_e7, b.east_e7))
}

/// The items an actor may see, as SQL (the same rights as `petitions::relation`'s
/// `may_view`, which still checks each row found): `None` for an actor who sees none.
fn viewing_scope(actor: &Actor) -> Option<Condition> {
    actor.principal()?;
    if actor.is_admin() || actor.is_county_supervisor() {
        return Some(Condition::all());
    }
    let mut any = Condition::any();
    if let Some(account) = actor.account_id() {
        any = any.add(petition::Column::SubmitterAccountId.eq(account));
    }
    if let Some(deputy) = actor.deputy_id() {
        any = any.add(petition::Column::DeputyId.eq(deputy));
    }
    for (column, ids) in [
        (petition::Column::StationId, actor.staff_stations()),
        (petition::Column::TownshipId, actor.supervised_townships()),
    ] {
        if !ids.is_empty() {
            any = any.add(column.is_in(ids));
        }
    }
    let departments = actor.handler_departments();
    if !departments.is_empty() {
        any = any.add(
            petition::Column::Id.in_subquery(
                Query::select()
                    .column(petition_department::Column::PetitionId)
                    .from(petition_department::Entity)
                    .and_where(petition_department::Column::DepartmentId.is_in(departments))
                    .to_owned(),
            ),
        );
    }
    Some(any)
}

async fn points<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    bbox: BoundingBox,
    scope: Condition,
    first: u64,
) -> AppResult<ItemMap> {
    // Merged items are left out, as from the counts: each stands in its target.
    let ids: Vec<i64> = petition::Entity::find()
        .select_only()
        .column(petition::Column::Id)
        .filter(in_box(bbox))
        .filter(petition::Column::State.ne(PetitionState::Merged))
        .filter(scope)
        .order_by_asc(petition::Column::Id)
        .limit(first + 1)
        .into_tuple()
        .all(db)
        .await?;
    // `truncated` says whether more *visible* items lie in the box: the row-by-row
    // check runs on the one beyond the page too.
    let mut items = visible_many(db, actor, &ids).await?;
    items.sort_by_key(|(item, _)| item.id);
    let truncated = items.len() as u64 > first;
    items.truncate(first as usize);
    Ok(ItemMap::Points { items, truncated })
}

async fn cells<C: ConnectionTrait>(db: &C, bbox: BoundingBox) -> AppResult<ItemMap> {
    let size = cell_size_e7(bbox.span_degrees(), MIN_CELL_E7);
    // Count whole cells only (see `BoundingBox::to_whole_cells`).
    let bbox = bbox.to_whole_cells(size);
    let cell = |column: petition::Column, offset: i32| {
        Expr::expr(Expr::col(column).add(i64::from(offset))).div(i64::from(size))
    };
    let rows: Vec<(i64, i64, i64, f64, f64)> = petition::Entity::find()
        .select_only()
        .column_as(
            cell(petition::Column::LatitudeE7, LAT_OFFSET_E7),
            "lat_cell",
        )
        .column_as(
            cell(petition::Column::LongitudeE7, LON_OFFSET_E7),
            "lon_cell",
        )
        .column_as(petition::Column::Id.count(), "items")
        .column_as(
            SimpleExpr::FunctionCall(Func::avg(Expr::col(petition::Column::LatitudeE7).mul(1.0))),
            "lat_avg",
        )
        .column_as(
            SimpleExpr::FunctionCall(Func::avg(Expr::col(petition::Column::LongitudeE7).mul(1.0))),
            "lon_avg",
        )
        .filter(in_box(bbox))
        .filter(petition::Column::State.ne(PetitionState::Merged))
        .group_by(Expr::cust("lat_cell"))
        .group_by(Expr::cust("lon_cell"))
        .order_by_asc(Expr::cust("lat_cell"))
        .order_by_asc(Expr::cust("lon_cell"))
        .into_tuple()
        .all(db)
        .await?;
    let cells = rows
        .into_iter()
        .map(|(lat_cell, lon_cell, count, lat_avg, lon_avg)| MapCell {
            centre: Point {
                lat_e7: cell_point(lat_avg, lat_cell, LAT_OFFSET_E7, size, count),
                lon_e7: cell_point(lon_avg, lon_cell, LON_OFFSET_E7, size, count),
            },
            count,
        })
        .collect();
    Ok(ItemMap::Cells {
        size_e7: size,
        cells,
    })
}

/// Sets an open item's location on behalf of its submitter (a WeChat follower's
/// location message): the columns, the version, and a `locate` entry in the history
/// (the same state on both sides). A closed, declined or merged item keeps its place.
pub async fn locate_item(
    ctx: &Ctx<'_>,
    item_id: i64,
    location: &Location,
) -> AppResult<petition::Model> {
    write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        // The row lock (PostgreSQL; SQLite's write lock is already held): a step
        // closing the item meanwhile is waited for, then seen.
        let item = petition::Entity::find_by_id(item_id)
            .lock_exclusive()
            .one(txn)
            .await?
            .filter(|p| !is_terminal(p.state))
            .ok_or_else(|| AppError::not_found("办理中的留言 (open item)"))?;
        let now = ctx.now();
        let state = state_name(item.state);
        petition_event::ActiveModel {
            petition_id: Set(item.id),
            action: Set("locate".into()),
            from_state: Set(Some(state.into())),
            to_state: Set(state.into()),
            actor_account_id: Set(None),
            actor_role: Set(Some("submitter".into())),
            department_id: Set(None),
            // The place itself stays on the item, shown as its viewers may see it;
            // the history (which every viewer reads) does not repeat the address.
            note: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let version = item.version + 1;
        let mut row: petition::ActiveModel = item.into();
        row.latitude_e7 = Set(Some(location.point.lat_e7));
        row.longitude_e7 = Set(Some(location.point.lon_e7));
        row.location_accuracy_m = Set(location.accuracy_m);
        row.location_address = Set(location.address.clone());
        row.version = Set(version);
        row.updated_at = Set(now);
        Ok(row.update(txn).await?)
    })
    .await
}
