//! Reminders the supervision job gives (issue 15): each deputy, once a month, of the
//! "eight ones" (八个一) items of last month they did not meet
//! (`domain::compliance`); each lead handler of an item whose deadline falls within
//! 24 hours. A reminder is given once per kind, period and person, across replicas:
//! its `notification_reminder` row (unique) and its event are written in one
//! transaction, and only the replica whose row went in writes the event. The notifier
//! tells the person (`domain::notice::reminder_notices`).
use std::collections::HashSet;

use chrono::{Datelike, Duration};
use entity::ForwardStatus;
use entity::{account, deputy, notification_reminder as reminder, petition, DepartmentRole};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set,
};

use crate::db::write;
use crate::domain::calendar::{day_start, local_date};
use crate::domain::event::{DomainEvent, ReminderEvent};
use crate::domain::notice::{due_soon_reminder, duty_month_reminder};
use crate::error::AppResult;
use crate::events::outbox;
use crate::service::petitions::supervision::OPEN;
use crate::service::Ctx;

/// Items read at a time for deadline warnings.
const BATCH: u64 = 200;

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

/// Every active deputy whose account existed in last month, not yet looked at for
/// it: reminded when they owe an item (the row is written either way, so each is
/// looked at once). An account opened this month is not told of the month before it.
async fn duty_months(ctx: &Ctx<'_>) -> AppResult<u32> {
    let (year, month) = last_month(ctx);
    let period = format!("{year:04}-{month:02}");
    let today = local_date(ctx.now());
    let this_month = day_start(today.with_day(1).unwrap_or(today));
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
        .filter(account::Column::CreatedAt.lt(this_month))
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

/// Each lead handler of an open item due within 24 hours, once per deadline: every
/// such item, a page at a time in id order (however many fall due together).
async fn due_soon(ctx: &Ctx<'_>) -> AppResult<u32> {
    let (now, mut after, mut given) = (ctx.now(), 0, 0);
    loop {
        let items = petition::Entity::find()
            .filter(petition::Column::State.is_in(OPEN))
            .filter(petition::Column::IsOverdue.eq(false))
            .filter(petition::Column::Deadline.gt(now))
            .filter(petition::Column::Deadline.lte(now + Duration::hours(24)))
            .filter(petition::Column::Id.gt(after))
            .order_by_asc(petition::Column::Id)
            .limit(BATCH)
            .all(ctx.db)
            .await?;
        let Some(last) = items.last().map(|i| i.id) else {
            return Ok(given);
        };
        let warned = warned_of(ctx, &items).await?;
        for item in items
            .iter()
            .filter(|i| !warned.contains(&deadline_period(i)))
        {
            given += warn_leads(ctx, item).await?;
        }
        after = last;
    }
}

/// `42@1767225600`: an item's deadline, the period of its warnings.
fn deadline_period(item: &petition::Model) -> String {
    let at = item.deadline.map_or(0, |d| d.timestamp());
    format!("{}@{at}", item.id)
}

/// The deadlines of `items` whose handlers were warned already (by any replica): a
/// cycle passes them by instead of loading each again.
async fn warned_of(ctx: &Ctx<'_>, items: &[petition::Model]) -> AppResult<HashSet<String>> {
    let periods: Vec<String> = items.iter().map(deadline_period).collect();
    let warned: Vec<String> = reminder::Entity::find()
        .select_only()
        .column(reminder::Column::Period)
        .filter(reminder::Column::Kind.eq("due_soon"))
        .filter(reminder::Column::Period.is_in(periods))
        .into_tuple()
        .all(ctx.db)
        .await?;
    Ok(warned.into_iter().collect())
}

/// Warns the lead handlers of `item` of its deadline (those not yet warned of it).
async fn warn_leads(ctx: &Ctx<'_>, item: &petition::Model) -> AppResult<u32> {
    let Some(deadline) = item.deadline else {
        return Ok(0);
    };
    let period = deadline_period(item);
    let Some(facts) = crate::notify::facts::load(ctx.db, item.id).await? else {
        return Ok(0);
    };
    let leads = facts
        .parts
        .iter()
        .filter(|p| p.role == DepartmentRole::Lead && p.status != ForwardStatus::Returned);
    let mut given = 0;
    for handler in leads.flat_map(|p| p.handlers.iter().copied()) {
        let event = due_soon_reminder(item.id, &item.tracking_code, &item.title, deadline);
        given += u32::from(give(ctx, "due_soon", &period, handler, Some(event)).await?);
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
