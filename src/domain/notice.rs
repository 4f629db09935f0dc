//! Who is told what (issue 15's table): from one committed domain event and what the
//! notifier loaded about its item, the notices to write — each a recipient, a channel
//! and a text. Pure: the notifier (`notify::derive`) loads the [`ItemFacts`] and
//! writes what [`notices`] returns, one delivery row per notice.
//!
//! Only people who may see the item are told: the citizen who sent it (their account,
//! or the WeChat follower whose message it became), the deputy it is addressed to, the
//! staff of the station that keeps it, handlers of departments it was forwarded to
//! (an active part), and supervisors of its township or of the whole county — the same
//! circle `service::petitions::relation` lets read it.
use entity::{DepartmentRole, ForwardStatus};

use super::compliance::MonthCompliance;
use super::event::{Alert, DomainEvent, EventBody, ReminderEvent};

/// The channel a notice goes out on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// A row the account reads with `notifications` (and live on `myNotifications`).
    InApp,
    /// A template message of the official account to a follower.
    Wechat,
    /// A text message to a phone (`domain::sms`).
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::InApp => "in_app",
            Channel::Wechat => "wechat",
            Channel::Sms => "sms",
        }
    }
}

/// Whom a notice is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Recipient {
    Account(i64),
    Follower(String),
    /// A mobile number (11 digits), told by SMS.
    Phone(String),
}

impl Recipient {
    /// The stable key of the delivery row (`account:12`, `wechat:oAbc`).
    pub fn key(&self) -> String {
        match self {
            Recipient::Account(id) => format!("account:{id}"),
            Recipient::Follower(open_id) => format!("wechat:{open_id}"),
            Recipient::Phone(phone) => format!("sms:{phone}"),
        }
    }

    pub fn channel(&self) -> Channel {
        match self {
            Recipient::Account(_) => Channel::InApp,
            Recipient::Follower(_) => Channel::Wechat,
            Recipient::Phone(_) => Channel::Sms,
        }
    }
}

/// One notice to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub recipient: Recipient,
    /// What happened, stable snake_case (`registered`, `forwarded`, `urged`, ...).
    pub kind: &'static str,
    /// A short headline (the template's `first`).
    pub title: String,
    /// The text (the template's `remark`; the in-app notice's body).
    pub body: String,
}

/// A WeChat follower whose message became the item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Follower {
    pub open_id: String,
    /// Still follows the official account (no `unsubscribe` event since).
    pub subscribed: bool,
    /// Sent `退订`.
    pub notices_off: bool,
}

/// A department part of the item, with the accounts that handle the department.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub department_id: i64,
    pub department_name: String,
    pub role: DepartmentRole,
    pub status: ForwardStatus,
    pub handlers: Vec<i64>,
}

/// What the notifier loaded about the item an event concerns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemFacts {
    pub tracking_code: String,
    pub title: String,
    pub station_name: Option<String>,
    pub category_name: Option<String>,
    pub result: Option<String>,
    pub decline_reason: Option<String>,
    pub submitter_account: Option<i64>,
    pub follower: Option<Follower>,
    /// The account of the deputy the item is addressed to.
    pub deputy_account: Option<i64>,
    /// Staff accounts of the item's station.
    pub station_staff: Vec<i64>,
    pub parts: Vec<Part>,
    /// Supervisors of the item's township and county-wide supervisors.
    pub supervisors: Vec<i64>,
    /// The phone the citizen left, when they agreed to SMS on submission.
    pub sms_phone: Option<String>,
    /// The phones of handlers' accounts (those that have one).
    pub phones: std::collections::BTreeMap<i64, String>,
}

/// Which outside channels are configured (in-app is always on).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Channels {
    pub wechat: bool,
    pub sms: bool,
}

