//! The closed loop: every step checks the actor's capacity and the item's state
//! (`domain::petition_flow`), then — in one write transaction, holding the item's row
//! lock — updates the item, appends an immutable history entry and writes the outbox
//! events. Steps on one item take turns: a step that names the `version` its client
//! saw is refused with CONFLICT when another got there first; a step without one
//! applies on top of whatever came before it.
use chrono::{DateTime, Utc};
use entity::{
    category, department, petition, petition_department, petition_event, petition_rating,
    DepartmentLevel, DepartmentRole, ForwardStatus, HandlingLevel, PetitionState, Satisfaction,
    Urgency,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::json;

use super::{departments_of, relation};
use crate::auth::Actor;
use crate::config::Workflow;
use crate::domain::petition_flow::{self, Action, Capacity, Effect, Rules};
use crate::domain::{scope, tracking};
use crate::error::{conflict_as, AppError, AppResult};
use crate::service::outbox::{self, topic, NewEvent};
use crate::service::support::scope::out_of_reach;

/// One step of the loop with what it needs.
#[derive(Debug, Clone)]
pub enum Step {
    /// 建账: category, urgency and handling level.
    Register {
        category_id: i64,
        urgency: Urgency,
        handling_level: HandlingLevel,
    },
    Decline {
        reason: String,
    },
    Merge {
        into_id: i64,
        note: Option<String>,
    },
    ResolveOnSpot {
        result: String,
    },
    /// 逐级转办: a lead department (主办) and any assisting ones (协办).
    Forward {
        lead_department_id: i64,
        assist_department_ids: Vec<i64>,
        note: Option<String>,
    },
    /// To a county-level department (the next level up).
    Escalate {
        department_id: i64,
        note: Option<String>,
    },
    Accept {
        note: Option<String>,
    },
    /// 退回 to the forwarder.
    Return {
        reason: String,
    },
    AddProgress {
        note: String,
    },
    ReportAssist {
        report: String,
    },
    Complete {
        result: String,
    },
    Rate {
        satisfaction: Satisfaction,
        comment: Option<String>,
    },
    /// 督办: a note and a new deadline.
    Urge {
        note: String,
        deadline: DateTime<Utc>,
    },
    EscalateSupervision {
        note: Option<String>,
    },
    MarkOverdue,
    AutoClose,
}

impl Step {
    fn action(&self) -> Action {
        match self {
            Step::Register { .. } => Action::Register,
            Step::Decline { .. } => Action::Decline,
            Step::Merge { .. } => Action::Merge,
            Step::ResolveOnSpot { .. } => Action::ResolveOnSpot,
            Step::Forward { .. } => Action::Forward,
            Step::Escalate { .. } => Action::Escalate,
            Step::Accept { .. } => Action::Accept,
            Step::Return { .. } => Action::Return,
            Step::AddProgress { .. } => Action::AddProgress,
            Step::ReportAssist { .. } => Action::ReportAssist,
            Step::Complete { .. } => Action::Complete,
            Step::Rate { satisfaction, .. } => Action::Rate(*satisfaction),
            Step::Urge { .. } => Action::Urge,
            Step::EscalateSupervision { .. } => Action::EscalateSupervision,
            Step::MarkOverdue => Action::MarkOverdue,
            Step::AutoClose => Action::AutoClose,
        }
    }

    /// The free text the step carries (reason, result, note), for `requires` and history.
    fn text(&self) -> Option<&str> {
        match self {
            Step::Decline { reason } | Step::Return { reason } => Some(reason),
            Step::ResolveOnSpot { result } | Step::Complete { result } => Some(result),
            Step::AddProgress { note } | Step::Urge { note, .. } => Some(note),
            Step::ReportAssist { report } => Some(report),
            Step::Merge { note, .. }
            | Step::Forward { note, .. }
            | Step::Escalate { note, .. }
            | Step::Accept { note }
            | Step::EscalateSupervision { note } => note.as_deref(),
            Step::Rate { comment, .. } => comment.as_deref(),
            Step::Register { .. } | Step::MarkOverdue | Step::AutoClose => None,
        }
    }
}

/// Who acts: a person (with an optional anonymous follow secret), the submitter as
/// proven by the channel they wrote through (a WeChat follower on their own item), or
/// the scheduler.
pub enum Acting<'a> {
    Person {
        actor: &'a Actor,
        follow_secret: Option<&'a str>,
    },
    VerifiedSubmitter,
    System,
}

