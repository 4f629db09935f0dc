//! Managing the organisation: stations, grids, deputies, resident assignments, grid
//! links, part-time liaisons and departments, each within the actor's scope.
use chrono::{NaiveDate, Utc};
use entity::{
    department, deputy, deputy_grid, deputy_station, grid, liaison, station, township,
    CongressLevel, DepartmentLevel, Gender, LiaisonKind, StationKind, TermStatus,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Select, Set,
};

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{JoinType, RelationTrait};

use crate::auth::Actor;
use crate::db::paging::{pages_per_parent, PerParent};
use crate::db::write;
use crate::domain::page::Page;
use crate::domain::phone::Phone;
use crate::domain::{deputy_code, scope};
use crate::error::{conflict_as, AppError, AppResult};
use crate::service::support::scope::{out_of_reach, station_authority};
use crate::service::Ctx;

/// Admins everywhere; supervisors within their townships (or county-wide).
fn may_manage_township(actor: &Actor, township_id: i64) -> bool {
    actor.is_admin() || actor.supervises_township(Some(township_id))
}

/// ... and station staff for their own station.
fn may_manage_station(actor: &Actor, station: &station::Model) -> bool {
    may_manage_township(actor, station.township_id) || actor.is_staff_of(station.id)
}

fn text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max {
        return Err(AppError::bad_input(
            field,
            format!("须为1-{max}个字符 (1 to {max} characters)"),
        ));
    }
    Ok(trimmed.to_owned())
}

fn optional_text(field: &str, value: Option<String>, max: usize) -> AppResult<Option<String>> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| text(field, &v, max))
        .transpose()
}

fn code(field: &str, value: &str) -> AppResult<String> {
    let code = value.trim().to_ascii_lowercase();
    let ok = (2..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(code)
    } else {
        Err(AppError::bad_input(
            field,
            "编码须为2-32位小写字母、数字、_ 或 - (2-32 of a-z 0-9 _ -)",
        ))
    }
}

async fn station_or<C: ConnectionTrait>(db: &C, field: &str, id: i64) -> AppResult<station::Model> {
    station::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input(field, "站点不存在 (no such station)"))
}

/// Station `id` (named by input `field`), when the actor may manage it.
async fn managed_station<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    field: &str,
    id: i64,
) -> AppResult<station::Model> {
    let station = station_or(db, field, id).await?;
    actor.require(may_manage_station(actor, &station))?;
    Ok(station)
}

/// The station of grid `grid_id`, when the actor may manage it (deputy–grid links).
async fn managed_grid_station<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    grid_id: i64,
) -> AppResult<station::Model> {
    let grid = grid::Entity::find_by_id(grid_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input("gridId", "网格不存在 (no such grid)"))?;
    managed_station(db, actor, "gridId", grid.station_id).await
}

/// The deputy's assignment to the station, open or ended.
fn assignment(deputy_id: i64, station_id: i64) -> Select<deputy_station::Entity> {
    deputy_station::Entity::find()
        .filter(deputy_station::Column::DeputyId.eq(deputy_id))
        .filter(deputy_station::Column::StationId.eq(station_id))
}

/// The deputy's current (not ended) resident assignment to the station.
fn open_residency(deputy_id: i64, station_id: i64) -> Select<deputy_station::Entity> {
    assignment(deputy_id, station_id).filter(deputy_station::Column::Until.is_null())
}

async fn township_or<C: ConnectionTrait>(
    db: &C,
    field: &str,
    id: i64,
) -> AppResult<township::Model> {
    township::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input(field, "乡镇不存在 (no such township)"))
}

// ------------------------------------------------------------------ stations

#[derive(Debug, Clone)]
pub struct StationInput {
    pub code: String,
    pub name: String,
    pub kind: StationKind,
    pub township_id: i64,
    pub parent_id: Option<i64>,
    pub brand_name: Option<String>,
    pub feature: Option<String>,
    pub address: Option<String>,
    pub reception_hours: Option<String>,
}

