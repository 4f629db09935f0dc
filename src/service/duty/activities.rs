//! Duty activities (履职活动) and themed campaigns. Deputies log their own; station
//! staff log for deputies of their station; supervisors and admins for anyone.
use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use entity::{
    activity, activity_participant, activity_station, campaign, deputy, deputy_station, station,
    ActivityKind,
};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter,
    QuerySelect, RelationTrait, Set,
};

use crate::auth::Actor;
use crate::db::paging::{fetch_page, pages_per_parent, PerParent};
use crate::db::write;
use crate::domain::page::{Page, PageRequest};
use crate::error::{conflict_as, AppError, AppResult};
use crate::service::attachments;
use crate::service::support::idempotency::{self, Claim};
use crate::service::Ctx;

#[derive(Debug, Clone)]
pub struct NewActivity {
    pub kind: ActivityKind,
    pub title: String,
    pub occurred_on: NaiveDate,
    pub station_ids: Vec<i64>,
    pub participant_ids: Vec<i64>,
    pub campaign_id: Option<i64>,
    pub citizens_heard: i32,
    pub notes: Option<String>,
    /// Photos: the logger's own uploads of purpose ACTIVITY, unused, of the last day.
    pub attachment_ids: Vec<String>,
}

/// The most stations or participants one activity may list.
pub const MAX_LINKS: usize = 200;

fn dedup(ids: &[i64]) -> Vec<i64> {
    let mut seen = HashSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

/// Logs an activity; with an idempotency key a retry within 24 hours answers the
/// first activity and creates nothing.
pub async fn log(
    ctx: &Ctx<'_>,
    input: NewActivity,
    idempotency_key: Option<String>,
) -> AppResult<activity::Model> {
    let db = ctx.db;
    let arguments = serde_json::json!({
        "kind": format!("{:?}", input.kind),
        "title": input.title,
        "occurredOn": input.occurred_on.to_string(),
        "stationIds": input.station_ids,
        "participantIds": input.participant_ids,
        "campaignId": input.campaign_id,
        "citizensHeard": input.citizens_heard,
        "notes": input.notes,
        "attachmentIds": input.attachment_ids,
    });
    let claim = Claim::new(ctx, idempotency_key, "logActivity", &arguments)?;
    idempotency::once(
        db,
        claim.as_ref(),
        log_new(ctx, input, claim.as_ref()),
        |stored| async move {
            activity::Entity::find_by_id(stored.object_id.unwrap_or_default())
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found("履职活动 (activity)"))
        },
    )
    .await
}

async fn log_new(
    ctx: &Ctx<'_>,
    input: NewActivity,
    claim: Option<&Claim>,
) -> AppResult<activity::Model> {
    let actor = ctx.actor;
    let principal = actor.require_signed_in()?;
    let input = &input;
    let today = crate::domain::calendar::local_date(ctx.now());
    let photos = &attachments::check_ids(
        "attachmentIds",
        &input.attachment_ids,
        attachments::MAX_PER_TARGET,
    )?;
    write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        let title = checked_title(input, today)?;
        let participants = dedup(&input.participant_ids);
        let stations = dedup(&input.station_ids);
        let found_stations = checked_links(txn, input, &participants, &stations).await?;
        actor.require(may_log(txn, actor, &participants, &found_stations).await?)?;
        let created = activity::ActiveModel {
            kind: Set(input.kind),
            title: Set(title),
            occurred_on: Set(input.occurred_on),
            campaign_id: Set(input.campaign_id),
            // Joint (联合视察、联动调研): spanning several stations.
            is_joint: Set(stations.len() > 1),
            citizens_heard: Set(input.citizens_heard),
            notes: Set(input.notes.clone()),
            recorded_by: Set(Some(principal.account_id)),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        link(txn, created.id, &participants, &stations).await?;
        let target = attachments::Target::Activity(created.id);
        attachments::attach(txn, ctx, "attachmentIds", photos, target).await?;
        idempotency::record(claim, txn, Some(created.id), serde_json::json!({})).await?;
        Ok(created)
    })
    .await
}

/// The activity's own fields checked; its trimmed title.
fn checked_title(input: &NewActivity, today: NaiveDate) -> AppResult<String> {
    let title = input.title.trim();
    if !(1..=200).contains(&title.chars().count()) {
        return Err(AppError::bad_input(
            "title",
            "标题须为1-200个字符 (1 to 200 characters)",
        ));
    }
    if input
        .notes
        .as_deref()
        .is_some_and(|n| n.chars().count() > 5000)
    {
        return Err(AppError::bad_input(
            "notes",
            "备注最多5000个字符 (at most 5000 characters)",
        ));
    }
    if input.occurred_on > today {
        return Err(AppError::bad_input(
            "occurredOn",
            "活动日期不能晚于今天 (cannot be in the future)",
        ));
    }
    if input.occurred_on < NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(today) {
        return Err(AppError::bad_input(
            "occurredOn",
            "活动日期过早 (too far in the past)",
        ));
    }
    if !(0..=100_000).contains(&input.citizens_heard) {
        return Err(AppError::bad_input(
            "citizensHeard",
            "接待人数须为0-100000 (0 to 100000)",
        ));
    }
    Ok(title.to_owned())
}