fn state_name(state: PetitionState) -> &'static str {
    match state {
        PetitionState::Submitted => "submitted",
        PetitionState::Registered => "registered",
        PetitionState::Forwarded => "forwarded",
        PetitionState::Accepted => "accepted",
        PetitionState::Resolved => "resolved",
        PetitionState::Closed => "closed",
        PetitionState::Declined => "declined",
        PetitionState::Merged => "merged",
    }
}

fn role_name(capacities: &[Capacity], action: Action) -> &'static str {
    let allowed = petition_flow::allowed_capacities(&action);
    match capacities.iter().find(|c| allowed.contains(c)) {
        Some(Capacity::Submitter) => "submitter",
        Some(Capacity::Deputy) => "deputy",
        Some(Capacity::StationStaff) => "station_staff",
        Some(Capacity::LeadHandler) => "lead_handler",
        Some(Capacity::AssistHandler) => "assist_handler",
        Some(Capacity::Supervisor) => "supervisor",
        Some(Capacity::System) => "system",
        None => "unknown",
    }
}

async fn department<C: ConnectionTrait>(
    db: &C,
    field: &str,
    id: i64,
) -> AppResult<department::Model> {
    department::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input(field, "部门不存在 (no such department)"))
}

/// A department that serves the item's township (`domain::scope::department_serves`);
/// a township department of elsewhere answers exactly as a missing one.
async fn serving_department<C: ConnectionTrait>(
    db: &C,
    field: &str,
    id: i64,
    item_township_id: Option<i64>,
) -> AppResult<department::Model> {
    department::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|d| scope::department_serves(item_township_id, d.level, d.township_id))
        .ok_or_else(|| out_of_reach(field, "部门", "department"))
}

