//! Attachments (随手拍): an upload is checked and re-encoded (`domain::attachment`, on a
//! blocking thread), its bytes stored once per content hash (`storage`), and a row kept
//! for the uploader until a creating mutation attaches it. A file is readable by
//! exactly those who may see what it is attached to; before that, by its uploader.
use std::collections::HashMap;
use std::io::Read;

use chrono::Duration;
use entity::{attachment, AttachmentPurpose};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::auth::Actor;
use crate::domain::attachment::{self as rules, FileLimits, Prepared};
use crate::error::{AppError, AppResult};
use crate::service::duty::{activity_photos, stories};
use crate::service::petitions::queries::visible_many;
use crate::service::Ctx;
use crate::storage::Variant;

/// How long an upload waits to be attached before the supervision job removes it.
pub fn unattached_lifetime() -> Duration {
    Duration::days(1)
}

/// At most this many expired uploads are removed per cycle; the next continues.
const PURGE_BATCH: u64 = 500;

/// Decodings running at once: each may hold its limit of pixels, so memory stays
/// bounded however many uploads arrive together.
fn decodings() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        tokio::sync::Semaphore::new(cores.max(2))
    })
}

/// Who may upload for a purpose: anyone for an item (anonymous citizens bounded per
/// address), department handlers and station staff for a result, staff, deputies and
/// supervisors for stories and activities.
async fn check_uploader(ctx: &Ctx<'_>, purpose: AttachmentPurpose) -> AppResult<()> {
    let actor = ctx.actor;
    let staff = !actor.staff_stations().is_empty();
    match purpose {
        AttachmentPurpose::Petition => {}
        AttachmentPurpose::Result => {
            actor.require_signed_in()?;
            let handler = !actor.handler_departments().is_empty();
            actor.require(handler || staff || actor.is_admin())?;
        }
        AttachmentPurpose::Story | AttachmentPurpose::Activity => {
            actor.require_signed_in()?;
            let supervisor = actor.has_role(entity::Role::Supervisor) || actor.is_admin();
            actor.require(staff || actor.deputy_id().is_some() || supervisor)?;
        }
    }
    if matches!(actor, Actor::Anonymous) {
        let limits = &ctx.settings.limits;
        ctx.auth
            .limiter
            .hit(
                &format!("upload:addr:{}", ctx.client.ip),
                limits.anonymous_uploads_per_address,
                limits.anonymous_submission_window,
            )
            .await?;
    }
    Ok(())
}

/// Checks, re-encodes and stores an uploaded file (waiting on disk) for `purpose`.
pub async fn upload(
    ctx: &Ctx<'_>,
    purpose: AttachmentPurpose,
    file: std::fs::File,
) -> AppResult<attachment::Model> {
    check_uploader(ctx, purpose).await?;
    let limits = FileLimits::with_max_bytes(ctx.settings.uploads.max_file_bytes);
    let prepared = {
        let permit = decodings()
            .acquire()
            .await
            .map_err(|_| AppError::internal("decoding semaphore closed"))?;
        // The permit goes with the decoding: a request dropped meanwhile (its timeout,
        // a client gone) does not free a place while its decoding still runs.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            read_and_prepare(file, &limits)
        })
        .await
        .map_err(|e| AppError::internal(format!("decoding task: {e}")))??
    };
    store(ctx, &prepared).await?;
    let row = attachment::ActiveModel {
        public_id: Set(new_public_id()),
        purpose: Set(purpose),
        owner_account_id: Set(ctx.actor.account_id()),
        petition_id: Set(None),
        sha256: Set(prepared.sha256.clone()),
        content_type: Set(prepared.content_type.to_owned()),
        size: Set(prepared.bytes.len() as i64),
        width: Set(prepared.width.map(|w| w as i32)),
        height: Set(prepared.height.map(|h| h as i32)),
        has_thumbnail: Set(prepared.thumbnail.is_some()),
        created_at: Set(ctx.now()),
        attached_at: Set(None),
        ..Default::default()
    };
    Ok(row.insert(ctx.db).await?)
}

