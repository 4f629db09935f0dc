//! The closed loop (闭环) of an opinion item (社情民意, `Petition` in the API) as a pure
//! state machine: collected → registered in the station ledger → forwarded → accepted by
//! the department → result fed back → rated by the citizen; around it decline, merge,
//! return, escalation, urging (督办) and overdue tracking.
//!
//! Nothing here touches the database. The service layer works out in which
//! [`Capacity`] the actor stands towards the item and loads the [`Facts`] a step needs;
//! [`decide`] checks the step ([`apply`] for the transition, [`requires`] for its text)
//! and returns the [`Decision`]: every change the step makes, which the service writes.
use chrono::{DateTime, Duration, Utc};
use entity::{HandlingLevel, PetitionState, Satisfaction, Urgency};

use crate::error::{AppError, AppResult};

mod decide;

pub use decide::{
    decide, Decision, Facts, HistoryEntry, NewRating, PartChange, MAX_ASSISTS, RATED_THIS_ROUND,
};

/// Who the acting party is *in relation to this item* (the service layer works this out).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capacity {
    /// The citizen who submitted the item (or who follows it with its secret).
    Submitter,
    /// A deputy; for [`Step::ResolveOnSpot`] the service grants this only to the
    /// deputy the item is addressed to.
    Deputy,
    /// Staff or liaison of the station that keeps the item in its ledger.
    StationStaff,
    /// A handler of the lead department (主办).
    LeadHandler,
    /// A handler of an assisting department (协办).
    AssistHandler,
    /// Standing-committee supervisor (督办).
    Supervisor,
    /// Scheduled jobs (overdue marking, auto-close, automatic escalation).
    System,
}

impl Capacity {
    pub const ALL: [Capacity; 7] = [
        Capacity::Submitter,
        Capacity::Deputy,
        Capacity::StationStaff,
        Capacity::LeadHandler,
        Capacity::AssistHandler,
        Capacity::Supervisor,
        Capacity::System,
    ];

    /// Stable snake_case name: the `role` of history entries and item events.
    pub fn name(self) -> &'static str {
        match self {
            Capacity::Submitter => "submitter",
            Capacity::Deputy => "deputy",
            Capacity::StationStaff => "station_staff",
            Capacity::LeadHandler => "lead_handler",
            Capacity::AssistHandler => "assist_handler",
            Capacity::Supervisor => "supervisor",
            Capacity::System => "system",
        }
    }

    pub fn parse(name: &str) -> Option<Capacity> {
        Capacity::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// One step of the loop, with what it carries. The comments give who may take it (the
/// [`Capacity`]) and between which states (see [`allowed_from`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// 建账 — Staff: Submitted → Registered, with category, urgency and handling level.
    Register {
        category_id: i64,
        urgency: Urgency,
        handling_level: HandlingLevel,
    },
    /// Staff: Submitted|Registered → Declined (reason required).
    Decline { reason: String },
    /// Staff: Submitted|Registered → Merged (into another item).
    Merge { into_id: i64, note: Option<String> },
    /// Staff or the addressed Deputy: Registered → Resolved (closed at station level).
    ResolveOnSpot { result: String },
    /// 逐级转办 — Staff: Registered → Forwarded, to a lead department (主办) and any
    /// assisting ones (协办).
    Forward {
        lead_department_id: i64,
        assist_department_ids: Vec<i64>,
        note: Option<String>,
    },
    /// Staff, or the LeadHandler of a township-level department: Forwarded|Accepted →
    /// Forwarded to a county-level department (the next level up).
    Escalate {
        department_id: i64,
        note: Option<String>,
    },
    /// LeadHandler: Forwarded → Accepted (deadline set from urgency).
    Accept { note: Option<String> },
    /// 退回 — LeadHandler: Forwarded → Registered (back to the forwarder, reason required).
    Return { reason: String },
    /// LeadHandler or AssistHandler: Accepted → Accepted.
    AddProgress { note: String },
    /// AssistHandler: Accepted → Accepted (its part of a joint item).
    ReportAssist { report: String },
    /// LeadHandler: Accepted → Resolved (result required).
    Complete { result: String },
    /// Submitter: Resolved → Closed when (basically) satisfied; Unsatisfied reopens the
    /// item as Accepted for the next round (重办).
    Rate {
        satisfaction: Satisfaction,
        comment: Option<String>,
    },
    /// 督办 — Supervisor: Forwarded|Accepted → same state (note + new deadline).
    Urge {
        note: String,
        deadline: DateTime<Utc>,
    },
    /// Supervisor or System: Forwarded|Accepted → same state (escalation level + 1).
    EscalateSupervision { note: Option<String> },
    /// System: Forwarded|Accepted → same state.
    MarkOverdue,
    /// System: Resolved → Closed (unrated after the configured period).
    AutoClose,
}

