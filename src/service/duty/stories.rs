//! The showcase (代表风采): stories by or about deputies, draft → submitted →
//! published or returned by station staff; a public feed of published stories.
use chrono::Utc;
use entity::{deputy, deputy_station, station, story, StoryStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QuerySelect, Set,
};
use serde_json::json;

use crate::auth::Actor;
use crate::db::paging::{fetch_page_ordered, KeyOrder};
use crate::db::write;
use crate::domain::event::DomainEvent;
use crate::domain::page::{Page, PageRequest};
use crate::error::{AppError, AppResult};
use crate::events::outbox;
use crate::service::attachments;
use crate::service::support::idempotency::{self, Claim};
use crate::service::Ctx;

#[derive(Debug, Clone, Default)]
pub struct StoryInput {
    pub title: String,
    pub body: String,
    pub cover_url: Option<String>,
    /// The cover image (an upload of purpose STORY): `None` leaves it as it is,
    /// `Some(None)` takes it off, `Some(Some(id))` sets it.
    pub cover_id: Option<Option<String>>,
    /// The gallery, in full: `None` leaves it as it is.
    pub gallery_ids: Option<Vec<String>>,
}

fn validate(input: &StoryInput) -> AppResult<()> {
    let title = input.title.trim().chars().count();
    if !(1..=200).contains(&title) {
        return Err(AppError::bad_input(
            "title",
            "标题须为1-200个字符 (1 to 200 characters)",
        ));
    }
    let body = input.body.trim().chars().count();
    if !(1..=20_000).contains(&body) {
        return Err(AppError::bad_input(
            "body",
            "正文须为1-20000个字符 (1 to 20000 characters)",
        ));
    }
    if let Some(url) = &input.cover_url {
        let ok =
            (url.starts_with("https://") || url.starts_with("http://") || url.starts_with("/"))
                && url.len() <= 500
                && !url
                    .chars()
                    .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>');
        if !ok {
            return Err(AppError::bad_input(
                "coverUrl",
                "封面地址无效 (invalid cover URL)",
            ));
        }
    }
    Ok(())
}

/// The images a create or update names: the cover (if it changes) and the gallery
/// (if it is given), checked for count.
struct Images {
    cover: Option<Vec<String>>,
    gallery: Option<Vec<String>>,
}

fn images(input: &StoryInput) -> AppResult<Images> {
    let gallery = input
        .gallery_ids
        .as_deref()
        .map(|ids| attachments::check_ids("galleryIds", ids, attachments::MAX_PER_TARGET))
        .transpose()?;
    let cover = input
        .cover_id
        .as_ref()
        .map(|id| id.iter().cloned().collect::<Vec<_>>());
    Ok(Images { cover, gallery })
}

/// Replaces the roles the input names: images no longer named come off the story,
/// those already on it stay, new ones must be the actor's own fresh STORY images.
async fn set_images<C: ConnectionTrait>(
    txn: &C,
    ctx: &Ctx<'_>,
    story_id: i64,
    images: &Images,
) -> AppResult<()> {
    let roles = [
        (true, "coverId", &images.cover),
        (false, "galleryIds", &images.gallery),
    ];
    for (cover, field, ids) in roles {
        let Some(ids) = ids else { continue };
        attachments::detach_from_story(txn, story_id, cover, ids).await?;
        let kept = attachments::on_story(txn, story_id, cover, ids).await?;
        let new: Vec<String> = ids
            .iter()
            .filter(|id| !kept.contains(*id))
            .cloned()
            .collect();
        let target = attachments::Target::Story { story_id, cover };
        attachments::attach(txn, ctx, field, &new, target).await?;
    }
    Ok(())
}

/// Whether `actor` may see the story, and whether anyone may (published): `None`
/// when it is not there or not theirs to see.
pub async fn visibility<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    story_id: i64,
) -> AppResult<Option<bool>> {
    let Some(found) = story::Entity::find_by_id(story_id).one(db).await? else {
        return Ok(None);
    };
    let published = found.status == StoryStatus::Published;
    let visible = !filter_visible(db, actor, vec![found]).await?.is_empty();
    Ok(visible.then_some(published))
}

/// The story's township: its station's, else the deputy's.
async fn township_of<C: ConnectionTrait>(
    db: &C,
    station_id: Option<i64>,
    deputy: &deputy::Model,
) -> AppResult<Option<i64>> {
    Ok(match station_id {
        Some(id) => station::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|s| s.township_id),
        None => deputy.township_id,
    })
}

/// Stations where the deputy currently serves.
async fn stations_of<C: ConnectionTrait>(db: &C, deputy_id: i64) -> AppResult<Vec<i64>> {
    Ok(deputy_station::Entity::find()
        .filter(deputy_station::Column::DeputyId.eq(deputy_id))
        .filter(deputy_station::Column::Until.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.station_id)
        .collect())
}

