//! What one step changes, decided without I/O: the service loads the [`Facts`], calls
//! [`decide`], and writes the [`Decision`] as it is.
use chrono::{DateTime, Utc};
use entity::{
    department, petition, petition_department, DepartmentLevel, DepartmentRole, ForwardStatus,
    HandlingLevel, PetitionState, Satisfaction,
};
use sea_orm::ActiveValue::Set;

use super::{allowed_capacities, apply, deadline, is_terminal, requires, Capacity, Rules, Step};
use crate::domain::event::{Alert, DomainEvent, EventBody, EventScope, PetitionStepped, StepName};
use crate::domain::scope::{department_serves, out_of_reach};
use crate::error::{AppError, AppResult};

/// Most assisting departments (协办) of one item.
pub const MAX_ASSISTS: usize = 10;

/// The answer to a second rating in one round.
pub const RATED_THIS_ROUND: &str = "本轮已评价 (already rated this round)";

/// What the service looked up for a step. A lookup that found nothing is kept as such
/// (not as an error): the decision reports it in its turn, after the checks that come
/// first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    /// The item's department parts, returned ones included.
    pub parts: Vec<petition_department::Model>,
    /// The departments of `parts` the acting person handles, in the order of `parts`.
    pub handled: Vec<i64>,
    /// `Forward`, `Escalate`: the departments the step names and the item's lead
    /// department, those that exist.
    pub departments: Vec<department::Model>,
    /// `Register`: the category exists and is active.
    pub category_active: bool,
    /// `Merge`: the target's state, if it exists and the actor could merge it.
    pub merge_target: Option<PetitionState>,
    /// `Rate`: the item is already rated in its current round.
    pub rated_this_round: bool,
}

/// A change to the item's department parts (`petition_department`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartChange {
    /// Adds the department's part, or re-activates it afresh.
    Involve {
        department_id: i64,
        role: DepartmentRole,
    },
    /// Marks the active (not returned) parts, all or one department's, with a status;
    /// `text` is the report (Reported) or the reason (Returned).
    SetStatus {
        department_id: Option<i64>,
        status: ForwardStatus,
        text: Option<String>,
    },
    /// Assisting departments still at Forwarded take the item on with the lead.
    AcceptAssists,
}

/// The rating to record (`petition_rating`), one per round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRating {
    pub round: i32,
    pub satisfaction: Satisfaction,
    pub comment: Option<String>,
}

/// The history entry (`petition_event`); the service adds the acting account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    pub action: &'static str,
    pub from: PetitionState,
    pub to: PetitionState,
    pub role: Capacity,
    pub department_id: Option<i64>,
    pub note: Option<String>,
}

/// Everything one step changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub now: DateTime<Utc>,
    /// The item's columns that change, state, version and `updated_at` included.
    pub changes: petition::ActiveModel,
    pub parts: Vec<PartChange>,
    pub rating: Option<NewRating>,
    pub history: HistoryEntry,
    /// The step's event, then its supervision alerts.
    pub events: Vec<DomainEvent>,
}

/// What a step's own rules add to the transition.
struct Draft<'a> {
    item: &'a petition::Model,
    rules: &'a Rules,
    now: DateTime<Utc>,
    /// The step's text, trimmed.
    text: Option<String>,
    to: PetitionState,
    changes: petition::ActiveModel,
    parts: Vec<PartChange>,
    rating: Option<NewRating>,
    alerts: Vec<Alert>,
    /// The department the step is about (history, and the event's scope).
    department: Option<i64>,
}