/// Checks and re-encodes a photo that came another way than an upload (a WeChat
/// image message's media), and stores its bytes: the same rules as an upload, and
/// an image only (a document is refused). Nothing is stored when it is refused.
pub async fn prepare_photo(ctx: &Ctx<'_>, bytes: Vec<u8>) -> AppResult<Prepared> {
    let limits = FileLimits::with_max_bytes(ctx.settings.uploads.max_file_bytes);
    let permit = decodings()
        .acquire()
        .await
        .map_err(|_| AppError::internal("decoding semaphore closed"))?;
    let prepared = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        rules::prepare(&bytes, &limits)
    })
    .await
    .map_err(|e| AppError::internal(format!("decoding task: {e}")))??;
    if !prepared.content_type.starts_with("image/") {
        return Err(AppError::bad_input(
            "file",
            "只能接收照片(JPEG、PNG、WebP) (only photos are accepted here)",
        ));
    }
    store(ctx, &prepared).await?;
    Ok(prepared)
}

/// The row of a stored photo attached at once to an item (nobody's upload: the
/// item's submitter sent it through a channel), in the caller's transaction.
pub async fn insert_attached<C: ConnectionTrait>(
    txn: &C,
    ctx: &Ctx<'_>,
    prepared: &Prepared,
    petition_id: i64,
) -> AppResult<attachment::Model> {
    let now = ctx.now();
    let row = attachment::ActiveModel {
        public_id: Set(new_public_id()),
        purpose: Set(AttachmentPurpose::Petition),
        owner_account_id: Set(None),
        petition_id: Set(Some(petition_id)),
        sha256: Set(prepared.sha256.clone()),
        content_type: Set(prepared.content_type.to_owned()),
        size: Set(prepared.bytes.len() as i64),
        width: Set(prepared.width.map(|w| w as i32)),
        height: Set(prepared.height.map(|h| h as i32)),
        has_thumbnail: Set(prepared.thumbnail.is_some()),
        created_at: Set(now),
        attached_at: Set(Some(now)),
        ..Default::default()
    };
    Ok(row.insert(txn).await?)
}

/// How many files an item has.
pub async fn count_of_petition<C: ConnectionTrait>(db: &C, petition_id: i64) -> AppResult<u64> {
    Ok(attachment::Entity::find()
        .filter(attachment::Column::PetitionId.eq(petition_id))
        .count(db)
        .await?)
}

/// Reads at most one byte past the limit (a file that claims less but is longer is
/// still caught), then checks and re-encodes.
fn read_and_prepare(file: std::fs::File, limits: &FileLimits) -> AppResult<Prepared> {
    let declared = file.metadata().map(|m| m.len()).unwrap_or(0);
    if declared > limits.max_bytes as u64 {
        return Err(rules::too_large(limits));
    }
    let mut bytes = Vec::with_capacity(declared as usize);
    file.take(limits.max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| AppError::internal(format!("reading an upload: {e}")))?;
    rules::prepare(&bytes, limits)
}

/// The original first, then its thumbnail. Should the thumbnail fail, an original
/// this upload wrote is removed again (unless a row took the same file meanwhile), so
/// a failed upload leaves no object behind.
/// The original, then the thumbnail. A failure leaves what was written: objects are
/// named by their content, so a later upload of the same file finds them, and
/// removing one here could take it from an upload of the same bytes in flight (it
/// found the object and has not yet written its row). An object no row names costs
/// only its space.
async fn store(ctx: &Ctx<'_>, prepared: &Prepared) -> AppResult<()> {
    let sha = &prepared.sha256;
    ctx.storage
        .put(sha, Variant::Original, prepared.bytes.clone())
        .await?;
    if let Some(thumbnail) = &prepared.thumbnail {
        ctx.storage
            .put(sha, Variant::Thumbnail, thumbnail.clone())
            .await?;
    }
    Ok(())
}

