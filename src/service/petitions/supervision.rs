//! The supervision job (跟踪督办): marks items past their deadline overdue, escalates
//! those overdue for too long, and closes results left unrated. Each change is a
//! normal workflow step by the System capacity, so it is recorded and streamed.
use chrono::{DateTime, Duration, Utc};
use entity::{petition, PetitionState};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use super::workflow::{act, Acting};
use crate::config::Workflow;
use crate::domain::petition_flow::Step;
use crate::error::{AppError, AppResult};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CycleReport {
    pub marked_overdue: u32,
    pub escalated: u32,
    pub auto_closed: u32,
}

/// At most this many items per kind and cycle; the next cycle continues.
const BATCH: u64 = 500;

pub async fn run_cycle(
    db: &DatabaseConnection,
    workflow: &Workflow,
    now: DateTime<Utc>,
) -> AppResult<CycleReport> {
    let mut report = CycleReport::default();
    let open = [PetitionState::Forwarded, PetitionState::Accepted];
    let late = petition::Entity::find()
        .filter(petition::Column::State.is_in(open))
        .filter(petition::Column::IsOverdue.eq(false))
        .filter(petition::Column::Deadline.lt(now))
        .limit(BATCH)
        .all(db)
        .await?;
    for item in late {
        if system_step(db, workflow, &item, Step::MarkOverdue).await? {
            report.marked_overdue += 1;
        }
    }
    let long_late = now - Duration::days(workflow.escalate_overdue_days);
    let stuck = petition::Entity::find()
        .filter(petition::Column::State.is_in(open))
        .filter(petition::Column::IsOverdue.eq(true))
        .filter(petition::Column::EscalationLevel.eq(0))
        .filter(petition::Column::Deadline.lt(long_late))
        .limit(BATCH)
        .all(db)
        .await?;
    for item in stuck {
        let note = Some(format!(
            "逾期超过{}天,自动升级督办 (overdue for over {} days)",
            workflow.escalate_overdue_days, workflow.escalate_overdue_days
        ));
        if system_step(db, workflow, &item, Step::EscalateSupervision { note }).await? {
            report.escalated += 1;
        }
    }
    let unrated_since = now - Duration::days(workflow.auto_close_days);
    let unrated = petition::Entity::find()
        .filter(petition::Column::State.eq(PetitionState::Resolved))
        .filter(petition::Column::ResolvedAt.lt(unrated_since))
        .limit(BATCH)
        .all(db)
        .await?;
    for item in unrated {
        if system_step(db, workflow, &item, Step::AutoClose).await? {
            report.auto_closed += 1;
        }
    }
    Ok(report)
}

/// Takes `step` on `item` as the system, at the version the cycle found it in; `false`
/// when someone changed the item first (CONFLICT, or a state the step no longer applies
/// to) or the database stayed contended: the next cycle looks again.
async fn system_step(
    db: &DatabaseConnection,
    workflow: &Workflow,
    item: &petition::Model,
    step: Step,
) -> AppResult<bool> {
    match act(
        db,
        workflow,
        Acting::System,
        item.id,
        Some(item.version),
        step,
    )
    .await
    {
        Ok(_) => Ok(true),
        Err(AppError::Conflict(_) | AppError::InvalidTransition(_) | AppError::Contention) => {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Runs the cycle every `interval` (the first one right away) until aborted.
/// Runs the cycle every `supervision_interval`; `changed` is called after a cycle that
/// changed items (their events are committed: the relay can publish them at once).
pub fn spawn(
    db: DatabaseConnection,
    workflow: Workflow,
    clock: crate::clock::Clock,
    changed: impl Fn() + Send + 'static,
) -> Option<tokio::task::JoinHandle<()>> {
    if workflow.supervision_interval.is_zero() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(workflow.supervision_interval);
        loop {
            ticker.tick().await;
            match run_cycle(&db, &workflow, clock.now()).await {
                Ok(report) if report != CycleReport::default() => {
                    changed();
                    tracing::info!(?report, "supervision cycle")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = ?e, "supervision cycle failed"),
            }
            // Idempotency keys older than 24 hours are ignored already; forget them.
            match crate::service::support::idempotency::purge_expired(&db).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "expired idempotency keys purged"),
                Err(e) => tracing::warn!(error = ?e, "purging idempotency keys failed"),
            }
        }
    }))
}
