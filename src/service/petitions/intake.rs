//! Intake (代表收集 / 群众留言): citizens submit (signed in, or anonymously with a phone
//! number), deputies record what they collected at a reception or visit. Every
//! channel — app, QR code, WeChat — ends here, with the same rules.
use chrono::{DateTime, Utc};
use entity::{
    deputy, deputy_station, petition, petition_event, station, AttachmentPurpose, Channel,
    PetitionState,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use crate::auth::Actor;
use crate::domain::event::DomainEvent;
use crate::domain::phone::Phone;
use crate::domain::place::{Location, LocationInput};
use crate::domain::statistics_rollup::ItemFacts;
use crate::domain::tracking;
use crate::error::{AppError, AppResult};
use crate::events::outbox;
use crate::service::attachments;
use crate::service::statistics::rollup;
use crate::service::support::idempotency::{self, Claim};
use crate::service::Ctx;

pub const MAX_ATTACHMENTS: usize = 9;

#[derive(Debug, Clone, Default)]
pub struct Submission {
    pub title: String,
    pub content: String,
    /// Defaults by actor: citizens APP (QR_CODE when addressed by deputy code),
    /// deputies DEPUTY_VISIT.
    pub channel: Option<Channel>,
    /// The deputy's public code (a QR code carries it).
    pub deputy_code: Option<String>,
    pub station_id: Option<i64>,
    pub submitter_name: Option<String>,
    pub submitter_phone: Option<String>,
    /// The submitter's own uploads (`uploadAttachment` with purpose PETITION), by id.
    pub attachment_ids: Vec<String>,
    /// Where the item is about (checked and converted to WGS-84 by `Location::parse`).
    pub location: Option<LocationInput>,
    /// The submitter agrees to progress notices by SMS at `submitter_phone`.
    pub sms_consent: bool,
}

/// The new item and, for an anonymous submitter, the follow secret (shown once).
pub struct Submitted {
    pub item: petition::Model,
    pub follow_secret: Option<String>,
}

fn validate_text(s: &Submission) -> AppResult<(String, String)> {
    let title = s.title.trim();
    if !(2..=100).contains(&title.chars().count()) {
        return Err(AppError::bad_input(
            "title",
            "标题须为2-100个字符 (2 to 100 characters)",
        ));
    }
    let content = s.content.trim();
    if !(5..=5000).contains(&content.chars().count()) {
        return Err(AppError::bad_input(
            "content",
            "内容须为5-5000个字符 (5 to 5000 characters)",
        ));
    }
    Ok((title.to_owned(), content.to_owned()))
}

/// Where an item lands, as `(deputy, station, township)`: the addressed deputy's
/// station, or the chosen station.
async fn destination(
    db: &DatabaseConnection,
    deputy_code: Option<&str>,
    station_id: Option<i64>,
    fallback_deputy: Option<i64>,
) -> AppResult<(Option<i64>, Option<i64>, Option<i64>)> {
    let deputy = addressed_deputy(db, deputy_code, fallback_deputy).await?;
    let station = match station_id {
        Some(id) => Some(
            station::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::bad_input("stationId", "站点不存在 (no such station)"))?,
        ),
        None => match &deputy {
            Some(d) => current_station(db, d.id).await?,
            None => None,
        },
    };
    if deputy.is_none() && station.is_none() {
        return Err(AppError::bad_input(
            "stationId",
            "请选择代表或站点 (address a deputy or a station)",
        ));
    }
    let township = station
        .as_ref()
        .map(|s| s.township_id)
        .or_else(|| deputy.as_ref().and_then(|d| d.township_id));
    Ok((deputy.map(|d| d.id), station.map(|s| s.id), township))
}

/// The deputy named by public code (an active one, else BAD_USER_INPUT), else the
/// fallback deputy.
async fn addressed_deputy(
    db: &DatabaseConnection,
    deputy_code: Option<&str>,
    fallback_deputy: Option<i64>,
) -> AppResult<Option<deputy::Model>> {
    Ok(match (deputy_code, fallback_deputy) {
        (Some(code), _) => {
            let code = crate::domain::deputy_code::parse(code).map_err(|_| {
                AppError::bad_input("deputyCode", "代表编码格式不正确 (malformed deputy code)")
            })?;
            let found = deputy::Entity::find()
                .filter(deputy::Column::Code.eq(code))
                .one(db)
                .await?;
            Some(found.filter(|d| d.active).ok_or_else(|| {
                AppError::bad_input("deputyCode", "未找到该代表 (no such deputy)")
            })?)
        }
        (None, Some(id)) => deputy::Entity::find_by_id(id).one(db).await?,
        (None, None) => None,
    })
}

