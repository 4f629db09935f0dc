//! Pairings (三联结对, 包联) and the coverage report against the report's rules.
use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use entity::{
    activity, activity_participant, activity_station, deputy, pairing, township, PairingKind,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};

use crate::auth::Actor;
use crate::db::paging::{fetch_page, pages_per_parent, PerParent};
use crate::db::write;
use crate::domain::page::{Page, PageRequest};
use crate::domain::pairing_rules::{self, CoverageInput, DeputyTraits, Gap};
use crate::error::{conflict_as, AppError, AppResult};
use crate::service::Ctx;

/// Pairings are the standing committee's business: supervisors and admins.
fn may_manage(actor: &Actor) -> bool {
    actor.is_admin() || actor.is_county_supervisor()
}

pub fn traits(d: &deputy::Model) -> DeputyTraits {
    DeputyTraits {
        id: d.id,
        level: d.level,
        is_leading_cadre: d.is_leading_cadre,
        term_status: d.term_status,
        is_sc_member: d.is_sc_member,
        is_sc_leader: d.is_sc_leader,
        active: d.active,
    }
}

#[derive(Debug, Clone)]
pub struct NewPairing {
    pub kind: PairingKind,
    pub senior_deputy_id: i64,
    pub junior_deputy_id: Option<i64>,
    pub township_id: Option<i64>,
    pub started_on: Option<NaiveDate>,
    pub note: Option<String>,
}

async fn deputy_or_bad_input<C: ConnectionTrait>(
    db: &C,
    field: &str,
    id: i64,
) -> AppResult<deputy::Model> {
    deputy::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input(field, "代表不存在 (no such deputy)"))
}

pub async fn create(ctx: &Ctx<'_>, input: NewPairing) -> AppResult<pairing::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    actor.require(may_manage(actor))?;
    let input = &input;
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        let senior = deputy_or_bad_input(txn, "seniorDeputyId", input.senior_deputy_id).await?;
        let junior = match input.junior_deputy_id {
            Some(id) => Some(deputy_or_bad_input(txn, "juniorDeputyId", id).await?),
            None => None,
        };
        check_fit(txn, input, &senior, junior.as_ref()).await?;
        // Duplicates are refused by the database (a partial unique index over active
        // pairings); the error arrives as CONFLICT.
        let created = pairing::ActiveModel {
            kind: Set(input.kind),
            senior_deputy_id: Set(senior.id),
            junior_deputy_id: Set(junior.map(|j| j.id)),
            township_id: Set(input.township_id),
            started_on: Set(input
                .started_on
                .unwrap_or_else(|| crate::domain::calendar::local_date(ctx.now()))),
            ended_on: Set(None),
            note: Set(input.note.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(conflict_as("该结对已存在 (this pairing already exists)"))?;
        Ok(created)
    })
    .await
}

/// Ends a pairing; it stays in the history.
/// The pairing's township exists, the deputies fit its kind, the note is not too long.
async fn check_fit<C: ConnectionTrait>(
    txn: &C,
    input: &NewPairing,
    senior: &deputy::Model,
    junior: Option<&deputy::Model>,
) -> AppResult<()> {
    if let Some(t) = input.township_id {
        township::Entity::find_by_id(t)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::bad_input("townshipId", "乡镇不存在 (no such township)"))?;
    }
    pairing_rules::check_fit(
        input.kind,
        &traits(senior),
        junior.map(traits).as_ref(),
        input.township_id,
    )?;
    if let Some(note) = &input.note {
        if note.chars().count() > 2000 {
            return Err(AppError::bad_input(
                "note",
                "备注最多2000个字符 (at most 2000 characters)",
            ));
        }
    }
    Ok(())
}

