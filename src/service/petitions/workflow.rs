//! The closed loop: in one write transaction, holding the item's row lock, a step loads
//! the item and what the step names, `domain::petition_flow::decide` works out (without
//! I/O) whether the actor may take it and everything it changes, and this module writes
//! that: the item, its department parts, an immutable history entry and the outbox
//! events. Steps on one item take turns: a step that names the `version` its client
//! saw is refused with CONFLICT when another got there first; a step without one
//! applies on top of whatever came before it.
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use entity::{
    category, department, petition, petition_department, petition_event, petition_rating,
    DepartmentRole, ForwardStatus,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QuerySelect, Set,
};
use serde_json::json;

use super::{departments_of, relation};
use crate::auth::Actor;
use crate::domain::petition_flow::{
    self, state_name, Capacity, Decision, Facts, PartChange, Rules, Step, MAX_ASSISTS,
    RATED_THIS_ROUND,
};
use crate::domain::statistics_rollup::{departments_after, ItemFacts};
use crate::domain::{scope, tracking};
use crate::error::{conflict_as, AppError, AppResult};
use crate::events::outbox;
use crate::service::attachments;
use crate::service::statistics::rollup;
use crate::service::support::idempotency::{self, Claim};
use crate::service::Ctx;

/// Who acts: the request's actor (with an optional anonymous follow secret), the
/// submitter as proven by the channel they wrote through (a WeChat follower on their
/// own item), or the scheduler.
pub enum Acting<'a> {
    Person { follow_secret: Option<&'a str> },
    VerifiedSubmitter,
    System,
}

/// What a step left: the item as committed, and whether the actor may see the
/// submitter's personal data on it. Both are read inside the step's transaction, so
/// answering a step needs no read after its commit (a read that could fail — no pooled
/// connection in time — and answer an error for a change that happened).
pub struct Acted {
    pub item: petition::Model,
    pub may_see_personal: bool,
}

impl Acted {
    /// `item` as `actor` sees it, read through `db` (the step's transaction, or the pool
    /// when an idempotent replay answers a step taken before).
    pub async fn read<C: ConnectionTrait>(
        db: &C,
        actor: &Actor,
        item: petition::Model,
    ) -> AppResult<Acted> {
        let departments = departments_of(db, item.id).await?;
        let may_see_personal = relation(actor, &item, &departments, false).may_see_personal;
        Ok(Acted {
            item,
            may_see_personal,
        })
    }
}

/// Applies one step. `expected_version`: the version the client saw — CONFLICT when
/// the item changed since. Without it the step waits for any concurrent writer of the
/// item and applies on top of what that one wrote (the state machine still decides
/// whether it fits).
pub async fn act(
    ctx: &Ctx<'_>,
    acting: Acting<'_>,
    petition_id: i64,
    expected_version: Option<i32>,
    step: Step,
) -> AppResult<Acted> {
    act_claimed(ctx, acting, petition_id, expected_version, step, None).await
}

/// [`act`], recording an idempotency claim in the step's transaction (see
/// `service::support::idempotency`).
pub async fn act_claimed(
    ctx: &Ctx<'_>,
    acting: Acting<'_>,
    petition_id: i64,
    expected_version: Option<i32>,
    step: Step,
    claim: Option<&Claim>,
) -> AppResult<Acted> {
    let files = Files::default();
    act_attaching(
        ctx,
        acting,
        petition_id,
        expected_version,
        step,
        claim,
        files,
    )
    .await
}

/// The files a department attaches to its step (`completePetition`,
/// `addPetitionProgress`, `reportAssistPart`): the ids as given, checked for count.
#[derive(Debug, Clone, Default)]
pub struct Files(Vec<String>);

impl Files {
    pub fn new(ids: &[String]) -> AppResult<Files> {
        let max = attachments::MAX_PER_TARGET;
        Ok(Files(attachments::check_ids("attachmentIds", ids, max)?))
    }
}

/// [`act_claimed`], attaching the actor's RESULT uploads to the step's history entry
/// in the same transaction (after the step was decided: FORBIDDEN, CONFLICT and
/// INVALID_TRANSITION come first).
pub async fn act_attaching(
    ctx: &Ctx<'_>,
    acting: Acting<'_>,
    petition_id: i64,
    expected_version: Option<i32>,
    step: Step,
    claim: Option<&Claim>,
    files: Files,
) -> AppResult<Acted> {
    let attempt = &Attempt {
        ctx,
        acting,
        petition_id,
        expected_version,
        step,
        claim,
        files,
    };
    crate::db::write::transaction(ctx.db, |txn| async move { act_in(&txn, attempt).await }).await
}

