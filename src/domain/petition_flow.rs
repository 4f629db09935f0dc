//! The closed loop (闭环) of an opinion item (社情民意, `Petition` in the API) as a pure
//! state machine: collected → registered in the station ledger → forwarded → accepted by
//! the department → result fed back → rated by the citizen; around it decline, merge,
//! return, escalation, urging (督办) and overdue tracking.
//!
//! Nothing here touches the database. The service layer works out in which
//! [`Capacity`] the actor stands towards the item, validates the text with [`requires`],
//! asks [`apply`] for the [`Effect`], and writes the row and the history entry.
use chrono::{DateTime, Duration, Utc};
use entity::{PetitionState, Satisfaction, Urgency};

use crate::error::{AppError, AppResult};

/// Who the acting party is *in relation to this item* (the service layer works this out).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capacity {
    /// The citizen who submitted the item (or who follows it with its secret).
    Submitter,
    /// A deputy; for [`Action::ResolveOnSpot`] the service grants this only to the
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Staff: Submitted → Registered (category/urgency/level are validated by the service).
    Register,
    /// Staff: Submitted|Registered → Declined (reason required).
    Decline,
    /// Staff: Submitted|Registered → Merged (into another item).
    Merge,
    /// Staff or the addressed Deputy: Registered → Resolved (closed at station level).
    ResolveOnSpot,
    /// Staff: Registered → Forwarded (to a department, lead + optional assisting).
    Forward,
    /// Staff, or the LeadHandler of a township-level department (the service checks the
    /// level): Forwarded|Accepted → Forwarded to the next level up.
    Escalate,
    /// LeadHandler: Forwarded → Accepted (deadline set from urgency).
    Accept,
    /// LeadHandler: Forwarded → Registered (back to the forwarder, reason required).
    Return,
    /// LeadHandler or AssistHandler: Accepted → Accepted.
    AddProgress,
    /// AssistHandler: Accepted → Accepted (its part of a joint item).
    ReportAssist,
    /// LeadHandler: Accepted → Resolved (result required).
    Complete,
    /// Submitter: Resolved → Closed when (basically) satisfied; Unsatisfied reopens the
    /// item as Accepted for the next round (重办).
    Rate(Satisfaction),
    /// System: Resolved → Closed (unrated after the configured period).
    AutoClose,
    /// Supervisor: Forwarded|Accepted → same state (note + new deadline).
    Urge,
    /// System: Forwarded|Accepted → same state.
    MarkOverdue,
    /// Supervisor or System: Forwarded|Accepted → same state (escalation level + 1).
    EscalateSupervision,
}

impl Action {
    /// Stable snake_case name stored in the history (`petition_event.action`).
    pub fn name(&self) -> &'static str {
        match self {
            Action::Register => "register",
            Action::Decline => "decline",
            Action::Merge => "merge",
            Action::ResolveOnSpot => "resolve_on_spot",
            Action::Forward => "forward",
            Action::Escalate => "escalate",
            Action::Accept => "accept",
            Action::Return => "return",
            Action::AddProgress => "add_progress",
            Action::ReportAssist => "report_assist",
            Action::Complete => "complete",
            Action::Rate(Satisfaction::Satisfied) => "rate_satisfied",
            Action::Rate(Satisfaction::BasicallySatisfied) => "rate_basically_satisfied",
            Action::Rate(Satisfaction::Unsatisfied) => "rate_unsatisfied",
            Action::AutoClose => "auto_close",
            Action::Urge => "urge",
            Action::MarkOverdue => "mark_overdue",
            Action::EscalateSupervision => "escalate_supervision",
        }
    }

    /// (Chinese, English) wording for messages.
    fn label(&self) -> (&'static str, &'static str) {
        match self {
            Action::Register => ("登记建账", "register"),
            Action::Decline => ("不予受理", "decline"),
            Action::Merge => ("合并", "merge"),
            Action::ResolveOnSpot => ("就地办结", "resolve on the spot"),
            Action::Forward => ("转办", "forward"),
            Action::Escalate => ("提级转办", "escalate"),
            Action::Accept => ("承接", "accept"),
            Action::Return => ("退回", "return"),
            Action::AddProgress => ("填报办理进展", "add progress"),
            Action::ReportAssist => ("报送协办情况", "report assisting work"),
            Action::Complete => ("办结反馈", "complete"),
            Action::Rate(_) => ("评价", "rate"),
            Action::AutoClose => ("自动办结", "auto-close"),
            Action::Urge => ("督办", "urge"),
            Action::MarkOverdue => ("标记超期", "mark overdue"),
            Action::EscalateSupervision => ("提级督办", "escalate supervision"),
        }
    }
}