/// 22 characters of base64url: 128 random bits, unguessable.
fn new_public_id() -> String {
    use base64::Engine;
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A file as served: its type, its bytes, and whether anyone may have it (an image
/// of a published story: a shared cache may keep it).
pub struct Opened {
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub public: bool,
}

/// A file's bytes and type, for those who may read it; anyone else is answered as
/// if there were no such file.
pub async fn open(ctx: &Ctx<'_>, public_id: &str, variant: Variant) -> AppResult<Opened> {
    let missing = || AppError::not_found("附件 (attachment)");
    let row = attachment::Entity::find()
        .filter(attachment::Column::PublicId.eq(public_id))
        .one(ctx.db)
        .await?
        .ok_or_else(missing)?;
    let access = access(ctx, &row).await?;
    if access == Access::None || (variant == Variant::Thumbnail && !row.has_thumbnail) {
        return Err(missing());
    }
    let bytes = ctx
        .storage
        .get(&row.sha256, variant)
        .await?
        .ok_or_else(|| AppError::internal(format!("object {} missing", row.sha256)))?;
    let content_type = match variant {
        Variant::Original => row.content_type,
        Variant::Thumbnail if row.content_type == "image/png" => row.content_type,
        Variant::Thumbnail => "image/jpeg".to_owned(),
    };
    Ok(Opened {
        content_type,
        bytes,
        public: access == Access::Public,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    None,
    Private,
    Public,
}

/// The uploader until it is attached; then whoever may see what it is attached to:
/// the item (a step's files too), the story (anyone once it is published), the
/// activity (`activity_photos::access`).
async fn access(ctx: &Ctx<'_>, row: &attachment::Model) -> AppResult<Access> {
    let allowed = |yes: bool| if yes { Access::Private } else { Access::None };
    if let Some(item) = row.petition_id {
        return Ok(allowed(
            !visible_many(ctx.db, ctx.actor, &[item]).await?.is_empty(),
        ));
    }
    if let Some(story) = row.story_id {
        return Ok(match stories::visibility(ctx.db, ctx.actor, story).await? {
            Some(true) => Access::Public,
            Some(false) => Access::Private,
            None => Access::None,
        });
    }
    if let Some(activity) = row.activity_id {
        let readers = activity_photos::access(ctx.db, &[activity]).await?;
        let may = readers.get(&activity).is_some_and(|r| r.allows(ctx.actor));
        return Ok(allowed(may));
    }
    Ok(allowed(
        row.owner_account_id.is_some() && row.owner_account_id == ctx.actor.account_id(),
    ))
}

/// The distinct ids a creating mutation names, at most `max`.
pub fn check_ids(field: &str, ids: &[String], max: usize) -> AppResult<Vec<String>> {
    let mut unique: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(id) {
            unique.push(id.clone());
        }
    }
    if unique.len() > max {
        return Err(AppError::bad_input(
            field,
            format!("最多{max}个附件 (at most {max} attachments)"),
        ));
    }
    Ok(unique)
}

/// The most files one item, step, story gallery or activity takes.
pub const MAX_PER_TARGET: usize = 9;

/// What uploads are attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A citizen's item (its submission).
    Petition(i64),
    /// A step of an item's history (a department's result, progress or report).
    Step { petition_id: i64, event_id: i64 },
    /// A story: its cover, or its gallery.
    Story { story_id: i64, cover: bool },
    /// A duty activity's photos.
    Activity(i64),
}

impl Target {
    fn purpose(self) -> AttachmentPurpose {
        match self {
            Target::Petition(_) => AttachmentPurpose::Petition,
            Target::Step { .. } => AttachmentPurpose::Result,
            Target::Story { .. } => AttachmentPurpose::Story,
            Target::Activity(_) => AttachmentPurpose::Activity,
        }
    }
}

/// Attached to nothing yet.
fn unattached() -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(attachment::Column::PetitionId.is_null())
        .add(attachment::Column::StoryId.is_null())
        .add(attachment::Column::ActivityId.is_null())
}

/// Attaches the actor's own fresh, unattached uploads of the target's purpose, in
/// the creating transaction; any other id (someone else's, attached already,
/// expired, another purpose, a PDF for a story, unknown) refuses the whole change.
pub async fn attach<C: ConnectionTrait>(
    txn: &C,
    ctx: &Ctx<'_>,
    field: &str,
    ids: &[String],
    target: Target,
) -> AppResult<()> {
    attach_as(txn, ctx, field, ids, target.purpose(), target).await
}

async fn attach_as<C: ConnectionTrait>(
    txn: &C,
    ctx: &Ctx<'_>,
    field: &str,
    ids: &[String],
    purpose: AttachmentPurpose,
    target: Target,
) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let now = ctx.now();
    let owner = match ctx.actor.account_id() {
        Some(account) => attachment::Column::OwnerAccountId.eq(account),
        None => attachment::Column::OwnerAccountId.is_null(),
    };
    let mut update = attachment::Entity::update_many()
        .col_expr(attachment::Column::AttachedAt, Expr::value(now))
        .filter(attachment::Column::PublicId.is_in(ids.iter().cloned()))
        .filter(unattached())
        .filter(attachment::Column::Purpose.eq(purpose))
        .filter(attachment::Column::CreatedAt.gt(now - unattached_lifetime()))
        .filter(owner);
    update = match target {
        Target::Petition(item) => {
            update.col_expr(attachment::Column::PetitionId, Expr::value(item))
        }
        Target::Step {
            petition_id,
            event_id,
        } => update
            .col_expr(attachment::Column::PetitionId, Expr::value(petition_id))
            .col_expr(attachment::Column::PetitionEventId, Expr::value(event_id)),
        Target::Story { story_id, cover } => update
            .col_expr(attachment::Column::StoryId, Expr::value(story_id))
            .col_expr(attachment::Column::StoryCover, Expr::value(cover))
            .filter(attachment::Column::ContentType.like("image/%")),
        Target::Activity(activity) => {
            update.col_expr(attachment::Column::ActivityId, Expr::value(activity))
        }
    };
    if update.exec(txn).await?.rows_affected != ids.len() as u64 {
        return Err(AppError::bad_input(field, refusal(target)));
    }
    Ok(())
}

