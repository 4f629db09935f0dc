//! Notifications as their readers see them: a signed-in account's own in-app notices
//! (list, unread count, mark read) and, for admins, every delivery by status with a
//! retry for a failed one. The notices themselves are written by the notifier
//! (`notify`).
use std::collections::BTreeSet;

use entity::notification_delivery as delivery;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Select};

use crate::db::paging::{fetch_page_ordered, KeyOrder};
use crate::db::write;
use crate::domain::page::{Page, PageRequest};
use crate::domain::scope::out_of_reach;
use crate::error::{AppError, AppResult};
use crate::service::Ctx;

/// Most ids one `markNotificationsRead` takes.
pub const MAX_MARK: usize = 100;

/// A delivery's status as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Sent,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sent => "sent",
            Status::Failed => "failed",
        }
    }

    pub fn parse(stored: &str) -> Status {
        match stored {
            "sent" => Status::Sent,
            "failed" => Status::Failed,
            _ => Status::Pending,
        }
    }
}

/// The signed-in account's in-app notices.
fn inbox(ctx: &Ctx<'_>) -> AppResult<Select<delivery::Entity>> {
    let me = ctx.actor.require_signed_in()?.account_id;
    Ok(delivery::Entity::find()
        .filter(delivery::Column::AccountId.eq(me))
        .filter(delivery::Column::Channel.eq("in_app")))
}

/// The caller's notices, newest first; only unread ones with `unread_only`.
pub async fn list(
    ctx: &Ctx<'_>,
    unread_only: bool,
    page: &PageRequest,
) -> AppResult<Page<delivery::Model>> {
    let mut query = inbox(ctx)?;
    if unread_only {
        query = query.filter(delivery::Column::ReadAt.is_null());
    }
    newest_first(ctx, query, page).await
}

/// A page of `query`'s deliveries, newest first.
async fn newest_first(
    ctx: &Ctx<'_>,
    query: Select<delivery::Entity>,
    page: &PageRequest,
) -> AppResult<Page<delivery::Model>> {
    let key = |m: &delivery::Model| m.id;
    fetch_page_ordered(
        ctx.db,
        query,
        delivery::Column::Id,
        key,
        page,
        KeyOrder::Descending,
    )
    .await
}

pub async fn unread_count(ctx: &Ctx<'_>) -> AppResult<u64> {
    Ok(inbox(ctx)?
        .filter(delivery::Column::ReadAt.is_null())
        .count(ctx.db)
        .await?)
}

/// Marks the caller's notices `ids` read (those read already stay as they were) and
/// returns the unread count after. All or nothing: an id that is not one of the
/// caller's notices is BAD_USER_INPUT, answered like a missing one.
pub async fn mark_read(ctx: &Ctx<'_>, ids: &[i64]) -> AppResult<u64> {
    if ids.len() > MAX_MARK {
        return Err(AppError::bad_input(
            "ids",
            format!("一次最多{MAX_MARK}条 (at most {MAX_MARK} ids at once)"),
        ));
    }
    let wanted: BTreeSet<i64> = ids.iter().copied().collect();
    let mine = inbox(ctx)?
        .filter(delivery::Column::Id.is_in(wanted.iter().copied()))
        .count(ctx.db)
        .await?;
    if mine != wanted.len() as u64 {
        return Err(out_of_reach("ids", "通知", "notification"));
    }
    let (now, wanted) = (ctx.now(), &wanted);
    write::transaction(ctx.db, |txn| async move {
        delivery::Entity::update_many()
            .col_expr(delivery::Column::ReadAt, Expr::value(Some(now)))
            .filter(delivery::Column::Id.is_in(wanted.iter().copied()))
            .filter(delivery::Column::ReadAt.is_null())
            .exec(&*txn)
            .await?;
        Ok(())
    })
    .await?;
    unread_count(ctx).await
}

