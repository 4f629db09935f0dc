//! The WeChat official account (公众号): followers bound to the deputy whose QR code
//! they scanned, text messages becoming opinion items through the same intake as every
//! other channel, status queries and ratings by text command. Every delivery is
//! answered once and remembered, so WeChat's retries get the same reply and never a
//! second item.
use std::time::Duration;

use chrono::Utc;
use entity::{
    deputy, petition, station, wechat_delivery, wechat_follower, PetitionState, Satisfaction,
    StationKind,
};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::config::Settings;
use crate::db::write;
use crate::domain::petition_flow::{is_terminal, Step};
use crate::domain::place::{CoordinateSystem, Location, LocationInput, MAX_ADDRESS_CHARS};
use crate::error::{AppError, AppResult};
use crate::notify::wechat_api::WechatApi;
use crate::service::petitions::workflow::{act, Acting};
use crate::service::petitions::{intake, queries};
use crate::service::places;
use crate::service::wechat_photos;
use crate::service::Ctx;
use crate::wechat::message::Inbound;

/// What to answer: a text, or nothing ("success").
pub type Reply = Option<String>;

const HELP: &str = "回复文字即可向人大代表反映问题;发送照片可附到您办理中的留言;回复“查询”查看办理进度;收到办理结果后回复“评价 1/2/3”(1满意 2基本满意 3不满意);回复“退订”停止、“订阅”恢复办理进度通知。";

fn state_zh(state: PetitionState) -> &'static str {
    match state {
        PetitionState::Submitted => "已收到",
        PetitionState::Registered => "已登记",
        PetitionState::Forwarded => "已转办",
        PetitionState::Accepted => "办理中",
        PetitionState::Resolved => "已反馈,待评价",
        PetitionState::Closed => "已办结",
        PetitionState::Declined => "不予受理",
        PetitionState::Merged => "已合并办理",
    }
}

pub(crate) async fn follower(
    db: &DatabaseConnection,
    open_id: &str,
) -> AppResult<Option<wechat_follower::Model>> {
    Ok(wechat_follower::Entity::find()
        .filter(wechat_follower::Column::OpenId.eq(open_id))
        .one(db)
        .await?)
}

