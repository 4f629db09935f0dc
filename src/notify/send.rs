//! Sending what leaves the platform: WeChat template messages and text messages. A
//! round takes, per channel, the due pending deliveries that are the oldest pending
//! one of their recipient (so that a follower or a phone receives its notices in
//! order, also when several replicas send), claims each (compare-and-set on its
//! attempt count, with a lease: no other replica touches it meanwhile), sends it and
//! records the outcome: `sent`; `failed` at once for a refusal no retry changes (for
//! WeChat 43004: the follower unsubscribed, who is then marked so); else back to
//! `pending` with a backoff (`domain::notice::retry_delay`) until
//! `NOTIFY_MAX_ATTEMPTS`, then `failed`.
//!
//! Texts also keep quiet hours (none goes in them; one derived or retried in them is
//! dated to their end) and a daily cap per phone (past it, the text ends `failed`:
//! "daily cap").
//!
//! A stop (`notify::Running::stop`) is seen between deliveries, never between a
//! provider's answer and its record. A replica that dies there leaves the claim to
//! expire, and the message goes out again: at least once, the only promise an API
//! without idempotency keys allows; every other path sends once.
use chrono::{DateTime, Duration, Utc};
use entity::{notification_delivery as delivery, petition, wechat_follower};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::watch;

use super::sms::{Message, Provider};
use super::wechat_api::{Template, WechatApi};
use super::SendError;
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::calendar::china;
use crate::domain::notice::{retry_delay, Channel};
use crate::error::AppResult;

/// How long a claim keeps other replicas off a delivery: well beyond one send (at
/// worst a token fetch and two sends of 10 s each).
const LEASE_SECS: i64 = 180;
/// A round claims nothing after this long, so every claim it makes (dated from the
/// round's start) still has two minutes of lease when it is taken.
const ROUND_SECS: u64 = 60;
/// Due deliveries looked at per channel and round.
const WINDOW: u64 = 200;

/// The senders this replica has.
pub struct Senders {
    pub wechat: Option<WechatApi>,
    pub sms: Option<Box<dyn Provider>>,
    /// `true`: stop after the delivery in hand.
    pub stop: watch::Receiver<bool>,
}

/// One round; how many deliveries it settled (sent, failed or put back).
pub async fn round(
    db: &DatabaseConnection,
    senders: &Senders,
    settings: &Settings,
    clock: &Clock,
) -> AppResult<usize> {
    let mut handled = 0;
    if senders.wechat.is_some() {
        handled += channel_round(db, senders, settings, clock, Channel::Wechat).await?;
    }
    // In quiet hours no text goes; they wait, unchanged, and go in order when the hours
    // end (a text derived in them is dated to their end already, a retry is moved
    // there by `record`): nothing is written while they last.
    if senders.sms.is_some() && quiet_until(settings, clock.now()).is_none() {
        handled += channel_round(db, senders, settings, clock, Channel::Sms).await?;
    }
    Ok(handled)
}

async fn channel_round(
    db: &DatabaseConnection,
    senders: &Senders,
    settings: &Settings,
    clock: &Clock,
    channel: Channel,
) -> AppResult<usize> {
    let (mut handled, now) = (0, clock.now());
    let started = std::time::Instant::now();
    for row in due(db, channel, now).await? {
        if *senders.stop.borrow() || started.elapsed() > std::time::Duration::from_secs(ROUND_SECS)
        {
            break;
        }
        if !claim(db, &row, now).await? {
            continue;
        }
        let outcome = match channel {
            Channel::Sms => send_text(db, senders, settings, &row, now).await?,
            _ => send_template(db, senders, &settings.public_base_url, &row).await?,
        };
        record(db, &row, outcome, settings, clock.now()).await?;
        handled += 1;
    }
    Ok(handled)
}

/// The end of the quiet hours `now` is in, if texts are quiet now.
fn quiet_until(settings: &Settings, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    settings.notify.sms.quiet_hours.and_then(|q| q.until(now))
}

/// The due, unclaimed pending deliveries of `channel` that are their recipient's oldest
/// pending one, oldest first: the due filter comes before the window, so deliveries
/// waiting out a backoff never crowd out those that are due.
async fn due(
    db: &DatabaseConnection,
    channel: Channel,
    now: DateTime<Utc>,
) -> AppResult<Vec<delivery::Model>> {
    let oldest_of_recipient = Expr::cust(
        "NOT EXISTS (SELECT 1 FROM notification_delivery older \
         WHERE older.recipient = notification_delivery.recipient \
         AND older.channel = notification_delivery.channel \
         AND older.status = 'pending' AND older.id < notification_delivery.id)",
    );
    Ok(delivery::Entity::find()
        .filter(delivery::Column::Channel.eq(channel.as_str()))
        .filter(delivery::Column::Status.eq("pending"))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .filter(
            Condition::any()
                .add(delivery::Column::ClaimedUntil.is_null())
                .add(delivery::Column::ClaimedUntil.lt(now)),
        )
        .filter(oldest_of_recipient)
        .order_by_asc(delivery::Column::Id)
        .limit(WINDOW)
        .all(db)
        .await?)
}