/// What one step asks for, as the transaction retries it.
struct Attempt<'a> {
    ctx: &'a Ctx<'a>,
    acting: Acting<'a>,
    petition_id: i64,
    expected_version: Option<i32>,
    step: Step,
    claim: Option<&'a Claim>,
    files: Files,
}

/// One attempt at a step, inside the write transaction: load, decide, persist, emit.
async fn act_in(txn: &DatabaseTransaction, attempt: &Attempt<'_>) -> AppResult<Acted> {
    let Attempt { ctx, step, .. } = attempt;
    // The row lock (PostgreSQL; SQLite's write lock is already held): a concurrent
    // step on this item waits here until this one commits, then reads its result.
    let item = petition::Entity::find_by_id(attempt.petition_id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(not_found)?;
    let parts = departments_of(txn, item.id).await?;
    let before = ItemFacts::of(&item, parts.iter().map(|p| p.department_id));
    let (capacities, actor) = who_acts(ctx.actor, &attempt.acting, &item, &parts)?;
    let facts = load_facts(txn, &item, step, actor, parts).await?;
    let workflow = &ctx.settings.workflow;
    let rules = Rules {
        max_rounds: workflow.max_rounds,
        deadlines: workflow.deadlines,
    };
    let decision = petition_flow::decide(
        &item,
        step,
        &capacities,
        attempt.expected_version,
        &facts,
        &rules,
        ctx.now(),
    )?;
    let entry = persist(txn, &item, actor, &decision).await?;
    let target = attachments::Target::Step {
        petition_id: item.id,
        event_id: entry,
    };
    attachments::attach(txn, ctx, "attachmentIds", &attempt.files.0, target).await?;
    for event in &decision.events {
        outbox::append(txn, event).await?;
    }
    idempotency::record(attempt.claim, txn, Some(item.id), json!({})).await?;
    let after = petition::Entity::find_by_id(item.id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::internal("item vanished after update"))?;
    let departments = departments_after(&before.departments, &decision.parts);
    let facts = ItemFacts::of(&after, departments);
    rollup::item_changed(txn, Some(&before), Some(&facts)).await?;
    Acted::read(txn, ctx.actor, after).await
}

fn not_found() -> AppError {
    AppError::not_found("社情民意 (opinion item)")
}

/// The capacities the step is taken in, and the person taking it. A person who may
/// not see the item learns nothing about it: NOT_FOUND.
fn who_acts<'a>(
    actor: &'a Actor,
    acting: &Acting<'_>,
    item: &petition::Model,
    parts: &[petition_department::Model],
) -> AppResult<(Vec<Capacity>, Option<&'a Actor>)> {
    match acting {
        Acting::System => Ok((vec![Capacity::System], None)),
        Acting::VerifiedSubmitter => Ok((vec![Capacity::Submitter], None)),
        Acting::Person { follow_secret } => {
            let secret_ok = match (follow_secret, &item.follow_secret_hash) {
                (Some(secret), Some(hash)) => tracking::secret_matches(secret, hash),
                _ => false,
            };
            let rel = relation(actor, item, parts, secret_ok);
            if !rel.may_view {
                return Err(not_found());
            }
            Ok((rel.capacities, Some(actor)))
        }
    }
}

/// What the decision needs to know beyond the item: the lookups of the ids the step
/// names. A lookup that finds nothing is no error here; `decide` reports it in its turn.
async fn load_facts(
    txn: &DatabaseTransaction,
    item: &petition::Model,
    step: &Step,
    actor: Option<&Actor>,
    parts: Vec<petition_department::Model>,
) -> AppResult<Facts> {
    let handled = parts
        .iter()
        .map(|p| p.department_id)
        .filter(|d| actor.is_some_and(|a| a.handles_department(*d)))
        .collect();
    let mut facts = Facts {
        parts,
        handled,
        ..Facts::default()
    };
    match step {
        Step::Register { category_id, .. } => {
            facts.category_active = category_active(txn, *category_id).await?
        }
        Step::Merge { into_id, .. } => {
            facts.merge_target = merge_target(txn, actor, *into_id).await?
        }
        Step::Forward {
            lead_department_id,
            assist_department_ids,
            ..
        } => {
            let mut ids: BTreeSet<i64> = assist_department_ids.iter().copied().collect();
            // More assisting departments than allowed are refused before any is looked
            // at: no need to read them.
            if ids.len() > MAX_ASSISTS {
                ids.clear();
            }
            ids.insert(*lead_department_id);
            facts.departments = departments(txn, ids).await?
        }
        Step::Escalate { department_id, .. } => {
            let ids = [*department_id].into_iter().chain(item.lead_department_id);
            facts.departments = departments(txn, ids).await?
        }
        Step::Rate { .. } => facts.rated_this_round = rated_this_round(txn, item).await?,
        _ => {}
    }
    Ok(facts)
}