/// The station a deputy serves at now (their first current assignment).
async fn current_station(
    db: &DatabaseConnection,
    deputy_id: i64,
) -> AppResult<Option<station::Model>> {
    let assignment = deputy_station::Entity::find()
        .filter(deputy_station::Column::DeputyId.eq(deputy_id))
        .filter(deputy_station::Column::Until.is_null())
        .order_by_asc(deputy_station::Column::Id)
        .one(db)
        .await?;
    Ok(match assignment {
        Some(a) => station::Entity::find_by_id(a.station_id).one(db).await?,
        None => None,
    })
}

/// Submits an item; with an idempotency key, a retry answers the first item (same
/// id, tracking code and follow secret) and creates nothing.
pub async fn submit(
    ctx: &Ctx<'_>,
    input: Submission,
    idempotency_key: Option<String>,
) -> AppResult<Submitted> {
    let db = ctx.db;
    let arguments = json!({
        "title": input.title,
        "content": input.content,
        "channel": input.channel.map(|c| format!("{c:?}")),
        "deputyCode": input.deputy_code,
        "stationId": input.station_id,
        "submitterName": input.submitter_name,
        "submitterPhone": input.submitter_phone,
        "attachmentIds": input.attachment_ids,
        "location": input.location.as_ref().map(|l| json!({
            "latitude": l.latitude,
            "longitude": l.longitude,
            "accuracy": l.accuracy,
            "address": l.address,
            "coordinateSystem": format!("{:?}", l.coordinate_system),
        })),
        "smsConsent": input.sms_consent,
    });
    let claim = Claim::new(ctx, idempotency_key, "submitPetition", &arguments)?;
    idempotency::once(
        db,
        claim.as_ref(),
        submit_new(ctx, input, claim.as_ref()),
        |stored| async move {
            let id = stored
                .object_id
                .ok_or_else(|| AppError::internal("idempotency row without an item"))?;
            let item = petition::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found("社情民意 (opinion item)"))?;
            let follow_secret = stored.response["followSecret"].as_str().map(str::to_owned);
            Ok(Submitted {
                item,
                follow_secret,
            })
        },
    )
    .await
}

/// Check the input, work out where it goes and through which channel, check who may
/// record it that way, then write it.
async fn submit_new(
    ctx: &Ctx<'_>,
    input: Submission,
    claim: Option<&Claim>,
) -> AppResult<Submitted> {
    let actor = ctx.actor;
    let (title, content, location) = validate_item(&input)?;
    let attachment_ids =
        attachments::check_ids("attachmentIds", &input.attachment_ids, MAX_ATTACHMENTS)?;
    let (name, phone) = validate_submitter(&input)?;
    let recording_deputy = actor.deputy_id();
    let (deputy_id, station_id, township_id) = destination(
        ctx.db,
        input.deputy_code.as_deref(),
        input.station_id,
        fallback_deputy(&input, recording_deputy),
    )
    .await?;
    let (channel, in_person) = checked_channel(actor, &input, deputy_id, station_id)?;
    let follow_secret = check_anonymous(ctx, phone.is_some()).await?;
    let answer = json!({ "followSecret": follow_secret });
    let new = NewItem {
        title,
        content,
        channel,
        submitter_account_id: if in_person { None } else { actor.account_id() },
        submitter_name: name,
        submitter_phone: phone,
        sms_consent: input.sms_consent,
        deputy_id,
        station_id,
        township_id,
        category_id: None,
        attachment_ids,
        location,
        follow_secret_hash: follow_secret.as_deref().map(tracking::hash_secret),
        recorded_as: match (in_person, recording_deputy) {
            (true, Some(_)) => "deputy",
            (true, None) => "station_staff",
            (false, _) => "submitter",
        },
    };
    let item = created(ctx, actor, claim.map(|c| (c, answer)), new).await?;
    Ok(Submitted {
        item,
        follow_secret,
    })
}