/// Headlines longer than this are cut (a template field holds 20 characters).
const TITLE_CHARS: usize = 20;
/// Quoted item titles and results are cut to this many characters.
const QUOTE_CHARS: usize = 30;

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// What the citizen is told at a milestone: (kind, headline, text).
fn citizen_text(kind: &str, facts: &ItemFacts) -> Option<(&'static str, String, String)> {
    let item = cut(&facts.title, QUOTE_CHARS);
    let lead = facts
        .parts
        .iter()
        .find(|p| p.role == DepartmentRole::Lead && p.status != ForwardStatus::Returned)
        .map_or("承办部门", |p| p.department_name.as_str());
    Some(match kind {
        "register" => (
            "registered",
            "您的留言已登记".into(),
            format!(
                "您的留言“{item}”已由{}登记,类别:{}。",
                facts.station_name.as_deref().unwrap_or("联络站"),
                facts.category_name.as_deref().unwrap_or("其他")
            ),
        ),
        "forward" | "escalate" => (
            "forwarded",
            "您的留言已转办".into(),
            format!("您的留言“{item}”已转交{lead}办理。"),
        ),
        "accept" => (
            "accepted",
            "您的留言已受理".into(),
            format!("{lead}已受理您的留言“{item}”,正在办理。"),
        ),
        "complete" | "resolve_on_spot" => (
            "completed",
            "您的留言已办结".into(),
            format!(
                "您的留言“{item}”已办结:{}。请回复“评价 1/2/3”(满意/基本满意/不满意)评价。",
                cut(facts.result.as_deref().unwrap_or(""), QUOTE_CHARS)
            ),
        ),
        "rate_unsatisfied" => (
            "reopened",
            "您的留言将重新办理".into(),
            format!("您对留言“{item}”的办理结果不满意,已交{lead}重新办理。"),
        ),
        "decline" => (
            "declined",
            "您的留言不予受理".into(),
            format!(
                "您的留言“{item}”不予受理,原因:{}。",
                cut(facts.decline_reason.as_deref().unwrap_or(""), QUOTE_CHARS)
            ),
        ),
        "merge" => (
            "merged",
            "您的留言已合并办理".into(),
            format!("您的留言“{item}”已与同类问题合并办理。"),
        ),
        _ => return None,
    })
}

/// The status a citizen's notice reports (the template's `keyword2`).
pub fn status_label(kind: &str) -> &'static str {
    match kind {
        "registered" => "已登记",
        "forwarded" => "已转办",
        "accepted" => "办理中",
        "completed" => "已办结,待评价",
        "reopened" => "重新办理",
        "declined" => "不予受理",
        "merged" => "已合并办理",
        _ => "有新进展",
    }
}

/// How long a delivery waits after its `attempts`-th failed send: 30 s, doubling, at
/// most an hour.
pub fn retry_delay(attempts: i32) -> chrono::Duration {
    let exponent = attempts.clamp(1, 8) - 1;
    chrono::Duration::seconds((30i64 << exponent).min(3600))
}

/// Every notice `event` calls for. Events that concern no item, and events whose
/// payload this code cannot read, call for none.
pub fn notices(event: &DomainEvent, facts: &ItemFacts, channels: Channels) -> Vec<Notice> {
    let mut out = Notices::default();
    let code = &facts.tracking_code;
    let item = cut(&facts.title, QUOTE_CHARS);
    match &event.body {
        EventBody::PetitionSubmitted(_) => {
            let text = format!("新留言“{item}”({code})已进入台账,请及时登记。");
            out.accounts(&facts.station_staff, "new_in_ledger", "新留言待登记", &text);
            let text = format!("群众给您留言:“{item}”({code})。");
            out.accounts(
                facts.deputy_account.iter(),
                "addressed",
                "您收到一条群众留言",
                &text,
            );
        }
        EventBody::PetitionStepped(step) => {
            let kind = step.action.0;
            if let Some((notice, headline, text)) = citizen_text(kind, facts) {
                out.accounts(facts.submitter_account.iter(), notice, &headline, &text);
                if channels.wechat {
                    out.follower(facts.follower.as_ref(), notice, &headline, &text);
                }
                if channels.sms {
                    out.phone(facts.sms_phone.as_deref(), notice, &headline, code);
                }
            }
            handler_and_staff_notices(&mut out, kind, facts, event);
            if matches!(kind, "complete" | "resolve_on_spot") {
                let text = format!(
                    "您收集的留言“{item}”({code})已办结:{}。",
                    cut(facts.result.as_deref().unwrap_or(""), QUOTE_CHARS)
                );
                out.accounts(
                    facts.deputy_account.iter(),
                    "result",
                    "您收集的留言已办结",
                    &text,
                );
            }
        }
        EventBody::SupervisionAlert(alert, _) => alert_notices(&mut out, *alert, facts, channels),
        _ => {}
    }
    out.0
}