impl Step {
    /// Stable snake_case name stored in the history (`petition_event.action`) and used
    /// as the kind of the item's event.
    pub fn name(&self) -> &'static str {
        match self {
            Step::Register { .. } => "register",
            Step::Decline { .. } => "decline",
            Step::Merge { .. } => "merge",
            Step::ResolveOnSpot { .. } => "resolve_on_spot",
            Step::Forward { .. } => "forward",
            Step::Escalate { .. } => "escalate",
            Step::Accept { .. } => "accept",
            Step::Return { .. } => "return",
            Step::AddProgress { .. } => "add_progress",
            Step::ReportAssist { .. } => "report_assist",
            Step::Complete { .. } => "complete",
            Step::Rate { satisfaction, .. } => match satisfaction {
                Satisfaction::Satisfied => "rate_satisfied",
                Satisfaction::BasicallySatisfied => "rate_basically_satisfied",
                Satisfaction::Unsatisfied => "rate_unsatisfied",
            },
            Step::AutoClose => "auto_close",
            Step::Urge { .. } => "urge",
            Step::MarkOverdue => "mark_overdue",
            Step::EscalateSupervision { .. } => "escalate_supervision",
        }
    }

    /// (Chinese, English) wording for messages.
    fn label(&self) -> (&'static str, &'static str) {
        match self {
            Step::Register { .. } => ("登记建账", "register"),
            Step::Decline { .. } => ("不予受理", "decline"),
            Step::Merge { .. } => ("合并", "merge"),
            Step::ResolveOnSpot { .. } => ("就地办结", "resolve on the spot"),
            Step::Forward { .. } => ("转办", "forward"),
            Step::Escalate { .. } => ("提级转办", "escalate"),
            Step::Accept { .. } => ("承接", "accept"),
            Step::Return { .. } => ("退回", "return"),
            Step::AddProgress { .. } => ("填报办理进展", "add progress"),
            Step::ReportAssist { .. } => ("报送协办情况", "report assisting work"),
            Step::Complete { .. } => ("办结反馈", "complete"),
            Step::Rate { .. } => ("评价", "rate"),
            Step::AutoClose => ("自动办结", "auto-close"),
            Step::Urge { .. } => ("督办", "urge"),
            Step::MarkOverdue => ("标记超期", "mark overdue"),
            Step::EscalateSupervision { .. } => ("提级督办", "escalate supervision"),
        }
    }

    /// The free text the step carries (reason, result, note), for [`requires`] and the
    /// history.
    pub fn text(&self) -> Option<&str> {
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

    fn is_unsatisfied_rating(&self) -> bool {
        matches!(
            self,
            Step::Rate {
                satisfaction: Satisfaction::Unsatisfied,
                ..
            }
        )
    }
}

/// Every [`Step::name`]: the kinds of item events.
pub const STEP_NAMES: [&str; 18] = [
    "register",
    "decline",
    "merge",
    "resolve_on_spot",
    "forward",
    "escalate",
    "accept",
    "return",
    "add_progress",
    "report_assist",
    "complete",
    "rate_satisfied",
    "rate_basically_satisfied",
    "rate_unsatisfied",
    "auto_close",
    "urge",
    "mark_overdue",
    "escalate_supervision",
];

/// The step name `name` spells, if any.
pub fn step_name(name: &str) -> Option<&'static str> {
    STEP_NAMES.into_iter().find(|n| *n == name)
}

/// The configurable rules of the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Unsatisfied ratings allowed before the item is escalated to a supervisor.
    pub max_rounds: i32,
    /// Days to handle an accepted item, by urgency.
    pub deadlines: DeadlineRules,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            max_rounds: 2,
            deadlines: DeadlineRules::default(),
        }
    }
}

/// What a permitted transition does; the service turns it into column updates and one
/// history row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effect {
    pub from: PetitionState,
    pub to: PetitionState,
    /// `Rate(Unsatisfied)`: round + 1.
    pub next_round: bool,
    /// Supervision escalation level + 1 (`EscalateSupervision`, or an unsatisfied rating
    /// at round >= `max_rounds`). Not set by [`Step::Escalate`], which raises the
    /// *handling* level instead.
    pub escalate: bool,
    /// Reset `is_overdue`: the action sets a new deadline or leaves the states where a
    /// deadline runs.
    pub clears_overdue: bool,
    /// Stable snake_case name stored in the history ("register", "rate_unsatisfied", ...).
    pub action_name: &'static str,
}

/// Decides a transition. Errors: FORBIDDEN when none of `capacities` may ever take this
/// action; INVALID_TRANSITION when one of them may, but not from `state`.
pub fn apply(
    state: PetitionState,
    step: &Step,
    capacities: &[Capacity],
    round: i32,
    rules: &Rules,
) -> AppResult<Effect> {
    let permitted = allowed_capacities(step);
    if !capacities.iter().any(|c| permitted.contains(c)) {
        return Err(AppError::forbidden());
    }
    if !allowed_from(step).contains(&state) {
        return Err(invalid_transition(state, step));
    }
    let unsatisfied = step.is_unsatisfied_rating();
    Ok(Effect {
        from: state,
        to: target(state, step),
        next_round: unsatisfied,
        escalate: matches!(step, Step::EscalateSupervision { .. })
            || (unsatisfied && round >= rules.max_rounds),
        clears_overdue: clears_overdue(step),
        action_name: step.name(),
    })
}

/// Who may merge an item (into another).
pub const MAY_MERGE: &[Capacity] = &[Capacity::StationStaff];

