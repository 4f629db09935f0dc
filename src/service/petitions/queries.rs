//! Reading items: a station's ledger, a department's inbox, a deputy's items, a
//! citizen's items, supervisors' search, tracking by code; each scoped to the actor.
use chrono::NaiveDate;
use entity::{
    petition, petition_department, petition_event, station, ForwardStatus, PetitionState, Urgency,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait, Select,
};

use super::tally::{self, Place};
use super::{departments_of, relation, Relation};
use crate::auth::Actor;
use crate::db::paging::{fetch_page_of_parts, KeyOrder, Keyset};
use crate::domain::calendar::day_start;
use crate::domain::page::{Page, PageRequest};
use crate::domain::tracking;
use crate::error::{AppError, AppResult};
use crate::service::Ctx;

#[derive(Debug, Default, Clone)]
pub struct ItemFilter {
    pub states: Vec<PetitionState>,
    pub category_id: Option<i64>,
    pub urgency: Option<Urgency>,
    pub overdue: Option<bool>,
    /// Collected on or after (China time).
    pub from: Option<NaiveDate>,
    /// Collected on or before (China time).
    pub to: Option<NaiveDate>,
}

/// Everything but the states (see [`by_state`]).
fn filtered(mut query: Select<petition::Entity>, f: &ItemFilter) -> Select<petition::Entity> {
    if let Some(c) = f.category_id {
        query = query.filter(petition::Column::CategoryId.eq(c));
    }
    if let Some(u) = f.urgency {
        query = query.filter(petition::Column::Urgency.eq(u));
    }
    if let Some(o) = f.overdue {
        query = query.filter(petition::Column::IsOverdue.eq(o));
    }
    if let Some(from) = f.from {
        query = query.filter(petition::Column::CollectedAt.gte(day_start(from)));
    }
    if let Some(to) = f.to.and_then(|d| d.succ_opt()) {
        query = query.filter(petition::Column::CollectedAt.lt(day_start(to)));
    }
    query
}

/// The query split into one disjoint part per state asked for (all states: one part).
/// Each part is `… AND state = s ORDER BY id`, which an index `(…, state, id)` serves
/// in order; `state IN (a, b) ORDER BY id` fits no index (see `db::paging`).
fn by_state(
    query: Select<petition::Entity>,
    states: &[PetitionState],
) -> Vec<Select<petition::Entity>> {
    let mut distinct: Vec<PetitionState> = Vec::new();
    for state in states {
        if !distinct.contains(state) {
            distinct.push(*state);
        }
    }
    if distinct.is_empty() {
        return vec![query];
    }
    distinct
        .into_iter()
        .map(|state| query.clone().filter(petition::Column::State.eq(state)))
        .collect()
}

async fn page_of<C: ConnectionTrait>(
    db: &C,
    query: Select<petition::Entity>,
    filter: &ItemFilter,
    page: &PageRequest,
) -> AppResult<Page<petition::Model>> {
    page_ordered_on(db, query, None, filter, page).await
}

/// [`page_of`] for a list the tally covers: its `totalCount` is added up from
/// `petition_tally` (see [`tally`]) when the filter allows, not counted.
async fn page_of_tallied<C: ConnectionTrait>(
    db: &C,
    query: Select<petition::Entity>,
    place: Place,
    filter: &ItemFilter,
    page: &PageRequest,
) -> AppResult<Page<petition::Model>> {
    if !page.want_count || !tally::covers(filter) {
        return page_of(db, query, filter, page).await;
    }
    let total_count = tally::count(db, &place, filter).await?;
    let uncounted = PageRequest {
        want_count: false,
        ..*page
    };
    let mut found = page_of(db, query, filter, &uncounted).await?;
    found.total_count = total_count;
    Ok(found)
}