async fn category_active<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<bool> {
    let found = category::Entity::find_by_id(id).one(db).await?;
    Ok(found.is_some_and(|c| c.active))
}

async fn departments<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> AppResult<Vec<department::Model>> {
    Ok(department::Entity::find()
        .filter(department::Column::Id.is_in(ids))
        .all(db)
        .await?)
}

/// The state of the item to merge into, if it exists and the actor could merge it
/// themself (for staff: an item of their station).
async fn merge_target<C: ConnectionTrait>(
    db: &C,
    actor: Option<&Actor>,
    into_id: i64,
) -> AppResult<Option<entity::PetitionState>> {
    let Some(target) = petition::Entity::find_by_id(into_id).one(db).await? else {
        return Ok(None);
    };
    let target_parts = departments_of(db, target.id).await?;
    let reachable = actor.is_some_and(|a| {
        let rel = relation(a, &target, &target_parts, false);
        rel.may_view && scope::may_merge_into(&rel.capacities)
    });
    Ok(reachable.then_some(target.state))
}

async fn rated_this_round<C: ConnectionTrait>(db: &C, item: &petition::Model) -> AppResult<bool> {
    let rating = petition_rating::Entity::find()
        .filter(petition_rating::Column::PetitionId.eq(item.id))
        .filter(petition_rating::Column::Round.eq(item.round))
        .one(db)
        .await?;
    Ok(rating.is_some())
}

/// Writes what the decision changes: the item (guarded by its version), its
/// department parts, the rating and the history entry (its id).
async fn persist(
    txn: &DatabaseTransaction,
    item: &petition::Model,
    actor: Option<&Actor>,
    decision: &Decision,
) -> AppResult<i64> {
    // Under the row lock the item cannot have moved since it was read; should it have
    // anyway (a backend without row locks), the whole step runs again.
    let written = petition::Entity::update_many()
        .set(decision.changes.clone())
        .filter(petition::Column::Id.eq(item.id))
        .filter(petition::Column::Version.eq(item.version))
        .exec(txn)
        .await?
        .rows_affected;
    if written != 1 {
        return Err(AppError::Contention);
    }
    for part in &decision.parts {
        write_part(txn, item.id, part, decision.now).await?;
    }
    if let Some(rating) = &decision.rating {
        petition_rating::ActiveModel {
            petition_id: Set(item.id),
            round: Set(rating.round),
            rating: Set(rating.satisfaction),
            comment: Set(rating.comment.clone()),
            created_at: Set(decision.now),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(conflict_as(RATED_THIS_ROUND))?;
    }
    write_history(txn, item.id, actor, decision).await
}

async fn write_history(
    txn: &DatabaseTransaction,
    petition_id: i64,
    actor: Option<&Actor>,
    decision: &Decision,
) -> AppResult<i64> {
    let entry = &decision.history;
    let written = petition_event::ActiveModel {
        petition_id: Set(petition_id),
        action: Set(entry.action.to_owned()),
        from_state: Set(Some(state_name(entry.from).to_owned())),
        to_state: Set(state_name(entry.to).to_owned()),
        actor_account_id: Set(actor.and_then(Actor::account_id)),
        actor_role: Set(Some(entry.role.name().to_owned())),
        department_id: Set(entry.department_id),
        note: Set(entry.note.clone()),
        created_at: Set(decision.now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(written.id)
}

async fn write_part(
    txn: &DatabaseTransaction,
    petition_id: i64,
    change: &PartChange,
    now: DateTime<Utc>,
) -> AppResult<()> {
    match change {
        PartChange::Involve {
            department_id,
            role,
        } => involve(txn, petition_id, *department_id, *role, now).await,
        PartChange::SetStatus {
            department_id,
            status,
            text,
        } => {
            set_status(
                txn,
                petition_id,
                *department_id,
                *status,
                text.as_deref(),
                now,
            )
            .await
        }
        PartChange::AcceptAssists => accept_assists(txn, petition_id, now).await,
    }
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

/// Assisting departments still at Forwarded take the item on with the lead.
async fn accept_assists(
    txn: &DatabaseTransaction,
    petition_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    petition_department::Entity::update_many()
        .col_expr(
            petition_department::Column::Status,
            Expr::value(ForwardStatus::Accepted),
        )
        .col_expr(petition_department::Column::AcceptedAt, Expr::value(now))
        .filter(petition_department::Column::PetitionId.eq(petition_id))
        .filter(petition_department::Column::Role.eq(DepartmentRole::Assist))
        .filter(petition_department::Column::Status.eq(ForwardStatus::Forwarded))
        .exec(txn)
        .await?;
    Ok(())
}