/// The notices of a reminder to `account`: in the app, and by SMS to `phone` (the
/// account's, if it has one) when the reminder goes by SMS (`due_soon`).
pub fn reminder_notices(
    account: i64,
    reminder: &ReminderEvent,
    phone: Option<&str>,
    tracking_code: Option<&str>,
    channels: Channels,
) -> Vec<Notice> {
    let kind = match reminder.reminder.as_str() {
        "duty_month" => "duty_month",
        "due_soon" => "due_soon",
        _ => return Vec::new(),
    };
    let mut out = Notices::default();
    out.accounts([&account], kind, &reminder.title, &reminder.body);
    if let (true, Some(code)) = (channels.sms, tracking_code) {
        out.phone(phone, kind, &reminder.title, code);
    }
    out.0
}

/// A deputy's reminder of the "eight ones" (八个一) items of `month` they did not
/// meet, or `None` when they met them all.
pub fn duty_month_reminder(month: &MonthCompliance) -> Option<ReminderEvent> {
    if month.fully_compliant {
        return None;
    }
    let mut owed: Vec<String> = month
        .items
        .iter()
        .filter(|s| !s.met)
        .map(|s| s.item.label_zh().to_owned())
        .collect();
    if let Some(h) = month.resident_hearings.filter(|h| !h.met) {
        owed.push(format!("听取群众反映{}次(已{}次)", h.required, h.count));
    }
    Some(ReminderEvent {
        reminder: "duty_month".into(),
        petition_id: None,
        title: "履职提醒".into(),
        body: format!(
            "您{}年{}月尚未完成:{}。请及时补录或安排。",
            month.year,
            month.month,
            owed.join("、")
        ),
    })
}

/// A lead handler's warning that item `facts` is due within 24 hours (at `deadline`).
pub fn due_soon_reminder(
    petition_id: i64,
    tracking_code: &str,
    title: &str,
    deadline: chrono::DateTime<chrono::Utc>,
) -> ReminderEvent {
    let local = deadline.with_timezone(&super::calendar::china());
    ReminderEvent {
        reminder: "due_soon".into(),
        petition_id: Some(petition_id),
        title: "事项即将到期".into(),
        body: format!(
            "事项“{}”({tracking_code})将于{}到期,请抓紧办理。",
            cut(title, QUOTE_CHARS),
            local.format("%m月%d日%H:%M")
        ),
    }
}