/// Staff of the story's station (or any station of its deputy), supervisors of its
/// township, admins: the editors who publish or return.
fn may_review(actor: &Actor, story: &story::Model, deputy_stations: &[i64]) -> bool {
    actor.is_admin()
        || actor.supervises_township(story.township_id)
        || story.station_id.is_some_and(|s| actor.is_staff_of(s))
        || deputy_stations.iter().any(|s| actor.is_staff_of(*s))
}

/// The deputy themself, or staff writing for a deputy of their station.
fn may_author(actor: &Actor, deputy_id: i64, deputy_stations: &[i64]) -> bool {
    actor.deputy_id() == Some(deputy_id)
        || actor.is_admin()
        || deputy_stations.iter().any(|s| actor.is_staff_of(*s))
}

/// A draft story; with an idempotency key a retry within 24 hours answers the first
/// draft and creates nothing.
pub async fn create(
    ctx: &Ctx<'_>,
    deputy_id: i64,
    input: StoryInput,
    idempotency_key: Option<String>,
) -> AppResult<story::Model> {
    let db = ctx.db;
    let arguments = json!({
        "deputyId": deputy_id,
        "title": input.title,
        "body": input.body,
        "coverUrl": input.cover_url,
        "coverId": input.cover_id,
        "galleryIds": input.gallery_ids,
    });
    let claim = Claim::new(ctx, idempotency_key, "createStory", &arguments)?;
    idempotency::once(
        db,
        claim.as_ref(),
        create_new(ctx, deputy_id, input, claim.as_ref()),
        |stored| async move {
            story::Entity::find_by_id(stored.object_id.unwrap_or_default())
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found("履职故事 (story)"))
        },
    )
    .await
}

async fn create_new(
    ctx: &Ctx<'_>,
    deputy_id: i64,
    input: StoryInput,
    claim: Option<&Claim>,
) -> AppResult<story::Model> {
    let actor = ctx.actor;
    let principal = actor.require_signed_in()?;
    let input = &input;
    let images = images(input)?;
    let images = &images;
    write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        let deputy = deputy::Entity::find_by_id(deputy_id)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::bad_input("deputyId", "代表不存在 (no such deputy)"))?;
        let stations = stations_of(txn, deputy.id).await?;
        actor.require(may_author(actor, deputy.id, &stations))?;
        validate(input)?;
        let station_id = stations.first().copied();
        let township_id = township_of(txn, station_id, &deputy).await?;
        let now = Utc::now();
        let created = story::ActiveModel {
            deputy_id: Set(deputy.id),
            author_account_id: Set(Some(principal.account_id)),
            station_id: Set(station_id),
            township_id: Set(township_id),
            title: Set(input.title.trim().to_owned()),
            body: Set(input.body.trim().to_owned()),
            cover_url: Set(input.cover_url.clone()),
            status: Set(StoryStatus::Draft),
            return_reason: Set(None),
            published_at: Set(None),
            published_seq: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        set_images(txn, ctx, created.id, images).await?;
        idempotency::record(claim, txn, Some(created.id), json!({})).await?;
        Ok(created)
    })
    .await
}

/// Published stories are public; others only for their author side and editors.
fn may_see(actor: &Actor, story: &story::Model, deputy_stations: &[i64]) -> bool {
    story.status == StoryStatus::Published
        || may_author(actor, story.deputy_id, deputy_stations)
        || may_review(actor, story, deputy_stations)
}

/// A story the signed-in actor may see, with its deputy's stations, or NOT_FOUND — the
/// same answer as for a missing id, so unpublished stories elsewhere cannot be probed.
/// Read under the row lock: it is loaded to be changed.
async fn load(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: i64,
) -> AppResult<(story::Model, Vec<i64>)> {
    actor.require_signed_in()?;
    let not_found = || AppError::not_found("履职故事 (story)");
    let story = story::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(not_found)?;
    let stations = stations_of(txn, story.deputy_id).await?;
    if !may_see(actor, &story, &stations) {
        return Err(not_found());
    }
    Ok((story, stations))
}

fn wrong_state(story: &story::Model, action: &str) -> AppError {
    AppError::InvalidTransition(format!(
        "{:?} 状态的故事不能{action} (a {:?} story cannot be {action})",
        story.status, story.status
    ))
}

/// Edits a draft or returned story (its author side).
pub async fn update(ctx: &Ctx<'_>, id: i64, input: StoryInput) -> AppResult<story::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    let input = &input;
    let images = &images(input)?;
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        let (existing, stations) = load(txn, actor, id).await?;
        actor.require(may_author(actor, existing.deputy_id, &stations))?;
        validate(input)?;
        if !matches!(existing.status, StoryStatus::Draft | StoryStatus::Returned) {
            return Err(wrong_state(&existing, "edited"));
        }
        let mut active: story::ActiveModel = existing.into();
        active.title = Set(input.title.trim().to_owned());
        active.body = Set(input.body.trim().to_owned());
        active.cover_url = Set(input.cover_url.clone());
        active.updated_at = Set(Utc::now());
        let updated = active.update(txn).await?;
        set_images(txn, ctx, updated.id, images).await?;
        Ok(updated)
    })
    .await
}

