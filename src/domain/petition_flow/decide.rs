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

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use entity::{Channel, Urgency};
    use sea_orm::ActiveValue::NotSet;

    use super::super::tests::{all_steps, at, rate, spec, step_named, ALL_CAPACITIES, ALL_STATES};
    use super::*;
    use Capacity as C;
    use PetitionState as S;

    const LEAD: i64 = 31;
    const ASSIST: i64 = 32;
    const COUNTY: i64 = 33;
    const UPPER: i64 = 41;

    fn now() -> DateTime<Utc> {
        at(2025, 3, 1, 9, 30, 0)
    }

    /// Forwarded, accepted or resolved by the township department `LEAD`, with
    /// `ASSIST` assisting.
    fn item(state: PetitionState) -> petition::Model {
        let then = at(2025, 2, 1, 8, 0, 0);
        petition::Model {
            id: 10,
            tracking_code: "HS23456789AB".into(),
            follow_secret_hash: None,
            title: "路灯".into(),
            content: "路灯坏了".into(),
            channel: Channel::App,
            state,
            submitter_account_id: Some(50),
            submitter_name: None,
            submitter_phone: None,
            sms_consent: false,
            deputy_id: Some(7),
            station_id: Some(3),
            township_id: Some(2),
            grid_id: None,
            category_id: Some(5),
            urgency: Some(Urgency::Urgent),
            handling_level: Some(HandlingLevel::Township),
            lead_department_id: Some(LEAD),
            merged_into_id: None,
            attachments: "[]".into(),
            deadline: Some(then),
            is_overdue: true,
            escalation_level: 0,
            urge_count: 2,
            round: 1,
            result: None,
            decline_reason: None,
            satisfaction: None,
            version: 4,
            collected_at: then,
            registered_at: Some(then),
            accepted_at: Some(then),
            resolved_at: None,
            closed_at: None,
            created_at: then,
            updated_at: then,
            latitude_e7: None,
            longitude_e7: None,
            location_accuracy_m: None,
            location_address: None,
        }
    }

    fn dept(id: i64, name: &str, township: Option<i64>) -> department::Model {
        department::Model {
            id,
            code: format!("D{id}"),
            name: name.into(),
            level: if township.is_some() {
                DepartmentLevel::Township
            } else {
                DepartmentLevel::County
            },
            township_id: township,
            phone: None,
            created_at: at(2024, 1, 1, 0, 0, 0),
        }
    }

    fn part(department_id: i64, role: DepartmentRole) -> petition_department::Model {
        petition_department::Model {
            id: department_id,
            petition_id: 10,
            department_id,
            role,
            status: ForwardStatus::Accepted,
            report: None,
            return_reason: None,
            forwarded_at: at(2025, 2, 1, 8, 0, 0),
            accepted_at: None,
            reported_at: None,
        }
    }

    /// Every lookup finds what the sample steps name, within reach.
    fn facts(capacity: Capacity) -> Facts {
        Facts {
            parts: vec![
                part(LEAD, DepartmentRole::Lead),
                part(ASSIST, DepartmentRole::Assist),
            ],
            handled: match capacity {
                C::LeadHandler => vec![LEAD],
                C::AssistHandler => vec![ASSIST],
                _ => vec![],
            },
            departments: vec![
                dept(LEAD, "镇城建办", Some(2)),
                dept(ASSIST, "镇派出所", Some(2)),
                dept(COUNTY, "县交通局", None),
                dept(UPPER, "县住建局", None),
            ],
            category_active: true,
            merge_target: Some(S::Registered),
            rated_this_round: false,
        }
    }

    /// What each sample step changes beyond state, version and `updated_at`, written
    /// out independently of the implementation.
    struct Expected {
        changes: petition::ActiveModel,
        parts: Vec<PartChange>,
        alerts: Vec<Alert>,
        department: Option<i64>,
        to: Option<PetitionState>,
        rating: Option<NewRating>,
    }

    fn expected(name: &str, capacity: Capacity) -> Expected {
        let now = now();
        let mut c = petition::ActiveModel::default();
        let mut e = Expected {
            changes: petition::ActiveModel::default(),
            parts: vec![],
            alerts: vec![],
            department: None,
            to: None,
            rating: None,
        };
        let status = |d: Option<i64>, status, text: Option<&str>| PartChange::SetStatus {
            department_id: d,
            status,
            text: text.map(str::to_owned),
        };
        let involve = |department_id, role| PartChange::Involve {
            department_id,
            role,
        };
        let fresh_deadline = Some(now + Duration::days(7));
        match name {
            "register" => {
                c.category_id = Set(Some(5));
                c.urgency = Set(Some(Urgency::Urgent));
                c.handling_level = Set(Some(HandlingLevel::Township));
                c.registered_at = Set(Some(now));
            }
            "decline" => {
                c.decline_reason = Set(Some("重复".into()));
                c.closed_at = Set(Some(now));
            }
            "merge" => {
                c.merged_into_id = Set(Some(99));
                c.closed_at = Set(Some(now));
            }
            "resolve_on_spot" => {
                c.result = Set(Some("已解决".into()));
                c.resolved_at = Set(Some(now));
                c.handling_level = Set(Some(HandlingLevel::Station));
            }
            "forward" => {
                e.parts = vec![
                    involve(LEAD, DepartmentRole::Lead),
                    involve(ASSIST, DepartmentRole::Assist),
                    involve(COUNTY, DepartmentRole::Assist),
                ];
                c.lead_department_id = Set(Some(LEAD));
                c.handling_level = Set(Some(HandlingLevel::Township));
                c.deadline = Set(None);
                c.accepted_at = Set(None);
                e.department = Some(LEAD);
            }
            "escalate" => {
                e.parts = vec![
                    status(None, ForwardStatus::Returned, Some("转至上级部门 县住建局")),
                    involve(UPPER, DepartmentRole::Lead),
                ];
                c.lead_department_id = Set(Some(UPPER));
                c.handling_level = Set(Some(HandlingLevel::County));
                c.deadline = Set(None);
                c.accepted_at = Set(None);
                c.is_overdue = Set(false);
                e.department = Some(UPPER);
            }
            "accept" => {
                e.parts = vec![
                    status(Some(LEAD), ForwardStatus::Accepted, None),
                    PartChange::AcceptAssists,
                ];
                c.accepted_at = Set(Some(now));
                c.deadline = Set(fresh_deadline);
                c.is_overdue = Set(false);
                e.department = Some(LEAD);
            }
            "return" => {
                e.parts = vec![status(None, ForwardStatus::Returned, Some("不属本部门"))];
                c.lead_department_id = Set(None);
                c.deadline = Set(None);
                c.accepted_at = Set(None);
                c.is_overdue = Set(false);
                e.alerts = vec![Alert::Returned];
                e.department = Some(LEAD);
            }
            "add_progress" => {
                e.department = match capacity {
                    C::LeadHandler => Some(LEAD),
                    _ => Some(ASSIST),
                }
            }
            "report_assist" => {
                e.parts = vec![status(
                    Some(ASSIST),
                    ForwardStatus::Reported,
                    Some("协办情况"),
                )];
                e.department = Some(ASSIST);
            }
            "complete" => {
                e.parts = vec![status(
                    Some(LEAD),
                    ForwardStatus::Reported,
                    Some("路灯已修复"),
                )];
                c.result = Set(Some("路灯已修复".into()));
                c.resolved_at = Set(Some(now));
                c.is_overdue = Set(false);
                e.department = Some(LEAD);
            }
            "rate_satisfied" | "rate_basically_satisfied" | "rate_unsatisfied" => {
                let satisfaction = match name {
                    "rate_satisfied" => Satisfaction::Satisfied,
                    "rate_basically_satisfied" => Satisfaction::BasicallySatisfied,
                    _ => Satisfaction::Unsatisfied,
                };
                e.rating = Some(NewRating {
                    round: 1,
                    satisfaction,
                    comment: Some("还行".into()),
                });
                c.satisfaction = Set(Some(satisfaction));
                if satisfaction == Satisfaction::Unsatisfied {
                    // 重办 by the lead department, with a fresh deadline.
                    e.parts = vec![status(Some(LEAD), ForwardStatus::Accepted, None)];
                    c.round = Set(2);
                    c.resolved_at = Set(None);
                    c.accepted_at = Set(Some(now));
                    c.deadline = Set(fresh_deadline);
                    c.is_overdue = Set(false);
                    e.alerts = vec![Alert::RatedUnsatisfied];
                    e.department = Some(LEAD);
                } else {
                    c.closed_at = Set(Some(now));
                }
            }
            "auto_close" => c.closed_at = Set(Some(now)),
            "urge" => {
                c.deadline = Set(Some(at(2100, 1, 1, 0, 0, 0)));
                c.urge_count = Set(3);
                c.is_overdue = Set(false);
                e.alerts = vec![Alert::Urged];
            }
            "mark_overdue" => {
                c.is_overdue = Set(true);
                e.alerts = vec![Alert::Overdue];
            }
            "escalate_supervision" => {
                c.escalation_level = Set(1);
                e.alerts = vec![Alert::Escalated];
            }
            other => panic!("no expectation for {other}"),
        }
        e.changes = c;
        e
    }

    fn decide_as(
        item: &petition::Model,
        step: &Step,
        capacities: &[Capacity],
        facts: &Facts,
    ) -> AppResult<Decision> {
        decide(
            item,
            step,
            capacities,
            None,
            facts,
            &Rules::default(),
            now(),
        )
    }

    #[test]
    fn every_step_state_and_capacity_decides_as_the_table_says() {
        let mut checked = 0;
        for row in spec() {
            for state in ALL_STATES {
                for capacity in ALL_CAPACITIES {
                    let case = format!("{state:?} {} as {capacity:?}", row.name);
                    let item = item(state);
                    let result = decide_as(&item, &row.step, &[capacity], &facts(capacity));
                    let edge = row.edges.iter().find(|(from, _)| *from == state);
                    checked += 1;
                    let Some((from, to)) = edge.filter(|_| row.capacities.contains(&capacity))
                    else {
                        let code = if row.capacities.contains(&capacity) {
                            "INVALID_TRANSITION"
                        } else {
                            "FORBIDDEN"
                        };
                        assert_eq!(result.expect_err(&case).code(), code, "{case}");
                        continue;
                    };
                    let decision = result.expect(&case);
                    let e = expected(row.name, capacity);
                    let to = e.to.unwrap_or(*to);
                    let mut changes = e.changes;
                    changes.state = Set(to);
                    changes.version = Set(5);
                    changes.updated_at = Set(now());
                    assert_eq!(decision.changes, changes, "{case}");
                    assert_eq!(decision.parts, e.parts, "{case}");
                    assert_eq!(decision.rating, e.rating, "{case}");
                    assert_eq!(decision.now, now());
                    assert_eq!(
                        decision.history,
                        HistoryEntry {
                            action: row.name,
                            from: *from,
                            to,
                            role: capacity,
                            department_id: e.department,
                            note: row.step.text().map(str::trim).map(str::to_owned),
                        },
                        "{case}"
                    );
                    let scope = EventScope {
                        petition_id: Some(10),
                        station_id: Some(3),
                        township_id: Some(2),
                        department_id: e.department.or(Some(LEAD)),
                        account_id: Some(50),
                    };
                    let stepped = PetitionStepped {
                        petition_id: 10,
                        action: StepName(row.name),
                        from: *from,
                        to,
                        version: 5,
                        role: capacity,
                    };
                    let mut events = vec![DomainEvent::new(
                        scope,
                        EventBody::PetitionStepped(stepped.clone()),
                    )];
                    events.extend(e.alerts.iter().map(|a| {
                        DomainEvent::new(scope, EventBody::SupervisionAlert(*a, stepped.clone()))
                    }));
                    assert_eq!(decision.events, events, "{case}");
                }
            }
        }
        assert_eq!(checked, 8 * 18 * 7);
    }

    #[test]
    fn forbidden_then_conflict_then_invalid_transition_then_input() {
        let rules = Rules::default();
        let register = step_named("register");
        let mut no_category = facts(C::StationStaff);
        no_category.category_active = false;
        let closed = item(S::Closed);
        let submitted = item(S::Submitted);
        let code = |item: &petition::Model, caps: &[Capacity], version, facts: &Facts| {
            decide(item, &register, caps, version, facts, &rules, now())
                .expect_err("refused")
                .code()
        };
        // Everything wrong at once: who may act is answered first.
        assert_eq!(
            code(&closed, &[C::Deputy], Some(1), &no_category),
            "FORBIDDEN"
        );
        assert_eq!(
            code(&closed, &[C::StationStaff], Some(1), &no_category),
            "CONFLICT"
        );
        let current = Some(closed.version);
        assert_eq!(
            code(&closed, &[C::StationStaff], current, &no_category),
            "INVALID_TRANSITION"
        );
        assert_eq!(
            code(&submitted, &[C::StationStaff], current, &no_category),
            "BAD_USER_INPUT"
        );
        let conflict = decide(
            &closed,
            &register,
            &[C::StationStaff],
            Some(1),
            &no_category,
            &rules,
            now(),
        )
        .expect_err("stale");
        assert_eq!(
            conflict.public_message(),
            "该事项已被他人更新 (changed since version 1; now 4)"
        );
        // The text is checked before what the step names is looked at.
        let merge = Step::Merge {
            into_id: 10,
            note: Some("x".repeat(2001)),
        };
        let err = decide_as(
            &item(S::Registered),
            &merge,
            &[C::StationStaff],
            &facts(C::StationStaff),
        )
        .expect_err("too long");
        assert_eq!(
            err,
            AppError::bad_input("note", err.public_message().to_owned())
        );
    }

    fn refused(state: PetitionState, step: &Step, capacity: Capacity, facts: &Facts) -> AppError {
        decide_as(&item(state), step, &[capacity], facts).expect_err("refused")
    }

    #[test]
    fn what_a_step_names_must_exist_and_be_within_reach() {
        let staff = facts(C::StationStaff);
        let mut inactive = staff.clone();
        inactive.category_active = false;
        assert_eq!(
            refused(
                S::Submitted,
                &step_named("register"),
                C::StationStaff,
                &inactive
            ),
            AppError::bad_input("categoryId", "分类不存在 (no such category)")
        );
        let merge = |into_id| Step::Merge {
            into_id,
            note: None,
        };
        assert_eq!(
            refused(S::Registered, &merge(10), C::StationStaff, &staff),
            AppError::bad_input("intoId", "不能并入自身 (cannot merge into itself)")
        );
        let mut unreachable = staff.clone();
        unreachable.merge_target = None;
        assert_eq!(
            refused(S::Registered, &merge(99), C::StationStaff, &unreachable),
            out_of_reach("intoId", "目标事项", "item")
        );
        let mut finished = staff.clone();
        finished.merge_target = Some(S::Closed);
        assert_eq!(
            refused(S::Registered, &merge(99), C::StationStaff, &finished),
            AppError::bad_input("intoId", "目标事项已结束 (the target item is finished)")
        );
        let forward = |lead, assists: &[i64]| Step::Forward {
            lead_department_id: lead,
            assist_department_ids: assists.to_vec(),
            note: None,
        };
        let elsewhere = facts(C::StationStaff);
        let mut other_township = item(S::Registered);
        other_township.township_id = Some(9);
        for (lead, assists, field) in [
            (404, &[][..], "leadDepartmentId"),
            (LEAD, &[404][..], "assistDepartmentIds"),
        ] {
            assert_eq!(
                refused(
                    S::Registered,
                    &forward(lead, assists),
                    C::StationStaff,
                    &staff
                ),
                out_of_reach(field, "部门", "department")
            );
        }
        let err = decide_as(
            &other_township,
            &forward(LEAD, &[]),
            &[C::StationStaff],
            &elsewhere,
        )
        .expect_err("township department of elsewhere");
        assert_eq!(err, out_of_reach("leadDepartmentId", "部门", "department"));
        let county_lead = decide_as(
            &other_township,
            &forward(COUNTY, &[]),
            &[C::StationStaff],
            &elsewhere,
        )
        .expect("county departments serve everywhere");
        assert_eq!(
            county_lead.changes.handling_level,
            Set(Some(HandlingLevel::County))
        );
        assert_eq!(
            refused(
                S::Registered,
                &forward(LEAD, &[ASSIST, LEAD]),
                C::StationStaff,
                &staff
            ),
            AppError::bad_input(
                "assistDepartmentIds",
                "主办部门不能同时协办 (the lead cannot also assist)"
            )
        );
        let eleven: Vec<i64> = (100..111).collect();
        assert_eq!(
            refused(
                S::Registered,
                &forward(LEAD, &eleven),
                C::StationStaff,
                &staff
            ),
            AppError::bad_input("assistDepartmentIds", "协办部门最多10个 (at most 10)")
        );
    }

    #[test]
    fn escalation_goes_to_a_county_department_and_from_a_township_lead_only() {
        let escalate = |department_id| Step::Escalate {
            department_id,
            note: None,
        };
        let staff = facts(C::StationStaff);
        assert_eq!(
            refused(S::Accepted, &escalate(404), C::StationStaff, &staff),
            AppError::bad_input("departmentId", "部门不存在 (no such department)")
        );
        assert_eq!(
            refused(S::Accepted, &escalate(ASSIST), C::StationStaff, &staff),
            AppError::bad_input(
                "departmentId",
                "逐级转办须转至县级部门 (escalate to a county-level department)"
            )
        );
        let mut county_led = item(S::Accepted);
        county_led.lead_department_id = Some(COUNTY);
        let err = decide_as(&county_led, &escalate(COUNTY), &[C::StationStaff], &staff)
            .expect_err("already");
        assert_eq!(
            err,
            AppError::bad_input(
                "departmentId",
                "已由该部门主办 (already the lead department)"
            )
        );
        // A county lead cannot escalate further; staff can hand it on.
        let handler = facts(C::LeadHandler);
        let err = decide_as(&county_led, &escalate(UPPER), &[C::LeadHandler], &handler)
            .expect_err("county lead");
        assert_eq!(
            err,
            AppError::InvalidTransition(
                "只有乡镇级部门可向上转办 (only township departments escalate)".into()
            )
        );
        assert!(decide_as(&county_led, &escalate(UPPER), &[C::StationStaff], &staff).is_ok());
    }

    #[test]
    fn steps_of_the_lead_need_one_and_assists_need_their_part() {
        let mut unled = item(S::Forwarded);
        unled.lead_department_id = None;
        let lead = facts(C::LeadHandler);
        let err = decide_as(&unled, &step_named("accept"), &[C::LeadHandler], &lead)
            .expect_err("no lead");
        assert_eq!(err, no_lead());
        unled.state = S::Accepted;
        let err = decide_as(&unled, &step_named("complete"), &[C::LeadHandler], &lead)
            .expect_err("no lead");
        assert_eq!(err, no_lead());
        let mut returned = facts(C::AssistHandler);
        returned.parts[1].status = ForwardStatus::Returned;
        assert_eq!(
            refused(
                S::Accepted,
                &step_named("report_assist"),
                C::AssistHandler,
                &returned
            ),
            AppError::forbidden()
        );
    }

    #[test]
    fn ratings_once_per_round_and_rehandling() {
        let mut rated = facts(C::Submitter);
        rated.rated_this_round = true;
        assert_eq!(
            refused(
                S::Resolved,
                &rate(Satisfaction::Satisfied),
                C::Submitter,
                &rated
            ),
            AppError::Conflict(RATED_THIS_ROUND.into())
        );
        // Resolved on the spot: no department to reopen it for; back to the ledger.
        let mut on_the_spot = item(S::Resolved);
        on_the_spot.lead_department_id = None;
        let unsatisfied = rate(Satisfaction::Unsatisfied);
        let submitter = facts(C::Submitter);
        let decision =
            decide_as(&on_the_spot, &unsatisfied, &[C::Submitter], &submitter).expect("reopened");
        assert_eq!(decision.changes.state, Set(S::Registered));
        assert_eq!(decision.history.to, S::Registered);
        assert!(decision.parts.is_empty());
        assert_eq!(decision.changes.accepted_at, NotSet);
        // At the last round it is escalated too, after the unsatisfied alert.
        let mut last_round = item(S::Resolved);
        last_round.round = 2;
        let decision =
            decide_as(&last_round, &unsatisfied, &[C::Submitter], &submitter).expect("escalated");
        let kinds: Vec<_> = decision.events.iter().map(DomainEvent::kind).collect();
        assert_eq!(
            kinds,
            ["rate_unsatisfied", "rated_unsatisfied", "escalated"]
        );
        assert_eq!(decision.changes.escalation_level, Set(1));
        assert_eq!(decision.changes.round, Set(3));
    }

    #[test]
    fn urged_deadlines_lie_in_the_future() {
        let urge = Step::Urge {
            note: "尽快".into(),
            deadline: now(),
        };
        assert_eq!(
            refused(S::Accepted, &urge, C::Supervisor, &facts(C::Supervisor)),
            AppError::bad_input(
                "deadline",
                "新的期限须晚于现在 (the new deadline must be in the future)"
            )
        );
    }

    #[test]
    fn the_role_is_the_first_capacity_that_may_take_the_step() {
        let decision = decide_as(
            &item(S::Registered),
            &step_named("resolve_on_spot"),
            &[C::Submitter, C::Deputy, C::StationStaff],
            &facts(C::StationStaff),
        )
        .expect("deputy");
        assert_eq!(decision.history.role, C::Deputy);
        assert_eq!(all_steps().len(), 18);
    }
}
