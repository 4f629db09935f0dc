//! The supervision job (跟踪督办): marks items past their deadline overdue, escalates
//! those overdue for too long, and closes results left unrated; gives the reminders
//! due (`service::reminders`: deputies' month, deadlines within 24 hours); and removes
//! uploads left unattached for a day (`service::attachments::purge_expired`) and
//! deliveries past their retention (`service::notifications::purge_expired`). Each change is a
//! normal workflow step by the System capacity, so it is recorded and streamed.
use std::sync::Arc;

use chrono::Duration;
use entity::{petition, PetitionState};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Select};

use super::workflow::{act, Acting};
use crate::auth::AuthKit;
use crate::config::Settings;
use crate::domain::petition_flow::Step;
use crate::error::{AppError, AppResult};
use crate::events::Live;
use crate::service::Ctx;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CycleReport {
    pub marked_overdue: u32,
    pub escalated: u32,
    pub auto_closed: u32,
    pub expired_uploads: u32,
    pub reminders: u32,
}

/// At most this many items per kind and cycle; the next cycle continues.
const BATCH: u64 = 500;

/// Runs a cycle now, for an admin (the scheduler runs it on its own).
pub async fn run_now(ctx: &Ctx<'_>) -> AppResult<CycleReport> {
    ctx.actor.require(ctx.actor.is_admin())?;
    run_cycle(ctx).await
}

/// One cycle, measured against the app's clock: each kind of late item gets its step.
async fn run_cycle(ctx: &Ctx<'_>) -> AppResult<CycleReport> {
    let (now, workflow) = (ctx.now(), &ctx.settings.workflow);
    let late = petition::Entity::find()
        .filter(petition::Column::State.is_in(OPEN))
        .filter(petition::Column::IsOverdue.eq(false))
        .filter(petition::Column::Deadline.lt(now));
    let long_late = now - Duration::days(workflow.escalate_overdue_days);
    let stuck = petition::Entity::find()
        .filter(petition::Column::State.is_in(OPEN))
        .filter(petition::Column::IsOverdue.eq(true))
        .filter(petition::Column::EscalationLevel.eq(0))
        .filter(petition::Column::Deadline.lt(long_late));
    let unrated_since = now - Duration::days(workflow.auto_close_days);
    let unrated = petition::Entity::find()
        .filter(petition::Column::State.eq(PetitionState::Resolved))
        .filter(petition::Column::ResolvedAt.lt(unrated_since));
    let days = workflow.escalate_overdue_days;
    let escalate = || Step::EscalateSupervision {
        note: Some(format!(
            "逾期超过{days}天,自动升级督办 (overdue for over {days} days)"
        )),
    };
    Ok(CycleReport {
        marked_overdue: each(ctx, late, || Step::MarkOverdue).await?,
        escalated: each(ctx, stuck, escalate).await?,
        auto_closed: each(ctx, unrated, || Step::AutoClose).await?,
        expired_uploads: crate::service::attachments::purge_expired(ctx).await?,
        reminders: crate::service::reminders::remind(ctx).await?,
    })
}

/// The items still in an open, deadline-bound state.
pub const OPEN: [PetitionState; 2] = [PetitionState::Forwarded, PetitionState::Accepted];

/// Takes a step on each item (a batch) the query finds; how many it changed.
async fn each(
    ctx: &Ctx<'_>,
    query: Select<petition::Entity>,
    step: impl Fn() -> Step,
) -> AppResult<u32> {
    let mut changed = 0;
    for item in query.limit(BATCH).all(ctx.db).await? {
        if system_step(ctx, &item, step()).await? {
            changed += 1;
        }
    }
    Ok(changed)
}

/// Takes `step` on `item` as the system, at the version the cycle found it in; `false`
/// when someone changed the item first (CONFLICT, or a state the step no longer applies
/// to) or the database stayed contended: the next cycle looks again.
async fn system_step(ctx: &Ctx<'_>, item: &petition::Model, step: Step) -> AppResult<bool> {
    match act(ctx, Acting::System, item.id, Some(item.version), step).await {
        Ok(_) => Ok(true),
        Err(AppError::Conflict(_) | AppError::InvalidTransition(_) | AppError::Contention) => {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// What the scheduler runs with. It has no request: it acts in a system context
/// (`Ctx::system`), whose steps carry the System capacity.
pub struct Job {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub auth: AuthKit,
    pub live: Live,
    pub storage: crate::storage::Storage,
}

/// Runs the cycle every `supervision_interval` (the first one right away) until
/// aborted. After a cycle that changed items the relay is woken: their events are
/// committed and can be published at once.
pub fn spawn(job: Job) -> Option<tokio::task::JoinHandle<()>> {
    if job.settings.workflow.supervision_interval.is_zero() {
        return None;
    }
    Some(tokio::spawn(async move {
        let ctx = Ctx::system(&job.db, &job.settings, &job.auth, &job.live, &job.storage);
        let mut ticker = tokio::time::interval(job.settings.workflow.supervision_interval);
        loop {
            ticker.tick().await;
            match run_cycle(&ctx).await {
                Ok(report) if report != CycleReport::default() => {
                    job.live.wake_relay();
                    tracing::info!(?report, "supervision cycle")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = ?e, "supervision cycle failed"),
            }
            purge(&job, ctx.now()).await;
        }
    }))
}

/// What the job forgets each cycle: idempotency keys older than 24 hours (ignored
/// already) and deliveries past `NOTIFY_RETENTION_DAYS`.
async fn purge(job: &Job, now: chrono::DateTime<chrono::Utc>) {
    match crate::service::support::idempotency::purge_expired(&job.db, now).await {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "expired idempotency keys purged"),
        Err(e) => tracing::warn!(error = ?e, "purging idempotency keys failed"),
    }
    let days = job.settings.notify.retention_days;
    match crate::service::notifications::purge_expired(&job.db, now, days).await {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "deliveries past their retention purged"),
        Err(e) => tracing::warn!(error = ?e, "purging deliveries failed"),
    }
}