/// Every step's [`Action::name`], the kinds of item events.
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

/// Unsatisfied ratings allowed before the item is escalated to a supervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    pub max_rounds: i32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules { max_rounds: 2 }
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
    /// at round >= `max_rounds`). Not set by [`Action::Escalate`], which raises the
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
    action: &Action,
    capacities: &[Capacity],
    round: i32,
    rules: &Rules,
) -> AppResult<Effect> {
    let permitted = allowed_capacities(action);
    if !capacities.iter().any(|c| permitted.contains(c)) {
        return Err(AppError::forbidden());
    }
    if !allowed_from(action).contains(&state) {
        return Err(invalid_transition(state, action));
    }
    let unsatisfied = matches!(action, Action::Rate(Satisfaction::Unsatisfied));
    Ok(Effect {
        from: state,
        to: target(state, action),
        next_round: unsatisfied,
        escalate: matches!(action, Action::EscalateSupervision)
            || (unsatisfied && round >= rules.max_rounds),
        clears_overdue: clears_overdue(action),
        action_name: action.name(),
    })
}

/// Which capacities may take an action (from some state).
pub fn allowed_capacities(action: &Action) -> &'static [Capacity] {
    use Capacity as C;
    match action {
        Action::Register | Action::Decline | Action::Merge | Action::Forward => &[C::StationStaff],
        Action::ResolveOnSpot => &[C::StationStaff, C::Deputy],
        Action::Escalate => &[C::StationStaff, C::LeadHandler],
        Action::Accept | Action::Return | Action::Complete => &[C::LeadHandler],
        Action::AddProgress => &[C::LeadHandler, C::AssistHandler],
        Action::ReportAssist => &[C::AssistHandler],
        Action::Rate(_) => &[C::Submitter],
        Action::AutoClose | Action::MarkOverdue => &[C::System],
        Action::Urge => &[C::Supervisor],
        Action::EscalateSupervision => &[C::Supervisor, C::System],
    }
}

/// From which states an action may be taken.
pub fn allowed_from(action: &Action) -> &'static [PetitionState] {
    use PetitionState as S;
    match action {
        Action::Register => &[S::Submitted],
        Action::Decline | Action::Merge => &[S::Submitted, S::Registered],
        Action::ResolveOnSpot | Action::Forward => &[S::Registered],
        Action::Escalate | Action::Urge | Action::MarkOverdue | Action::EscalateSupervision => {
            &[S::Forwarded, S::Accepted]
        }
        Action::Accept | Action::Return => &[S::Forwarded],
        Action::AddProgress | Action::ReportAssist | Action::Complete => &[S::Accepted],
        Action::Rate(_) | Action::AutoClose => &[S::Resolved],
    }
}

/// Terminal states: nothing at all happens after Closed, Declined or Merged.
pub fn is_terminal(state: PetitionState) -> bool {
    matches!(
        state,
        PetitionState::Closed | PetitionState::Declined | PetitionState::Merged
    )
}