/// Takes the row for this replica: only one claim of one attempt succeeds.
async fn claim(
    db: &DatabaseConnection,
    row: &delivery::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let claimed = delivery::Entity::update_many()
        .col_expr(delivery::Column::Attempts, Expr::value(row.attempts + 1))
        .col_expr(
            delivery::Column::ClaimedUntil,
            Expr::value(Some(now + Duration::seconds(LEASE_SECS))),
        )
        .filter(delivery::Column::Id.eq(row.id))
        .filter(delivery::Column::Status.eq("pending"))
        .filter(delivery::Column::Attempts.eq(row.attempts))
        .filter(
            Condition::any()
                .add(delivery::Column::ClaimedUntil.is_null())
                .add(delivery::Column::ClaimedUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

async fn send_template(
    db: &DatabaseConnection,
    senders: &Senders,
    public_base_url: &str,
    row: &delivery::Model,
) -> AppResult<Result<(), SendError>> {
    let Some(api) = &senders.wechat else {
        return Ok(Err(SendError::Transient("WeChat is off".into())));
    };
    Ok(match template(db, row, public_base_url).await? {
        Some(template) => api.send(&template).await,
        None => Err(SendError::Permanent("the item no longer exists".into())),
    })
}

/// Sends a text, unless its phone had its fill today.
async fn send_text(
    db: &DatabaseConnection,
    senders: &Senders,
    settings: &Settings,
    row: &delivery::Model,
    now: DateTime<Utc>,
) -> AppResult<Result<(), SendError>> {
    let (Some(provider), Some(phone)) = (&senders.sms, &row.phone) else {
        return Ok(Err(SendError::Permanent("no phone".into())));
    };
    let cap = settings.notify.sms.daily_cap;
    if sent_today(db, &row.recipient, now).await? >= u64::from(cap) {
        return Ok(Err(SendError::Permanent(format!(
            "daily cap: {cap} texts to this phone today"
        ))));
    }
    let code = match row.petition_id {
        Some(id) => petition::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let text = code.and_then(|p| crate::domain::sms::text_for(&row.kind, &p.tracking_code));
    let Some(text) = text else {
        return Ok(Err(SendError::Permanent(
            "the item no longer exists".into(),
        )));
    };
    let message = Message {
        phone: phone.clone(),
        text,
        context: format!("delivery:{}", row.id),
    };
    Ok(provider.send(&message).await)
}

/// Texts sent to `recipient` since the China day of `now` began.
async fn sent_today(
    db: &DatabaseConnection,
    recipient: &str,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    Ok(delivery::Entity::find()
        .filter(delivery::Column::Recipient.eq(recipient))
        .filter(delivery::Column::Channel.eq(Channel::Sms.as_str()))
        .filter(delivery::Column::Status.eq("sent"))
        .filter(delivery::Column::SentAt.gte(crate::domain::sms::day_began(now)))
        .count(db)
        .await?)
}

async fn template(
    db: &DatabaseConnection,
    row: &delivery::Model,
    public_base_url: &str,
) -> AppResult<Option<Template>> {
    let (Some(open_id), Some(petition_id)) = (&row.open_id, row.petition_id) else {
        return Ok(None);
    };
    let Some(item) = petition::Entity::find_by_id(petition_id).one(db).await? else {
        return Ok(None);
    };
    Ok(Some(Template {
        open_id: open_id.clone(),
        url: crate::links::tracking_page_url(public_base_url, &item.tracking_code),
        first: row.title.clone(),
        tracking_code: item.tracking_code,
        status: crate::domain::notice::status_label(&row.kind).to_owned(),
        time: row
            .created_at
            .with_timezone(&china())
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        remark: row.body.clone(),
    }))
}

/// When a failed attempt is tried again: after the backoff, and for a text not in
/// quiet hours.
fn next_attempt(
    settings: &Settings,
    row: &delivery::Model,
    attempts: i32,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let next = now + retry_delay(attempts);
    if row.channel == Channel::Sms.as_str() {
        quiet_until(settings, next).unwrap_or(next)
    } else {
        next
    }
}

async fn record(
    db: &DatabaseConnection,
    row: &delivery::Model,
    outcome: Result<(), SendError>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (attempts, max_attempts) = (row.attempts + 1, settings.notify.max_attempts);
    let update = delivery::Entity::update_many()
        .col_expr(
            delivery::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(delivery::Column::Id.eq(row.id))
        // Only while this replica's claim (of this attempt) is the row's.
        .filter(delivery::Column::Attempts.eq(attempts));
    let update = match &outcome {
        Ok(()) => update
            .col_expr(delivery::Column::Status, Expr::value("sent"))
            .col_expr(delivery::Column::SentAt, Expr::value(Some(now))),
        Err(SendError::Transient(reason)) if attempts < max_attempts => update
            .col_expr(
                delivery::Column::LastError,
                Expr::value(Some(reason.clone())),
            )
            .col_expr(
                delivery::Column::NextAttemptAt,
                Expr::value(next_attempt(settings, row, attempts, now)),
            ),
        Err(SendError::Transient(reason) | SendError::Permanent(reason)) => update
            .col_expr(delivery::Column::Status, Expr::value("failed"))
            .col_expr(
                delivery::Column::LastError,
                Expr::value(Some(reason.clone())),
            ),
    };
    update.exec(db).await?;
    if let (Err(SendError::Permanent(reason)), Some(open_id)) = (&outcome, &row.open_id) {
        if reason.starts_with("errcode 43004") {
            mark_unsubscribed(db, open_id).await?;
        }
    }
    Ok(())
}

/// WeChat says the follower no longer follows: no more notices are derived for them.
async fn mark_unsubscribed<C: ConnectionTrait>(db: &C, open_id: &str) -> AppResult<()> {
    wechat_follower::Entity::update_many()
        .col_expr(wechat_follower::Column::Subscribed, Expr::value(false))
        .filter(wechat_follower::Column::OpenId.eq(open_id))
        .exec(db)
        .await?;
    Ok(())
}