/// Decides a step on `item` taken in `capacities`. `expected_version`: the version the
/// client saw, if it named one.
///
/// Who may act comes first (FORBIDDEN), then whether they saw the current version
/// (CONFLICT), then whether the step fits the state (INVALID_TRANSITION), last the
/// input: nothing about the item leaks to those who may not act on it.
pub fn decide(
    item: &petition::Model,
    step: &Step,
    capacities: &[Capacity],
    expected_version: Option<i32>,
    facts: &Facts,
    rules: &Rules,
    now: DateTime<Utc>,
) -> AppResult<Decision> {
    let decided = apply(item.state, step, capacities, item.round, rules);
    if let Err(e @ AppError::Forbidden(_)) = decided {
        return Err(e);
    }
    if let Some(expected) = expected_version.filter(|v| *v != item.version) {
        return Err(AppError::Conflict(format!(
            "该事项已被他人更新 (changed since version {expected}; now {})",
            item.version
        )));
    }
    let effect = decided?;
    requires(step)?;
    let mut draft = Draft {
        item,
        rules,
        now,
        text: step.text().map(|t| t.trim().to_owned()),
        to: effect.to,
        changes: petition::ActiveModel::default(),
        parts: Vec::new(),
        rating: None,
        alerts: Vec::new(),
        department: None,
    };
    draft.step(step, capacities, facts, effect.next_round)?;
    if effect.escalate {
        draft.changes.escalation_level = Set(item.escalation_level + 1);
        draft.alerts.push(Alert::Escalated);
    }
    if effect.clears_overdue {
        draft.changes.is_overdue = Set(false);
    }
    let role = role_of(capacities, step)?;
    Ok(draft.finish(effect.action_name, effect.from, role))
}

/// The capacity the step is taken in: the first of the actor's that may take it.
fn role_of(capacities: &[Capacity], step: &Step) -> AppResult<Capacity> {
    let allowed = allowed_capacities(step);
    capacities
        .iter()
        .copied()
        .find(|c| allowed.contains(c))
        .ok_or_else(AppError::forbidden)
}

fn no_lead() -> AppError {
    AppError::InvalidTransition("没有主办部门 (no lead department)".into())
}

