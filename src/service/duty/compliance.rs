//! "Eight ones" (八个一) compliance from what was logged: per deputy per month and
//! year, rolled up per station and township; and the performance archive (履职档案).
use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::{
    activity, activity_participant, deputy, deputy_station, petition, station, story, suggestion,
    Channel, StoryStatus,
};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::auth::Actor;
use crate::domain::calendar::{day_start, local_date};
use crate::domain::compliance::{
    self, DutyRecord, Evidence, MonthCompliance, Rollup, YearCompliance,
};
use crate::error::{AppError, AppResult};
use crate::service::support::group;
use crate::service::Ctx;

/// Deputies' performance is for the deputy, the staff of their stations, supervisors
/// of their township and admins.
pub fn may_view(actor: &Actor, deputy: &deputy::Model, stations: &[station::Model]) -> bool {
    actor.is_admin()
        || actor.deputy_id() == Some(deputy.id)
        || actor.supervises_township(deputy.township_id)
        || stations
            .iter()
            .any(|s| actor.is_staff_of(s.id) || actor.supervises_township(Some(s.township_id)))
}

fn period(year: i32, first_month: u32, last_month: u32) -> AppResult<(NaiveDate, NaiveDate)> {
    let bad = || AppError::bad_input("month", "月份须为1-12 (month must be 1 to 12)");
    if !(1..=12).contains(&first_month)
        || !(1..=12).contains(&last_month)
        || !(1900..=2999).contains(&year)
    {
        return Err(bad());
    }
    let start = NaiveDate::from_ymd_opt(year, first_month, 1).ok_or_else(bad)?;
    let end = if last_month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, last_month + 1, 1)
    }
    .ok_or_else(bad)?;
    Ok((start, end))
}

/// Everything that counts as evidence for the deputies in [from, to).
pub async fn records<C: ConnectionTrait>(
    db: &C,
    deputy_ids: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<HashMap<i64, Vec<DutyRecord>>> {
    let mut all = activities(db, deputy_ids, from, to).await?;
    let (from_ts, to_ts) = (day_start(from), day_start(to));
    all.extend(opinions(db, deputy_ids, from_ts, to_ts).await?);
    all.extend(stories(db, deputy_ids, from_ts, to_ts).await?);
    Ok(group(all))
}

/// `column` in the half-open period [from, to), as every evidence query reads it.
fn within<T: Into<sea_orm::Value>>(column: impl ColumnTrait, from: T, to: T) -> Condition {
    Condition::all().add(column.gte(from)).add(column.lt(to))
}

/// The activities the deputies took part in.
async fn activities<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<(i64, DutyRecord)>> {
    let activities = activity_participant::Entity::find()
        .filter(activity_participant::Column::DeputyId.is_in(ids.to_vec()))
        .find_also_related(activity::Entity)
        .filter(within(activity::Column::OccurredOn, from, to))
        .all(db)
        .await?;
    Ok(activities
        .into_iter()
        .filter_map(|(link, act)| {
            let act = act?;
            let evidence = Evidence::Activity(act.kind);
            Some((link.deputy_id, record(act.occurred_on, evidence)))
        })
        .collect())
}

fn record(date: NaiveDate, evidence: Evidence) -> DutyRecord {
    DutyRecord { date, evidence }
}

/// Opinion items the deputies collected (reception or visit) and suggestions made.
async fn opinions<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    from_ts: DateTime<Utc>,
    to_ts: DateTime<Utc>,
) -> AppResult<Vec<(i64, DutyRecord)>> {
    let items = petition::Entity::find()
        .filter(petition::Column::DeputyId.is_in(ids.to_vec()))
        .filter(petition::Column::Channel.is_in([Channel::DeputyVisit, Channel::StationReception]))
        .filter(within(petition::Column::CollectedAt, from_ts, to_ts))
        .all(db)
        .await?;
    let suggestions = suggestion::Entity::find()
        .filter(suggestion::Column::DeputyId.is_in(ids.to_vec()))
        .filter(within(suggestion::Column::SubmittedAt, from_ts, to_ts))
        .all(db)
        .await?;
    let items = items
        .into_iter()
        .filter_map(|item| Some((item.deputy_id?, item.collected_at)));
    let suggestions = suggestions
        .into_iter()
        .map(|s| (s.deputy_id, s.submitted_at));
    Ok(items
        .chain(suggestions)
        .map(|(d, at)| (d, record(local_date(at), Evidence::OpinionItem)))
        .collect())
}

/// The deputies' stories published in the period.
async fn stories<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    from_ts: DateTime<Utc>,
    to_ts: DateTime<Utc>,
) -> AppResult<Vec<(i64, DutyRecord)>> {
    let stories = story::Entity::find()
        .filter(story::Column::DeputyId.is_in(ids.to_vec()))
        .filter(story::Column::Status.eq(StoryStatus::Published))
        .filter(within(story::Column::PublishedAt, from_ts, to_ts))
        .all(db)
        .await?;
    Ok(stories
        .into_iter()
        .filter_map(|s| {
            let date = local_date(s.published_at?);
            Some((s.deputy_id, record(date, Evidence::PublishedStory)))
        })
        .collect())
}

