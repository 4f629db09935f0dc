//! Deriving notices from the outbox, exactly once. The notifier follows *published*
//! outbox rows (the relay publishes in sequence order and never past a gap that may
//! still fill, so they come in order with none left behind) from its position in
//! `notifier_position`. A round reads the next rows, works out their notices
//! (`domain::notice::notices`) and then, in one transaction, moves the position from
//! where it read it to the last row (compare-and-set: a replica that raced it moves
//! nothing and rolls back) and writes one delivery row per notice (unique per event,
//! recipient and channel) plus, for each in-app notice, its `notification` event for
//! `myNotifications`. A crash before the commit leaves the position where it was, so
//! the next round derives the same rows again.
use chrono::{DateTime, Utc};
use entity::{notification_delivery, notifier_position, outbox_event, petition};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::facts;
use crate::config::Notify;
use crate::db::write;
use crate::domain::event::{DomainEvent, EventBody, NotificationEvent, ReminderEvent};
use crate::domain::notice::{self, Channels, Notice, Recipient};
use crate::error::AppResult;
use crate::events::outbox;

const POSITION: &str = "notifier";
/// Outbox rows read per round.
const BATCH: u64 = 50;

/// Where a first start begins: after everything already in the outbox, so that a
/// deployment does not tell people about history. Idempotent across replicas.
pub async fn init_position(db: &DatabaseConnection) -> AppResult<()> {
    let latest: Option<Option<i64>> = outbox_event::Entity::find()
        .select_only()
        .column_as(outbox_event::Column::Seq.max(), "max_seq")
        .into_tuple()
        .one(db)
        .await?;
    let row = notifier_position::ActiveModel {
        name: Set(POSITION.to_owned()),
        seq: Set(latest.flatten().unwrap_or(0)),
    };
    notifier_position::Entity::insert(row)
        .on_conflict(
            OnConflict::column(notifier_position::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// One notice of one event, ready to write.
struct Planned {
    seq: i64,
    petition_id: Option<i64>,
    notice: Notice,
}

/// One round; how many outbox rows it consumed (0: nothing new, or another replica
/// took them).
pub async fn round(
    db: &DatabaseConnection,
    channels: Channels,
    settings: &Notify,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let Some(position) = notifier_position::Entity::find_by_id(POSITION)
        .one(db)
        .await?
    else {
        init_position(db).await?;
        return Ok(0);
    };
    let rows = outbox_event::Entity::find()
        .filter(outbox_event::Column::Seq.gt(position.seq))
        .filter(outbox_event::Column::PublishedAt.is_not_null())
        .order_by_asc(outbox_event::Column::Seq)
        .limit(BATCH)
        .all(db)
        .await?;
    let Some(last) = rows.last().map(|r| r.seq) else {
        return Ok(0);
    };
    let mut planned = Vec::new();
    for row in &rows {
        planned.extend(plan(db, row, channels).await?);
    }
    let (from, planned) = (position.seq, &planned);
    // A text due in quiet hours waits until they end.
    let sms_due = settings
        .sms
        .quiet_hours
        .and_then(|q| q.until(now))
        .unwrap_or(now);
    let moved = write::transaction(db, |txn| async move {
        if !advance(&*txn, from, last).await? {
            return Ok(false);
        }
        for p in planned {
            write_one(&*txn, p, now, sms_due).await?;
        }
        Ok(true)
    })
    .await?;
    Ok(if moved { rows.len() } else { 0 })
}

/// The notices of one outbox row.
async fn plan<C: ConnectionTrait>(
    db: &C,
    row: &outbox_event::Model,
    channels: Channels,
) -> AppResult<Vec<Planned>> {
    let event = crate::events::LiveEvent::from(row.clone()).event;
    if let EventBody::Reminder(reminder) = &event.body {
        return plan_reminder(db, row.seq, event.scope.account_id, reminder, channels).await;
    }
    let petition_id = match &event.body {
        EventBody::PetitionSubmitted(p) => p.petition_id,
        EventBody::PetitionStepped(p) | EventBody::SupervisionAlert(_, p) => p.petition_id,
        _ => return Ok(Vec::new()),
    };
    let Some(facts) = facts::load(db, petition_id).await? else {
        return Ok(Vec::new());
    };
    Ok(notice::notices(&event, &facts, channels)
        .into_iter()
        .map(|notice| Planned {
            seq: row.seq,
            petition_id: Some(petition_id),
            notice,
        })
        .collect())
}

/// The notices of a reminder to one account.
async fn plan_reminder<C: ConnectionTrait>(
    db: &C,
    seq: i64,
    account: Option<i64>,
    reminder: &ReminderEvent,
    channels: Channels,
) -> AppResult<Vec<Planned>> {
    let Some(account) = account else {
        return Ok(Vec::new());
    };
    let phones = facts::phones_of(db, &[account]).await?;
    let code = match reminder.petition_id {
        Some(id) => petition::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|p| p.tracking_code),
        None => None,
    };
    let notices = notice::reminder_notices(
        account,
        reminder,
        phones.get(&account).map(String::as_str),
        code.as_deref(),
        channels,
    );
    Ok(notices
        .into_iter()
        .map(|notice| Planned {
            seq,
            petition_id: reminder.petition_id,
            notice,
        })
        .collect())
}

/// Moves the position from `from` to `to`; `false` when it is no longer at `from`.
async fn advance<C: ConnectionTrait>(db: &C, from: i64, to: i64) -> AppResult<bool> {
    let moved = notifier_position::Entity::update_many()
        .col_expr(notifier_position::Column::Seq, Expr::value(to))
        .filter(notifier_position::Column::Name.eq(POSITION))
        .filter(notifier_position::Column::Seq.eq(from))
        .exec(db)
        .await?;
    Ok(moved.rows_affected == 1)
}

/// The delivery row of one notice; an in-app one is delivered by being written, and
/// its event carries it to `myNotifications`.
async fn write_one<C: ConnectionTrait>(
    db: &C,
    p: &Planned,
    now: DateTime<Utc>,
    sms_due: DateTime<Utc>,
) -> AppResult<()> {
    let (mut account_id, mut open_id, mut phone) = (None, None, None);
    match &p.notice.recipient {
        Recipient::Account(id) => account_id = Some(*id),
        Recipient::Follower(id) => open_id = Some(id.clone()),
        Recipient::Phone(number) => phone = Some(number.clone()),
    }
    let due = if phone.is_some() { sms_due } else { now };
    let in_app = account_id.is_some();
    let row = notification_delivery::ActiveModel {
        event_seq: Set(p.seq),
        recipient: Set(p.notice.recipient.key()),
        channel: Set(p.notice.recipient.channel().as_str().to_owned()),
        account_id: Set(account_id),
        open_id: Set(open_id),
        phone: Set(phone),
        petition_id: Set(p.petition_id),
        kind: Set(p.notice.kind.to_owned()),
        title: Set(p.notice.title.clone()),
        body: Set(p.notice.body.clone()),
        status: Set(if in_app { "sent" } else { "pending" }.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(due),
        claimed_until: Set(None),
        last_error: Set(None),
        read_at: Set(None),
        created_at: Set(now),
        sent_at: Set(in_app.then_some(now)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    if let Some(account_id) = account_id {
        let event = DomainEvent::notification(
            account_id,
            NotificationEvent {
                notification_id: row.id,
                notice: row.kind,
                title: row.title,
                body: row.body,
                petition_id: row.petition_id,
            },
        );
        outbox::append(db, &event).await?;
    }
    Ok(())
}