pub async fn end(ctx: &Ctx<'_>, id: i64, ended_on: Option<NaiveDate>) -> AppResult<pairing::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    actor.require(may_manage(actor))?;
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        let existing = pairing::Entity::find_by_id(id)
            .lock_exclusive()
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found("结对 (pairing)"))?;
        if existing.ended_on.is_some() {
            return Err(AppError::Conflict("该结对已结束 (already ended)".into()));
        }
        let ended_on = ended_on.unwrap_or_else(|| crate::domain::calendar::local_date(ctx.now()));
        if ended_on < existing.started_on {
            return Err(AppError::bad_input(
                "endedOn",
                "结束日期早于开始日期 (ends before it started)",
            ));
        }
        let mut active: pairing::ActiveModel = existing.into();
        active.ended_on = Set(Some(ended_on));
        Ok(active.update(txn).await?)
    })
    .await
}

#[derive(Debug, Default, Clone)]
pub struct PairingFilter {
    pub kind: Option<PairingKind>,
    pub deputy_id: Option<i64>,
    pub active_only: bool,
}

/// Pairings are public information about deputies' duties.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &PairingFilter,
    page: &PageRequest,
) -> AppResult<Page<pairing::Model>> {
    let mut query = pairing::Entity::find();
    if let Some(kind) = filter.kind {
        query = query.filter(pairing::Column::Kind.eq(kind));
    }
    if let Some(d) = filter.deputy_id {
        query = query.filter(
            sea_orm::Condition::any()
                .add(pairing::Column::SeniorDeputyId.eq(d))
                .add(pairing::Column::JuniorDeputyId.eq(d)),
        );
    }
    if filter.active_only {
        query = query.filter(pairing::Column::EndedOn.is_null());
    }
    fetch_page(db, query, pairing::Column::Id, |m| m.id, page).await
}

/// A page of the pairings each deputy takes part in, on either side (only the active
/// ones when `active_only`), paged per deputy in SQL: a pairing is numbered once
/// under each of its two deputies (joined through `deputy` on either side).
pub async fn pages_by_deputies<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    active_only: &bool,
    page: &PageRequest,
) -> AppResult<HashMap<i64, Page<pairing::Model>>> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{JoinType, QueryTrait};
    let side = Expr::col((deputy::Entity, deputy::Column::Id));
    let either_side = sea_orm::Condition::any()
        .add(
            side.clone()
                .equals((pairing::Entity, pairing::Column::SeniorDeputyId)),
        )
        .add(
            side.clone()
                .equals((pairing::Entity, pairing::Column::JuniorDeputyId)),
        );
    let mut query = pairing::Entity::find();
    QueryTrait::query(&mut query).join(JoinType::InnerJoin, deputy::Entity, either_side);
    query = query.filter(side.clone().is_in(ids.iter().copied()));
    if *active_only {
        query = query.filter(pairing::Column::EndedOn.is_null());
    }
    let per = PerParent {
        parent: side.into(),
        key_column: pairing::Column::Id,
        key_of: |m: &pairing::Model| m.id,
    };
    pages_per_parent(db, query, per, ids, page).await
}

pub fn month_bounds(year: i32, month: u32) -> AppResult<(NaiveDate, NaiveDate)> {
    let start = NaiveDate::from_ymd_opt(year, month, 1)
        .ok_or_else(|| AppError::bad_input("month", "月份须为1-12 (month must be 1 to 12)"))?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    let next = next.ok_or_else(|| AppError::bad_input("year", "年份无效 (invalid year)"))?;
    Ok((start, next))
}