/// The participants, stations and campaign exist (and are not too many); the stations.
async fn checked_links<C: ConnectionTrait>(
    txn: &C,
    input: &NewActivity,
    participants: &[i64],
    stations: &[i64],
) -> AppResult<Vec<station::Model>> {
    if participants.is_empty() {
        return Err(AppError::bad_input(
            "participantIds",
            "至少一名参加代表 (at least one deputy)",
        ));
    }
    if participants.len() > MAX_LINKS || stations.len() > MAX_LINKS {
        return Err(AppError::bad_input(
            "participantIds",
            format!("最多{MAX_LINKS}个 (at most {MAX_LINKS})"),
        ));
    }
    let found_deputies = deputy::Entity::find()
        .filter(deputy::Column::Id.is_in(participants.to_vec()))
        .all(txn)
        .await?;
    if found_deputies.len() != participants.len() {
        return Err(AppError::bad_input(
            "participantIds",
            "参加代表不存在 (unknown deputy)",
        ));
    }
    let found_stations = station::Entity::find()
        .filter(station::Column::Id.is_in(stations.to_vec()))
        .all(txn)
        .await?;
    if found_stations.len() != stations.len() {
        return Err(AppError::bad_input(
            "stationIds",
            "站点不存在 (unknown station)",
        ));
    }
    if let Some(c) = input.campaign_id {
        campaign::Entity::find_by_id(c)
            .one(txn)
            .await?
            .ok_or_else(|| {
                AppError::bad_input("campaignId", "主题活动不存在 (unknown campaign)")
            })?;
    }
    Ok(found_stations)
}

/// Who may log it: a deputy for activities they take part in; staff for deputies
/// resident at their station; supervisors (their townships) and admins for anyone.
async fn may_log<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    participants: &[i64],
    stations: &[station::Model],
) -> AppResult<bool> {
    if actor.is_admin()
        || actor.is_county_supervisor()
        || actor.deputy_id().is_some_and(|d| participants.contains(&d))
    {
        return Ok(true);
    }
    let assignments = deputy_station::Entity::find()
        .filter(deputy_station::Column::DeputyId.is_in(participants.to_vec()))
        .filter(deputy_station::Column::Until.is_null())
        .all(txn)
        .await?;
    let staff_ok = participants.iter().all(|d| {
        assignments
            .iter()
            .any(|a| a.deputy_id == *d && actor.is_staff_of(a.station_id))
    });
    let townships: Vec<i64> = stations.iter().map(|s| s.township_id).collect();
    let supervisor_ok = !townships.is_empty()
        && townships
            .iter()
            .all(|t| actor.supervises_township(Some(*t)));
    Ok(staff_ok || supervisor_ok)
}