/// The channel an item comes through, and whether someone recorded it in person
/// (a deputy, or a station's staff, who must be the station's).
fn checked_channel(
    actor: &Actor,
    input: &Submission,
    deputy_id: Option<i64>,
    station_id: Option<i64>,
) -> AppResult<(Channel, bool)> {
    let channel = channel_of(actor, input, deputy_id)?;
    let in_person = matches!(channel, Channel::DeputyVisit | Channel::StationReception);
    if in_person && actor.deputy_id().is_none() {
        actor.require(station_id.is_some_and(|s| actor.is_staff_of(s)))?;
    }
    Ok((channel, in_person))
}

/// The text and the location (checked, in WGS-84) of a submission.
fn validate_item(input: &Submission) -> AppResult<(String, String, Option<Location>)> {
    let (title, content) = validate_text(input)?;
    let location = input
        .location
        .as_ref()
        .map(|l| Location::parse("location", l))
        .transpose()?;
    Ok((title, content, location))
}

/// The submitter's name (trimmed, at most 64 characters) and phone (normalised).
fn validate_submitter(input: &Submission) -> AppResult<(Option<String>, Option<String>)> {
    let name = input
        .submitter_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    if name.as_ref().is_some_and(|n| n.chars().count() > 64) {
        return Err(AppError::bad_input(
            "submitterName",
            "姓名最多64个字符 (at most 64 characters)",
        ));
    }
    let phone = input
        .submitter_phone
        .as_deref()
        .map(|p| Phone::parse("submitterPhone", p))
        .transpose()?
        .map(Phone::into_string);
    if input.sms_consent && phone.is_none() {
        return Err(AppError::bad_input(
            "smsConsent",
            "短信通知须留手机号 (SMS notices need submitterPhone)",
        ));
    }
    Ok((name, phone))
}

/// Where it goes: the deputy named by code, else the recording deputy (for what a
/// deputy collected in person), else the chosen station.
fn fallback_deputy(input: &Submission, recording_deputy: Option<i64>) -> Option<i64> {
    let code_given = input.deputy_code.is_some();
    if matches!(
        input.channel,
        None | Some(Channel::DeputyVisit | Channel::StationReception)
    ) && !code_given
    {
        recording_deputy
    } else {
        None
    }
}

/// The channel asked for (in person only by a deputy or station staff; never WeChat),
/// else the one the actor and the addressing imply.
fn channel_of(actor: &Actor, input: &Submission, deputy_id: Option<i64>) -> AppResult<Channel> {
    let recording_deputy = actor.deputy_id();
    let code_given = input.deputy_code.is_some();
    Ok(match input.channel {
        Some(c @ (Channel::DeputyVisit | Channel::StationReception)) => {
            // Collected in person: a deputy or station staff records it.
            actor.require(recording_deputy.is_some() || !actor.staff_stations().is_empty())?;
            c
        }
        Some(Channel::Wechat) => {
            return Err(AppError::bad_input(
                "channel",
                "微信渠道由公众号接入 (WeChat items arrive through the official account)",
            ))
        }
        Some(c) => c,
        // A deputy recording for themselves; with another deputy's code a deputy
        // writes like any citizen would.
        None if recording_deputy.is_some() && (!code_given || deputy_id == recording_deputy) => {
            Channel::DeputyVisit
        }
        None if code_given => Channel::QrCode,
        None => Channel::App,
    })
}

/// An anonymous submitter leaves a phone number and is throttled by address; they get
/// a follow secret (the signed-in follow their items by account).
async fn check_anonymous(ctx: &Ctx<'_>, has_phone: bool) -> AppResult<Option<String>> {
    if !matches!(ctx.actor, Actor::Anonymous) {
        return Ok(None);
    }
    if !has_phone {
        return Err(AppError::bad_input(
            "submitterPhone",
            "匿名留言须留手机号 (anonymous messages need a phone number)",
        ));
    }
    let limits = &ctx.settings.limits;
    ctx.auth
        .limiter
        .hit(
            &format!("submit:addr:{}", ctx.client.ip),
            limits.anonymous_submissions_per_address,
            limits.anonymous_submission_window,
        )
        .await?;
    Ok(Some(tracking::new_follow_secret()))
}