fn refusal(target: Target) -> &'static str {
    match target {
        Target::Story { .. } => "附件须为本人一天内上传且未使用的图片 (each attachment must be your own unused image of the last day, uploaded for a story)",
        _ => "附件须为本人一天内上传且未使用的文件 (each attachment must be your own unused upload of the last day, for this purpose)",
    }
}

/// Attaches the actor's uploads of `purpose` to an item (its submission).
pub async fn attach_to_petition<C: ConnectionTrait>(
    txn: &C,
    ctx: &Ctx<'_>,
    field: &str,
    ids: &[String],
    purpose: AttachmentPurpose,
    petition_id: i64,
) -> AppResult<()> {
    let target = Target::Petition(petition_id);
    attach_as(txn, ctx, field, ids, purpose, target).await
}

/// Takes a story's images in a role (its cover, or its gallery) off it: an update
/// that replaces them. They are the uploader's own again and expire like any upload
/// nobody uses, except those named in `keep`.
pub async fn detach_from_story<C: ConnectionTrait>(
    txn: &C,
    story_id: i64,
    cover: bool,
    keep: &[String],
) -> AppResult<()> {
    attachment::Entity::update_many()
        .col_expr(
            attachment::Column::StoryId,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(attachment::Column::StoryCover, Expr::value(false))
        .col_expr(
            attachment::Column::AttachedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(attachment::Column::StoryId.eq(story_id))
        .filter(attachment::Column::StoryCover.eq(cover))
        .filter(attachment::Column::PublicId.is_not_in(keep.iter().cloned()))
        .exec(txn)
        .await?;
    Ok(())
}

/// Of `ids`, those already on the story in that role (an update that keeps them).
pub async fn on_story<C: ConnectionTrait>(
    txn: &C,
    story_id: i64,
    cover: bool,
    ids: &[String],
) -> AppResult<Vec<String>> {
    Ok(attachment::Entity::find()
        .filter(attachment::Column::StoryId.eq(story_id))
        .filter(attachment::Column::StoryCover.eq(cover))
        .filter(attachment::Column::PublicId.is_in(ids.iter().cloned()))
        .all(txn)
        .await?
        .into_iter()
        .map(|a| a.public_id)
        .collect())
}

/// The files a citizen attached to each item (not those of its steps), oldest first
/// (DataLoader batch).
pub async fn of_petitions<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<attachment::Model>>> {
    let rows = attachment::Entity::find()
        .filter(attachment::Column::PetitionId.is_in(ids.iter().copied()))
        .filter(attachment::Column::PetitionEventId.is_null())
        .order_by_asc(attachment::Column::Id)
        .all(db)
        .await?;
    Ok(group(rows, |a| a.petition_id))
}

/// The files of each step of an item's history (DataLoader batch).
pub async fn of_petition_events<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<attachment::Model>>> {
    of_targets(db, attachment::Column::PetitionEventId, ids, |a| {
        a.petition_event_id
    })
    .await
}

/// The images of each story, cover and gallery, in upload order (DataLoader batch).
pub async fn of_stories<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<attachment::Model>>> {
    of_targets(db, attachment::Column::StoryId, ids, |a| a.story_id).await
}

/// The photos of each activity, in upload order.
pub async fn of_activities<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<attachment::Model>>> {
    of_targets(db, attachment::Column::ActivityId, ids, |a| a.activity_id).await
}

/// The attachments whose `column` is one of `ids`, in upload order, by that target.
async fn of_targets<C: ConnectionTrait>(
    db: &C,
    column: attachment::Column,
    ids: &[i64],
    target: fn(&attachment::Model) -> Option<i64>,
) -> AppResult<HashMap<i64, Vec<attachment::Model>>> {
    let rows = attachment::Entity::find()
        .filter(column.is_in(ids.iter().copied()))
        .order_by_asc(attachment::Column::Id)
        .all(db)
        .await?;
    Ok(group(rows, target))
}

fn group(
    rows: Vec<attachment::Model>,
    key: impl Fn(&attachment::Model) -> Option<i64>,
) -> HashMap<i64, Vec<attachment::Model>> {
    let mut grouped: HashMap<i64, Vec<attachment::Model>> = HashMap::new();
    for row in rows {
        if let Some(parent) = key(&row) {
            grouped.entry(parent).or_default().push(row);
        }
    }
    grouped
}

/// Removes uploads left unattached for a day (a batch), and the stored objects no
/// other row, attached or not, shares. How many were removed.
pub async fn purge_expired(ctx: &Ctx<'_>) -> AppResult<u32> {
    let expired = attachment::Entity::find()
        .filter(unattached())
        .filter(attachment::Column::CreatedAt.lt(ctx.now() - unattached_lifetime()))
        .order_by_asc(attachment::Column::Id)
        .limit(PURGE_BATCH)
        .all(ctx.db)
        .await?;
    if expired.is_empty() {
        return Ok(0);
    }
    // Still unattached: an item, story or activity may have taken one since it was read.
    let removed = attachment::Entity::delete_many()
        .filter(attachment::Column::Id.is_in(expired.iter().map(|a| a.id)))
        .filter(unattached())
        .exec(ctx.db)
        .await?;
    let mut hashes: Vec<&str> = expired.iter().map(|a| a.sha256.as_str()).collect();
    hashes.sort_unstable();
    hashes.dedup();
    for sha in hashes {
        drop_if_unused(ctx, sha).await?;
    }
    Ok(removed.rows_affected as u32)
}

/// Removes the stored object of `sha` when no attachment row names it (a photo
/// stored and then not attached).
pub async fn drop_if_unused(ctx: &Ctx<'_>, sha: &str) -> AppResult<()> {
    let shared = attachment::Entity::find()
        .filter(attachment::Column::Sha256.eq(sha))
        .count(ctx.db)
        .await?;
    if shared == 0 {
        ctx.storage.delete(sha).await?;
    }
    Ok(())
}
