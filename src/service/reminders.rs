//! Reminders the supervision job gives (issue 15): each deputy, once a month, of the
//! "eight ones" (八个一) items of last month they did not meet
//! (`domain::compliance`); each lead handler of an item whose deadline falls within
//! 24 hours. A reminder is given once per kind, period and person, across replicas:
//! its `notification_reminder` row (unique) and its event are written in one
//! transaction, and only the replica whose row went in writes the event. The notifier
//! tells the person (`domain::notice::reminder_notices`).
use chrono::{Datelike, Duration};
use entity::ForwardStatus;
use entity::{account, deputy, notification_reminder as reminder, petition, DepartmentRole};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationTrait, Set};

use crate::db::write;
use crate::domain::calendar::local_date;
use crate::domain::event::{DomainEvent, ReminderEvent};
use crate::domain::notice::{due_soon_reminder, duty_month_reminder};
use crate::error::AppResult;
use crate::events::outbox;
use crate::service::petitions::supervision::OPEN;
use crate::service::Ctx;

/// Items looked at per cycle for deadline warnings.
const BATCH: u64 = 500;

/// Gives the reminders due now; how many it gave.
pub async fn remind(ctx: &Ctx<'_>) -> AppResult<u32> {
    Ok(duty_months(ctx).await? + due_soon(ctx).await?)
}

/// `2026-11`: the month before the China month of now.
fn last_month(ctx: &Ctx<'_>) -> (i32, u32) {
    let today = local_date(ctx.now());
    match today.month() {
        1 => (today.year() - 1, 12),
        m => (today.year(), m - 1),
    }
}

/// Every active deputy with an account, not yet looked at for last month: reminded
/// when they owe an item (the row is written either way, so each is looked at once).
async fn duty_months(ctx: &Ctx<'_>) -> AppResult<u32> {
    let (year, month) = last_month(ctx);
    let period = format!("{year:04}-{month:02}");
    let looked_at: Vec<i64> = reminder::Entity::find()
        .select_only()
        .column(reminder::Column::AccountId)
        .filter(reminder::Column::Kind.eq("duty_month"))
        .filter(reminder::Column::Period.eq(&period))
        .into_tuple()
        .all(ctx.db)
        .await?;
    let deputies: Vec<(i64, i64)> = account::Entity::find()
        .select_only()
        .column(account::Column::Id)
        .column(account::Column::DeputyId)
        .join(JoinType::InnerJoin, account::Relation::Deputy.def())
        .filter(deputy::Column::Active.eq(true))
        .filter(account::Column::Disabled.eq(false))
        .filter(account::Column::Id.is_not_in(looked_at))
        .into_tuple()
        .all(ctx.db)
        .await?;
    let mut given = 0;
    for (account_id, deputy_id) in deputies {
        let owed =
            crate::service::duty::compliance::deputy_month(ctx.db, deputy_id, year, month).await?;
        let event = duty_month_reminder(&owed);
        given += u32::from(give(ctx, "duty_month", &period, account_id, event).await?);
    }
    Ok(given)
}

/// Each lead handler of an open item due within 24 hours, once per deadline.
async fn due_soon(ctx: &Ctx<'_>) -> AppResult<u32> {
    let now = ctx.now();
    let items = petition::Entity::find()
        .filter(petition::Column::State.is_in(OPEN))
        .filter(petition::Column::IsOverdue.eq(false))
        .filter(petition::Column::Deadline.gt(now))
        .filter(petition::Column::Deadline.lte(now + Duration::hours(24)))
        .limit(BATCH)
        .all(ctx.db)
        .await?;
    let mut given = 0;
    for item in items {
        let Some(deadline) = item.deadline else {
            continue;
        };
        let Some(facts) = crate::notify::facts::load(ctx.db, item.id).await? else {
            continue;
        };
        let period = format!("{}@{}", item.id, deadline.timestamp());
        let leads = facts
            .parts
            .iter()
            .filter(|p| p.role == DepartmentRole::Lead && p.status != ForwardStatus::Returned);
        for handler in leads.flat_map(|p| p.handlers.iter().copied()) {
            let event = due_soon_reminder(item.id, &item.tracking_code, &item.title, deadline);
            given += u32::from(give(ctx, "due_soon", &period, handler, Some(event)).await?);
        }
    }
    Ok(given)
}

/// Records the reminder of `kind` for `account` in `period` and writes its event, in
/// one transaction; `true` when this call gave it (its row went in, with an event).
async fn give(
    ctx: &Ctx<'_>,
    kind: &str,
    period: &str,
    account: i64,
    event: Option<ReminderEvent>,
) -> AppResult<bool> {
    let (now, event) = (ctx.now(), &event);
    write::transaction(ctx.db, |txn| async move {
        let row = reminder::ActiveModel {
            kind: Set(kind.to_owned()),
            period: Set(period.to_owned()),
            account_id: Set(account),
            created_at: Set(now),
            ..Default::default()
        };
        let inserted = reminder::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    reminder::Column::Kind,
                    reminder::Column::Period,
                    reminder::Column::AccountId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&*txn)
            .await?;
        match (inserted, event) {
            (1, Some(event)) => {
                outbox::append(&*txn, &DomainEvent::reminder(account, event.clone())).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    })
    .await
}