/// Which capacities may take a step (from some state).
pub fn allowed_capacities(step: &Step) -> &'static [Capacity] {
    use Capacity as C;
    match step {
        Step::Merge { .. } => MAY_MERGE,
        Step::Register { .. } | Step::Decline { .. } | Step::Forward { .. } => &[C::StationStaff],
        Step::ResolveOnSpot { .. } => &[C::StationStaff, C::Deputy],
        Step::Escalate { .. } => &[C::StationStaff, C::LeadHandler],
        Step::Accept { .. } | Step::Return { .. } | Step::Complete { .. } => &[C::LeadHandler],
        Step::AddProgress { .. } => &[C::LeadHandler, C::AssistHandler],
        Step::ReportAssist { .. } => &[C::AssistHandler],
        Step::Rate { .. } => &[C::Submitter],
        Step::AutoClose | Step::MarkOverdue => &[C::System],
        Step::Urge { .. } => &[C::Supervisor],
        Step::EscalateSupervision { .. } => &[C::Supervisor, C::System],
    }
}

/// From which states a step may be taken.
pub fn allowed_from(step: &Step) -> &'static [PetitionState] {
    use PetitionState as S;
    match step {
        Step::Register { .. } => &[S::Submitted],
        Step::Decline { .. } | Step::Merge { .. } => &[S::Submitted, S::Registered],
        Step::ResolveOnSpot { .. } | Step::Forward { .. } => &[S::Registered],
        Step::Escalate { .. }
        | Step::Urge { .. }
        | Step::MarkOverdue
        | Step::EscalateSupervision { .. } => &[S::Forwarded, S::Accepted],
        Step::Accept { .. } | Step::Return { .. } => &[S::Forwarded],
        Step::AddProgress { .. } | Step::ReportAssist { .. } | Step::Complete { .. } => {
            &[S::Accepted]
        }
        Step::Rate { .. } | Step::AutoClose => &[S::Resolved],
    }
}

/// Terminal states: nothing at all happens after Closed, Declined or Merged.
pub fn is_terminal(state: PetitionState) -> bool {
    matches!(
        state,
        PetitionState::Closed | PetitionState::Declined | PetitionState::Merged
    )
}

/// The state after `step`, assuming it is allowed from `from`.
fn target(from: PetitionState, step: &Step) -> PetitionState {
    use PetitionState as S;
    match step {
        Step::Register { .. } | Step::Return { .. } => S::Registered,
        Step::Decline { .. } => S::Declined,
        Step::Merge { .. } => S::Merged,
        Step::ResolveOnSpot { .. } | Step::Complete { .. } => S::Resolved,
        Step::Forward { .. } | Step::Escalate { .. } => S::Forwarded,
        Step::Accept { .. } | Step::AddProgress { .. } | Step::ReportAssist { .. } => S::Accepted,
        Step::Rate { .. } if step.is_unsatisfied_rating() => S::Accepted,
        Step::Rate { .. } | Step::AutoClose => S::Closed,
        Step::Urge { .. } | Step::MarkOverdue | Step::EscalateSupervision { .. } => from,
    }
}

/// Accept, Urge and a new round start a fresh deadline; Return and Complete leave the
/// states where one runs; Escalate hands the item to a new department, whose deadline
/// starts when it accepts.
fn clears_overdue(step: &Step) -> bool {
    step.is_unsatisfied_rating()
        || matches!(
            step,
            Step::Accept { .. }
                | Step::Return { .. }
                | Step::Complete { .. }
                | Step::Urge { .. }
                | Step::Escalate { .. }
        )
}

/// (Chinese, English) wording for messages.
fn state_label(state: PetitionState) -> (&'static str, &'static str) {
    match state {
        PetitionState::Submitted => ("待登记", "submitted"),
        PetitionState::Registered => ("已登记", "registered"),
        PetitionState::Forwarded => ("已转办", "forwarded"),
        PetitionState::Accepted => ("办理中", "accepted"),
        PetitionState::Resolved => ("待评价", "resolved"),
        PetitionState::Closed => ("已办结", "closed"),
        PetitionState::Declined => ("不予受理", "declined"),
        PetitionState::Merged => ("已合并", "merged"),
    }
}

/// The snake_case name of a state, as the history and events record it.
pub fn state_name(state: PetitionState) -> &'static str {
    state_label(state).1
}

fn invalid_transition(state: PetitionState, step: &Step) -> AppError {
    let (state_zh, state_en) = state_label(state);
    let (action_zh, action_en) = step.label();
    AppError::InvalidTransition(format!(
        "当前状态为「{state_zh}」，不能{action_zh} (cannot {action_en}: the item is {state_en})"
    ))
}

/// Deadline rules (configurable days per urgency): accepted_at + days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeadlineRules {
    pub normal_days: i64,
    pub urgent_days: i64,
    pub critical_days: i64,
}

impl Default for DeadlineRules {
    fn default() -> Self {
        DeadlineRules {
            normal_days: 15,
            urgent_days: 7,
            critical_days: 3,
        }
    }
}

