//! Photos (随手拍) a follower sends to the official account: fetched from WeChat's
//! media API (`notify::wechat_api`, through the token the notifier uses), checked
//! and re-encoded like an upload (`attachments::prepare_photo`: sniffed type, size
//! limit, no EXIF), and attached to the follower's latest open item — the item a
//! location message would place — or, when none is open, starting one. The follower's
//! row is locked for the decision, so two photos sent together never start two
//! items on any replica; WeChat's retries are answered by `wechat::handle` from the
//! first delivery and attach nothing twice.
use entity::{petition, wechat_delivery, wechat_follower};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use crate::db::write;
use crate::domain::attachment::Prepared;
use crate::domain::petition_flow::is_terminal;
use crate::error::{AppError, AppResult};
use crate::notify::wechat_api::{MediaError, WechatApi};
use crate::service::attachments;
use crate::service::petitions::intake::{self, WechatItem, MAX_ATTACHMENTS};
use crate::service::wechat::{self, reply, Answer};
use crate::service::Ctx;
use crate::wechat::message::Inbound;

/// An image message, as far as it matters here.
pub struct Photo<'a> {
    /// The follower's OpenID.
    pub open_id: &'a str,
    /// `MediaId`: what fetches the file.
    pub media_id: &'a str,
    /// The delivery's dedupe key (`wechat_delivery.dedupe_key`).
    pub delivery: &'a str,
}

/// Without the app secret there is no media API to fetch from.
const NOT_HERE: &str = "本公众号暂不能接收照片。请发送文字留言;如需上传照片,请扫描人大代表的二维码,在手机页面“给人大代表留言”中添加照片。";

/// What a photo came to.
enum Outcome {
    Attached { code: String, count: u64 },
    Started { id: i64, code: String },
    Full { code: String },
}

/// Handles one image message; every failure a follower can cause or see is a reply.
pub async fn receive(
    ctx: &Ctx<'_>,
    api: Option<&WechatApi>,
    photo: &Photo<'_>,
) -> AppResult<Answer> {
    let Some(api) = api else {
        return reply(NOT_HERE);
    };
    if let Err(e) = throttle(ctx, photo.open_id).await {
        return reply(e.public_message());
    }
    if let Some(code) = full_item(ctx, photo.open_id).await? {
        return reply(full(&code));
    }
    let prepared = match tokio::time::timeout(FETCH_WITHIN, fetch(ctx, api, photo)).await {
        Ok(Ok(Ok(prepared))) => prepared,
        Ok(Ok(Err(refusal))) => return reply(refusal),
        Ok(Err(e)) => return Err(e),
        Err(_) => return reply(TOO_SLOW),
    };
    let bound = wechat::follower(ctx.db, photo.open_id)
        .await?
        .and_then(|f| f.deputy_id);
    let station = wechat::default_station(ctx.db, ctx.settings).await?;
    let new_item = match intake::wechat_photo_item(ctx, photo.open_id, bound, station).await {
        Ok(item) => item,
        Err(AppError::BadUserInput { message, .. }) => {
            return reply(format!("照片未能接收:{message}"))
        }
        Err(e) => return Err(e),
    };
    // A photo of a full item stays stored unnamed (its object is named by content: an
    // identical photo in flight may use it; an unnamed object costs only its space).
    Ok(answer(attach(ctx, photo, &prepared, &new_item).await?))
}

/// WeChat waits 5 s for the answer (`http::wechat` answers `success` at 4.5 s, and
/// the follower then hears nothing): the photo's fetch and re-encoding get 3 s of it.
const FETCH_WITHIN: std::time::Duration = std::time::Duration::from_secs(3);
const TOO_SLOW: &str = "照片接收超时,请稍后重新发送。";

/// The photo, fetched and re-encoded; `Err` inside: the reply that says why not.
async fn fetch(
    ctx: &Ctx<'_>,
    api: &WechatApi,
    photo: &Photo<'_>,
) -> AppResult<Result<Prepared, String>> {
    let max = ctx.settings.uploads.max_file_bytes;
    let bytes = match api.media(photo.media_id, max).await {
        Ok(bytes) => bytes,
        Err(e) => return Ok(Err(media_failure(&e))),
    };
    match attachments::prepare_photo(ctx, bytes).await {
        Ok(prepared) => Ok(Ok(prepared)),
        Err(AppError::BadUserInput { message, .. }) => Ok(Err(format!("照片未能接收:{message}"))),
        Err(e) => Err(e),
    }
}

/// An image message (any other message is answered by `wechat`).
pub async fn receive_image(
    ctx: &Ctx<'_>,
    api: Option<&WechatApi>,
    message: &Inbound,
) -> AppResult<Answer> {
    let Inbound::Image {
        from_user,
        media_id,
        ..
    } = message
    else {
        return Ok((None, None));
    };
    let delivery = message.dedupe_key();
    let photo = Photo {
        open_id: from_user,
        media_id,
        delivery: &delivery,
    };
    receive(ctx, api, &photo).await
}