/// [`page_of`], ordered and keyed on `order_on` (a joined column equal to the item's
/// id) when given.
async fn page_ordered_on<C: ConnectionTrait>(
    db: &C,
    query: Select<petition::Entity>,
    order_on: Option<sea_orm::sea_query::SimpleExpr>,
    filter: &ItemFilter,
    page: &PageRequest,
) -> AppResult<Page<petition::Model>> {
    let parts = by_state(filtered(query, filter), &filter.states);
    let list = Keyset {
        key_column: petition::Column::Id,
        key_of: |m: &petition::Model| m.id,
        order: KeyOrder::Ascending,
        order_on,
    };
    fetch_page_of_parts(db, &parts, list, page).await
}

/// 站点台账: the station's staff, supervisors of its township, admins.
pub async fn ledger(
    ctx: &Ctx<'_>,
    station_id: i64,
    filter: &ItemFilter,
    page: &PageRequest,
) -> AppResult<Page<petition::Model>> {
    let (db, actor) = (ctx.db, ctx.actor);
    let station = station::Entity::find_by_id(station_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("站点 (station)"))?;
    actor.require(
        actor.is_admin()
            || actor.is_staff_of(station.id)
            || actor.supervises_township(Some(station.township_id)),
    )?;
    page_of_tallied(
        db,
        petition::Entity::find().filter(petition::Column::StationId.eq(station.id)),
        Place::Station(station.id),
        filter,
        page,
    )
    .await
}

/// A department's inbox: items forwarded to it (lead or assisting) and not returned.
pub async fn inbox(
    ctx: &Ctx<'_>,
    department_id: i64,
    filter: &ItemFilter,
    page: &PageRequest,
) -> AppResult<Page<petition::Model>> {
    let (db, actor) = (ctx.db, ctx.actor);
    actor.require(
        actor.is_admin() || actor.is_county_supervisor() || actor.handles_department(department_id),
    )?;
    // Read through the department's parts in item order (index (department_id,
    // petition_id)): one part per item and department, so no item twice.
    let forwarded = petition::Entity::find()
        .join_rev(
            JoinType::InnerJoin,
            petition_department::Relation::Petition.def(),
        )
        .filter(petition_department::Column::DepartmentId.eq(department_id))
        .filter(petition_department::Column::Status.ne(ForwardStatus::Returned));
    let in_part_order = Expr::col((
        petition_department::Entity,
        petition_department::Column::PetitionId,
    ));
    page_ordered_on(db, forwarded, Some(in_part_order.into()), filter, page).await
}

/// Items addressed to or collected by the signed-in deputy.
pub async fn deputy_items(
    ctx: &Ctx<'_>,
    filter: &ItemFilter,
    page: &PageRequest,
) -> AppResult<Page<petition::Model>> {
    let (db, actor) = (ctx.db, ctx.actor);
    let deputy_id = actor.deputy_id();
    actor.require(deputy_id.is_some())?;
    page_of(
        db,
        petition::Entity::find().filter(petition::Column::DeputyId.eq(deputy_id)),
        filter,
        page,
    )
    .await
}

/// The signed-in citizen's own items.
pub async fn my_items(
    ctx: &Ctx<'_>,
    filter: &ItemFilter,
    page: &PageRequest,
) -> AppResult<Page<petition::Model>> {
    let (db, actor) = (ctx.db, ctx.actor);
    let principal = actor.require_signed_in()?;
    page_of(
        db,
        petition::Entity::find()
            .filter(petition::Column::SubmitterAccountId.eq(principal.account_id)),
        filter,
        page,
    )
    .await
}