impl Draft<'_> {
    fn step(
        &mut self,
        step: &Step,
        capacities: &[Capacity],
        facts: &Facts,
        next_round: bool,
    ) -> AppResult<()> {
        let (item, now) = (self.item, self.now);
        let c = &mut self.changes;
        match step {
            Step::Register {
                category_id,
                urgency,
                handling_level,
            } => {
                if !facts.category_active {
                    return Err(AppError::bad_input(
                        "categoryId",
                        "分类不存在 (no such category)",
                    ));
                }
                c.category_id = Set(Some(*category_id));
                c.urgency = Set(Some(*urgency));
                c.handling_level = Set(Some(*handling_level));
                c.registered_at = Set(Some(now));
            }
            Step::Decline { .. } => {
                c.decline_reason = Set(self.text.clone());
                c.closed_at = Set(Some(now));
            }
            Step::Merge { into_id, .. } => self.merge(*into_id, facts)?,
            Step::ResolveOnSpot { .. } => {
                c.result = Set(self.text.clone());
                c.resolved_at = Set(Some(now));
                c.handling_level = Set(Some(HandlingLevel::Station));
            }
            Step::Forward {
                lead_department_id,
                assist_department_ids,
                ..
            } => self.forward(*lead_department_id, assist_department_ids, facts)?,
            Step::Escalate { department_id, .. } => {
                self.escalate(*department_id, capacities, facts)?
            }
            Step::Accept { .. } => {
                self.take_on(item.lead_department_id.ok_or_else(no_lead)?);
                // Assisting departments take the item on together with the lead.
                self.parts.push(PartChange::AcceptAssists);
            }
            Step::Return { .. } => {
                self.set_status(None, ForwardStatus::Returned, self.text.clone());
                self.department = item.lead_department_id;
                let c = &mut self.changes;
                c.lead_department_id = Set(None);
                c.deadline = Set(None);
                c.accepted_at = Set(None);
                self.alerts.push(Alert::Returned);
            }
            Step::AddProgress { .. } => self.department = facts.handled.first().copied(),
            Step::ReportAssist { .. } => {
                let mine = facts
                    .parts
                    .iter()
                    .find(|d| {
                        d.role == DepartmentRole::Assist
                            && d.status != ForwardStatus::Returned
                            && facts.handled.contains(&d.department_id)
                    })
                    .map(|d| d.department_id)
                    .ok_or_else(AppError::forbidden)?;
                self.set_status(Some(mine), ForwardStatus::Reported, self.text.clone());
                self.department = Some(mine);
            }
            Step::Complete { .. } => {
                let lead = item.lead_department_id.ok_or_else(no_lead)?;
                self.set_status(Some(lead), ForwardStatus::Reported, self.text.clone());
                self.changes.result = Set(self.text.clone());
                self.changes.resolved_at = Set(Some(now));
                self.department = Some(lead);
            }
            Step::Rate {
                satisfaction,
                comment,
            } => self.rate(*satisfaction, comment.as_deref(), facts, next_round)?,
            Step::Urge { deadline, .. } => {
                if *deadline <= now {
                    return Err(AppError::bad_input(
                        "deadline",
                        "新的期限须晚于现在 (the new deadline must be in the future)",
                    ));
                }
                c.deadline = Set(Some(*deadline));
                c.urge_count = Set(item.urge_count + 1);
                self.alerts.push(Alert::Urged);
            }
            Step::EscalateSupervision { .. } => {}
            Step::MarkOverdue => {
                c.is_overdue = Set(true);
                self.alerts.push(Alert::Overdue);
            }
            Step::AutoClose => c.closed_at = Set(Some(now)),
        }
        Ok(())
    }

    fn set_status(
        &mut self,
        department_id: Option<i64>,
        status: ForwardStatus,
        text: Option<String>,
    ) {
        self.parts.push(PartChange::SetStatus {
            department_id,
            status,
            text,
        });
    }

    /// The lead department takes the item on, with a fresh deadline: when it accepts,
    /// and again when an unsatisfied rating sends the item back to it (重办).
    fn take_on(&mut self, lead: i64) {
        self.set_status(Some(lead), ForwardStatus::Accepted, None);
        self.changes.accepted_at = Set(Some(self.now));
        self.changes.deadline = Set(Some(deadline(
            self.item.urgency,
            self.now,
            &self.rules.deadlines,
        )));
        self.department = Some(lead);
    }

    fn merge(&mut self, into_id: i64, facts: &Facts) -> AppResult<()> {
        if into_id == self.item.id {
            return Err(AppError::bad_input(
                "intoId",
                "不能并入自身 (cannot merge into itself)",
            ));
        }
        // The target must be an item the actor could merge themself (for staff: one of
        // their station's); any other answers exactly as a missing one.
        let target = facts
            .merge_target
            .ok_or_else(|| out_of_reach("intoId", "目标事项", "item"))?;
        if is_terminal(target) {
            return Err(AppError::bad_input(
                "intoId",
                "目标事项已结束 (the target item is finished)",
            ));
        }
        self.changes.merged_into_id = Set(Some(into_id));
        self.changes.closed_at = Set(Some(self.now));
        Ok(())
    }

    fn forward(&mut self, lead_id: i64, assist_ids: &[i64], facts: &Facts) -> AppResult<()> {
        let township = self.item.township_id;
        let lead = serving_department(facts, "leadDepartmentId", lead_id, township)?;
        let mut assists = assist_ids.to_vec();
        assists.sort_unstable();
        assists.dedup();
        if assists.contains(&lead.id) {
            return Err(AppError::bad_input(
                "assistDepartmentIds",
                "主办部门不能同时协办 (the lead cannot also assist)",
            ));
        }
        if assists.len() > MAX_ASSISTS {
            return Err(AppError::bad_input(
                "assistDepartmentIds",
                "协办部门最多10个 (at most 10)",
            ));
        }
        for a in &assists {
            serving_department(facts, "assistDepartmentIds", *a, township)?;
        }
        let involve = |department_id, role| PartChange::Involve {
            department_id,
            role,
        };
        self.parts.push(involve(lead.id, DepartmentRole::Lead));
        self.parts
            .extend(assists.iter().map(|a| involve(*a, DepartmentRole::Assist)));
        self.hand_to(
            lead.id,
            match lead.level {
                DepartmentLevel::County => HandlingLevel::County,
                DepartmentLevel::Township => HandlingLevel::Township,
            },
        );
        Ok(())
    }

    fn escalate(
        &mut self,
        target_id: i64,
        capacities: &[Capacity],
        facts: &Facts,
    ) -> AppResult<()> {
        let target = existing_department(facts, target_id)?;
        if target.level != DepartmentLevel::County {
            return Err(AppError::bad_input(
                "departmentId",
                "逐级转办须转至县级部门 (escalate to a county-level department)",
            ));
        }
        if Some(target.id) == self.item.lead_department_id {
            return Err(AppError::bad_input(
                "departmentId",
                "已由该部门主办 (already the lead department)",
            ));
        }
        // A handler escalates only from a township-level department.
        if !capacities.contains(&Capacity::StationStaff) {
            let current = self
                .item
                .lead_department_id
                .map(|d| existing_department(facts, d))
                .transpose()?;
            if current.is_none_or(|d| d.level != DepartmentLevel::Township) {
                return Err(AppError::InvalidTransition(
                    "只有乡镇级部门可向上转办 (only township departments escalate)".into(),
                ));
            }
        }
        let note = format!("转至上级部门 {}", target.name);
        self.set_status(None, ForwardStatus::Returned, Some(note));
        self.parts.push(PartChange::Involve {
            department_id: target.id,
            role: DepartmentRole::Lead,
        });
        self.hand_to(target.id, HandlingLevel::County);
        Ok(())
    }

    /// A new lead department, whose deadline starts when it accepts.
    fn hand_to(&mut self, lead: i64, level: HandlingLevel) {
        let c = &mut self.changes;
        c.lead_department_id = Set(Some(lead));
        c.handling_level = Set(Some(level));
        c.deadline = Set(None);
        c.accepted_at = Set(None);
        self.department = Some(lead);
    }

    fn rate(
        &mut self,
        satisfaction: Satisfaction,
        comment: Option<&str>,
        facts: &Facts,
        next_round: bool,
    ) -> AppResult<()> {
        if facts.rated_this_round {
            return Err(AppError::Conflict(RATED_THIS_ROUND.into()));
        }
        self.rating = Some(NewRating {
            round: self.item.round,
            satisfaction,
            comment: comment.map(str::trim).map(str::to_owned),
        });
        self.changes.satisfaction = Set(Some(satisfaction));
        if self.to == PetitionState::Closed {
            self.changes.closed_at = Set(Some(self.now));
        }
        if next_round {
            self.alerts.push(Alert::RatedUnsatisfied);
            self.changes.round = Set(self.item.round + 1);
            self.changes.resolved_at = Set(None);
            match self.item.lead_department_id {
                Some(lead) => self.take_on(lead),
                // Resolved on the spot: there is no department to reopen it for, so it
                // goes back to the station's ledger to be handled again.
                None => self.to = PetitionState::Registered,
            }
        }
        Ok(())
    }

    fn finish(mut self, action: &'static str, from: PetitionState, role: Capacity) -> Decision {
        let item = self.item;
        self.changes.state = Set(self.to);
        self.changes.version = Set(item.version + 1);
        self.changes.updated_at = Set(self.now);
        let scope = EventScope {
            petition_id: Some(item.id),
            station_id: item.station_id,
            township_id: item.township_id,
            department_id: self.department.or(item.lead_department_id),
            account_id: item.submitter_account_id,
        };
        let stepped = PetitionStepped {
            petition_id: item.id,
            action: StepName(action),
            from,
            to: self.to,
            version: item.version + 1,
            role,
        };
        let alerts = self.alerts.iter().map(|alert| {
            DomainEvent::new(scope, EventBody::SupervisionAlert(*alert, stepped.clone()))
        });
        let mut events = vec![DomainEvent::new(
            scope,
            EventBody::PetitionStepped(stepped.clone()),
        )];
        events.extend(alerts);
        Decision {
            now: self.now,
            changes: self.changes,
            parts: self.parts,
            rating: self.rating,
            history: HistoryEntry {
                action,
                from,
                to: self.to,
                role,
                department_id: self.department,
                note: self.text.filter(|t| !t.is_empty()),
            },
            events,
        }
    }
}

fn existing_department(facts: &Facts, id: i64) -> AppResult<&department::Model> {
    facts
        .departments
        .iter()
        .find(|d| d.id == id)
        .ok_or_else(|| AppError::bad_input("departmentId", "部门不存在 (no such department)"))
}

/// A department that serves the item's township; a township department of elsewhere
/// answers exactly as a missing one.
fn serving_department<'f>(
    facts: &'f Facts,
    field: &str,
    id: i64,
    item_township_id: Option<i64>,
) -> AppResult<&'f department::Model> {
    facts
        .departments
        .iter()
        .find(|d| d.id == id)
        .filter(|d| department_serves(item_township_id, d.level, d.township_id))
        .ok_or_else(|| out_of_reach(field, "部门", "department"))
}