/// The state after `action`, assuming it is allowed from `from`.
fn target(from: PetitionState, action: &Action) -> PetitionState {
    use PetitionState as S;
    match action {
        Action::Register | Action::Return => S::Registered,
        Action::Decline => S::Declined,
        Action::Merge => S::Merged,
        Action::ResolveOnSpot | Action::Complete => S::Resolved,
        Action::Forward | Action::Escalate => S::Forwarded,
        Action::Accept | Action::AddProgress | Action::ReportAssist => S::Accepted,
        Action::Rate(Satisfaction::Unsatisfied) => S::Accepted,
        Action::Rate(Satisfaction::Satisfied | Satisfaction::BasicallySatisfied)
        | Action::AutoClose => S::Closed,
        Action::Urge | Action::MarkOverdue | Action::EscalateSupervision => from,
    }
}

/// Accept, Urge and a new round start a fresh deadline; Return and Complete leave the
/// states where one runs; Escalate hands the item to a new department, whose deadline
/// starts when it accepts.
fn clears_overdue(action: &Action) -> bool {
    matches!(
        action,
        Action::Accept
            | Action::Return
            | Action::Complete
            | Action::Urge
            | Action::Escalate
            | Action::Rate(Satisfaction::Unsatisfied)
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

fn invalid_transition(state: PetitionState, action: &Action) -> AppError {
    let (state_zh, state_en) = state_label(state);
    let (action_zh, action_en) = action.label();
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

/// A Resolved item left unrated is due for [`Action::AutoClose`] once `after_days` full
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
/// (counted after trim: store the trimmed text). Other actions take an optional note,
/// held to the same length limit.
pub fn requires(action: &Action, text: Option<&str>) -> AppResult<()> {
    let text = text.map(str::trim).unwrap_or("");
    let (field, what_zh, what_en) = match action {
        Action::Decline | Action::Return => ("reason", "理由", "a reason"),
        Action::Complete | Action::ResolveOnSpot => ("result", "办理结果", "a result"),
        Action::Urge => ("note", "督办意见", "a note"),
        _ => ("note", "备注", "a note"),
    };
    let required = matches!(
        action,
        Action::Decline | Action::Return | Action::Complete | Action::ResolveOnSpot | Action::Urge
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

    const ALL_STATES: [S; 8] = [
        S::Submitted,
        S::Registered,
        S::Forwarded,
        S::Accepted,
        S::Resolved,
        S::Closed,
        S::Declined,
        S::Merged,
    ];

    const ALL_CAPACITIES: [C; 7] = [
        C::Submitter,
        C::Deputy,
        C::StationStaff,
        C::LeadHandler,
        C::AssistHandler,
        C::Supervisor,
        C::System,
    ];

    const ALL_ACTIONS: [Action; 18] = [
        Action::Register,
        Action::Decline,
        Action::Merge,
        Action::ResolveOnSpot,
        Action::Forward,
        Action::Escalate,
        Action::Accept,
        Action::Return,
        Action::AddProgress,
        Action::ReportAssist,
        Action::Complete,
        Action::Rate(Satisfaction::Satisfied),
        Action::Rate(Satisfaction::BasicallySatisfied),
        Action::Rate(Satisfaction::Unsatisfied),
        Action::AutoClose,
        Action::Urge,
        Action::MarkOverdue,
        Action::EscalateSupervision,
    ];

    /// Fails to compile when a variant is added, so the lists above get updated too.
    #[allow(dead_code)]
    fn lists_are_complete(c: Capacity, a: Action) {
        match c {
            C::Submitter
            | C::Deputy
            | C::StationStaff
            | C::LeadHandler
            | C::AssistHandler
            | C::Supervisor
            | C::System => {}
        }
        match a {
            Action::Register
            | Action::Decline
            | Action::Merge
            | Action::ResolveOnSpot
            | Action::Forward
            | Action::Escalate
            | Action::Accept
            | Action::Return
            | Action::AddProgress
            | Action::ReportAssist
            | Action::Complete
            | Action::Rate(
                Satisfaction::Satisfied
                | Satisfaction::BasicallySatisfied
                | Satisfaction::Unsatisfied,
            )
            | Action::AutoClose
            | Action::Urge
            | Action::MarkOverdue
            | Action::EscalateSupervision => {}
        }
    }

    /// The specification, written out independently of the implementation.
    struct Row {
        action: Action,
        capacities: &'static [Capacity],
        /// (from, to) pairs.
        edges: &'static [(S, S)],
        name: &'static str,
        clears_overdue: bool,
    }

    fn spec() -> Vec<Row> {
        vec![
            Row {
                action: Action::Register,
                capacities: &[C::StationStaff],
                edges: &[(S::Submitted, S::Registered)],
                name: "register",
                clears_overdue: false,
            },
            Row {
                action: Action::Decline,
                capacities: &[C::StationStaff],
                edges: &[(S::Submitted, S::Declined), (S::Registered, S::Declined)],
                name: "decline",
                clears_overdue: false,
            },
            Row {
                action: Action::Merge,
                capacities: &[C::StationStaff],
                edges: &[(S::Submitted, S::Merged), (S::Registered, S::Merged)],
                name: "merge",
                clears_overdue: false,
            },
            Row {
                action: Action::ResolveOnSpot,
                capacities: &[C::StationStaff, C::Deputy],
                edges: &[(S::Registered, S::Resolved)],
                name: "resolve_on_spot",
                clears_overdue: false,
            },
            Row {
                action: Action::Forward,
                capacities: &[C::StationStaff],
                edges: &[(S::Registered, S::Forwarded)],
                name: "forward",
                clears_overdue: false,
            },
            Row {
                action: Action::Escalate,
                capacities: &[C::StationStaff, C::LeadHandler],
                edges: &[(S::Forwarded, S::Forwarded), (S::Accepted, S::Forwarded)],
                name: "escalate",
                clears_overdue: true,
            },
            Row {
                action: Action::Accept,
                capacities: &[C::LeadHandler],
                edges: &[(S::Forwarded, S::Accepted)],
                name: "accept",
                clears_overdue: true,
            },
            Row {
                action: Action::Return,
                capacities: &[C::LeadHandler],
                edges: &[(S::Forwarded, S::Registered)],
                name: "return",
                clears_overdue: true,
            },
            Row {
                action: Action::AddProgress,
                capacities: &[C::LeadHandler, C::AssistHandler],
                edges: &[(S::Accepted, S::Accepted)],
                name: "add_progress",
                clears_overdue: false,
            },
            Row {
                action: Action::ReportAssist,
                capacities: &[C::AssistHandler],
                edges: &[(S::Accepted, S::Accepted)],
                name: "report_assist",
                clears_overdue: false,
            },
            Row {
                action: Action::Complete,
                capacities: &[C::LeadHandler],
                edges: &[(S::Accepted, S::Resolved)],
                name: "complete",
                clears_overdue: true,
            },
            Row {
                action: Action::Rate(Satisfaction::Satisfied),
                capacities: &[C::Submitter],
                edges: &[(S::Resolved, S::Closed)],
                name: "rate_satisfied",
                clears_overdue: false,
            },
            Row {
                action: Action::Rate(Satisfaction::BasicallySatisfied),
                capacities: &[C::Submitter],
                edges: &[(S::Resolved, S::Closed)],
                name: "rate_basically_satisfied",
                clears_overdue: false,
            },
            Row {
                action: Action::Rate(Satisfaction::Unsatisfied),
                capacities: &[C::Submitter],
                edges: &[(S::Resolved, S::Accepted)],
                name: "rate_unsatisfied",
                clears_overdue: true,
            },
            Row {
                action: Action::AutoClose,
                capacities: &[C::System],
                edges: &[(S::Resolved, S::Closed)],
                name: "auto_close",
                clears_overdue: false,
            },
            Row {
                action: Action::Urge,
                capacities: &[C::Supervisor],
                edges: &[(S::Forwarded, S::Forwarded), (S::Accepted, S::Accepted)],
                name: "urge",
                clears_overdue: true,
            },
            Row {
                action: Action::MarkOverdue,
                capacities: &[C::System],
                edges: &[(S::Forwarded, S::Forwarded), (S::Accepted, S::Accepted)],
                name: "mark_overdue",
                clears_overdue: false,
            },
            Row {
                action: Action::EscalateSupervision,
                capacities: &[C::Supervisor, C::System],
                edges: &[(S::Forwarded, S::Forwarded), (S::Accepted, S::Accepted)],
                name: "escalate_supervision",
                clears_overdue: false,
            },
        ]
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
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
        assert_eq!(
            ALL_ACTIONS.iter().collect::<HashSet<_>>().len(),
            ALL_ACTIONS.len()
        );
        let rated: HashSet<_> = ALL_ACTIONS
            .iter()
            .filter_map(|a| match a {
                Action::Rate(s) => Some(*s),
                _ => None,
            })
            .collect();
        assert_eq!(rated.len(), Satisfaction::iter().count());
        let specified: Vec<Action> = spec().iter().map(|r| r.action).collect();
        assert_eq!(specified, ALL_ACTIONS.to_vec());
    }

    #[test]
    fn every_state_action_and_single_capacity_matches_the_table() {
        let rules = Rules::default();
        let mut checked = 0;
        for row in spec() {
            for state in ALL_STATES {
                for capacity in ALL_CAPACITIES {
                    let case = format!("{state:?} {:?} as {capacity:?}", row.action);
                    let result = apply(state, &row.action, &[capacity], 1, &rules);
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
                            assert_eq!(
                                effect.next_round,
                                row.action == Action::Rate(Satisfaction::Unsatisfied),
                                "{case}"
                            );
                            // Round 1 under the default rules: only supervision escalates.
                            assert_eq!(
                                effect.escalate,
                                row.action == Action::EscalateSupervision,
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
            let caps: HashSet<_> = allowed_capacities(&row.action).iter().copied().collect();
            assert_eq!(
                caps,
                row.capacities.iter().copied().collect(),
                "{:?}",
                row.action
            );
            let froms: HashSet<_> = allowed_from(&row.action).iter().copied().collect();
            assert_eq!(
                froms,
                row.edges.iter().map(|(from, _)| *from).collect(),
                "{:?}",
                row.action
            );
            assert_eq!(row.action.name(), row.name);
        }
    }

    #[test]
    fn step_names_list_every_action() {
        let listed: Vec<_> = ALL_ACTIONS.iter().map(Action::name).collect();
        assert_eq!(listed, STEP_NAMES.to_vec());
    }

    #[test]
    fn action_names_are_unique_snake_case() {
        let names: HashSet<_> = ALL_ACTIONS.iter().map(Action::name).collect();
        assert_eq!(names.len(), ALL_ACTIONS.len());
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
            for action in ALL_ACTIONS {
                let err = apply(state, &action, &ALL_CAPACITIES, 1, &Rules::default())
                    .expect_err("terminal");
                assert_eq!(err.code(), "INVALID_TRANSITION", "{state:?} {action:?}");
            }
        }
    }

    #[test]
    fn every_open_state_has_a_way_forward() {
        for state in ALL_STATES.into_iter().filter(|s| !is_terminal(*s)) {
            let moves = ALL_ACTIONS.iter().any(|action| {
                apply(state, action, &ALL_CAPACITIES, 1, &Rules::default())
                    .is_ok_and(|e| e.to != state)
            });
            assert!(moves, "{state:?} is a dead end");
        }
    }

    #[test]
    fn unsatisfied_ratings_reopen_and_escalate_after_max_rounds() {
        let unsatisfied = Action::Rate(Satisfaction::Unsatisfied);
        let rules = Rules { max_rounds: 2 };
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

        let strict = Rules { max_rounds: 1 };
        let at_once = apply(S::Resolved, &unsatisfied, &[C::Submitter], 1, &strict).expect("max 1");
        assert!(at_once.next_round && at_once.escalate);

        for satisfaction in [Satisfaction::Satisfied, Satisfaction::BasicallySatisfied] {
            for round in [1, 2, 9] {
                let effect = apply(
                    S::Resolved,
                    &Action::Rate(satisfaction),
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
                &Action::EscalateSupervision,
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
            &Action::Escalate,
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
            let effect = apply(S::Submitted, &Action::Register, caps, 1, &rules).expect("any fits");
            assert_eq!(effect.to, S::Registered);
        }
        // A deputy who also submitted the item may rate it.
        let effect = apply(
            S::Resolved,
            &Action::Rate(Satisfaction::Satisfied),
            &[C::Deputy, C::Submitter],
            1,
            &rules,
        )
        .expect("deputy submitter");
        assert_eq!(effect.to, S::Closed);

        let none_fits = apply(
            S::Submitted,
            &Action::Register,
            &[C::Deputy, C::Supervisor, C::System],
            1,
            &rules,
        )
        .expect_err("none fits");
        assert_eq!(none_fits.code(), "FORBIDDEN");

        let empty = apply(S::Submitted, &Action::Register, &[], 1, &rules).expect_err("empty");
        assert_eq!(empty.code(), "FORBIDDEN");

        // One capacity could accept, just not now.
        let wrong_state = apply(
            S::Registered,
            &Action::Accept,
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
            &Action::Accept,
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
            &Action::Rate(Satisfaction::Unsatisfied),
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
            (Action::Decline, "reason"),
            (Action::Return, "reason"),
            (Action::Complete, "result"),
            (Action::ResolveOnSpot, "result"),
            (Action::Urge, "note"),
        ];
        for (action, field) in cases {
            for missing in [None, Some(""), Some("   "), Some("\n\t　")] {
                let err = requires(&action, missing).expect_err("missing");
                assert_eq!(err.code(), "BAD_USER_INPUT", "{action:?} {missing:?}");
                assert_eq!(
                    err,
                    AppError::bad_input(field, err.public_message().to_owned()),
                    "{action:?}"
                );
                assert!(err.public_message().contains(" is required)"));
            }
            assert_eq!(
                requires(&action, Some("  路灯已修复  ")),
                Ok(()),
                "{action:?}"
            );
        }
        for action in ALL_ACTIONS
            .into_iter()
            .filter(|a| !cases.iter().any(|(c, _)| c == a))
        {
            assert_eq!(requires(&action, None), Ok(()), "{action:?}");
            assert_eq!(requires(&action, Some(" ")), Ok(()), "{action:?}");
            assert_eq!(requires(&action, Some("进展")), Ok(()), "{action:?}");
        }
    }

    #[test]
    fn texts_are_limited_to_2000_characters() {
        let longest = "修".repeat(MAX_TEXT_CHARS);
        let too_long = "修".repeat(MAX_TEXT_CHARS + 1);
        let padded = format!("  {longest}\n");
        for (action, field) in [
            (Action::Decline, "reason"),
            (Action::Return, "reason"),
            (Action::Complete, "result"),
            (Action::ResolveOnSpot, "result"),
            (Action::Urge, "note"),
            (Action::AddProgress, "note"),
            (Action::Rate(Satisfaction::Unsatisfied), "note"),
        ] {
            assert_eq!(requires(&action, Some(&longest)), Ok(()), "{action:?}");
            assert_eq!(requires(&action, Some(&padded)), Ok(()), "{action:?}");
            let err = requires(&action, Some(&too_long)).expect_err("too long");
            assert_eq!(err.code(), "BAD_USER_INPUT");
            assert_eq!(
                err,
                AppError::bad_input(field, err.public_message().to_owned()),
                "{action:?}"
            );
        }
    }
}