/// A WeChat follower's message (the official-account channel): addressed to the
/// deputy the follower last scanned, else to the given default station.
pub async fn submit_from_wechat(
    ctx: &Ctx<'_>,
    open_id: &str,
    content: &str,
    deputy_id: Option<i64>,
    default_station_id: Option<i64>,
) -> AppResult<petition::Model> {
    let (title, content) = wechat_text(content)?;
    let new = wechat_item(ctx, open_id, title, content, deputy_id, default_station_id).await?;
    created(ctx, &Actor::Anonymous, None, new.0).await
}

/// An item a WeChat follower's photo starts, addressed as their text would be; made
/// by [`insert_wechat_photo_item`] inside the caller's transaction.
pub struct WechatItem(NewItem);

/// The text of an item a photo starts (the follower wrote none).
const PHOTO_ITEM_TEXT: &str = "群众通过微信公众号发送照片反映问题,详见附件照片。";

/// The item a follower's photo would start, its destination resolved (before the
/// caller's transaction).
pub async fn wechat_photo_item(
    ctx: &Ctx<'_>,
    open_id: &str,
    deputy_id: Option<i64>,
    default_station_id: Option<i64>,
) -> AppResult<WechatItem> {
    let (title, content) = wechat_text(PHOTO_ITEM_TEXT)?;
    let title = format!("【随手拍】{title}").chars().take(30).collect();
    wechat_item(ctx, open_id, title, content, deputy_id, default_station_id).await
}

/// Writes the item a photo starts, in the caller's transaction (which holds the
/// follower's row, so two photos never start two items).
pub async fn insert_wechat_photo_item<C: ConnectionTrait>(
    txn: &C,
    ctx: &Ctx<'_>,
    item: &WechatItem,
) -> AppResult<petition::Model> {
    insert_created(txn, ctx, &Actor::Anonymous, &None, &item.0).await
}

async fn wechat_item(
    ctx: &Ctx<'_>,
    open_id: &str,
    title: String,
    content: String,
    deputy_id: Option<i64>,
    default_station_id: Option<i64>,
) -> AppResult<WechatItem> {
    let station_id = if deputy_id.is_some() {
        None
    } else {
        default_station_id
    };
    let (deputy_id, station_id, township_id) =
        destination(ctx.db, None, station_id, deputy_id).await?;
    Ok(WechatItem(NewItem {
        title,
        content,
        channel: Channel::Wechat,
        submitter_account_id: None,
        submitter_name: Some(format!(
            "微信用户{}",
            open_id.chars().rev().take(4).collect::<String>()
        )),
        submitter_phone: None,
        sms_consent: false,
        deputy_id,
        station_id,
        township_id,
        category_id: None,
        attachment_ids: Vec::new(),
        location: None,
        follow_secret_hash: None,
        recorded_as: "submitter",
    }))
}

/// What an Open311 client files (`POST /open311/v2/requests`), already checked for
/// its key and service: the text and the submitter as any channel checks them.
pub struct Open311Filing {
    pub station_id: i64,
    pub category_id: i64,
    pub title: String,
    pub description: String,
    pub submitter_name: Option<String>,
    pub submitter_phone: Option<String>,
    /// Where it is about (`lat`/`long`, `address_string`), checked.
    pub location: Option<Location>,
}

/// An Open311 client's request, at the key's station, in the chosen category: the
/// app channel's rules (text, name, phone), recorded as `open311` in the history.
pub async fn submit_from_open311(
    ctx: &Ctx<'_>,
    filing: Open311Filing,
) -> AppResult<petition::Model> {
    let input = Submission {
        title: filing.title,
        content: filing.description,
        station_id: Some(filing.station_id),
        submitter_name: filing.submitter_name,
        submitter_phone: filing.submitter_phone,
        ..Default::default()
    };
    let (title, content) = validate_text(&input)?;
    let (name, phone) = validate_submitter(&input)?;
    let (deputy_id, station_id, township_id) =
        destination(ctx.db, None, input.station_id, None).await?;
    let new = NewItem {
        title,
        content,
        channel: Channel::App,
        submitter_account_id: None,
        submitter_name: name,
        submitter_phone: phone,
        deputy_id,
        station_id,
        township_id,
        category_id: Some(filing.category_id),
        attachment_ids: Vec::new(),
        sms_consent: false,
        location: filing.location,
        follow_secret_hash: None,
        recorded_as: "open311",
    };
    created(ctx, &Actor::Anonymous, None, new).await
}