/// The activity's participants and stations.
async fn link<C: ConnectionTrait>(
    txn: &C,
    activity_id: i64,
    participants: &[i64],
    stations: &[i64],
) -> AppResult<()> {
    for d in participants {
        activity_participant::ActiveModel {
            activity_id: Set(activity_id),
            deputy_id: Set(*d),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    for s in stations {
        activity_station::ActiveModel {
            activity_id: Set(activity_id),
            station_id: Set(*s),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct ActivityFilter {
    pub deputy_id: Option<i64>,
    pub station_id: Option<i64>,
    pub township_id: Option<i64>,
    pub kind: Option<ActivityKind>,
    pub campaign_id: Option<i64>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Activities are public records of duty (履职公开).
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &ActivityFilter,
    page: &PageRequest,
) -> AppResult<Page<activity::Model>> {
    let mut query = activity::Entity::find();
    if let Some(kind) = filter.kind {
        query = query.filter(activity::Column::Kind.eq(kind));
    }
    if let Some(c) = filter.campaign_id {
        query = query.filter(activity::Column::CampaignId.eq(c));
    }
    if let Some(from) = filter.from {
        query = query.filter(activity::Column::OccurredOn.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(activity::Column::OccurredOn.lte(to));
    }
    if let Some(d) = filter.deputy_id {
        query = query.filter(
            activity::Column::Id.in_subquery(
                Query::select()
                    .column(activity_participant::Column::ActivityId)
                    .from(activity_participant::Entity)
                    .and_where(activity_participant::Column::DeputyId.eq(d))
                    .to_owned(),
            ),
        );
    }
    if let Some(stations) = at_stations(filter) {
        query = query.filter(activity::Column::Id.in_subquery(stations));
    }
    fetch_page(db, query, activity::Column::Id, |m| m.id, page).await
}

/// The activities at the filter's station or in its township, if it names either.
fn at_stations(filter: &ActivityFilter) -> Option<sea_orm::sea_query::SelectStatement> {
    if filter.station_id.is_none() && filter.township_id.is_none() {
        return None;
    }
    let mut stations = Query::select();
    stations
        .column(activity_station::Column::ActivityId)
        .from(activity_station::Entity);
    if let Some(s) = filter.station_id {
        stations.and_where(activity_station::Column::StationId.eq(s));
    }
    if let Some(t) = filter.township_id {
        stations.and_where(
            activity_station::Column::StationId.in_subquery(
                Query::select()
                    .column(station::Column::Id)
                    .from(station::Entity)
                    .and_where(station::Column::TownshipId.eq(t))
                    .to_owned(),
            ),
        );
    }
    Some(stations.to_owned())
}

/// A page of the activities each deputy took part in (optionally one year), paged
/// per deputy in SQL (DataLoader batch: one statement for a level).
pub async fn pages_by_deputies<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    year: &Option<i32>,
    page: &PageRequest,
) -> AppResult<HashMap<i64, Page<activity::Model>>> {
    let mut query = activity::Entity::find()
        .join_rev(
            JoinType::InnerJoin,
            activity_participant::Relation::Activity.def(),
        )
        .filter(activity_participant::Column::DeputyId.is_in(ids.iter().copied()));
    if let Some(year) = *year {
        // A year chrono cannot represent holds no activity.
        let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MAX);
        let end = year
            .checked_add(1)
            .and_then(|next| NaiveDate::from_ymd_opt(next, 1, 1))
            .unwrap_or(NaiveDate::MIN);
        query = query
            .filter(activity::Column::OccurredOn.gte(start))
            .filter(activity::Column::OccurredOn.lt(end));
    }
    let per = PerParent {
        parent: Expr::col((
            activity_participant::Entity,
            activity_participant::Column::DeputyId,
        ))
        .into(),
        key_column: activity::Column::Id,
        key_of: |m: &activity::Model| m.id,
    };
    pages_per_parent(db, query, per, ids, page).await
}

/// A page of each activity's participants, paged per activity in SQL.
pub async fn participant_pages<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    _filter: &(),
    page: &PageRequest,
) -> AppResult<HashMap<i64, Page<deputy::Model>>> {
    let query = deputy::Entity::find()
        .join_rev(
            JoinType::InnerJoin,
            activity_participant::Relation::Deputy.def(),
        )
        .filter(activity_participant::Column::ActivityId.is_in(ids.iter().copied()));
    let per = PerParent {
        parent: Expr::col((
            activity_participant::Entity,
            activity_participant::Column::ActivityId,
        ))
        .into(),
        key_column: deputy::Column::Id,
        key_of: |m: &deputy::Model| m.id,
    };
    pages_per_parent(db, query, per, ids, page).await
}

/// A page of each activity's stations, paged per activity in SQL.
pub async fn station_pages<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    _filter: &(),
    page: &PageRequest,
) -> AppResult<HashMap<i64, Page<station::Model>>> {
    let query = station::Entity::find()
        .join_rev(
            JoinType::InnerJoin,
            activity_station::Relation::Station.def(),
        )
        .filter(activity_station::Column::ActivityId.is_in(ids.iter().copied()));
    let per = PerParent {
        parent: Expr::col((
            activity_station::Entity,
            activity_station::Column::ActivityId,
        ))
        .into(),
        key_column: station::Column::Id,
        key_of: |m: &station::Model| m.id,
    };
    pages_per_parent(db, query, per, ids, page).await
}

#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub description: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

pub async fn create_campaign(ctx: &Ctx<'_>, input: NewCampaign) -> AppResult<campaign::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    actor.require(actor.is_admin() || actor.is_county_supervisor())?;
    let input = &input;
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        let name = input.name.trim();
        if !(1..=128).contains(&name.chars().count()) {
            return Err(AppError::bad_input(
                "name",
                "名称须为1-128个字符 (1 to 128 characters)",
            ));
        }
        if input.ends_on.is_some_and(|end| end < input.starts_on) {
            return Err(AppError::bad_input(
                "endsOn",
                "结束日期早于开始日期 (ends before it starts)",
            ));
        }
        campaign::ActiveModel {
            name: Set(name.to_owned()),
            description: Set(input.description.clone()),
            starts_on: Set(input.starts_on),
            ends_on: Set(input.ends_on),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(conflict_as(
            "同名主题活动已存在 (a campaign with this name exists)",
        ))
    })
    .await
}

pub async fn campaigns<C: ConnectionTrait>(
    db: &C,
    page: &PageRequest,
) -> AppResult<Page<campaign::Model>> {
    fetch_page(
        db,
        campaign::Entity::find(),
        campaign::Column::Id,
        |m| m.id,
        page,
    )
    .await
}

pub async fn campaigns_by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, campaign::Model>> {
    let rows = campaign::Entity::find()
        .filter(campaign::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|c| (c.id, c)).collect())
}