/// Binds a follower to the deputy with this public code (unknown codes bind nobody).
async fn bind(
    db: &DatabaseConnection,
    open_id: &str,
    scene: Option<&str>,
    subscribed: bool,
) -> AppResult<Option<deputy::Model>> {
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        let deputy = match scene.and_then(|s| crate::domain::deputy_code::parse(s).ok()) {
            Some(code) => {
                deputy::Entity::find()
                    .filter(deputy::Column::Code.eq(code))
                    .filter(deputy::Column::Active.eq(true))
                    .one(txn)
                    .await?
            }
            None => None,
        };
        let now = Utc::now();
        let mut upsert = wechat_follower::Entity::insert(wechat_follower::ActiveModel {
            open_id: Set(open_id.to_owned()),
            deputy_id: Set(deputy.as_ref().map(|d| d.id)),
            subscribed: Set(subscribed),
            bound_at: Set(deputy.as_ref().map(|_| now)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        let mut update = vec![
            wechat_follower::Column::Subscribed,
            wechat_follower::Column::UpdatedAt,
        ];
        if deputy.is_some() {
            update.extend([
                wechat_follower::Column::DeputyId,
                wechat_follower::Column::BoundAt,
            ]);
        }
        upsert = upsert.on_conflict(
            OnConflict::column(wechat_follower::Column::OpenId)
                .update_columns(update)
                .to_owned(),
        );
        upsert.exec_without_returning(txn).await?;
        Ok(deputy)
    })
    .await
}

pub(crate) async fn default_station(
    db: &DatabaseConnection,
    settings: &Settings,
) -> AppResult<Option<i64>> {
    if let Some(code) = settings
        .wechat
        .as_ref()
        .and_then(|w| w.default_station.as_deref())
    {
        if let Some(s) = station::Entity::find()
            .filter(station::Column::Code.eq(code))
            .one(db)
            .await?
        {
            return Ok(Some(s.id));
        }
    }
    Ok(station::Entity::find()
        .filter(station::Column::Kind.eq(StationKind::LiaisonStation))
        .order_by_asc(station::Column::Id)
        .one(db)
        .await?
        .map(|s| s.id))
}

/// The follower's items, newest first.
pub(crate) async fn items_of<C: ConnectionTrait>(
    db: &C,
    open_id: &str,
    limit: u64,
) -> AppResult<Vec<petition::Model>> {
    let ids: Vec<i64> = wechat_delivery::Entity::find()
        .filter(wechat_delivery::Column::OpenId.eq(open_id))
        .filter(wechat_delivery::Column::PetitionId.is_not_null())
        .order_by_desc(wechat_delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|d| d.petition_id)
        .collect();
    let mut items = petition::Entity::find()
        .filter(petition::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    items.sort_by_key(|p| std::cmp::Reverse(p.id));
    Ok(items)
}

fn rating_of(text: &str) -> Option<Satisfaction> {
    let rest = text.strip_prefix("评价")?.trim();
    match rest {
        "1" | "满意" => Some(Satisfaction::Satisfied),
        "2" | "基本满意" => Some(Satisfaction::BasicallySatisfied),
        "3" | "不满意" => Some(Satisfaction::Unsatisfied),
        _ => None,
    }
}

/// What a delivery comes to: the reply and the item it created, if any.
pub(crate) type Answer = (Reply, Option<i64>);

pub(crate) fn reply(text: impl Into<String>) -> AppResult<Answer> {
    Ok((Some(text.into()), None))
}

/// Handles one delivery; returns the reply and the item it created, if any.
async fn respond(ctx: &Ctx<'_>, message: &Inbound, api: Option<&WechatApi>) -> AppResult<Answer> {
    let db = ctx.db;
    match message {
        Inbound::Subscribe {
            from_user, scene, ..
        } => {
            let deputy = bind(db, from_user, scene.as_deref(), true).await?;
            reply(match deputy {
                Some(d) => format!(
                    "欢迎关注和顺县“智慧人大”!您已联系{}代表,直接回复文字即可留言。{HELP}",
                    d.name
                ),
                None => format!("欢迎关注和顺县“智慧人大”!{HELP}"),
            })
        }
        Inbound::Scan {
            from_user, scene, ..
        } => reply(match bind(db, from_user, Some(scene), true).await? {
            Some(d) => format!("您已联系{}代表,直接回复文字即可留言。", d.name),
            None => "未找到该代表,您的留言将由联络站接收。".to_owned(),
        }),
        Inbound::Unsubscribe { from_user, .. } => {
            unsubscribe(db, from_user).await?;
            Ok((None, None))
        }
        Inbound::Text {
            from_user, content, ..
        } => text(ctx, from_user, content.trim()).await,
        Inbound::Location {
            from_user,
            latitude,
            longitude,
            label,
            ..
        } => locate(ctx, from_user, (latitude, longitude), label).await,
        Inbound::Image { .. } => wechat_photos::receive_image(ctx, api, message).await,
        Inbound::Other { .. } => reply(format!("暂不支持此类消息,请发送文字留言。{HELP}")),
    }
}

async fn unsubscribe(db: &DatabaseConnection, open_id: &str) -> AppResult<()> {
    write::transaction(db, |txn| async move {
        wechat_follower::Entity::update_many()
            .col_expr(
                wechat_follower::Column::Subscribed,
                sea_orm::sea_query::Expr::value(false),
            )
            .filter(wechat_follower::Column::OpenId.eq(open_id))
            .exec(&*txn)
            .await?;
        Ok(())
    })
    .await
}

/// A text message: a status query, a tracking code, a rating, else a new item.
async fn text(ctx: &Ctx<'_>, from_user: &str, text: &str) -> AppResult<Answer> {
    if text == "查询" || text == "进度" {
        return recent_items(ctx.db, from_user).await;
    }
    if let Ok(code) = crate::domain::tracking::parse_tracking_code(text) {
        let found = queries::by_tracking_code(ctx.db, &code).await?;
        return reply(match found {
            Some(p) => format!("{}:{}", p.tracking_code, state_zh(p.state)),
            None => "未找到该查询码对应的留言。".into(),
        });
    }
    if text.starts_with("评价") {
        return rate(ctx, from_user, text).await;
    }
    if let Some(off) = notices_command(text) {
        set_notices(ctx, from_user, off).await?;
        return reply(if off {
            "已退订办理进度通知。回复“订阅”可重新接收。"
        } else {
            "已订阅办理进度通知,留言有进展时将通知您。回复“退订”可停止接收。"
        });
    }
    submit(ctx, from_user, text).await
}

/// `退订` stops template messages, `订阅` resumes them: `Some(off)`.
fn notices_command(text: &str) -> Option<bool> {
    match text {
        "退订" | "TD" | "td" => Some(true),
        "订阅" => Some(false),
        _ => None,
    }
}

/// Records the follower's choice (a follower not yet known is recorded as one).
async fn set_notices(ctx: &Ctx<'_>, open_id: &str, off: bool) -> AppResult<()> {
    let now = ctx.now();
    write::transaction(ctx.db, |txn| async move {
        wechat_follower::Entity::insert(wechat_follower::ActiveModel {
            open_id: Set(open_id.to_owned()),
            subscribed: Set(true),
            notices_off: Set(off),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::column(wechat_follower::Column::OpenId)
                .update_columns([
                    wechat_follower::Column::NoticesOff,
                    wechat_follower::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&*txn)
        .await?;
        Ok(())
    })
    .await
}

async fn recent_items(db: &DatabaseConnection, from_user: &str) -> AppResult<Answer> {
    let items = items_of(db, from_user, 3).await?;
    if items.is_empty() {
        return reply("您还没有留言。直接回复文字即可向代表反映问题。");
    }
    let lines: Vec<String> = items
        .iter()
        .map(|p| format!("{}:{}({})", p.tracking_code, state_zh(p.state), p.title))
        .collect();
    reply(format!("您最近的留言:\n{}", lines.join("\n")))
}

/// "评价 1/2/3": rates the follower's latest item awaiting a rating.
async fn rate(ctx: &Ctx<'_>, from_user: &str, text: &str) -> AppResult<Answer> {
    let Some(rating) = rating_of(text) else {
        return reply("评价格式:评价 1(满意)/ 2(基本满意)/ 3(不满意)");
    };
    let latest = items_of(ctx.db, from_user, 20)
        .await?
        .into_iter()
        .find(|p| p.state == PetitionState::Resolved);
    let Some(item) = latest else {
        return reply("您暂无待评价的留言。");
    };
    // The follower wrote this item through this account: they are its submitter.
    let rated = act(
        ctx,
        Acting::VerifiedSubmitter,
        item.id,
        // What the follower rates is the item as it is now: no version.
        None,
        Step::Rate {
            satisfaction: rating,
            comment: None,
        },
    )
    .await?
    .item;
    reply(format!(
        "感谢您的评价!{}:{}",
        rated.tracking_code,
        state_zh(rated.state)
    ))
}

/// A location message (GCJ-02, as WeChat sends it) places the follower's latest open
/// item; without one, it says so.
async fn locate(
    ctx: &Ctx<'_>,
    from_user: &str,
    (latitude, longitude): (&str, &str),
    label: &str,
) -> AppResult<Answer> {
    let latest = items_of(ctx.db, from_user, 20)
        .await?
        .into_iter()
        .find(|p| !is_terminal(p.state));
    let Some(item) = latest else {
        return reply("您暂无办理中的留言,位置未记录。请先发送文字留言,再发送位置。");
    };
    let address: String = label.chars().take(MAX_ADDRESS_CHARS).collect();
    let input = LocationInput {
        latitude: latitude.parse().unwrap_or(f64::NAN),
        longitude: longitude.parse().unwrap_or(f64::NAN),
        accuracy: None,
        address: Some(address),
        coordinate_system: CoordinateSystem::Gcj02,
    };
    let location = match Location::parse("location", &input) {
        Ok(location) => location,
        Err(AppError::BadUserInput { message, .. }) => {
            return reply(format!("位置未能记录:{message}"))
        }
        Err(e) => return Err(e),
    };
    places::locate_item(ctx, item.id, &location).await?;
    reply(format!(
        "已将位置{}记录到您的留言{}。",
        if label.is_empty() {
            String::new()
        } else {
            format!("“{}”", location.address.as_deref().unwrap_or_default())
        },
        item.tracking_code
    ))
}

/// Any other text becomes an item (throttled per follower), addressed to the deputy
/// the follower is bound to, else to the default station.
async fn submit(ctx: &Ctx<'_>, from_user: &str, text: &str) -> AppResult<Answer> {
    let limits = &ctx.settings.limits;
    if let Err(e) = ctx
        .auth
        .limiter
        .hit(
            &format!("wechat:{from_user}"),
            limits.anonymous_submissions_per_address,
            limits.anonymous_submission_window,
        )
        .await
    {
        return reply(e.public_message());
    }
    let bound = follower(ctx.db, from_user).await?.and_then(|f| f.deputy_id);
    let station = default_station(ctx.db, ctx.settings).await?;
    match intake::submit_from_wechat(ctx, from_user, text, bound, station).await {
        Ok(item) => Ok((
            Some(format!(
                "已收到您的留言,查询码:{}。回复“查询”可查看办理进度。",
                item.tracking_code
            )),
            Some(item.id),
        )),
        Err(AppError::BadUserInput { message, .. }) => reply(format!("留言未能提交:{message}")),
        Err(e) => Err(e),
    }
}

/// Handles a delivery exactly once. A retry (same dedupe key) gets the first reply; a
/// retry that arrives while the first is still being handled waits for it. `ctx` is
/// anonymous: a follower proves nothing but their channel.
pub async fn handle(ctx: &Ctx<'_>, message: &Inbound, api: Option<&WechatApi>) -> AppResult<Reply> {
    let db = ctx.db;
    let key = message.dedupe_key();
    let claim = match claim_delivery(ctx, &key, message).await {
        Ok(row) => row,
        Err(AppError::Conflict(_)) => return previous_reply(db, &key).await,
        Err(other) => return Err(other),
    };
    match respond(ctx, message, api).await {
        Ok((reply, petition_id)) => {
            let claim = &claim;
            let answer = &reply;
            write::transaction(db, |txn| async move {
                let mut row: wechat_delivery::ActiveModel = claim.clone().into();
                row.reply = Set(Some(answer.clone().unwrap_or_default()));
                row.petition_id = Set(petition_id);
                row.update(&*txn).await?;
                Ok(())
            })
            .await?;
            Ok(reply)
        }
        Err(e) => {
            // Let WeChat's retry try again.
            let claim_id = claim.id;
            let _ = write::transaction(db, |txn| async move {
                wechat_delivery::Entity::delete_by_id(claim_id)
                    .exec(&*txn)
                    .await?;
                Ok(())
            })
            .await;
            Err(e)
        }
    }
}

/// Claims the delivery's dedupe key: CONFLICT when an earlier delivery holds it.
async fn claim_delivery(
    ctx: &Ctx<'_>,
    key: &str,
    message: &Inbound,
) -> AppResult<wechat_delivery::Model> {
    write::transaction(ctx.db, |txn| async move {
        Ok(wechat_delivery::ActiveModel {
            dedupe_key: Set(key.to_owned()),
            open_id: Set(message.from_user().to_owned()),
            petition_id: Set(None),
            reply: Set(None),
            created_at: Set(ctx.now()),
            ..Default::default()
        }
        .insert(&*txn)
        .await?)
    })
    .await
}

async fn previous_reply(db: &DatabaseConnection, key: &str) -> AppResult<Reply> {
    for _ in 0..40 {
        let row = wechat_delivery::Entity::find()
            .filter(wechat_delivery::Column::DedupeKey.eq(key))
            .one(db)
            .await?;
        match row.and_then(|r| r.reply) {
            Some(reply) => return Ok(Some(reply).filter(|r| !r.is_empty())),
            None => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    Ok(None)
}