/// The resident assignments of each deputy, as (since, until) periods.
async fn residency<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<(NaiveDate, Option<NaiveDate>)>>> {
    let rows = deputy_station::Entity::find()
        .filter(deputy_station::Column::DeputyId.is_in(ids.iter().copied()))
        .filter(deputy_station::Column::IsResident.eq(true))
        .all(db)
        .await?;
    Ok(group(
        rows.into_iter().map(|a| (a.deputy_id, (a.since, a.until))),
    ))
}

/// Whether any assignment covered part of the month.
fn resident_in(
    periods: Option<&Vec<(NaiveDate, Option<NaiveDate>)>>,
    year: i32,
    month: u32,
) -> bool {
    let Ok((start, next)) = period(year, month, month) else {
        return false;
    };
    periods.is_some_and(|ps| {
        ps.iter()
            .any(|(since, until)| *since < next && until.is_none_or(|u| u >= start))
    })
}

fn check_through(through_month: u32) -> AppResult<()> {
    if (1..=12).contains(&through_month) {
        Ok(())
    } else {
        Err(AppError::bad_input(
            "throughMonth",
            "月份须为1-12 (throughMonth must be 1 to 12)",
        ))
    }
}

pub async fn deputy_month<C: ConnectionTrait>(
    db: &C,
    deputy_id: i64,
    year: i32,
    month: u32,
) -> AppResult<MonthCompliance> {
    let (from, to) = period(year, month, month)?;
    let records = records(db, &[deputy_id], from, to).await?;
    let resident = resident_in(
        residency(db, &[deputy_id]).await?.get(&deputy_id),
        year,
        month,
    );
    compliance::month(
        records.get(&deputy_id).map(Vec::as_slice).unwrap_or(&[]),
        year,
        month,
        resident,
    )
}

pub async fn deputy_year<C: ConnectionTrait>(
    db: &C,
    deputy_id: i64,
    year: i32,
    through_month: u32,
) -> AppResult<YearCompliance> {
    check_through(through_month)?;
    let (from, to) = period(year, 1, through_month)?;
    let records = records(db, &[deputy_id], from, to).await?;
    let periods = residency(db, &[deputy_id]).await?;
    let mine = periods.get(&deputy_id);
    compliance::year_with_residency(
        records.get(&deputy_id).map(Vec::as_slice).unwrap_or(&[]),
        year,
        through_month,
        |m| resident_in(mine, year, m),
    )
}

/// Whom a roll-up covers.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Station(i64),
    Township(i64),
}

impl Scope {
    /// Exactly one of a station and a township.
    pub fn one_of(station: Option<i64>, township: Option<i64>) -> AppResult<Scope> {
        match (station, township) {
            (Some(s), None) => Ok(Scope::Station(s)),
            (None, Some(t)) => Ok(Scope::Township(t)),
            _ => Err(AppError::bad_input(
                "stationId",
                "须指定站点或乡镇之一 (give exactly one of stationId, townshipId)",
            )),
        }
    }
}

/// The years a compliance table or roll-up may be asked for.
pub fn check_year(year: i32) -> AppResult<()> {
    if (2000..=2100).contains(&year) {
        Ok(())
    } else {
        Err(AppError::bad_input(
            "year",
            "年份须在2000-2100之间 (year 2000 to 2100)",
        ))
    }
}

async fn deputies_in<C: ConnectionTrait>(db: &C, scope: Scope) -> AppResult<Vec<i64>> {
    let assigned = |stations: sea_orm::sea_query::SelectStatement| {
        deputy_station::Entity::find()
            .filter(deputy_station::Column::Until.is_null())
            .filter(deputy_station::Column::StationId.in_subquery(stations))
    };
    let rows = match scope {
        Scope::Station(id) => {
            deputy_station::Entity::find()
                .filter(deputy_station::Column::Until.is_null())
                .filter(deputy_station::Column::StationId.eq(id))
                .all(db)
                .await?
        }
        Scope::Township(id) => {
            let mut stations = Query::select();
            stations
                .column(station::Column::Id)
                .from(station::Entity)
                .and_where(station::Column::TownshipId.eq(id));
            let mut ids: Vec<i64> = assigned(stations.to_owned())
                .all(db)
                .await?
                .into_iter()
                .map(|a| a.deputy_id)
                .collect();
            let home = deputy::Entity::find()
                .filter(
                    Condition::all()
                        .add(deputy::Column::TownshipId.eq(id))
                        .add(deputy::Column::Active.eq(true)),
                )
                .all(db)
                .await?;
            ids.extend(home.into_iter().map(|d| d.id));
            ids.sort_unstable();
            ids.dedup();
            return Ok(ids);
        }
    };
    let mut ids: Vec<i64> = rows.into_iter().map(|a| a.deputy_id).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

pub async fn may_view_scope<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    scope: Scope,
) -> AppResult<bool> {
    Ok(actor.is_admin()
        || match scope {
            Scope::Station(id) => {
                let township = station::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .map(|s| s.township_id);
                actor.is_staff_of(id) || actor.supervises_township(township)
            }
            Scope::Township(id) => actor.supervises_township(Some(id)),
        })
}