pub async fn create_station(ctx: &Ctx<'_>, input: StationInput) -> AppResult<station::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    actor.require(may_manage_township(actor, input.township_id))?;
    let input = &input;
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        township_or(txn, "townshipId", input.township_id).await?;
        if let Some(parent) = input.parent_id {
            // The parent lies in the new station's township (and so within the actor's
            // reach); one elsewhere answers as a missing one.
            station::Entity::find_by_id(parent)
                .one(txn)
                .await?
                .filter(|p| scope::parent_station_fits(input.township_id, p.township_id))
                .ok_or_else(|| out_of_reach("parentId", "上级站点", "parent station"))?;
        }
        let brand_name = optional_text("brandName", input.brand_name.clone(), 64)?;
        let now = Utc::now();
        station::ActiveModel {
            code: Set(code("code", &input.code)?),
            name: Set(text("name", &input.name, 128)?),
            kind: Set(input.kind),
            township_id: Set(input.township_id),
            parent_id: Set(input.parent_id),
            is_brand: Set(brand_name.is_some()),
            brand_name: Set(brand_name),
            feature: Set(optional_text("feature", input.feature.clone(), 2000)?),
            address: Set(optional_text("address", input.address.clone(), 255)?),
            reception_hours: Set(optional_text(
                "receptionHours",
                input.reception_hours.clone(),
                128,
            )?),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(conflict_as(
            "站点编码或名称已存在 (station code or name already used)",
        ))
    })
    .await
}

/// Descriptive fields only; `None` leaves a field as it is, an empty string clears it.
#[derive(Debug, Clone, Default)]
pub struct StationPatch {
    pub name: Option<String>,
    pub brand_name: Option<String>,
    pub feature: Option<String>,
    pub address: Option<String>,
    pub reception_hours: Option<String>,
}

pub async fn update_station(
    ctx: &Ctx<'_>,
    id: i64,
    patch: StationPatch,
) -> AppResult<station::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    let patch = &patch;
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        let existing = station::Entity::find_by_id(id)
            .lock_exclusive()
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found("站点 (station)"))?;
        actor.require(may_manage_station(actor, &existing))?;
        let mut active: station::ActiveModel = existing.into();
        if let Some(name) = patch.name.clone() {
            active.name = Set(text("name", &name, 128)?);
        }
        if let Some(brand) = patch.brand_name.clone() {
            let brand = optional_text("brandName", Some(brand), 64)?;
            active.is_brand = Set(brand.is_some());
            active.brand_name = Set(brand);
        }
        if let Some(feature) = patch.feature.clone() {
            active.feature = Set(optional_text("feature", Some(feature), 2000)?);
        }
        if let Some(address) = patch.address.clone() {
            active.address = Set(optional_text("address", Some(address), 255)?);
        }
        if let Some(hours) = patch.reception_hours.clone() {
            active.reception_hours = Set(optional_text("receptionHours", Some(hours), 128)?);
        }
        active.updated_at = Set(Utc::now());
        active.update(txn).await.map_err(conflict_as(
            "同乡镇已有同名站点 (a station of that name exists in the township)",
        ))
    })
    .await
}

pub async fn create_grid(
    ctx: &Ctx<'_>,
    station_id: i64,
    name: &str,
    description: Option<String>,
) -> AppResult<grid::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    let description = &description;
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        let station = managed_station(txn, actor, "stationId", station_id).await?;
        grid::ActiveModel {
            station_id: Set(station.id),
            name: Set(text("name", name, 64)?),
            description: Set(optional_text("description", description.clone(), 2000)?),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(conflict_as(
            "该站点已有同名网格 (the station has a grid of that name)",
        ))
    })
    .await
}

// ------------------------------------------------------------------ deputies

#[derive(Debug, Clone)]
pub struct DeputyInput {
    pub name: String,
    pub gender: Gender,
    pub level: CongressLevel,
    pub township_id: Option<i64>,
    pub is_leading_cadre: bool,
    pub term_status: TermStatus,
    pub is_sc_member: bool,
    pub is_sc_leader: bool,
    pub professional_field: Option<String>,
    pub occupation: Option<String>,
    pub phone: Option<String>,
    pub bio: Option<String>,
}

fn may_manage_deputies(actor: &Actor) -> bool {
    actor.is_admin() || actor.is_county_supervisor()
}

fn check_deputy(input: &DeputyInput) -> AppResult<()> {
    if input.is_sc_leader && !input.is_sc_member {
        return Err(AppError::bad_input(
            "isStandingCommitteeMember",
            "常委会领导也是常委会组成人员 (a leader is also a member)",
        ));
    }
    if (input.is_sc_member || input.is_sc_leader) && input.level != CongressLevel::County {
        return Err(AppError::bad_input(
            "level",
            "常委会组成人员须为县级人大代表 (standing-committee members are county deputies)",
        ));
    }
    Ok(())
}