/// A message's title (its first 30 characters) and content, checked like any other.
fn wechat_text(content: &str) -> AppResult<(String, String)> {
    let text = content.trim();
    let title: String = text.chars().take(30).collect();
    let input = Submission {
        title: if title.chars().count() < 2 {
            "微信留言".into()
        } else {
            title
        },
        content: text.to_owned(),
        ..Default::default()
    };
    validate_text(&input)
}

#[derive(Clone)]
struct NewItem {
    title: String,
    content: String,
    channel: Channel,
    submitter_account_id: Option<i64>,
    submitter_name: Option<String>,
    submitter_phone: Option<String>,
    sms_consent: bool,
    deputy_id: Option<i64>,
    station_id: Option<i64>,
    township_id: Option<i64>,
    /// Set at intake only by a channel that names it (Open311's `service_code`).
    category_id: Option<i64>,
    attachment_ids: Vec<String>,
    location: Option<Location>,
    follow_secret_hash: Option<String>,
    /// Who recorded it, for the history: submitter, deputy or station_staff.
    recorded_as: &'static str,
}

/// The item's row as submitted: round 1, version 1, nothing decided yet.
fn new_row(new: &NewItem, now: DateTime<Utc>) -> petition::ActiveModel {
    petition::ActiveModel {
        tracking_code: Set(tracking::new_tracking_code()),
        follow_secret_hash: Set(new.follow_secret_hash.clone()),
        title: Set(new.title.clone()),
        content: Set(new.content.clone()),
        channel: Set(new.channel),
        state: Set(PetitionState::Submitted),
        submitter_account_id: Set(new.submitter_account_id),
        submitter_name: Set(new.submitter_name.clone()),
        submitter_phone: Set(new.submitter_phone.clone()),
        sms_consent: Set(new.sms_consent),
        deputy_id: Set(new.deputy_id),
        station_id: Set(new.station_id),
        township_id: Set(new.township_id),
        category_id: Set(new.category_id),
        // The URL list of old; files are `attachment` rows now.
        attachments: Set("[]".into()),
        latitude_e7: Set(new.location.as_ref().map(|l| l.point.lat_e7)),
        longitude_e7: Set(new.location.as_ref().map(|l| l.point.lon_e7)),
        location_accuracy_m: Set(new.location.as_ref().and_then(|l| l.accuracy_m)),
        location_address: Set(new.location.as_ref().and_then(|l| l.address.clone())),
        is_overdue: Set(false),
        escalation_level: Set(0),
        urge_count: Set(0),
        round: Set(1),
        version: Set(1),
        collected_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

async fn created(
    ctx: &Ctx<'_>,
    actor: &Actor,
    claim: Option<(&Claim, serde_json::Value)>,
    new: NewItem,
) -> AppResult<petition::Model> {
    let new = &new;
    let claim = &claim;
    crate::db::write::transaction(ctx.db, |txn| async move {
        insert_created(&*txn, ctx, actor, claim, new).await
    })
    .await
}

/// The rows of a new item, in the caller's transaction.
async fn insert_created<C: ConnectionTrait>(
    txn: &C,
    ctx: &Ctx<'_>,
    actor: &Actor,
    claim: &Option<(&Claim, serde_json::Value)>,
    new: &NewItem,
) -> AppResult<petition::Model> {
    let now = ctx.now();
    let item = new_row(new, now).insert(txn).await?;
    attachments::attach_to_petition(
        txn,
        ctx,
        "attachmentIds",
        &new.attachment_ids,
        AttachmentPurpose::Petition,
        item.id,
    )
    .await?;
    petition_event::ActiveModel {
        petition_id: Set(item.id),
        action: Set("submit".into()),
        from_state: Set(None),
        to_state: Set("submitted".into()),
        actor_account_id: Set(actor.account_id()),
        actor_role: Set(Some(new.recorded_as.into())),
        department_id: Set(None),
        note: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    outbox::append(txn, &DomainEvent::petition_submitted(&item)).await?;
    let facts = ItemFacts::of(&item, []);
    rollup::item_changed(txn, None, Some(&facts)).await?;
    if let Some((claim, answer)) = claim {
        claim.record(txn, Some(item.id), answer.clone()).await?;
    }
    Ok(item)
}