impl DeadlineRules {
    /// Days allowed for an item of this urgency; unclassified items count as Normal.
    pub fn days_for(&self, urgency: Option<Urgency>) -> i64 {
        match urgency {
            None | Some(Urgency::Normal) => self.normal_days,
            Some(Urgency::Urgent) => self.urgent_days,
            Some(Urgency::Critical) => self.critical_days,
        }
    }
}

/// `from` + the days for `urgency` (None = Normal).
pub fn deadline(
    urgency: Option<Urgency>,
    from: DateTime<Utc>,
    rules: &DeadlineRules,
) -> DateTime<Utc> {
    add_days(from, rules.days_for(urgency))
}

/// Negative day counts (a misconfiguration) count as zero; a sum beyond chrono's range
/// saturates rather than panics.
fn add_days(from: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    Duration::try_days(days.max(0))
        .and_then(|d| from.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Only Forwarded/Accepted items with a deadline strictly in the past are overdue:
/// exactly at the deadline is still on time.
pub fn is_overdue(
    state: PetitionState,
    deadline: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    matches!(state, PetitionState::Forwarded | PetitionState::Accepted)
        && deadline.is_some_and(|d| now > d)
}

/// A Resolved item left unrated is due for [`Step::AutoClose`] once `after_days` full
/// days have passed since `resolved_at` (due exactly at that instant).
pub fn auto_close_due(
    state: PetitionState,
    resolved_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    after_days: i64,
) -> bool {
    state == PetitionState::Resolved
        && resolved_at.is_some_and(|resolved| now >= add_days(resolved, after_days))
}

/// Longest reason, result or note accepted, in characters (not bytes).
pub const MAX_TEXT_CHARS: usize = 2000;

/// Text requirements: Decline/Return need a reason, Complete/ResolveOnSpot need a result,
/// Urge needs a note; non-empty after trim and at most [`MAX_TEXT_CHARS`] characters
/// (counted after trim: store the trimmed text). Other steps take an optional note,
/// held to the same length limit.
pub fn requires(step: &Step) -> AppResult<()> {
    text_rules(step, step.text())
}

fn text_rules(step: &Step, text: Option<&str>) -> AppResult<()> {
    let text = text.map(str::trim).unwrap_or("");
    let (field, what_zh, what_en) = match step {
        Step::Decline { .. } | Step::Return { .. } => ("reason", "理由", "a reason"),
        Step::Complete { .. } | Step::ResolveOnSpot { .. } => ("result", "办理结果", "a result"),
        Step::Urge { .. } => ("note", "督办意见", "a note"),
        _ => ("note", "备注", "a note"),
    };
    let required = matches!(
        step,
        Step::Decline { .. }
            | Step::Return { .. }
            | Step::Complete { .. }
            | Step::ResolveOnSpot { .. }
            | Step::Urge { .. }
    );
    if required && text.is_empty() {
        return Err(AppError::bad_input(
            field,
            format!("请填写{what_zh} ({what_en} is required)"),
        ));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::bad_input(
            field,
            format!(
                "{what_zh}不能超过{MAX_TEXT_CHARS}个字 ({field} must be at most {MAX_TEXT_CHARS} characters)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::TimeZone;
    use sea_orm::Iterable;

    use super::*;
    use Capacity as C;
    use PetitionState as S;

    pub(super) const ALL_STATES: [S; 8] = [
        S::Submitted,
        S::Registered,
        S::Forwarded,
        S::Accepted,
        S::Resolved,
        S::Closed,
        S::Declined,
        S::Merged,
    ];

    pub(super) const ALL_CAPACITIES: [C; 7] = [
        C::Submitter,
        C::Deputy,
        C::StationStaff,
        C::LeadHandler,
        C::AssistHandler,
        C::Supervisor,
        C::System,
    ];

    /// One step of every kind (and every rating), with texts that pass [`requires`].
    pub(super) fn all_steps() -> Vec<Step> {
        let note = || Some("备注".to_owned());
        let mut steps = vec![
            Step::Register {
                category_id: 5,
                urgency: Urgency::Urgent,
                handling_level: HandlingLevel::Township,
            },
            Step::Decline {
                reason: " 重复 ".into(),
            },
            Step::Merge {
                into_id: 99,
                note: note(),
            },
            Step::ResolveOnSpot {
                result: "已解决".into(),
            },
            Step::Forward {
                lead_department_id: 31,
                assist_department_ids: vec![33, 32, 33],
                note: note(),
            },
            Step::Escalate {
                department_id: 41,
                note: note(),
            },
            Step::Accept { note: None },
            Step::Return {
                reason: "不属本部门".into(),
            },
            Step::AddProgress {
                note: "进展".into(),
            },
            Step::ReportAssist {
                report: "协办情况".into(),
            },
            Step::Complete {
                result: "路灯已修复".into(),
            },
        ];
        steps.extend(Satisfaction::iter().map(rate));
        steps.extend([
            Step::AutoClose,
            Step::Urge {
                note: "尽快".into(),
                deadline: at(2100, 1, 1, 0, 0, 0),
            },
            Step::MarkOverdue,
            Step::EscalateSupervision { note: None },
        ]);
        steps
    }

    pub(super) fn rate(satisfaction: Satisfaction) -> Step {
        Step::Rate {
            satisfaction,
            comment: Some(" 还行 ".into()),
        }
    }

    pub(super) fn step_named(name: &str) -> Step {
        all_steps()
            .into_iter()
            .find(|s| s.name() == name)
            .expect("a step of that name")
    }

    /// Fails to compile when a variant is added, so the lists above get updated too.
    #[allow(dead_code)]
    fn lists_are_complete(c: Capacity, s: Step) {
        match c {
            C::Submitter
            | C::Deputy
            | C::StationStaff
            | C::LeadHandler
            | C::AssistHandler
            | C::Supervisor
            | C::System => {}
        }
        match s {
            Step::Register { .. }
            | Step::Decline { .. }
            | Step::Merge { .. }
            | Step::ResolveOnSpot { .. }
            | Step::Forward { .. }
            | Step::Escalate { .. }
            | Step::Accept { .. }
            | Step::Return { .. }
            | Step::AddProgress { .. }
            | Step::ReportAssist { .. }
            | Step::Complete { .. }
            | Step::Rate { .. }
            | Step::AutoClose
            | Step::Urge { .. }
            | Step::MarkOverdue
            | Step::EscalateSupervision { .. } => {}
        }
    }

    /// The specification, written out independently of the implementation.
    pub(super) struct Row {
        pub(super) step: Step,
        pub(super) capacities: &'static [Capacity],
        /// (from, to) pairs.
        pub(super) edges: &'static [(S, S)],
        pub(super) name: &'static str,
        pub(super) clears_overdue: bool,
    }

    pub(super) fn spec() -> Vec<Row> {
        vec![
            Row {
                step: step_named("register"),
                capacities: &[C::StationStaff],
                edges: &[(S::Submitted, S::Registered)],
                name: "register",
                clears_overdue: false,
            },
            Row {
                step: step_named("decline"),
                capacities: &[C::StationStaff],
                edges: &[(S::Submitted, S::Declined), (S::Registered, S::Declined)],
                name: "decline",
                clears_overdue: false,
            },
            Row {
                step: step_named("merge"),
                capacities: &[C::StationStaff],
                edges: &[(S::Submitted, S::Merged), (S::Registered, S::Merged)],
                name: "merge",
                clears_overdue: false,
            },
            Row {
                step: step_named("resolve_on_spot"),
                capacities: &[C::StationStaff, C::Deputy],
                edges: &[(S::Registered, S::Resolved)],
                name: "resolve_on_spot",
                clears_overdue: false,
            },
            Row {
                step: step_named("forward"),
                capacities: &[C::StationStaff],
                edges: &[(S::Registered, S::Forwarded)],
                name: "forward",
                clears_overdue: false,
            },
            Row {
                step: step_named("escalate"),
                capacities: &[C::StationStaff, C::LeadHandler],
                edges: &[(S::Forwarded, S::Forwarded), (S::Accepted, S::Forwarded)],
                name: "escalate",
                clears_overdue: true,
            },
            Row {
                step: step_named("accept"),
                capacities: &[C::LeadHandler],
                edges: &[(S::Forwarded, S::Accepted)],
                name: "accept",
                clears_overdue: true,
            },
            Row {
                step: step_named("return"),
                capacities: &[C::LeadHandler],
                edges: &[(S::Forwarded, S::Registered)],
                name: "return",
                clears_overdue: true,
            },
            Row {
                step: step_named("add_progress"),
                capacities: &[C::LeadHandler, C::AssistHandler],
                edges: &[(S::Accepted, S::Accepted)],
                name: "add_progress",
                clears_overdue: false,
            },
            Row {
                step: step_named("report_assist"),
                capacities: &[C::AssistHandler],
                edges: &[(S::Accepted, S::Accepted)],
                name: "report_assist",
                clears_overdue: false,
            },
            Row {
                step: step_named("complete"),
                capacities: &[C::LeadHandler],
                edges: &[(S::Accepted, S::Resolved)],
                name: "complete",
                clears_overdue: true,
            },
            Row {
                step: rate(Satisfaction::Satisfied),
                capacities: &[C::Submitter],
                edges: &[(S::Resolved, S::Closed)],
                name: "rate_satisfied",
                clears_overdue: false,
            },
            Row {
                step: rate(Satisfaction::BasicallySatisfied),
                capacities: &[C::Submitter],
                edges: &[(S::Resolved, S::Closed)],
                name: "rate_basically_satisfied",
                clears_overdue: false,
            },
            Row {
                step: rate(Satisfaction::Unsatisfied),
                capacities: &[C::Submitter],
                edges: &[(S::Resolved, S::Accepted)],
                name: "rate_unsatisfied",
                clears_overdue: true,
            },
            Row {
                step: step_named("auto_close"),
                capacities: &[C::System],
                edges: &[(S::Resolved, S::Closed)],
                name: "auto_close",
                clears_overdue: false,
            },
            Row {
                step: step_named("urge"),
                capacities: &[C::Supervisor],
                edges: &[(S::Forwarded, S::Forwarded), (S::Accepted, S::Accepted)],
                name: "urge",
                clears_overdue: true,
            },
            Row {
                step: step_named("mark_overdue"),
                capacities: &[C::System],
                edges: &[(S::Forwarded, S::Forwarded), (S::Accepted, S::Accepted)],
                name: "mark_overdue",
                clears_overdue: false,
            },
            Row {
                step: step_named("escalate_supervision"),
                capacities: &[C::Supervisor, C::System],
                edges: &[(S::Forwarded, S::Forwarded), (S::Accepted, S::Accepted)],
                name: "escalate_supervision",
                clears_overdue: false,
            },
        ]
    }

    pub(super) fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, s)
            .single()
            .expect("valid date")
    }

    #[test]
    fn the_lists_cover_every_variant() {
        assert_eq!(ALL_STATES.len(), S::iter().count());
        assert_eq!(
            ALL_STATES.iter().collect::<HashSet<_>>().len(),
            ALL_STATES.len()
        );
        let rated = all_steps()
            .iter()
            .filter(|s| matches!(s, Step::Rate { .. }))
            .count();
        assert_eq!(rated, Satisfaction::iter().count());
        let specified: Vec<Step> = spec().into_iter().map(|r| r.step).collect();
        assert_eq!(specified, all_steps());
    }

    #[test]
    fn every_state_action_and_single_capacity_matches_the_table() {
        let rules = Rules::default();
        let mut checked = 0;
        for row in spec() {
            for state in ALL_STATES {
                for capacity in ALL_CAPACITIES {
                    let case = format!("{state:?} {:?} as {capacity:?}", row.step);
                    let result = apply(state, &row.step, &[capacity], 1, &rules);
                    let edge = row.edges.iter().find(|(from, _)| *from == state);
                    match (row.capacities.contains(&capacity), edge) {
                        (false, _) => {
                            let err = result.expect_err(&case);
                            assert_eq!(err.code(), "FORBIDDEN", "{case}");
                        }
                        (true, None) => {
                            let err = result.expect_err(&case);
                            assert_eq!(err.code(), "INVALID_TRANSITION", "{case}");
                        }
                        (true, Some((from, to))) => {
                            let effect = result.expect(&case);
                            assert_eq!(effect.from, *from, "{case}");
                            assert_eq!(effect.to, *to, "{case}");
                            assert_eq!(effect.action_name, row.name, "{case}");
                            assert_eq!(effect.clears_overdue, row.clears_overdue, "{case}");
                            assert_eq!(effect.next_round, row.name == "rate_unsatisfied", "{case}");
                            // Round 1 under the default rules: only supervision escalates.
                            assert_eq!(
                                effect.escalate,
                                row.name == "escalate_supervision",
                                "{case}"
                            );
                        }
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 8 * 18 * 7);
    }

    #[test]
    fn the_lookup_functions_agree_with_the_table() {
        for row in spec() {
            let caps: HashSet<_> = allowed_capacities(&row.step).iter().copied().collect();
            assert_eq!(
                caps,
                row.capacities.iter().copied().collect(),
                "{:?}",
                row.step
            );
            let froms: HashSet<_> = allowed_from(&row.step).iter().copied().collect();
            assert_eq!(
                froms,
                row.edges.iter().map(|(from, _)| *from).collect(),
                "{:?}",
                row.step
            );
            assert_eq!(row.step.name(), row.name);
        }
    }

    #[test]
    fn step_names_list_every_action() {
        let listed: Vec<_> = all_steps().iter().map(Step::name).collect();
        assert_eq!(listed, STEP_NAMES.to_vec());
    }

    #[test]
    fn action_names_are_unique_snake_case() {
        let steps = all_steps();
        let names: HashSet<_> = steps.iter().map(Step::name).collect();
        assert_eq!(names.len(), steps.len());
        for name in names {
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
        }
    }

    #[test]
    fn terminal_states_accept_nothing() {
        let terminal: Vec<_> = ALL_STATES.into_iter().filter(|s| is_terminal(*s)).collect();
        assert_eq!(terminal, vec![S::Closed, S::Declined, S::Merged]);
        for state in terminal {
            for action in all_steps() {
                let err = apply(state, &action, &ALL_CAPACITIES, 1, &Rules::default())
                    .expect_err("terminal");
                assert_eq!(err.code(), "INVALID_TRANSITION", "{state:?} {action:?}");
            }
        }
    }

    #[test]
    fn every_open_state_has_a_way_forward() {
        for state in ALL_STATES.into_iter().filter(|s| !is_terminal(*s)) {
            let moves = all_steps().iter().any(|action| {
                apply(state, action, &ALL_CAPACITIES, 1, &Rules::default())
                    .is_ok_and(|e| e.to != state)
            });
            assert!(moves, "{state:?} is a dead end");
        }
    }

    #[test]
    fn unsatisfied_ratings_reopen_and_escalate_after_max_rounds() {
        let unsatisfied = rate(Satisfaction::Unsatisfied);
        let rules = Rules {
            max_rounds: 2,
            ..Rules::default()
        };
        assert_eq!(Rules::default(), rules);

        let first = apply(S::Resolved, &unsatisfied, &[C::Submitter], 1, &rules).expect("round 1");
        assert_eq!(first.to, S::Accepted);
        assert!(first.next_round);
        assert!(!first.escalate);
        assert_eq!(first.action_name, "rate_unsatisfied");

        let second = apply(S::Resolved, &unsatisfied, &[C::Submitter], 2, &rules).expect("round 2");
        assert_eq!(second.to, S::Accepted);
        assert!(second.next_round);
        assert!(second.escalate);

        let later = apply(S::Resolved, &unsatisfied, &[C::Submitter], 5, &rules).expect("round 5");
        assert!(later.next_round && later.escalate);

        let strict = Rules {
            max_rounds: 1,
            ..Rules::default()
        };
        let at_once = apply(S::Resolved, &unsatisfied, &[C::Submitter], 1, &strict).expect("max 1");
        assert!(at_once.next_round && at_once.escalate);

        for satisfaction in [Satisfaction::Satisfied, Satisfaction::BasicallySatisfied] {
            for round in [1, 2, 9] {
                let effect = apply(
                    S::Resolved,
                    &rate(satisfaction),
                    &[C::Submitter],
                    round,
                    &rules,
                )
                .expect("satisfied");
                assert_eq!(effect.to, S::Closed);
                assert!(!effect.next_round && !effect.escalate, "{satisfaction:?}");
            }
        }
    }

    #[test]
    fn supervision_escalates_in_any_round_and_nothing_else_does() {
        for round in [1, 2, 7] {
            let effect = apply(
                S::Accepted,
                &step_named("escalate_supervision"),
                &[C::System],
                round,
                &Rules::default(),
            )
            .expect("escalate");
            assert!(effect.escalate && !effect.next_round);
            assert_eq!(effect.to, S::Accepted);
        }
        let handling = apply(
            S::Accepted,
            &step_named("escalate"),
            &[C::LeadHandler],
            3,
            &Rules::default(),
        )
        .expect("escalate handling level");
        assert!(!handling.escalate);
        assert_eq!(handling.to, S::Forwarded);
    }

    #[test]
    fn several_capacities_pass_if_any_fits() {
        let rules = Rules::default();
        for caps in [
            &[C::Submitter, C::StationStaff][..],
            &[C::StationStaff, C::Submitter][..],
            &[C::Deputy, C::Supervisor, C::StationStaff][..],
        ] {
            let effect =
                apply(S::Submitted, &step_named("register"), caps, 1, &rules).expect("any fits");
            assert_eq!(effect.to, S::Registered);
        }
        // A deputy who also submitted the item may rate it.
        let effect = apply(
            S::Resolved,
            &rate(Satisfaction::Satisfied),
            &[C::Deputy, C::Submitter],
            1,
            &rules,
        )
        .expect("deputy submitter");
        assert_eq!(effect.to, S::Closed);

        let none_fits = apply(
            S::Submitted,
            &step_named("register"),
            &[C::Deputy, C::Supervisor, C::System],
            1,
            &rules,
        )
        .expect_err("none fits");
        assert_eq!(none_fits.code(), "FORBIDDEN");

        let empty =
            apply(S::Submitted, &step_named("register"), &[], 1, &rules).expect_err("empty");
        assert_eq!(empty.code(), "FORBIDDEN");

        // One capacity could accept, just not now.
        let wrong_state = apply(
            S::Registered,
            &step_named("accept"),
            &[C::Submitter, C::LeadHandler],
            1,
            &rules,
        )
        .expect_err("wrong state");
        assert_eq!(wrong_state.code(), "INVALID_TRANSITION");
    }

    #[test]
    fn forbidden_is_reported_before_the_state_is_looked_at() {
        let err = apply(
            S::Closed,
            &step_named("accept"),
            &[C::Supervisor],
            1,
            &Rules::default(),
        )
        .expect_err("forbidden");
        assert_eq!(err.code(), "FORBIDDEN");
        assert_eq!(err, AppError::forbidden());
    }

    #[test]
    fn invalid_transition_messages_are_bilingual() {
        let err = apply(
            S::Closed,
            &rate(Satisfaction::Unsatisfied),
            &[C::Submitter],
            1,
            &Rules::default(),
        )
        .expect_err("closed");
        assert_eq!(
            err.public_message(),
            "当前状态为「已办结」，不能评价 (cannot rate: the item is closed)"
        );
    }

    #[test]
    fn deadlines_follow_urgency() {
        let accepted = at(2025, 3, 1, 9, 30, 0);
        let rules = DeadlineRules::default();
        assert_eq!(
            rules,
            DeadlineRules {
                normal_days: 15,
                urgent_days: 7,
                critical_days: 3
            }
        );
        assert_eq!(deadline(None, accepted, &rules), at(2025, 3, 16, 9, 30, 0));
        assert_eq!(
            deadline(Some(Urgency::Normal), accepted, &rules),
            at(2025, 3, 16, 9, 30, 0)
        );
        assert_eq!(
            deadline(Some(Urgency::Urgent), accepted, &rules),
            at(2025, 3, 8, 9, 30, 0)
        );
        assert_eq!(
            deadline(Some(Urgency::Critical), accepted, &rules),
            at(2025, 3, 4, 9, 30, 0)
        );

        let custom = DeadlineRules {
            normal_days: 30,
            urgent_days: 10,
            critical_days: 1,
        };
        assert_eq!(deadline(None, accepted, &custom), at(2025, 3, 31, 9, 30, 0));
        assert_eq!(
            deadline(Some(Urgency::Urgent), accepted, &custom),
            at(2025, 3, 11, 9, 30, 0)
        );
        assert_eq!(
            deadline(Some(Urgency::Critical), accepted, &custom),
            at(2025, 3, 2, 9, 30, 0)
        );
    }

    #[test]
    fn deadlines_never_panic_on_odd_configuration() {
        let accepted = at(2025, 3, 1, 9, 30, 0);
        let negative = DeadlineRules {
            normal_days: -5,
            urgent_days: 0,
            critical_days: i64::MAX,
        };
        assert_eq!(deadline(None, accepted, &negative), accepted);
        assert_eq!(
            deadline(Some(Urgency::Urgent), accepted, &negative),
            accepted
        );
        assert_eq!(
            deadline(Some(Urgency::Critical), accepted, &negative),
            DateTime::<Utc>::MAX_UTC
        );
    }

    #[test]
    fn overdue_only_strictly_after_the_deadline_while_being_handled() {
        let due = at(2025, 3, 16, 9, 30, 0);
        let one_second = Duration::seconds(1);
        for state in [S::Forwarded, S::Accepted] {
            assert!(!is_overdue(state, Some(due), due - one_second), "{state:?}");
            assert!(!is_overdue(state, Some(due), due), "{state:?}");
            assert!(is_overdue(state, Some(due), due + one_second), "{state:?}");
            assert!(!is_overdue(state, None, due + one_second), "{state:?}");
        }
        for state in ALL_STATES
            .into_iter()
            .filter(|s| !matches!(s, S::Forwarded | S::Accepted))
        {
            assert!(
                !is_overdue(state, Some(due), due + Duration::days(365)),
                "{state:?}"
            );
        }
    }

    #[test]
    fn auto_close_is_due_once_the_period_has_passed() {
        let resolved = at(2025, 4, 1, 12, 0, 0);
        let due = at(2025, 4, 8, 12, 0, 0);
        let one_second = Duration::seconds(1);
        assert!(!auto_close_due(
            S::Resolved,
            Some(resolved),
            due - one_second,
            7
        ));
        assert!(auto_close_due(S::Resolved, Some(resolved), due, 7));
        assert!(auto_close_due(
            S::Resolved,
            Some(resolved),
            due + one_second,
            7
        ));
        assert!(!auto_close_due(S::Resolved, None, due + one_second, 7));
        assert!(auto_close_due(S::Resolved, Some(resolved), resolved, 0));
        assert!(!auto_close_due(S::Resolved, Some(resolved), due, i64::MAX));
        for state in ALL_STATES.into_iter().filter(|s| *s != S::Resolved) {
            assert!(
                !auto_close_due(state, Some(resolved), due + Duration::days(30), 7),
                "{state:?}"
            );
        }
    }

    #[test]
    fn required_texts_must_be_present() {
        let cases = [
            (step_named("decline"), "reason"),
            (step_named("return"), "reason"),
            (step_named("complete"), "result"),
            (step_named("resolve_on_spot"), "result"),
            (step_named("urge"), "note"),
        ];
        for (action, field) in cases.clone() {
            for missing in [None, Some(""), Some("   "), Some("\n\t　")] {
                let err = text_rules(&action, missing).expect_err("missing");
                assert_eq!(err.code(), "BAD_USER_INPUT", "{action:?} {missing:?}");
                assert_eq!(
                    err,
                    AppError::bad_input(field, err.public_message().to_owned()),
                    "{action:?}"
                );
                assert!(err.public_message().contains(" is required)"));
            }
            assert_eq!(
                text_rules(&action, Some("  路灯已修复  ")),
                Ok(()),
                "{action:?}"
            );
        }
        for action in all_steps()
            .into_iter()
            .filter(|a| !cases.iter().any(|(c, _)| c == a))
        {
            assert_eq!(text_rules(&action, None), Ok(()), "{action:?}");
            assert_eq!(text_rules(&action, Some(" ")), Ok(()), "{action:?}");
            assert_eq!(text_rules(&action, Some("进展")), Ok(()), "{action:?}");
        }
    }

    #[test]
    fn texts_are_limited_to_2000_characters() {
        let longest = "修".repeat(MAX_TEXT_CHARS);
        let too_long = "修".repeat(MAX_TEXT_CHARS + 1);
        let padded = format!("  {longest}\n");
        for (action, field) in [
            (step_named("decline"), "reason"),
            (step_named("return"), "reason"),
            (step_named("complete"), "result"),
            (step_named("resolve_on_spot"), "result"),
            (step_named("urge"), "note"),
            (step_named("add_progress"), "note"),
            (rate(Satisfaction::Unsatisfied), "note"),
        ] {
            assert_eq!(text_rules(&action, Some(&longest)), Ok(()), "{action:?}");
            assert_eq!(text_rules(&action, Some(&padded)), Ok(()), "{action:?}");
            let err = text_rules(&action, Some(&too_long)).expect_err("too long");
            assert_eq!(err.code(), "BAD_USER_INPUT");
            assert_eq!(
                err,
                AppError::bad_input(field, err.public_message().to_owned()),
                "{action:?}"
            );
        }
    }
}