/// Supervisors' view: every item in their townships (county supervisors and admins: all).
pub async fn supervised(
    ctx: &Ctx<'_>,
    township_id: Option<i64>,
    filter: &ItemFilter,
    page: &PageRequest,
) -> AppResult<Page<petition::Model>> {
    let (db, actor) = (ctx.db, ctx.actor);
    let everything = actor.is_admin() || actor.is_county_supervisor();
    let townships = actor.supervised_townships();
    actor.require(everything || !townships.is_empty())?;
    let mut query = petition::Entity::find();
    let place = match township_id {
        Some(t) => {
            actor.require(everything || townships.contains(&t))?;
            query = query.filter(petition::Column::TownshipId.eq(t));
            Place::Townships(vec![t])
        }
        None if !everything => {
            query = query.filter(petition::Column::TownshipId.is_in(townships.clone()));
            Place::Townships(townships)
        }
        None => Place::County,
    };
    page_of_tallied(db, query, place, filter, page).await
}

/// What tracking by code reveals.
pub enum Tracked {
    /// The submitter (account or follow secret), or anyone entitled: the whole item.
    Full(petition::Model, Relation),
    /// Anyone with the code: where the item stands, nothing personal.
    Status(petition::Model),
}

pub async fn track(ctx: &Ctx<'_>, code: &str, secret: Option<&str>) -> AppResult<Tracked> {
    let (db, actor) = (ctx.db, ctx.actor);
    let item = by_tracking_code(db, &tracking::parse_tracking_code(code)?)
        .await?
        .ok_or_else(|| AppError::not_found("查询码对应的事项 (item with this tracking code)"))?;
    let secret_ok = match (secret, &item.follow_secret_hash) {
        (Some(s), Some(hash)) => tracking::secret_matches(s, hash),
        (Some(_), None) => false,
        (None, _) => false,
    };
    if secret.is_some() && !secret_ok {
        return Err(AppError::Forbidden(
            "查询密钥不正确 (wrong follow secret)".into(),
        ));
    }
    let departments = departments_of(db, item.id).await?;
    let rel = relation(actor, &item, &departments, secret_ok);
    Ok(if rel.may_view {
        Tracked::Full(item, rel)
    } else {
        Tracked::Status(item)
    })
}

/// The item with this (parsed) tracking code.
pub async fn by_tracking_code<C: ConnectionTrait>(
    db: &C,
    code: &str,
) -> AppResult<Option<petition::Model>> {
    Ok(petition::Entity::find()
        .filter(petition::Column::TrackingCode.eq(code))
        .one(db)
        .await?)
}

/// History entries of each item, oldest first (DataLoader batch).
pub async fn events_of<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, Vec<petition_event::Model>>> {
    let rows = petition_event::Entity::find()
        .filter(petition_event::Column::PetitionId.is_in(ids.iter().copied()))
        .order_by_asc(petition_event::Column::Id)
        .all(db)
        .await?;
    let mut grouped: std::collections::HashMap<i64, Vec<petition_event::Model>> =
        std::collections::HashMap::new();
    for row in rows {
        grouped.entry(row.petition_id).or_default().push(row);
    }
    Ok(grouped)
}

/// Department parts of each item (DataLoader batch).
pub async fn departments_by_items<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, Vec<petition_department::Model>>> {
    let rows = petition_department::Entity::find()
        .filter(petition_department::Column::PetitionId.is_in(ids.iter().copied()))
        .order_by_asc(petition_department::Column::Id)
        .all(db)
        .await?;
    let mut grouped: std::collections::HashMap<i64, Vec<petition_department::Model>> =
        std::collections::HashMap::new();
    for row in rows {
        grouped.entry(row.petition_id).or_default().push(row);
    }
    Ok(grouped)
}

/// Items by id with the actor's relation to each, dropping what the actor may not see
/// (for `node(id:)`).
pub async fn visible_many<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[i64],
) -> AppResult<Vec<(petition::Model, Relation)>> {
    let items = petition::Entity::find()
        .filter(petition::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let departments = departments_by_items(db, ids).await?;
    Ok(items
        .into_iter()
        .filter_map(|item| {
            let rel = relation(
                actor,
                &item,
                departments.get(&item.id).map(Vec::as_slice).unwrap_or(&[]),
                false,
            );
            rel.may_view.then_some((item, rel))
        })
        .collect())
}
