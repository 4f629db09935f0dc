//! Text messages (SMS), without I/O: the two templates a notice is sent with and the
//! text each makes, the one-segment rule, and the quiet hours.
//!
//! A text carries the tracking code and a fixed status phrase, nothing else: no
//! title or result (a citizen's words may name other people), no name, no phone. The
//! provider adds the signature (`【SMS_SIGN_NAME】`), and the whole must fit one
//! segment: 70 characters when the text holds Chinese (UCS-2).
use chrono::{DateTime, NaiveTime, TimeZone, Utc};

use super::calendar::{china, local_date};

/// Characters of one UCS-2 segment (any Chinese character makes a text UCS-2).
pub const SEGMENT_CHARS: usize = 70;
/// The longest signature a provider accepts (Tencent Cloud: 2 to 12 characters).
pub const MAX_SIGN_CHARS: usize = 12;

/// The templates registered with the provider (their ids are settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    /// To the citizen: `您反映的问题(查询码{1}){2}。可凭查询码在平台查看详情。`
    Progress,
    /// To a department handler: `您单位承办的事项{1}{2},请及时登录平台处理。`
    Alert,
}

impl Template {
    /// The template's text as registered, `{1}` `{2}` standing for the parameters.
    pub fn text(self) -> &'static str {
        match self {
            Template::Progress => "您反映的问题(查询码{1}){2}。可凭查询码在平台查看详情。",
            Template::Alert => "您单位承办的事项{1}{2},请及时登录平台处理。",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Template::Progress => "progress",
            Template::Alert => "alert",
        }
    }
}

/// One text message: a template and its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    pub template: Template,
    pub params: Vec<String>,
}

impl Text {
    /// What the recipient reads (without the signature).
    pub fn render(&self) -> String {
        self.params
            .iter()
            .enumerate()
            .fold(self.template.text().to_owned(), |text, (i, value)| {
                text.replace(&format!("{{{}}}", i + 1), value)
            })
    }

    /// Whether the text and the signature `【sign】` make one segment.
    pub fn fits_one_segment(&self, sign: &str) -> bool {
        self.render().chars().count() + sign.chars().count() + 2 <= SEGMENT_CHARS
    }
}

/// The text of a notice of `kind` about item `tracking_code`, if notices of that kind
/// go out by SMS: the citizen's milestones and a lead handler's alerts.
pub fn text_for(kind: &str, tracking_code: &str) -> Option<Text> {
    let progress = |status: &str| Text {
        template: Template::Progress,
        params: vec![tracking_code.to_owned(), status.to_owned()],
    };
    let alert = |what: &str| Text {
        template: Template::Alert,
        params: vec![tracking_code.to_owned(), what.to_owned()],
    };
    Some(match kind {
        "registered" => progress("已登记"),
        "forwarded" => progress("已转交承办部门"),
        "accepted" => progress("已受理,正在办理"),
        "completed" => progress("已办结,请评价"),
        "reopened" => progress("将重新办理"),
        "declined" => progress("不予受理"),
        "merged" => progress("已合并办理"),
        "urged" => alert("被督办"),
        "overdue" => alert("已超过办理期限"),
        "due_soon" => alert("将于24小时内到期"),
        _ => return None,
    })
}

/// `21:00-08:00` (China time): texts wait until the end; a period may cross midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// `HH:MM-HH:MM`; `None` for an empty period (start = end) or a malformed one.
    pub fn parse(raw: &str) -> Option<QuietHours> {
        let (start, end) = raw.trim().split_once('-')?;
        let time = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").ok();
        let (start, end) = (time(start)?, time(end)?);
        (start != end).then_some(QuietHours { start, end })
    }

    /// When the quiet period `now` falls in ends, or `None` outside quiet hours.
    pub fn until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&china());
        let time = local.time();
        let inside = if self.start < self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        };
        if !inside {
            return None;
        }
        let mut day = local_date(now);
        if time >= self.end {
            day = day.succ_opt()?;
        }
        let end = china()
            .from_local_datetime(&day.and_time(self.end))
            .single()?;
        Some(end.with_timezone(&Utc))
    }
}

/// When the China day of `now` began: a phone's daily cap counts from there.
pub fn day_began(now: DateTime<Utc>) -> DateTime<Utc> {
    super::calendar::day_start(local_date(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(local: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
        china()
            .from_local_datetime(&naive)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn every_text_fits_one_segment_with_the_longest_signature() {
        let sign = "很".repeat(MAX_SIGN_CHARS);
        for kind in [
            "registered",
            "forwarded",
            "accepted",
            "completed",
            "reopened",
            "declined",
            "merged",
            "urged",
            "overdue",
            "due_soon",
        ] {
            let text = text_for(kind, "HS2612ABCDEF").expect(kind);
            assert!(text.fits_one_segment(&sign), "{kind}: {}", text.render());
            assert!(!text.render().contains('{'), "{kind}");
        }
        assert_eq!(
            text_for("registered", "HS2612ABCDEF").unwrap().render(),
            "您反映的问题(查询码HS2612ABCDEF)已登记。可凭查询码在平台查看详情。"
        );
        assert_eq!(text_for("new_in_ledger", "HS2612ABCDEF"), None);
        let long = Text {
            template: Template::Alert,
            params: vec!["很".repeat(60), String::new()],
        };
        assert!(!long.fits_one_segment("和顺人大"));
    }

    #[test]
    fn quiet_hours_cross_midnight_and_end_at_their_end() {
        let quiet = QuietHours::parse("21:00-08:00").unwrap();
        assert_eq!(quiet.until(at("2026-12-03 20:59")), None);
        assert_eq!(
            quiet.until(at("2026-12-03 21:00")),
            Some(at("2026-12-04 08:00"))
        );
        assert_eq!(
            quiet.until(at("2026-12-03 23:30")),
            Some(at("2026-12-04 08:00"))
        );
        assert_eq!(
            quiet.until(at("2026-12-04 07:59")),
            Some(at("2026-12-04 08:00"))
        );
        assert_eq!(quiet.until(at("2026-12-04 08:00")), None);
        let lunch = QuietHours::parse("12:00-13:30").unwrap();
        assert_eq!(
            lunch.until(at("2026-12-04 12:10")),
            Some(at("2026-12-04 13:30"))
        );
        assert_eq!(lunch.until(at("2026-12-04 13:30")), None);
        assert_eq!(QuietHours::parse("08:00-08:00"), None);
        assert_eq!(QuietHours::parse("25:00-08:00"), None);
        assert_eq!(QuietHours::parse("nonsense"), None);
    }

    #[test]
    fn the_day_begins_at_midnight_china_time() {
        assert_eq!(day_began(at("2026-12-04 07:59")), at("2026-12-04 00:00"));
        assert_eq!(day_began(at("2026-12-03 23:59")), at("2026-12-03 00:00"));
    }
}