/// Adds (or re-activates) a department's part in an item.
async fn involve(
    txn: &DatabaseTransaction,
    petition_id: i64,
    department_id: i64,
    role: DepartmentRole,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let existing = petition_department::Entity::find()
        .filter(petition_department::Column::PetitionId.eq(petition_id))
        .filter(petition_department::Column::DepartmentId.eq(department_id))
        .one(txn)
        .await?;
    match existing {
        Some(row) => {
            let mut active: petition_department::ActiveModel = row.into();
            active.role = Set(role);
            active.status = Set(ForwardStatus::Forwarded);
            active.forwarded_at = Set(now);
            active.accepted_at = Set(None);
            active.reported_at = Set(None);
            active.return_reason = Set(None);
            active.update(txn).await?;
        }
        None => {
            petition_department::ActiveModel {
                petition_id: Set(petition_id),
                department_id: Set(department_id),
                role: Set(role),
                status: Set(ForwardStatus::Forwarded),
                forwarded_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}

/// Marks the active rows of an item (all, or one department's) with a status.
async fn set_status(
    txn: &DatabaseTransaction,
    petition_id: i64,
    department_id: Option<i64>,
    status: ForwardStatus,
    text: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut update = petition_department::Entity::update_many()
        .col_expr(petition_department::Column::Status, Expr::value(status))
        .filter(petition_department::Column::PetitionId.eq(petition_id))
        .filter(petition_department::Column::Status.ne(ForwardStatus::Returned));
    if let Some(d) = department_id {
        update = update.filter(petition_department::Column::DepartmentId.eq(d));
    }
    update = match status {
        ForwardStatus::Accepted => {
            update.col_expr(petition_department::Column::AcceptedAt, Expr::value(now))
        }
        ForwardStatus::Reported => update
            .col_expr(petition_department::Column::ReportedAt, Expr::value(now))
            .col_expr(
                petition_department::Column::Report,
                Expr::value(text.map(str::to_owned)),
            ),
        ForwardStatus::Returned => update.col_expr(
            petition_department::Column::ReturnReason,
            Expr::value(text.map(str::to_owned)),
        ),
        ForwardStatus::Forwarded => update,
    };
    update.exec(txn).await?;
    Ok(())
}

/// Applies one step. `expected_version`: the version the client saw — CONFLICT when
/// the item changed since. Without it the step waits for any concurrent writer of the
/// item and applies on top of what that one wrote (the state machine still decides
/// whether it fits).
pub async fn act(
    db: &DatabaseConnection,
    workflow: &Workflow,
    acting: Acting<'_>,
    petition_id: i64,
    expected_version: Option<i32>,
    step: Step,
) -> AppResult<petition::Model> {
    act_claimed(
        db,
        workflow,
        acting,
        petition_id,
        expected_version,
        step,
        None,
    )
    .await
}

/// [`act`], recording an idempotency claim in the step's transaction (see
/// `service::support::idempotency`).
pub async fn act_claimed(
    db: &DatabaseConnection,
    workflow: &Workflow,
    acting: Acting<'_>,
    petition_id: i64,
    expected_version: Option<i32>,
    step: Step,
    claim: Option<&crate::service::support::idempotency::Claim>,
) -> AppResult<petition::Model> {
    let acting = &acting;
    let step = &step;
    crate::db::write::transaction(db, |txn| async move {
        act_in(
            &txn,
            workflow,
            acting,
            petition_id,
            expected_version,
            step,
            claim,
        )
        .await
    })
    .await
}

async fn act_in(
    txn: &DatabaseTransaction,
    workflow: &Workflow,
    acting: &Acting<'_>,
    petition_id: i64,
    expected_version: Option<i32>,
    step: &Step,
    claim: Option<&crate::service::support::idempotency::Claim>,
) -> AppResult<petition::Model> {
    // The row lock (PostgreSQL; SQLite's write lock is already held): a concurrent
    // step on this item waits here until this one commits, then reads its result.
    let item = petition::Entity::find_by_id(petition_id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("社情民意 (opinion item)"))?;
    let departments = departments_of(txn, petition_id).await?;
    let (capacities, actor) = match acting {
        Acting::System => (vec![Capacity::System], None),
        Acting::VerifiedSubmitter => (vec![Capacity::Submitter], None),
        Acting::Person {
            actor,
            follow_secret,
        } => {
            let secret_ok = match (follow_secret, &item.follow_secret_hash) {
                (Some(secret), Some(hash)) => {
                    crate::wechat::crypto::signatures_match(&tracking::hash_secret(secret), hash)
                }
                _ => false,
            };
            let rel = relation(actor, &item, &departments, secret_ok);
            if !rel.may_view {
                return Err(AppError::not_found("社情民意 (opinion item)"));
            }
            (rel.capacities, Some(*actor))
        }
    };
    // Who may act comes first (FORBIDDEN), then whether they saw the current version
    // (CONFLICT), then whether the step fits the state (INVALID_TRANSITION), last the
    // input: nothing about the item leaks to those who may not act on it.
    let action = step.action();
    let rules = Rules {
        max_rounds: workflow.max_rounds,
    };
    let decided = petition_flow::apply(item.state, &action, &capacities, item.round, &rules);
    if let Err(e @ AppError::Forbidden(_)) = decided {
        return Err(e);
    }
    if let Some(expected) = expected_version {
        if expected != item.version {
            return Err(AppError::Conflict(format!(
                "该事项已被他人更新 (changed since version {expected}; now {})",
                item.version
            )));
        }
    }
    let mut effect: Effect = decided?;
    petition_flow::requires(&action, step.text())?;
    let now = Utc::now();
    let text = step.text().map(|t| t.trim().to_owned());
    let mut changes = petition::ActiveModel {
        ..Default::default()
    };
    let mut event_department: Option<i64> = None;
    let mut alerts: Vec<&'static str> = Vec::new();

    match step {
        Step::Register {
            category_id,
            urgency,
            handling_level,
        } => {
            category::Entity::find_by_id(*category_id)
                .one(txn)
                .await?
                .filter(|c| c.active)
                .ok_or_else(|| {
                    AppError::bad_input("categoryId", "分类不存在 (no such category)")
                })?;
            changes.category_id = Set(Some(*category_id));
            changes.urgency = Set(Some(*urgency));
            changes.handling_level = Set(Some(*handling_level));
            changes.registered_at = Set(Some(now));
        }
        Step::Decline { .. } => {
            changes.decline_reason = Set(text.clone());
            changes.closed_at = Set(Some(now));
        }
        Step::Merge { into_id, .. } => {
            if *into_id == item.id {
                return Err(AppError::bad_input(
                    "intoId",
                    "不能并入自身 (cannot merge into itself)",
                ));
            }
            // The target must be an item the actor could merge themself (for staff: one
            // of their station's); any other answers exactly as a missing one.
            let target = match petition::Entity::find_by_id(*into_id).one(txn).await? {
                Some(target) => {
                    let target_departments = departments_of(txn, target.id).await?;
                    let reachable = actor.is_some_and(|a| {
                        let rel = relation(a, &target, &target_departments, false);
                        rel.may_view && scope::may_merge_into(&rel.capacities)
                    });
                    reachable.then_some(target)
                }
                None => None,
            }
            .ok_or_else(|| out_of_reach("intoId", "目标事项", "item"))?;
            if petition_flow::is_terminal(target.state) {
                return Err(AppError::bad_input(
                    "intoId",
                    "目标事项已结束 (the target item is finished)",
                ));
            }
            changes.merged_into_id = Set(Some(target.id));
            changes.closed_at = Set(Some(now));
        }
        Step::ResolveOnSpot { .. } => {
            changes.result = Set(text.clone());
            changes.resolved_at = Set(Some(now));
            changes.handling_level = Set(Some(HandlingLevel::Station));
        }
        Step::Forward {
            lead_department_id,
            assist_department_ids,
            ..
        } => {
            let lead = serving_department(
                txn,
                "leadDepartmentId",
                *lead_department_id,
                item.township_id,
            )
            .await?;
            let mut assists = assist_department_ids.clone();
            assists.sort_unstable();
            assists.dedup();
            if assists.contains(&lead.id) {
                return Err(AppError::bad_input(
                    "assistDepartmentIds",
                    "主办部门不能同时协办 (the lead cannot also assist)",
                ));
            }
            if assists.len() > 10 {
                return Err(AppError::bad_input(
                    "assistDepartmentIds",
                    "协办部门最多10个 (at most 10)",
                ));
            }
            for a in &assists {
                serving_department(txn, "assistDepartmentIds", *a, item.township_id).await?;
            }
            involve(txn, item.id, lead.id, DepartmentRole::Lead, now).await?;
            for a in &assists {
                involve(txn, item.id, *a, DepartmentRole::Assist, now).await?;
            }
            changes.lead_department_id = Set(Some(lead.id));
            changes.handling_level = Set(Some(match lead.level {
                DepartmentLevel::County => HandlingLevel::County,
                DepartmentLevel::Township => HandlingLevel::Township,
            }));
            changes.deadline = Set(None);
            changes.accepted_at = Set(None);
            event_department = Some(lead.id);
        }
        Step::Escalate { department_id, .. } => {
            let target = department(txn, "departmentId", *department_id).await?;
            if target.level != DepartmentLevel::County {
                return Err(AppError::bad_input(
                    "departmentId",
                    "逐级转办须转至县级部门 (escalate to a county-level department)",
                ));
            }
            if Some(target.id) == item.lead_department_id {
                return Err(AppError::bad_input(
                    "departmentId",
                    "已由该部门主办 (already the lead department)",
                ));
            }
            // A handler escalates only from a township-level department.
            if !capacities.contains(&Capacity::StationStaff) {
                let current = match item.lead_department_id {
                    Some(d) => Some(department(txn, "departmentId", d).await?),
                    None => None,
                };
                if current.is_none_or(|d| d.level != DepartmentLevel::Township) {
                    return Err(AppError::InvalidTransition(
                        "只有乡镇级部门可向上转办 (only township departments escalate)".into(),
                    ));
                }
            }
            set_status(
                txn,
                item.id,
                None,
                ForwardStatus::Returned,
                Some(&format!("转至上级部门 {}", target.name)),
                now,
            )
            .await?;
            involve(txn, item.id, target.id, DepartmentRole::Lead, now).await?;
            changes.lead_department_id = Set(Some(target.id));
            changes.handling_level = Set(Some(HandlingLevel::County));
            changes.deadline = Set(None);
            changes.accepted_at = Set(None);
            event_department = Some(target.id);
        }
        Step::Accept { .. } => {
            let lead = item.lead_department_id.ok_or_else(|| {
                AppError::InvalidTransition("没有主办部门 (no lead department)".into())
            })?;
            set_status(txn, item.id, Some(lead), ForwardStatus::Accepted, None, now).await?;
            // Assisting departments take the item on together with the lead.
            petition_department::Entity::update_many()
                .col_expr(
                    petition_department::Column::Status,
                    Expr::value(ForwardStatus::Accepted),
                )
                .col_expr(petition_department::Column::AcceptedAt, Expr::value(now))
                .filter(petition_department::Column::PetitionId.eq(item.id))
                .filter(petition_department::Column::Role.eq(DepartmentRole::Assist))
                .filter(petition_department::Column::Status.eq(ForwardStatus::Forwarded))
                .exec(txn)
                .await?;
            changes.accepted_at = Set(Some(now));
            changes.deadline = Set(Some(petition_flow::deadline(
                item.urgency,
                now,
                &workflow.deadlines,
            )));
            event_department = Some(lead);
        }
        Step::Return { .. } => {
            set_status(
                txn,
                item.id,
                None,
                ForwardStatus::Returned,
                text.as_deref(),
                now,
            )
            .await?;
            event_department = item.lead_department_id;
            changes.lead_department_id = Set(None);
            changes.deadline = Set(None);
            changes.accepted_at = Set(None);
            alerts.push("returned");
        }
        Step::AddProgress { .. } => {
            event_department = actor.and_then(|a| {
                departments
                    .iter()
                    .map(|d| d.department_id)
                    .find(|d| a.handles_department(*d))
            });
        }
        Step::ReportAssist { .. } => {
            let mine = actor
                .and_then(|a| {
                    departments.iter().find(|d| {
                        d.role == DepartmentRole::Assist
                            && d.status != ForwardStatus::Returned
                            && a.handles_department(d.department_id)
                    })
                })
                .map(|d| d.department_id)
                .ok_or_else(AppError::forbidden)?;
            set_status(
                txn,
                item.id,
                Some(mine),
                ForwardStatus::Reported,
                text.as_deref(),
                now,
            )
            .await?;
            event_department = Some(mine);
        }
        Step::Complete { .. } => {
            let lead = item.lead_department_id.ok_or_else(|| {
                AppError::InvalidTransition("没有主办部门 (no lead department)".into())
            })?;
            set_status(
                txn,
                item.id,
                Some(lead),
                ForwardStatus::Reported,
                text.as_deref(),
                now,
            )
            .await?;
            changes.result = Set(text.clone());
            changes.resolved_at = Set(Some(now));
            event_department = Some(lead);
        }
        Step::Rate {
            satisfaction,
            comment,
        } => {
            petition_rating::ActiveModel {
                petition_id: Set(item.id),
                round: Set(item.round),
                rating: Set(*satisfaction),
                comment: Set(comment.as_deref().map(str::trim).map(str::to_owned)),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await
            .map_err(conflict_as("本轮已评价 (already rated this round)"))?;
            changes.satisfaction = Set(Some(*satisfaction));
            if effect.to == PetitionState::Closed {
                changes.closed_at = Set(Some(now));
            }
            if effect.next_round {
                alerts.push("rated_unsatisfied");
                changes.round = Set(item.round + 1);
                changes.resolved_at = Set(None);
                match item.lead_department_id {
                    Some(lead) => {
                        // 重办: back to the lead department with a fresh deadline.
                        set_status(txn, item.id, Some(lead), ForwardStatus::Accepted, None, now)
                            .await?;
                        changes.accepted_at = Set(Some(now));
                        changes.deadline = Set(Some(petition_flow::deadline(
                            item.urgency,
                            now,
                            &workflow.deadlines,
                        )));
                        event_department = Some(lead);
                    }
                    // Resolved on the spot: there is no department to reopen it for, so
                    // it goes back to the station's ledger to be handled again.
                    None => effect.to = PetitionState::Registered,
                }
            }
        }
        Step::Urge { deadline, .. } => {
            if *deadline <= now {
                return Err(AppError::bad_input(
                    "deadline",
                    "新的期限须晚于现在 (the new deadline must be in the future)",
                ));
            }
            changes.deadline = Set(Some(*deadline));
            changes.urge_count = Set(item.urge_count + 1);
            alerts.push("urged");
        }
        Step::EscalateSupervision { .. } => {}
        Step::MarkOverdue => {
            changes.is_overdue = Set(true);
            alerts.push("overdue");
        }
        Step::AutoClose => {
            changes.closed_at = Set(Some(now));
        }
    }
    if effect.escalate {
        changes.escalation_level = Set(item.escalation_level + 1);
        alerts.push("escalated");
    }
    if effect.clears_overdue {
        changes.is_overdue = Set(false);
    }
    changes.state = Set(effect.to);
    changes.version = Set(item.version + 1);
    changes.updated_at = Set(now);

    // Under the row lock the item cannot have moved since it was read; should it have
    // anyway (a backend without row locks), the whole step runs again.
    let written = petition::Entity::update_many()
        .set(changes)
        .filter(petition::Column::Id.eq(item.id))
        .filter(petition::Column::Version.eq(item.version))
        .exec(txn)
        .await?
        .rows_affected;
    if written != 1 {
        return Err(AppError::Contention);
    }
    let role = role_name(&capacities, action);
    petition_event::ActiveModel {
        petition_id: Set(item.id),
        action: Set(effect.action_name.to_owned()),
        from_state: Set(Some(state_name(effect.from).to_owned())),
        to_state: Set(state_name(effect.to).to_owned()),
        actor_account_id: Set(actor.and_then(Actor::account_id)),
        actor_role: Set(Some(role.to_owned())),
        department_id: Set(event_department),
        note: Set(text.clone().filter(|t| !t.is_empty())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let scope = NewEvent {
        petition_id: Some(item.id),
        station_id: item.station_id,
        township_id: item.township_id,
        department_id: event_department.or(item.lead_department_id),
        account_id: item.submitter_account_id,
        ..Default::default()
    };
    let payload = json!({
        "petitionId": item.id,
        "action": effect.action_name,
        "from": state_name(effect.from),
        "to": state_name(effect.to),
        "version": item.version + 1,
        "role": role,
    });
    outbox::append(
        txn,
        NewEvent {
            topic: topic::PETITION,
            kind: effect.action_name,
            payload: payload.clone(),
            ..scope.clone()
        },
    )
    .await?;
    for alert in alerts {
        outbox::append(
            txn,
            NewEvent {
                topic: topic::SUPERVISION,
                kind: alert,
                payload: payload.clone(),
                ..scope.clone()
            },
        )
        .await?;
    }
    crate::service::support::idempotency::record(claim, txn, Some(item.id), json!({})).await?;
    petition::Entity::find_by_id(item.id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::internal("item vanished after update"))
}