/// Handlers told of an item forwarded to their department; staff of one returned.
fn handler_and_staff_notices(
    out: &mut Notices,
    kind: &str,
    facts: &ItemFacts,
    event: &DomainEvent,
) {
    let (code, item) = (&facts.tracking_code, cut(&facts.title, QUOTE_CHARS));
    match kind {
        "forward" => {
            let text = format!("新转办事项“{item}”({code}),请及时受理。");
            for part in facts
                .parts
                .iter()
                .filter(|p| p.status != ForwardStatus::Returned)
            {
                out.accounts(
                    &part.handlers,
                    "forwarded_to_department",
                    "新转办事项",
                    &text,
                );
            }
        }
        "escalate" => {
            let text = format!("提级转办事项“{item}”({code}),请及时受理。");
            let to = event.scope.department_id;
            for part in facts.parts.iter().filter(|p| Some(p.department_id) == to) {
                out.accounts(
                    &part.handlers,
                    "forwarded_to_department",
                    "新转办事项",
                    &text,
                );
            }
        }
        "return" => {
            let text = format!("事项“{item}”({code})被承办部门退回,请重新处理。");
            out.accounts(&facts.station_staff, "returned", "事项被退回", &text);
        }
        _ => {}
    }
}

/// Alerts: the lead handlers hear of urging, lateness and a new round; supervisors of
/// escalations and unsatisfied ratings.
fn alert_notices(out: &mut Notices, alert: Alert, facts: &ItemFacts, channels: Channels) {
    let (code, item) = (&facts.tracking_code, cut(&facts.title, QUOTE_CHARS));
    let leads = facts
        .parts
        .iter()
        .filter(|p| p.role == DepartmentRole::Lead && p.status != ForwardStatus::Returned);
    match alert {
        Alert::Urged | Alert::Overdue | Alert::RatedUnsatisfied => {
            let (kind, headline, text) = match alert {
                Alert::Urged => (
                    "urged",
                    "事项被督办",
                    format!("事项“{item}”({code})被督办,请加快办理。"),
                ),
                Alert::Overdue => (
                    "overdue",
                    "事项已超期",
                    format!("事项“{item}”({code})已超过办理期限。"),
                ),
                _ => (
                    "reopened",
                    "事项需重新办理",
                    format!("群众对事项“{item}”({code})的办理结果不满意,请重新办理。"),
                ),
            };
            for part in leads {
                out.accounts(&part.handlers, kind, headline, &text);
                if channels.sms && alert != Alert::RatedUnsatisfied {
                    for phone in part.handlers.iter().filter_map(|h| facts.phones.get(h)) {
                        out.phone(Some(phone), kind, headline, code);
                    }
                }
            }
        }
        Alert::Escalated | Alert::Returned => {}
    }
    let supervisors = match alert {
        Alert::Escalated => Some((
            "escalated",
            "事项已提级督办",
            format!("事项“{item}”({code})已提级督办。"),
        )),
        Alert::RatedUnsatisfied => Some((
            "rated_unsatisfied",
            "群众评价不满意",
            format!("群众对事项“{item}”({code})的办理结果不满意。"),
        )),
        _ => None,
    };
    if let Some((kind, headline, text)) = supervisors {
        out.accounts(&facts.supervisors, kind, headline, &text);
    }
}

/// The notices so far, one per recipient and channel (the first wins).
#[derive(Default)]
struct Notices(Vec<Notice>);

impl Notices {
    fn push(&mut self, recipient: Recipient, kind: &'static str, headline: &str, text: &str) {
        if self.0.iter().any(|n| n.recipient == recipient) {
            return;
        }
        self.0.push(Notice {
            recipient,
            kind,
            title: cut(headline, TITLE_CHARS),
            body: text.to_owned(),
        });
    }

    fn accounts<'a>(
        &mut self,
        ids: impl IntoIterator<Item = &'a i64>,
        kind: &'static str,
        headline: &str,
        text: &str,
    ) {
        for id in ids {
            self.push(Recipient::Account(*id), kind, headline, text);
        }
    }

    /// A text message (`domain::sms`) to `phone`, if notices of `kind` go by SMS.
    fn phone(&mut self, phone: Option<&str>, kind: &'static str, headline: &str, code: &str) {
        let (Some(phone), Some(text)) = (phone, super::sms::text_for(kind, code)) else {
            return;
        };
        self.push(
            Recipient::Phone(phone.to_owned()),
            kind,
            headline,
            &text.render(),
        );
    }

    fn follower(
        &mut self,
        follower: Option<&Follower>,
        kind: &'static str,
        headline: &str,
        text: &str,
    ) {
        if let Some(f) = follower.filter(|f| f.subscribed && !f.notices_off) {
            self.push(Recipient::Follower(f.open_id.clone()), kind, headline, text);
        }
    }
}