/// The coverage report for a month: gaps against 5-8 grassroots deputies per member,
/// 2 townships per leader, 2 station visits per leader and month.
pub async fn coverage(ctx: &Ctx<'_>, year: i32, month: u32) -> AppResult<Vec<Gap>> {
    let (db, actor) = (ctx.db, ctx.actor);
    actor.require(
        actor.is_admin()
            || actor.is_county_supervisor()
            || !actor.supervised_townships().is_empty(),
    )?;
    let (start, next) = month_bounds(year, month)?;
    let members = deputy::Entity::find()
        .filter(deputy::Column::IsScMember.eq(true))
        .filter(deputy::Column::Active.eq(true))
        .all(db)
        .await?;
    let paired = Paired::in_month(db, start, next).await?;
    let leaders: Vec<&deputy::Model> = members.iter().filter(|d| d.is_sc_leader).collect();
    let leader_ids: Vec<i64> = leaders.iter().map(|d| d.id).collect();
    let visit_counts = station_visits(db, leader_ids, start, next).await?;
    let input = CoverageInput {
        members: members
            .iter()
            .filter(|d| !d.is_sc_leader)
            .map(|d| (d.id, paired.grassroots.get(&d.id).map_or(0, |s| s.len())))
            .collect(),
        leaders: leaders
            .iter()
            .map(|d| {
                (
                    d.id,
                    paired.townships.get(&d.id).map_or(0, |s| s.len()),
                    visit_counts.get(&d.id).copied().unwrap_or(0),
                )
            })
            .collect(),
        year,
        month,
    };
    Ok(pairing_rules::coverage_gaps(&input))
}

/// Whom each standing-committee member was paired with during a month: distinct
/// deputies and townships, so that a pairing ended and renewed within the month is
/// still one grassroots deputy.
struct Paired {
    grassroots: HashMap<i64, HashSet<i64>>,
    townships: HashMap<i64, HashSet<i64>>,
}

impl Paired {
    /// From the pairings active at any point of the month `[start, next)`.
    async fn in_month<C: ConnectionTrait>(
        db: &C,
        start: NaiveDate,
        next: NaiveDate,
    ) -> AppResult<Self> {
        let month_end = next.pred_opt().unwrap_or(next);
        let active = pairing::Entity::find()
            .filter(pairing::Column::StartedOn.lte(month_end))
            .filter(
                sea_orm::Condition::any()
                    .add(pairing::Column::EndedOn.is_null())
                    .add(pairing::Column::EndedOn.gte(start)),
            )
            .all(db)
            .await?;
        let mut paired = Paired {
            grassroots: HashMap::new(),
            townships: HashMap::new(),
        };
        for p in &active {
            match (p.kind, p.junior_deputy_id, p.township_id) {
                (PairingKind::ScMemberGrassroots, Some(junior), _) => {
                    paired
                        .grassroots
                        .entry(p.senior_deputy_id)
                        .or_default()
                        .insert(junior);
                }
                (PairingKind::ScLeaderTownship, _, Some(township)) => {
                    paired
                        .townships
                        .entry(p.senior_deputy_id)
                        .or_default()
                        .insert(township);
                }
                _ => {}
            }
        }
        Ok(paired)
    }
}

/// Station visits per leader in the month `[start, next)`: activities at a station
/// with the leader taking part.
async fn station_visits<C: ConnectionTrait>(
    db: &C,
    leader_ids: Vec<i64>,
    start: NaiveDate,
    next: NaiveDate,
) -> AppResult<HashMap<i64, usize>> {
    let visits = activity_participant::Entity::find()
        .filter(activity_participant::Column::DeputyId.is_in(leader_ids))
        .find_also_related(activity::Entity)
        .all(db)
        .await?;
    let activity_ids = visits
        .iter()
        .map(|(p, _)| p.activity_id)
        .collect::<Vec<_>>();
    let with_station: HashSet<i64> = activity_station::Entity::find()
        .filter(activity_station::Column::ActivityId.is_in(activity_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.activity_id)
        .collect();
    let mut visit_counts: HashMap<i64, usize> = HashMap::new();
    for (participant, act) in &visits {
        if let Some(act) = act {
            if act.occurred_on >= start && act.occurred_on < next && with_station.contains(&act.id)
            {
                *visit_counts.entry(participant.deputy_id).or_default() += 1;
            }
        }
    }
    Ok(visit_counts)
}