/// Photos per follower are bounded like anonymous uploads per address.
async fn throttle(ctx: &Ctx<'_>, open_id: &str) -> AppResult<()> {
    let limits = &ctx.settings.limits;
    ctx.auth
        .limiter
        .hit(
            &format!("wechat:photo:{open_id}"),
            limits.anonymous_uploads_per_address,
            limits.anonymous_submission_window,
        )
        .await
}

/// The follower's latest open item, when it holds its limit of files already (read
/// before fetching anything; [`attach`] decides again under the lock).
async fn full_item(ctx: &Ctx<'_>, open_id: &str) -> AppResult<Option<String>> {
    let open = wechat::items_of(ctx.db, open_id, 20)
        .await?
        .into_iter()
        .find(|p| !is_terminal(p.state));
    let Some(item) = open else { return Ok(None) };
    let count = attachments::count_of_petition(ctx.db, item.id).await?;
    Ok((count >= MAX_ATTACHMENTS as u64).then_some(item.tracking_code))
}

/// Attaches the stored photo under the follower's row lock: to the latest open item
/// (locked too, so a step closing it is waited for and seen), else to a new one.
async fn attach(
    ctx: &Ctx<'_>,
    photo: &Photo<'_>,
    prepared: &Prepared,
    new_item: &WechatItem,
) -> AppResult<Outcome> {
    write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        lock_follower(txn, ctx, photo.open_id).await?;
        if let Some(item) = open_item(txn, photo.open_id).await? {
            let count = attachments::count_of_petition(txn, item.id).await?;
            if count >= MAX_ATTACHMENTS as u64 {
                return Ok(Outcome::Full {
                    code: item.tracking_code,
                });
            }
            attachments::insert_attached(txn, ctx, prepared, item.id).await?;
            return Ok(Outcome::Attached {
                code: item.tracking_code,
                count: count + 1,
            });
        }
        let item = intake::insert_wechat_photo_item(txn, ctx, new_item).await?;
        attachments::insert_attached(txn, ctx, prepared, item.id).await?;
        // This delivery names the item before the lock is released: the follower's
        // next photo, waiting on the lock, finds it open.
        wechat_delivery::Entity::update_many()
            .col_expr(wechat_delivery::Column::PetitionId, Expr::value(item.id))
            .filter(wechat_delivery::Column::DedupeKey.eq(photo.delivery))
            .exec(txn)
            .await?;
        Ok(Outcome::Started {
            id: item.id,
            code: item.tracking_code,
        })
    })
    .await
}

/// Takes the follower's row (an upsert: PostgreSQL locks the row, or the key of a
/// row being inserted, until commit; SQLite's write lock is held already).
async fn lock_follower<C: ConnectionTrait>(txn: &C, ctx: &Ctx<'_>, open_id: &str) -> AppResult<()> {
    let now = ctx.now();
    wechat_follower::Entity::insert(wechat_follower::ActiveModel {
        open_id: Set(open_id.to_owned()),
        subscribed: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(wechat_follower::Column::OpenId)
            .update_column(wechat_follower::Column::UpdatedAt)
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The follower's latest open item, its row locked and its state read again.
async fn open_item<C: ConnectionTrait>(
    txn: &C,
    open_id: &str,
) -> AppResult<Option<petition::Model>> {
    let latest = wechat::items_of(txn, open_id, 20)
        .await?
        .into_iter()
        .find(|p| !is_terminal(p.state));
    let Some(item) = latest else { return Ok(None) };
    Ok(petition::Entity::find_by_id(item.id)
        .lock_exclusive()
        .one(txn)
        .await?
        .filter(|p| !is_terminal(p.state)))
}

fn full(code: &str) -> String {
    format!("您的留言{code}已有{MAX_ATTACHMENTS}张照片,已达上限,这张照片未添加。")
}

fn answer(outcome: Outcome) -> Answer {
    match outcome {
        Outcome::Attached { code, count } => (
            Some(format!("已将照片添加到您的留言{code}(共{count}张)。")),
            None,
        ),
        Outcome::Started { id, code } => (
            Some(format!(
                "已收到您的照片,并为您新建留言,查询码:{code}。可继续发送照片(每条留言最多{MAX_ATTACHMENTS}张);回复“查询”可查看办理进度。"
            )),
            Some(id),
        ),
        Outcome::Full { code } => (Some(full(&code)), None),
    }
}

/// The reply when WeChat gave no photo.
fn media_failure(error: &MediaError) -> String {
    match error {
        MediaError::Api(40007) => "照片已过期或无法获取(微信错误码40007),请重新发送。".to_owned(),
        MediaError::Api(code) => {
            format!("未能从微信获取照片(微信错误码{code}),请稍后重新发送。")
        }
        MediaError::NotAFile => "只能接收照片,请发送图片。".to_owned(),
        MediaError::Unreachable(reason) => {
            tracing::warn!(%reason, "cannot fetch a follower's photo from WeChat");
            "暂时无法从微信获取照片,请稍后重新发送。".to_owned()
        }
    }
}