#[cfg(test)]
mod tests {
    use entity::{Channel as Via, PetitionState};

    use super::*;
    use crate::domain::event::{EventScope, PetitionStepped, PetitionSubmitted, StepName};
    use crate::domain::petition_flow::Capacity;

    fn facts() -> ItemFacts {
        ItemFacts {
            tracking_code: "HS2612ABCDEF".into(),
            title: "路灯坏了".into(),
            station_name: Some("滨河联络站".into()),
            category_name: Some("城乡建设".into()),
            result: Some("已修复".into()),
            decline_reason: None,
            submitter_account: Some(100),
            follower: Some(Follower {
                open_id: "oF1".into(),
                subscribed: true,
                notices_off: false,
            }),
            deputy_account: Some(200),
            station_staff: vec![300],
            parts: vec![
                Part {
                    department_id: 7,
                    department_name: "县交通局".into(),
                    role: DepartmentRole::Lead,
                    status: ForwardStatus::Accepted,
                    handlers: vec![400],
                },
                Part {
                    department_id: 8,
                    department_name: "县住建局".into(),
                    role: DepartmentRole::Assist,
                    status: ForwardStatus::Returned,
                    handlers: vec![401],
                },
            ],
            supervisors: vec![500],
            sms_phone: Some("13812345678".into()),
            phones: [(400, "13700001111".to_owned())].into(),
        }
    }

    fn stepped(kind: &'static str) -> PetitionStepped {
        PetitionStepped {
            petition_id: 1,
            action: StepName(kind),
            from: PetitionState::Registered,
            to: PetitionState::Forwarded,
            version: 2,
            role: Capacity::StationStaff,
        }
    }

    fn step(kind: &'static str) -> DomainEvent {
        DomainEvent::new(
            EventScope::default(),
            EventBody::PetitionStepped(stepped(kind)),
        )
    }

    fn who(notices: &[Notice]) -> Vec<(String, &'static str)> {
        notices
            .iter()
            .map(|n| (n.recipient.key(), n.kind))
            .collect()
    }

    const WECHAT: Channels = Channels {
        wechat: true,
        sms: false,
    };
    const ALL: Channels = Channels {
        wechat: true,
        sms: true,
    };

    #[test]
    fn texts_go_to_the_consenting_citizen_and_lead_handlers_with_a_phone() {
        let out = notices(&step("accept"), &facts(), ALL);
        assert_eq!(
            who(&out),
            [
                ("account:100".into(), "accepted"),
                ("wechat:oF1".into(), "accepted"),
                ("sms:13812345678".into(), "accepted"),
            ]
        );
        let text = &out[2].body;
        assert!(
            text.contains("HS2612ABCDEF") && !text.contains("路灯"),
            "{text}"
        );
        let no_consent = ItemFacts {
            sms_phone: None,
            ..facts()
        };
        assert!(!who(&notices(&step("accept"), &no_consent, ALL))
            .iter()
            .any(|(k, _)| k.starts_with("sms:")));
        let alert = |a| {
            DomainEvent::new(
                EventScope::default(),
                EventBody::SupervisionAlert(a, stepped("urge")),
            )
        };
        assert_eq!(
            who(&notices(&alert(Alert::Urged), &facts(), ALL)),
            [
                ("account:400".into(), "urged"),
                ("sms:13700001111".into(), "urged")
            ]
        );
        assert_eq!(
            who(&notices(&alert(Alert::RatedUnsatisfied), &facts(), ALL)),
            [
                ("account:400".into(), "reopened"),
                ("account:500".into(), "rated_unsatisfied")
            ]
        );
        // A step that is no citizen's milestone sends no text.
        assert!(!who(&notices(&step("add_progress"), &facts(), ALL))
            .iter()
            .any(|(k, _)| k.starts_with("sms:")));
    }

