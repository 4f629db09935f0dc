//! Sending template messages. A round takes the pending WeChat deliveries, at most the
//! oldest one per follower (so that a follower receives their notices in order, also
//! when several replicas send), claims each due one (compare-and-set on its attempt
//! count, with a lease: no other replica touches it meanwhile), sends it and records
//! the outcome: `sent`; `failed` at once for a refusal no retry changes (43004: the
//! follower unsubscribed, who is then marked so); else back to `pending` with a
//! backoff (`domain::notice::retry_delay`) until `NOTIFY_MAX_ATTEMPTS`, then `failed`.
//!
//! A replica that dies between WeChat's answer and the record leaves the claim to
//! expire, and the message goes out again: at least once, the only promise an API
//! without idempotency keys allows; every other path sends once.
use chrono::{DateTime, Duration, FixedOffset, Utc};
use entity::{notification_delivery as delivery, petition, wechat_follower};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::wechat_api::{SendError, Template, WechatApi};
use crate::domain::notice::retry_delay;
use crate::error::AppResult;

/// How long a claim keeps other replicas off a delivery: well beyond one send (at
/// worst a token fetch and two sends of 10 s each).
const LEASE_SECS: i64 = 180;
/// A round claims nothing after this long, so every claim it makes (dated from the
/// round's start) still has two minutes of lease when it is taken.
const ROUND_SECS: u64 = 60;
/// Pending rows looked at per round.
const WINDOW: u64 = 200;

/// One round; how many messages it sent (or settled).
pub async fn round(
    db: &DatabaseConnection,
    api: &WechatApi,
    public_base_url: &str,
    max_attempts: i32,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let mut handled = 0;
    let started = std::time::Instant::now();
    for row in due(db, now).await? {
        if started.elapsed() > std::time::Duration::from_secs(ROUND_SECS) {
            break;
        }
        if !claim(db, &row, now).await? {
            continue;
        }
        let outcome = match template(db, &row, public_base_url).await? {
            Some(template) => api.send(&template).await,
            None => Err(SendError::Permanent("the item no longer exists".into())),
        };
        record(db, &row, outcome, max_attempts, now).await?;
        handled += 1;
    }
    Ok(handled)
}

/// The oldest pending delivery of each follower, if it is due and unclaimed.
async fn due(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<Vec<delivery::Model>> {
    let pending = delivery::Entity::find()
        .filter(delivery::Column::Channel.eq("wechat"))
        .filter(delivery::Column::Status.eq("pending"))
        .order_by_asc(delivery::Column::Id)
        .limit(WINDOW)
        .all(db)
        .await?;
    let mut seen = std::collections::HashSet::new();
    Ok(pending
        .into_iter()
        .filter(|row| seen.insert(row.recipient.clone()))
        .filter(|row| row.next_attempt_at <= now && row.claimed_until.is_none_or(|c| c < now))
        .collect())
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

/// China Standard Time, in which the template's time is shown.
fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("a valid offset")
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

async fn record(
    db: &DatabaseConnection,
    row: &delivery::Model,
    outcome: Result<(), SendError>,
    max_attempts: i32,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let attempts = row.attempts + 1;
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
                Expr::value(now + retry_delay(attempts)),
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