pub async fn create_deputy(ctx: &Ctx<'_>, input: DeputyInput) -> AppResult<deputy::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    actor.require(may_manage_deputies(actor))?;
    let input = &input;
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        check_deputy(input)?;
        if let Some(t) = input.township_id {
            township_or(txn, "townshipId", t).await?;
        }
        let now = Utc::now();
        let mut row = deputy::ActiveModel {
            active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        set_details(&mut row, input)?;
        row.code = Set(unused_code(txn).await?);
        Ok(row.insert(txn).await?)
    })
    .await
}

/// A fresh random public code; on the (unlikely) collision, draw again.
async fn unused_code<C: ConnectionTrait>(txn: &C) -> AppResult<String> {
    for _ in 0..5 {
        let code = deputy_code::generate();
        let taken = deputy::Entity::find()
            .filter(deputy::Column::Code.eq(&code))
            .count(txn)
            .await?
            > 0;
        if !taken {
            return Ok(code);
        }
    }
    Err(AppError::internal("could not draw a unique deputy code"))
}

/// The deputy's details as `input` gives them, validated (the code and the active flag
/// are not details).
fn set_details(row: &mut deputy::ActiveModel, input: &DeputyInput) -> AppResult<()> {
    row.name = Set(text("name", &input.name, 64)?);
    row.gender = Set(input.gender);
    row.level = Set(input.level);
    row.township_id = Set(input.township_id);
    row.is_leading_cadre = Set(input.is_leading_cadre);
    row.term_status = Set(input.term_status);
    row.is_sc_member = Set(input.is_sc_member);
    row.is_sc_leader = Set(input.is_sc_leader);
    row.professional_field = Set(optional_text(
        "professionalField",
        input.professional_field.clone(),
        64,
    )?);
    row.occupation = Set(optional_text("occupation", input.occupation.clone(), 128)?);
    row.phone = Set(Phone::parse_optional("phone", input.phone.as_deref())?);
    row.bio = Set(optional_text("bio", input.bio.clone(), 5000)?);
    Ok(())
}

pub async fn update_deputy(
    ctx: &Ctx<'_>,
    id: i64,
    input: DeputyInput,
    active_flag: Option<bool>,
) -> AppResult<deputy::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    actor.require(may_manage_deputies(actor))?;
    let input = &input;
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        check_deputy(input)?;
        let existing = deputy::Entity::find_by_id(id)
            .lock_exclusive()
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found("代表 (deputy)"))?;
        if let Some(t) = input.township_id {
            township_or(txn, "townshipId", t).await?;
        }
        let mut active: deputy::ActiveModel = existing.into();
        set_details(&mut active, input)?;
        if let Some(flag) = active_flag {
            active.active = Set(flag);
        }
        active.updated_at = Set(Utc::now());
        Ok(active.update(txn).await?)
    })
    .await
}

// ------------------------------------------------------------------ assignments

/// Makes a deputy a resident deputy of a station. Who may: those who manage the
/// station (its staff, supervisors of its township, county supervisors, admins); which
/// deputies: `domain::scope::may_assign_resident` — local authority only deputies of
/// the station's township, county-wide authority any. A deputy out of reach answers as
/// an unknown one (BAD_USER_INPUT on `deputyId`, one message).
pub async fn assign_resident(
    ctx: &Ctx<'_>,
    deputy_id: i64,
    station_id: i64,
    since: Option<NaiveDate>,
) -> AppResult<deputy_station::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        let station = managed_station(txn, actor, "stationId", station_id).await?;
        let deputy = assignable_deputy(txn, actor, &station, deputy_id).await?;
        let since = since.unwrap_or_else(|| crate::domain::calendar::local_date(ctx.now()));
        open_assignment(txn, deputy.id, station_id, since).await
    })
    .await
}