    #[test]
    fn reminders_reach_their_account_and_a_due_one_its_phone() {
        let due = due_soon_reminder(
            1,
            "HS2612ABCDEF",
            "路灯坏了",
            chrono::DateTime::parse_from_rfc3339("2026-12-04T02:30:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
        );
        assert!(due.body.contains("12月04日10:30"), "{}", due.body);
        let out = reminder_notices(400, &due, Some("13700001111"), Some("HS2612ABCDEF"), ALL);
        assert_eq!(
            who(&out),
            [
                ("account:400".into(), "due_soon"),
                ("sms:13700001111".into(), "due_soon")
            ]
        );
        let month = crate::domain::compliance::month(&[], 2026, 11, true).unwrap();
        let duty = duty_month_reminder(&month).expect("owes everything");
        assert!(
            duty.body.contains("2026年11月") && duty.body.contains("接待一次选民群众"),
            "{}",
            duty.body
        );
        assert!(
            duty.body.contains("听取群众反映2次(已0次)"),
            "{}",
            duty.body
        );
        let out = reminder_notices(200, &duty, Some("13700001111"), None, ALL);
        assert_eq!(who(&out), [("account:200".into(), "duty_month")]);
    }

    #[test]
    fn the_citizen_hears_each_milestone_in_app_and_on_wechat() {
        for (step_kind, notice) in [
            ("register", "registered"),
            ("forward", "forwarded"),
            ("accept", "accepted"),
            ("complete", "completed"),
            ("resolve_on_spot", "completed"),
            ("rate_unsatisfied", "reopened"),
            ("decline", "declined"),
            ("merge", "merged"),
        ] {
            let out = notices(&step(step_kind), &facts(), WECHAT);
            let mine: Vec<_> = who(&out)
                .into_iter()
                .filter(|(k, _)| k == "account:100" || k == "wechat:oF1")
                .collect();
            assert_eq!(
                mine,
                [
                    ("account:100".into(), notice),
                    ("wechat:oF1".into(), notice)
                ],
                "{step_kind}"
            );
        }
        let complete = notices(&step("complete"), &facts(), WECHAT);
        assert!(complete[0].body.contains("已修复") && complete[0].body.contains("评价"));
        let forward = notices(&step("forward"), &facts(), WECHAT);
        assert!(forward[0].body.contains("县交通局"), "{}", forward[0].body);
    }

    #[test]
    fn steps_the_citizen_need_not_hear_of_tell_them_nothing() {
        for kind in [
            "add_progress",
            "report_assist",
            "urge",
            "mark_overdue",
            "rate_satisfied",
            "return",
        ] {
            let out = notices(&step(kind), &facts(), WECHAT);
            assert!(
                !who(&out)
                    .iter()
                    .any(|(k, _)| k == "account:100" || k == "wechat:oF1"),
                "{kind}"
            );
        }
    }

    #[test]
    fn wechat_only_when_configured_subscribed_and_not_opted_out() {
        let off = notices(&step("accept"), &facts(), Channels::default());
        assert_eq!(who(&off), [("account:100".into(), "accepted")]);
        for follower in [
            Follower {
                open_id: "oF1".into(),
                subscribed: false,
                notices_off: false,
            },
            Follower {
                open_id: "oF1".into(),
                subscribed: true,
                notices_off: true,
            },
        ] {
            let facts = ItemFacts {
                follower: Some(follower),
                ..facts()
            };
            let out = notices(&step("accept"), &facts, WECHAT);
            assert_eq!(who(&out), [("account:100".into(), "accepted")]);
        }
    }

    #[test]
    fn handlers_hear_of_items_forwarded_to_their_active_parts_only() {
        let out = notices(&step("forward"), &facts(), WECHAT);
        let handlers: Vec<_> = who(&out)
            .into_iter()
            .filter(|(k, _)| k.starts_with("account:4"))
            .collect();
        assert_eq!(
            handlers,
            [("account:400".into(), "forwarded_to_department")]
        );
        let mut escalate = step("escalate");
        escalate.scope.department_id = Some(7);
        assert!(who(&notices(&escalate, &facts(), WECHAT))
            .contains(&("account:400".into(), "forwarded_to_department")));
        escalate.scope.department_id = Some(99);
        assert!(!who(&notices(&escalate, &facts(), WECHAT))
            .iter()
            .any(|(k, _)| k.starts_with("account:4")));
    }

    #[test]
    fn staff_and_the_addressed_deputy_hear_of_a_new_item() {
        let submitted = DomainEvent::new(
            EventScope::default(),
            EventBody::PetitionSubmitted(PetitionSubmitted {
                petition_id: 1,
                state: PetitionState::Submitted,
                channel: Via::Wechat,
            }),
        );
        assert_eq!(
            who(&notices(&submitted, &facts(), WECHAT)),
            [
                ("account:300".into(), "new_in_ledger"),
                ("account:200".into(), "addressed")
            ]
        );
        assert_eq!(
            who(&notices(&step("return"), &facts(), WECHAT)),
            [("account:300".into(), "returned")]
        );
        let complete = who(&notices(&step("complete"), &facts(), WECHAT));
        assert!(complete.contains(&("account:200".into(), "result")));
    }

    #[test]
    fn alerts_reach_lead_handlers_and_supervisors() {
        let alert = |a| {
            DomainEvent::new(
                EventScope::default(),
                EventBody::SupervisionAlert(a, stepped("urge")),
            )
        };
        assert_eq!(
            who(&notices(&alert(Alert::Urged), &facts(), WECHAT)),
            [("account:400".into(), "urged")]
        );
        assert_eq!(
            who(&notices(&alert(Alert::Overdue), &facts(), WECHAT)),
            [("account:400".into(), "overdue")]
        );
        assert_eq!(
            who(&notices(&alert(Alert::Escalated), &facts(), WECHAT)),
            [("account:500".into(), "escalated")]
        );
        assert_eq!(
            who(&notices(&alert(Alert::RatedUnsatisfied), &facts(), WECHAT)),
            [
                ("account:400".into(), "reopened"),
                ("account:500".into(), "rated_unsatisfied")
            ]
        );
        assert!(notices(&alert(Alert::Returned), &facts(), WECHAT).is_empty());
    }

    #[test]
    fn one_notice_per_recipient_and_long_titles_are_cut() {
        // The submitter also staffs the station: told once, as the citizen.
        let facts = ItemFacts {
            station_staff: vec![100],
            title: "很".repeat(50),
            ..facts()
        };
        let out = notices(&step("return"), &facts, WECHAT);
        assert_eq!(who(&out), [("account:100".into(), "returned")]);
        assert!(out[0].body.chars().count() < 80);
        assert!(out[0].body.contains('…'));
    }

    #[test]
    fn retries_back_off_up_to_an_hour() {
        assert_eq!(retry_delay(1), chrono::Duration::seconds(30));
        assert_eq!(retry_delay(2), chrono::Duration::seconds(60));
        assert_eq!(retry_delay(7), chrono::Duration::seconds(1920));
        assert_eq!(retry_delay(8), chrono::Duration::seconds(3600));
        assert_eq!(retry_delay(40), chrono::Duration::seconds(3600));
    }

    #[test]
    fn events_of_no_item_tell_nobody() {
        let raw = DomainEvent::parse(
            "petition",
            "forward",
            EventScope::default(),
            serde_json::json!({}),
        );
        assert!(notices(&raw, &facts(), WECHAT).is_empty());
    }
}