/// Every delivery (admins), newest first, optionally of one status.
pub async fn deliveries(
    ctx: &Ctx<'_>,
    status: Option<Status>,
    page: &PageRequest,
) -> AppResult<Page<delivery::Model>> {
    ctx.actor.require(ctx.actor.is_admin())?;
    let mut query = delivery::Entity::find();
    if let Some(status) = status {
        query = query.filter(delivery::Column::Status.eq(status.as_str()));
    }
    newest_first(ctx, query, page).await
}

/// Sends a failed delivery again (admins): pending, due now, with a fresh count of
/// attempts; its last error stays until the next attempt replaces it.
pub async fn retry(ctx: &Ctx<'_>, id: i64) -> AppResult<delivery::Model> {
    ctx.actor.require(ctx.actor.is_admin())?;
    let Some(row) = delivery::Entity::find_by_id(id).one(ctx.db).await? else {
        return Err(out_of_reach("id", "投递", "delivery"));
    };
    if Status::parse(&row.status) != Status::Failed {
        return Err(AppError::InvalidTransition(
            "只能重试失败的投递 (only a FAILED delivery can be retried)".into(),
        ));
    }
    let now = ctx.now();
    write::transaction(ctx.db, |txn| async move {
        delivery::Entity::update_many()
            .col_expr(
                delivery::Column::Status,
                Expr::value(Status::Pending.as_str()),
            )
            .col_expr(delivery::Column::Attempts, Expr::value(0))
            .col_expr(delivery::Column::NextAttemptAt, Expr::value(now))
            .filter(delivery::Column::Id.eq(id))
            .filter(delivery::Column::Status.eq(Status::Failed.as_str()))
            .exec(&*txn)
            .await?;
        // Read in the transaction: after the commit a sender may already have claimed
        // it, and the answer is what this retry did.
        delivery::Entity::find_by_id(id)
            .one(&*txn)
            .await?
            .ok_or_else(|| out_of_reach("id", "投递", "delivery"))
    })
    .await
}

/// Nodes: `actor`'s own notices (`Notification`) or, for admins, deliveries.
pub async fn by_ids<C: sea_orm::ConnectionTrait>(
    db: &C,
    actor: &crate::auth::Actor,
    keys: &[i64],
    deliveries: bool,
) -> AppResult<Vec<delivery::Model>> {
    let query = match (deliveries, actor.account_id()) {
        (true, _) if actor.is_admin() => delivery::Entity::find(),
        (false, Some(me)) => delivery::Entity::find()
            .filter(delivery::Column::AccountId.eq(me))
            .filter(delivery::Column::Channel.eq("in_app")),
        _ => return Ok(Vec::new()),
    };
    Ok(query
        .filter(delivery::Column::Id.is_in(keys.iter().copied()))
        .all(db)
        .await?)
}

/// Deliveries not pending that are older than `days` (and reminder records older than
/// that and two months), at most 5,000 of each per call; how many deliveries went.
pub async fn purge_expired(
    db: &sea_orm::DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
    days: i64,
) -> AppResult<u64> {
    use sea_orm::sea_query::Query;
    use sea_orm::QuerySelect;
    let cutoff = now - chrono::Duration::days(days);
    let oldest = Query::select()
        .column(delivery::Column::Id)
        .from(delivery::Entity)
        .and_where(delivery::Column::CreatedAt.lt(cutoff))
        .and_where(delivery::Column::Status.ne(Status::Pending.as_str()))
        .limit(5_000)
        .to_owned();
    let purged = delivery::Entity::delete_many()
        .filter(delivery::Column::Id.in_subquery(oldest))
        .exec(db)
        .await?
        .rows_affected;
    // A month's reminder records outlive the month they guard.
    let kept = now - chrono::Duration::days(days.max(62));
    let reminders = entity::notification_reminder::Entity::find()
        .select_only()
        .column(entity::notification_reminder::Column::Id)
        .filter(entity::notification_reminder::Column::CreatedAt.lt(kept))
        .limit(5_000)
        .into_tuple::<i64>()
        .all(db)
        .await?;
    entity::notification_reminder::Entity::delete_many()
        .filter(entity::notification_reminder::Column::Id.is_in(reminders))
        .exec(db)
        .await?;
    Ok(purged)
}