/// Author submits a draft (or a returned story) for review.
pub async fn submit(ctx: &Ctx<'_>, id: i64) -> AppResult<story::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        let (existing, stations) = load(txn, actor, id).await?;
        actor.require(may_author(actor, existing.deputy_id, &stations))?;
        if !matches!(existing.status, StoryStatus::Draft | StoryStatus::Returned) {
            return Err(wrong_state(&existing, "submitted"));
        }
        let mut active: story::ActiveModel = existing.into();
        active.status = Set(StoryStatus::Submitted);
        active.return_reason = Set(None);
        active.updated_at = Set(Utc::now());
        Ok(active.update(txn).await?)
    })
    .await
}

/// An editor publishes a submitted story; it enters the feed and the live stream.
pub async fn publish(ctx: &Ctx<'_>, id: i64) -> AppResult<story::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        let (existing, stations) = load(txn, actor, id).await?;
        actor.require(may_review(actor, &existing, &stations))?;
        if existing.status != StoryStatus::Submitted {
            return Err(wrong_state(&existing, "published"));
        }
        let event = DomainEvent::story_published(&existing, actor.account_id());
        let seq = outbox::append(txn, &event).await?;
        let now = Utc::now();
        let mut active: story::ActiveModel = existing.into();
        active.status = Set(StoryStatus::Published);
        active.published_at = Set(Some(now));
        active.published_seq = Set(Some(seq));
        active.updated_at = Set(now);
        let published = active.update(txn).await?;
        Ok(published)
    })
    .await
}

/// An editor returns a submitted story to its author with a reason.
pub async fn return_to_author(ctx: &Ctx<'_>, id: i64, reason: &str) -> AppResult<story::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        let (existing, stations) = load(txn, actor, id).await?;
        actor.require(may_review(actor, &existing, &stations))?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 2000 {
            return Err(AppError::bad_input(
                "reason",
                "退回须说明理由 (a reason of 1 to 2000 characters)",
            ));
        }
        if existing.status != StoryStatus::Submitted {
            return Err(wrong_state(&existing, "returned"));
        }
        let mut active: story::ActiveModel = existing.into();
        active.status = Set(StoryStatus::Returned);
        active.return_reason = Set(Some(reason.to_owned()));
        active.updated_at = Set(Utc::now());
        Ok(active.update(txn).await?)
    })
    .await
}

#[derive(Debug, Default, Clone)]
pub struct FeedFilter {
    pub township_id: Option<i64>,
    pub station_id: Option<i64>,
    pub deputy_id: Option<i64>,
}

/// Published stories, newest first (public).
pub async fn feed<C: ConnectionTrait>(
    db: &C,
    filter: &FeedFilter,
    page: &PageRequest,
) -> AppResult<Page<story::Model>> {
    let mut query = story::Entity::find().filter(story::Column::Status.eq(StoryStatus::Published));
    if let Some(t) = filter.township_id {
        query = query.filter(story::Column::TownshipId.eq(t));
    }
    if let Some(s) = filter.station_id {
        query = query.filter(story::Column::StationId.eq(s));
    }
    if let Some(d) = filter.deputy_id {
        query = query.filter(story::Column::DeputyId.eq(d));
    }
    fetch_page_ordered(
        db,
        query,
        story::Column::PublishedSeq,
        |m| m.published_seq.unwrap_or(0),
        page,
        KeyOrder::Descending,
    )
    .await
}

/// The stories among `stories` the viewer may see: published ones are public; others
/// only to their author side and editors.
pub async fn filter_visible<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    stories: Vec<story::Model>,
) -> AppResult<Vec<story::Model>> {
    let mut visible = Vec::with_capacity(stories.len());
    for found in stories {
        if found.status == StoryStatus::Published {
            visible.push(found);
            continue;
        }
        let stations = stations_of(db, found.deputy_id).await?;
        if may_see(actor, &found, &stations) {
            visible.push(found);
        }
    }
    Ok(visible)
}

/// Stories waiting for review at the actor's stations (staff), or everywhere they may
/// review (supervisors, admins).
pub async fn review_queue(ctx: &Ctx<'_>, page: &PageRequest) -> AppResult<Page<story::Model>> {
    let (db, actor) = (ctx.db, ctx.actor);
    actor.require_signed_in()?;
    let mut query = story::Entity::find().filter(story::Column::Status.eq(StoryStatus::Submitted));
    if !(actor.is_admin() || actor.is_county_supervisor()) {
        let townships = actor.supervised_townships();
        let stations = actor.staff_stations();
        actor.require(!townships.is_empty() || !stations.is_empty())?;
        query = query.filter(
            sea_orm::Condition::any()
                .add(story::Column::TownshipId.is_in(townships))
                .add(story::Column::StationId.is_in(stations)),
        );
    }
    crate::db::paging::fetch_page(db, query, story::Column::Id, |m| m.id, page).await
}