/// One deputy's standing in a compliance table: a month, or the year so far.
#[derive(Debug, Clone)]
pub enum Standing {
    Month(MonthCompliance),
    Year(YearCompliance),
}

impl Standing {
    pub fn fully_compliant(&self) -> bool {
        match self {
            Standing::Month(m) => m.fully_compliant,
            Standing::Year(y) => y.fully_compliant,
        }
    }
}

/// Each of the scope's deputies (by id, ascending) in a month (`month`) or in the year
/// through `through_month`: what [`rollup`] counts and the compliance export lists.
pub async fn table(
    ctx: &Ctx<'_>,
    scope: Scope,
    year: i32,
    month: Option<u32>,
    through_month: u32,
) -> AppResult<Vec<(i64, Standing)>> {
    let (db, actor) = (ctx.db, ctx.actor);
    actor.require(may_view_scope(db, actor, scope).await?)?;
    let ids = deputies_in(db, scope).await?;
    let (first, last) = match month {
        Some(m) => (m, m),
        None => (1, through_month),
    };
    let (from, to) = period(year, first, last)?;
    let records = records(db, &ids, from, to).await?;
    let periods = residency(db, &ids).await?;
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        let mine = records.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        let held = periods.get(&id);
        let standing = match month {
            Some(m) => Standing::Month(compliance::month(
                mine,
                year,
                m,
                resident_in(held, year, m),
            )?),
            None => Standing::Year(compliance::year_with_residency(
                mine,
                year,
                through_month,
                |m| resident_in(held, year, m),
            )?),
        };
        rows.push((id, standing));
    }
    Ok(rows)
}

/// Share of the scope's deputies fully compliant in a month (`month`) or in the year
/// through `through_month`.
pub async fn rollup(
    ctx: &Ctx<'_>,
    scope: Scope,
    year: i32,
    month: Option<u32>,
    through_month: u32,
) -> AppResult<Rollup> {
    let rows = table(ctx, scope, year, month, through_month).await?;
    Ok(compliance::rollup(
        rows.iter().map(|(_, standing)| standing.fully_compliant()),
    ))
}

/// The months of `year` that have begun (all twelve for past years).
pub fn months_so_far(year: i32, today: NaiveDate) -> u32 {
    match year.cmp(&today.year()) {
        std::cmp::Ordering::Less => 12,
        std::cmp::Ordering::Equal => today.month(),
        std::cmp::Ordering::Greater => 1,
    }
}

/// Counts for a deputy's performance archive (电子履职档案) for a year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveCounts {
    pub activities: u64,
    pub opinion_items_collected: u64,
    pub suggestions_made: u64,
    pub suggestions_adopted: u64,
    pub stories_published: u64,
}

pub async fn archive_counts<C: ConnectionTrait>(
    db: &C,
    deputy_id: i64,
    year: i32,
) -> AppResult<ArchiveCounts> {
    let (from, to) = period(year, 1, 12)?;
    let (from_ts, to_ts) = (day_start(from), day_start(to));
    let activities = activity_participant::Entity::find()
        .filter(activity_participant::Column::DeputyId.eq(deputy_id))
        .inner_join(activity::Entity)
        .filter(within(activity::Column::OccurredOn, from, to))
        .count(db)
        .await?;
    let opinion_items_collected = petition::Entity::find()
        .filter(petition::Column::DeputyId.eq(deputy_id))
        .filter(within(petition::Column::CollectedAt, from_ts, to_ts))
        .count(db)
        .await?;
    let suggestions = || {
        suggestion::Entity::find()
            .filter(suggestion::Column::DeputyId.eq(deputy_id))
            .filter(suggestion::Column::SubmittedAt.gte(from_ts))
            .filter(suggestion::Column::SubmittedAt.lt(to_ts))
    };
    let suggestions_made = suggestions().count(db).await?;
    let suggestions_adopted = suggestions()
        .filter(
            suggestion::Column::Adoption
                .is_in([entity::Adoption::Adopted, entity::Adoption::PartlyAdopted]),
        )
        .count(db)
        .await?;
    let stories_published = story::Entity::find()
        .filter(story::Column::DeputyId.eq(deputy_id))
        .filter(story::Column::Status.eq(StoryStatus::Published))
        .filter(within(story::Column::PublishedAt, from_ts, to_ts))
        .count(db)
        .await?;
    Ok(ArchiveCounts {
        activities,
        opinion_items_collected,
        suggestions_made,
        suggestions_adopted,
        stories_published,
    })
}

/// The year's date range, for listing the archive's activities.
pub fn year_range(year: i32) -> AppResult<(NaiveDate, NaiveDate)> {
    let (from, to) = period(year, 1, 12)?;
    Ok((from, to.pred_opt().unwrap_or(to)))
}