/// An active deputy the actor may make resident at `station`. A deputy outside the
/// actor's reach answers exactly as a missing one.
async fn assignable_deputy<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    station: &station::Model,
    deputy_id: i64,
) -> AppResult<deputy::Model> {
    let deputy = deputy::Entity::find_by_id(deputy_id)
        .one(txn)
        .await?
        .filter(|d| {
            scope::may_assign_resident(station_authority(actor), station.township_id, d.township_id)
        })
        .ok_or_else(|| out_of_reach("deputyId", "代表", "deputy"))?;
    if !deputy.active {
        return Err(AppError::bad_input(
            "deputyId",
            "该代表已不在任 (the deputy is not active)",
        ));
    }
    Ok(deputy)
}

/// A new resident assignment, or a closed one reopened (a deputy coming back).
async fn open_assignment<C: ConnectionTrait>(
    txn: &C,
    deputy_id: i64,
    station_id: i64,
    since: NaiveDate,
) -> AppResult<deputy_station::Model> {
    let existing = assignment(deputy_id, station_id).one(txn).await?;
    match existing {
        Some(row) if row.until.is_none() => Err(AppError::Conflict(
            "该代表已驻此站 (already resident here)".into(),
        )),
        Some(row) => {
            let mut active: deputy_station::ActiveModel = row.into();
            active.since = Set(since);
            active.until = Set(None);
            Ok(active.update(txn).await?)
        }
        None => Ok(deputy_station::ActiveModel {
            deputy_id: Set(deputy_id),
            station_id: Set(station_id),
            is_resident: Set(true),
            since: Set(since),
            until: Set(None),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await?),
    }
}

pub async fn end_resident(
    ctx: &Ctx<'_>,
    deputy_id: i64,
    station_id: i64,
    until: Option<NaiveDate>,
) -> AppResult<deputy_station::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        managed_station(txn, actor, "stationId", station_id).await?;
        let row = open_residency(deputy_id, station_id)
            .lock_exclusive()
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found("驻站安排 (resident assignment)"))?;
        let until = until.unwrap_or_else(|| crate::domain::calendar::local_date(ctx.now()));
        if until < row.since {
            return Err(AppError::bad_input(
                "until",
                "结束日期早于开始日期 (ends before it began)",
            ));
        }
        // Their grid links at this station end with the assignment.
        let station_grids = sea_orm::sea_query::Query::select()
            .column(grid::Column::Id)
            .from(grid::Entity)
            .and_where(grid::Column::StationId.eq(station_id))
            .to_owned();
        deputy_grid::Entity::delete_many()
            .filter(deputy_grid::Column::DeputyId.eq(deputy_id))
            .filter(deputy_grid::Column::GridId.in_subquery(station_grids))
            .exec(txn)
            .await?;
        let mut active: deputy_station::ActiveModel = row.into();
        active.until = Set(Some(until));
        Ok(active.update(txn).await?)
    })
    .await
}

/// Each resident deputy links one or two grids of their station (融合共治小组).
pub const MAX_GRIDS_PER_DEPUTY: u64 = 2;

pub async fn link_grid(
    ctx: &Ctx<'_>,
    deputy_id: i64,
    grid_id: i64,
) -> AppResult<deputy_grid::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        let station = managed_grid_station(txn, actor, grid_id).await?;
        require_resident(txn, deputy_id, station.id).await?;
        // One deputy's links take turns (the deputy's row lock), so the count below
        // still holds when this link commits.
        deputy::Entity::find_by_id(deputy_id)
            .lock_exclusive()
            .one(txn)
            .await?;
        let linked = deputy_grid::Entity::find()
            .filter(deputy_grid::Column::DeputyId.eq(deputy_id))
            .count(txn)
            .await?;
        if linked >= MAX_GRIDS_PER_DEPUTY {
            return Err(AppError::bad_input(
                "gridId",
                "每名驻站代表最多联系2个网格 (at most 2 grids per deputy)",
            ));
        }
        deputy_grid::ActiveModel {
            deputy_id: Set(deputy_id),
            grid_id: Set(grid_id),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(conflict_as("已联系该网格 (already linked)"))
    })
    .await
}

/// Only the station's own resident deputies link its grids: any other id, existing or
/// not, gets the same answer.
async fn require_resident<C: ConnectionTrait>(
    txn: &C,
    deputy_id: i64,
    station_id: i64,
) -> AppResult<()> {
    if !super::is_resident(txn, deputy_id, station_id).await? {
        return Err(AppError::bad_input(
            "deputyId",
            "本站没有这名驻站代表,只有驻站代表可联系本站网格 \
             (no such resident deputy here: only the station's resident deputies \
             link its grids)",
        ));
    }
    Ok(())
}

