//! The printable duty archive (`/deputies/{id}/archive/{year}`): what
//! `Deputy.archive(year)` answers, for the same readers (`compliance::may_view`), with
//! the year's lists in full up to [`MAX_LISTED`] rows each.
use std::collections::HashMap;

use entity::{
    activity, activity_participant, deputy, petition, story, suggestion, township, StoryStatus,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::activity_photos;
use super::compliance::{self, ArchiveCounts};
use crate::domain::calendar::{day_start, local_date};
use crate::domain::compliance::YearCompliance;
use crate::error::{AppError, AppResult};
use crate::service::org;
use crate::service::Ctx;

/// The most rows of each list the archive prints; the counts say how many there are.
pub const MAX_LISTED: u64 = 500;

/// A deputy's year, as printed.
#[derive(Debug, Clone)]
pub struct Archive {
    pub deputy: deputy::Model,
    pub township: Option<String>,
    pub stations: Vec<String>,
    pub year: i32,
    pub counts: ArchiveCounts,
    pub compliance: YearCompliance,
    /// The year's activities, by date.
    pub activities: Vec<activity::Model>,
    pub items: Vec<petition::Model>,
    pub suggestions: Vec<suggestion::Model>,
    pub stories: Vec<story::Model>,
    /// The thumbnails of each activity's photos as `data:` URLs (the printed page
    /// carries them: a browser printing it sends no token for its images), at most
    /// `activity_photos::MAX_PRINTED` in all.
    pub photos: HashMap<i64, Vec<String>>,
}

/// The archive of `deputy_id` for `year`; FORBIDDEN for readers `Deputy.archive`
/// refuses, NOT_FOUND for a deputy that does not exist.
pub async fn load(ctx: &Ctx<'_>, deputy_id: i64, year: i32) -> AppResult<Archive> {
    compliance::check_year(year)?;
    let db = ctx.db;
    let deputy = deputy::Entity::find_by_id(deputy_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("代表 (deputy)"))?;
    let stations = org::stations_by_deputy(db, &[deputy.id])
        .await?
        .remove(&deputy.id)
        .unwrap_or_default();
    ctx.actor
        .require(compliance::may_view(ctx.actor, &deputy, &stations))?;
    let through = compliance::months_so_far(year, local_date(ctx.now()));
    let township = match deputy.township_id {
        Some(t) => township::Entity::find_by_id(t)
            .one(db)
            .await?
            .map(|t| t.name),
        None => None,
    };
    let activities = activities(db, deputy.id, year).await?;
    let listed: Vec<i64> = activities.iter().map(|a| a.id).collect();
    Ok(Archive {
        counts: compliance::archive_counts(db, deputy.id, year).await?,
        compliance: compliance::deputy_year(db, deputy.id, year, through).await?,
        photos: activity_photos::printed_thumbnails(ctx, &listed).await?,
        activities,
        items: items(db, ctx.actor, deputy.id, year).await?,
        suggestions: suggestions(db, deputy.id, year).await?,
        stories: stories(db, deputy.id, year).await?,
        stations: stations.into_iter().map(|s| s.name).collect(),
        township,
        deputy,
        year,
    })
}

async fn activities<C: ConnectionTrait>(
    db: &C,
    deputy_id: i64,
    year: i32,
) -> AppResult<Vec<activity::Model>> {
    let (from, to) = compliance::year_range(year)?;
    Ok(activity_participant::Entity::find()
        .filter(activity_participant::Column::DeputyId.eq(deputy_id))
        .find_also_related(activity::Entity)
        .filter(activity::Column::OccurredOn.gte(from))
        .filter(activity::Column::OccurredOn.lte(to))
        .order_by_asc(activity::Column::OccurredOn)
        .order_by_asc(activity::Column::Id)
        .limit(MAX_LISTED)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(_, act)| act)
        .collect())
}

/// The instants of `year` in China: [start, next start).
fn instants(
    year: i32,
) -> AppResult<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
    let (from, to) = compliance::year_range(year)?;
    Ok((day_start(from), day_start(to.succ_opt().unwrap_or(to))))
}

/// The deputy's items of the year that `actor` may see (the archive's readers are
/// not all readers of every item: staff of one of the deputy's stations, say).
async fn items<C: ConnectionTrait>(
    db: &C,
    actor: &crate::auth::Actor,
    deputy_id: i64,
    year: i32,
) -> AppResult<Vec<petition::Model>> {
    let (start, end) = instants(year)?;
    let found = petition::Entity::find()
        .filter(petition::Column::DeputyId.eq(deputy_id))
        .filter(petition::Column::CollectedAt.gte(start))
        .filter(petition::Column::CollectedAt.lt(end))
        .order_by_asc(petition::Column::CollectedAt)
        .order_by_asc(petition::Column::Id)
        .limit(MAX_LISTED)
        .all(db)
        .await?;
    let ids: Vec<i64> = found.iter().map(|p| p.id).collect();
    let visible: std::collections::HashSet<i64> =
        crate::service::petitions::queries::visible_many(db, actor, &ids)
            .await?
            .into_iter()
            .map(|(item, _)| item.id)
            .collect();
    Ok(found
        .into_iter()
        .filter(|p| visible.contains(&p.id))
        .collect())
}

async fn suggestions<C: ConnectionTrait>(
    db: &C,
    deputy_id: i64,
    year: i32,
) -> AppResult<Vec<suggestion::Model>> {
    let (start, end) = instants(year)?;
    Ok(suggestion::Entity::find()
        .filter(suggestion::Column::DeputyId.eq(deputy_id))
        .filter(suggestion::Column::SubmittedAt.gte(start))
        .filter(suggestion::Column::SubmittedAt.lt(end))
        .order_by_asc(suggestion::Column::SubmittedAt)
        .order_by_asc(suggestion::Column::Id)
        .limit(MAX_LISTED)
        .all(db)
        .await?)
}

async fn stories<C: ConnectionTrait>(
    db: &C,
    deputy_id: i64,
    year: i32,
) -> AppResult<Vec<story::Model>> {
    let (start, end) = instants(year)?;
    Ok(story::Entity::find()
        .filter(story::Column::DeputyId.eq(deputy_id))
        .filter(story::Column::Status.eq(StoryStatus::Published))
        .filter(story::Column::PublishedAt.gte(start))
        .filter(story::Column::PublishedAt.lt(end))
        .order_by_asc(story::Column::PublishedAt)
        .order_by_asc(story::Column::Id)
        .limit(MAX_LISTED)
        .all(db)
        .await?)
}