pub async fn unlink_grid(ctx: &Ctx<'_>, deputy_id: i64, grid_id: i64) -> AppResult<bool> {
    let (db, actor) = (ctx.db, ctx.actor);
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        managed_grid_station(txn, actor, grid_id).await?;
        let removed = deputy_grid::Entity::delete_many()
            .filter(deputy_grid::Column::DeputyId.eq(deputy_id))
            .filter(deputy_grid::Column::GridId.eq(grid_id))
            .exec(txn)
            .await?
            .rows_affected;
        if removed == 0 {
            return Err(AppError::not_found("网格联系 (grid link)"));
        }
        Ok(true)
    })
    .await
}

// ------------------------------------------------------------------ liaisons, departments

#[derive(Debug, Clone)]
pub struct LiaisonInput {
    pub station_id: i64,
    pub grid_id: Option<i64>,
    pub name: String,
    pub kind: LiaisonKind,
    pub phone: Option<String>,
}

pub async fn create_liaison(ctx: &Ctx<'_>, input: LiaisonInput) -> AppResult<liaison::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    let input = &input;
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        let station = managed_station(txn, actor, "stationId", input.station_id).await?;
        if let Some(g) = input.grid_id {
            // A grid of another station answers as a missing one.
            grid::Entity::find_by_id(g)
                .one(txn)
                .await?
                .filter(|grid| grid.station_id == station.id)
                .ok_or_else(|| out_of_reach("gridId", "网格", "grid"))?;
        }
        Ok(liaison::ActiveModel {
            station_id: Set(station.id),
            grid_id: Set(input.grid_id),
            name: Set(text("name", &input.name, 64)?),
            kind: Set(input.kind),
            phone: Set(Phone::parse_optional("phone", input.phone.as_deref())?),
            active: Set(true),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await?)
    })
    .await
}

pub async fn create_department(
    ctx: &Ctx<'_>,
    code_raw: &str,
    name: &str,
    level: DepartmentLevel,
    township_id: Option<i64>,
) -> AppResult<department::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    actor.require(actor.is_admin())?;
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        match (level, township_id) {
            (DepartmentLevel::Township, None) => {
                return Err(AppError::bad_input(
                    "townshipId",
                    "乡镇级部门须指定乡镇 (a township department needs its township)",
                ))
            }
            (DepartmentLevel::County, Some(_)) => {
                return Err(AppError::bad_input(
                    "townshipId",
                    "县级部门不属于乡镇 (county departments have no township)",
                ))
            }
            (_, Some(t)) => {
                township_or(txn, "townshipId", t).await?;
            }
            _ => {}
        }
        department::ActiveModel {
            code: Set(code("code", code_raw)?),
            name: Set(text("name", name, 128)?),
            level: Set(level),
            township_id: Set(township_id),
            phone: Set(None),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(conflict_as(
            "部门编码或名称已存在 (department code or name already used)",
        ))
    })
    .await
}

/// A page of each station's liaisons, paged per station in SQL.
pub async fn liaison_pages<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    _filter: &(),
    page: &crate::domain::page::PageRequest,
) -> AppResult<HashMap<i64, Page<liaison::Model>>> {
    let query =
        liaison::Entity::find().filter(liaison::Column::StationId.is_in(ids.iter().copied()));
    let per = PerParent {
        parent: Expr::col((liaison::Entity, liaison::Column::StationId)).into(),
        key_column: liaison::Column::Id,
        key_of: |m: &liaison::Model| m.id,
    };
    pages_per_parent(db, query, per, ids, page).await
}

/// A page of each grid's deputies, paged per grid in SQL.
pub async fn grid_deputy_pages<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    _filter: &(),
    page: &crate::domain::page::PageRequest,
) -> AppResult<HashMap<i64, Page<deputy::Model>>> {
    let query = deputy::Entity::find()
        .join_rev(JoinType::InnerJoin, deputy_grid::Relation::Deputy.def())
        .filter(deputy_grid::Column::GridId.is_in(ids.iter().copied()));
    let per = PerParent {
        parent: Expr::col((deputy_grid::Entity, deputy_grid::Column::GridId)).into(),
        key_column: deputy::Column::Id,
        key_of: |m: &deputy::Model| m.id,
    };
    pages_per_parent(db, query, per, ids, page).await
}
