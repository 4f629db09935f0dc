//! The "eight ones" duty standard (八个一), computed from what a deputy logged.
//!
//! Monthly: receive citizens once, report one opinion item, attend one station activity,
//! attend one study or training. Yearly: keep a public-sentiment diary, undertake one
//! livelihood project, write one duty story, give one duty report. Resident deputies
//! (驻站代表) must also hear citizens at least twice a month (receptions plus household
//! visits).
//!
//! Pure: the caller loads the deputy's records ([`DutyRecord`]) and passes them in.
//! Records outside the period asked for are ignored; periods are compared by calendar
//! year and month of the record's date, so boundaries (Jan 31 / Feb 1, Dec 31 / Jan 1,
//! Feb 29) are exact.
use chrono::{Datelike, NaiveDate};
use entity::ActivityKind;

use crate::error::{AppError, AppResult};

/// One of the eight items of the standard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DutyItem {
    /// 每月接待一次选民群众.
    ReceiveCitizens,
    /// 每月反映一条社情民意.
    ReportOpinion,
    /// 每月参加一次进站活动.
    StationActivity,
    /// 每月参加一次学习培训.
    StudyTraining,
    /// 每年记录一本民情日志.
    SentimentDiary,
    /// 每年承办一件民生实事.
    LivelihoodProject,
    /// 每年撰写一篇履职故事.
    DutyStory,
    /// 每年进行一次述职交流.
    DutyReport,
}

impl DutyItem {
    /// The items due every month.
    pub const MONTHLY: [DutyItem; 4] = [
        DutyItem::ReceiveCitizens,
        DutyItem::ReportOpinion,
        DutyItem::StationActivity,
        DutyItem::StudyTraining,
    ];

    /// The items due every year.
    pub const YEARLY: [DutyItem; 4] = [
        DutyItem::SentimentDiary,
        DutyItem::LivelihoodProject,
        DutyItem::DutyStory,
        DutyItem::DutyReport,
    ];

    /// The wording of the standard, for UI texts.
    pub fn label_zh(self) -> &'static str {
        match self {
            DutyItem::ReceiveCitizens => "接待一次选民群众",
            DutyItem::ReportOpinion => "反映一条社情民意",
            DutyItem::StationActivity => "参加一次进站活动",
            DutyItem::StudyTraining => "参加一次学习培训",
            DutyItem::SentimentDiary => "记录一本民情日志",
            DutyItem::LivelihoodProject => "承办一件民生实事",
            DutyItem::DutyStory => "撰写一篇履职故事",
            DutyItem::DutyReport => "进行一次述职交流",
        }
    }

    /// How many records per period the item asks for.
    fn required(self) -> u32 {
        1
    }

    /// Whether a record of `evidence` counts towards this item.
    fn counts(self, evidence: Evidence) -> bool {
        match (self, evidence) {
            (DutyItem::ReceiveCitizens, Evidence::Activity(kind)) => {
                kind == ActivityKind::CitizenReception
            }
            (DutyItem::StationActivity, Evidence::Activity(kind)) => {
                kind == ActivityKind::StationActivity
            }
            (DutyItem::StudyTraining, Evidence::Activity(kind)) => {
                kind == ActivityKind::StudyTraining
            }
            (DutyItem::SentimentDiary, Evidence::Activity(kind)) => {
                kind == ActivityKind::DiaryEntry
            }
            (DutyItem::LivelihoodProject, Evidence::Activity(kind)) => {
                kind == ActivityKind::LivelihoodProject
            }
            (DutyItem::DutyReport, Evidence::Activity(kind)) => kind == ActivityKind::DutyReport,
            (DutyItem::ReportOpinion, Evidence::OpinionItem) => true,
            (DutyItem::DutyStory, Evidence::PublishedStory) => true,
            _ => false,
        }
    }
}

/// What a record shows the deputy did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Evidence {
    /// A duty activity the deputy took part in.
    Activity(ActivityKind),
    /// An opinion item (社情民意) the deputy collected or reported.
    OpinionItem,
    /// A duty story (履职故事) of the deputy's that was published.
    PublishedStory,
}

/// One dated piece of evidence: the activity date, the date an opinion item was
/// collected/reported, or the date a story was published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DutyRecord {
    pub date: NaiveDate,
    pub evidence: Evidence,
}

/// How one item stands in a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ItemStatus {
    pub item: DutyItem,
    pub required: u32,
    pub count: u32,
    pub met: bool,
}

/// Minimum monthly hearings (receptions + household visits) of a resident deputy.
pub const RESIDENT_HEARINGS_PER_MONTH: u32 = 2;

/// A resident deputy's hearings of citizens (听取群众反映) in a month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HearingStatus {
    pub required: u32,
    pub count: u32,
    pub met: bool,
}

/// A deputy's compliance in one calendar month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthCompliance {
    pub year: i32,
    pub month: u32,
    /// The four monthly items, in [`DutyItem::MONTHLY`] order.
    pub items: Vec<ItemStatus>,
    /// Set only for resident deputies.
    pub resident_hearings: Option<HearingStatus>,
    /// Every monthly item met and, for a resident deputy, the hearings too.
    pub fully_compliant: bool,
}

/// A deputy's compliance in a year, from January through `through_month`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YearCompliance {
    pub year: i32,
    pub through_month: u32,
    /// Months 1..=through_month, in order.
    pub months: Vec<MonthCompliance>,
    /// The four yearly items, in [`DutyItem::YEARLY`] order, counted over
    /// months 1..=through_month.
    pub yearly_items: Vec<ItemStatus>,
    pub compliant_months: u32,
    /// Every month compliant and every yearly item met.
    pub fully_compliant: bool,
}

fn count_matching(
    records: &[DutyRecord],
    in_period: impl Fn(NaiveDate) -> bool,
    matches: impl Fn(Evidence) -> bool,
) -> u32 {
    records
        .iter()
        .filter(|r| in_period(r.date) && matches(r.evidence))
        .fold(0u32, |n, _| n.saturating_add(1))
}

fn item_status(item: DutyItem, count: u32) -> ItemStatus {
    let required = item.required();
    ItemStatus {
        item,
        required,
        count,
        met: count >= required,
    }
}

fn check_month(field: &str, month: u32) -> AppResult<()> {
    if (1..=12).contains(&month) {
        Ok(())
    } else {
        Err(AppError::bad_input(
            field,
            "月份须在1至12之间 (month must be between 1 and 12)",
        ))
    }
}

/// Compliance in `year`-`month`. Records of other months are ignored.
/// `resident`: the deputy is a resident deputy (驻站代表) and owes two hearings.
pub fn month(
    records: &[DutyRecord],
    year: i32,
    month: u32,
    resident: bool,
) -> AppResult<MonthCompliance> {
    check_month("month", month)?;
    let in_month = |d: NaiveDate| d.year() == year && d.month() == month;
    let items: Vec<ItemStatus> = DutyItem::MONTHLY
        .iter()
        .map(|&item| item_status(item, count_matching(records, in_month, |e| item.counts(e))))
        .collect();
    let resident_hearings = resident.then(|| {
        let count = count_matching(records, in_month, |e| {
            matches!(
                e,
                Evidence::Activity(ActivityKind::CitizenReception | ActivityKind::HouseholdVisit)
            )
        });
        HearingStatus {
            required: RESIDENT_HEARINGS_PER_MONTH,
            count,
            met: count >= RESIDENT_HEARINGS_PER_MONTH,
        }
    });
    let fully_compliant = items.iter().all(|s| s.met) && resident_hearings.is_none_or(|h| h.met);
    Ok(MonthCompliance {
        year,
        month,
        items,
        resident_hearings,
        fully_compliant,
    })
}

/// Compliance in `year` from January through `through_month` (1..=12). Yearly items
/// count records in that span only; records after it or in other years are ignored.
pub fn year(
    records: &[DutyRecord],
    year: i32,
    through_month: u32,
    resident: bool,
) -> AppResult<YearCompliance> {
    year_with_residency(records, year, through_month, |_| resident)
}

/// As [`year`], with residency decided month by month (a deputy may be a resident
/// deputy for part of the year only).
pub fn year_with_residency(
    records: &[DutyRecord],
    year: i32,
    through_month: u32,
    resident_in: impl Fn(u32) -> bool,
) -> AppResult<YearCompliance> {
    check_month("throughMonth", through_month)?;
    let months = (1..=through_month)
        .map(|m| month(records, year, m, resident_in(m)))
        .collect::<AppResult<Vec<_>>>()?;
    let in_span = |d: NaiveDate| d.year() == year && d.month() <= through_month;
    let yearly_items: Vec<ItemStatus> = DutyItem::YEARLY
        .iter()
        .map(|&item| item_status(item, count_matching(records, in_span, |e| item.counts(e))))
        .collect();
    let compliant_months = months.iter().filter(|m| m.fully_compliant).count() as u32;
    let fully_compliant =
        months.iter().all(|m| m.fully_compliant) && yearly_items.iter().all(|s| s.met);
    Ok(YearCompliance {
        year,
        through_month,
        months,
        yearly_items,
        compliant_months,
        fully_compliant,
    })
}

/// Compliance rolled up over a group of deputies (a station, a township).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rollup {
    pub deputies: u32,
    pub fully_compliant: u32,
    /// `fully_compliant / deputies`, 0.0 when there are no deputies.
    pub share: f64,
}

/// Rolls up one "fully compliant?" flag per deputy.
pub fn rollup(statuses: impl IntoIterator<Item = bool>) -> Rollup {
    let (deputies, fully_compliant) = statuses.into_iter().fold((0u32, 0u32), |(n, ok), status| {
        (n.saturating_add(1), ok.saturating_add(u32::from(status)))
    });
    let share = if deputies == 0 {
        0.0
    } else {
        f64::from(fully_compliant) / f64::from(deputies)
    };
    Rollup {
        deputies,
        fully_compliant,
        share,
    }
}

#[cfg(test)]
mod residency_tests {
    use super::*;

    #[test]
    fn residency_counts_only_in_the_months_it_held() {
        let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).expect("date");
        let records = vec![DutyRecord {
            date: day(3, 5),
            evidence: Evidence::Activity(ActivityKind::CitizenReception),
        }];
        let y = year_with_residency(&records, 2024, 4, |m| m == 3).expect("year");
        assert!(y.months[2].resident_hearings.is_some(), "resident in March");
        assert!(y.months[3].resident_hearings.is_none(), "not in April");
        assert_eq!(y.months[2].resident_hearings.map(|h| h.count), Some(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    fn act(date: NaiveDate, kind: ActivityKind) -> DutyRecord {
        DutyRecord {
            date,
            evidence: Evidence::Activity(kind),
        }
    }

    fn opinion(date: NaiveDate) -> DutyRecord {
        DutyRecord {
            date,
            evidence: Evidence::OpinionItem,
        }
    }

    fn story(date: NaiveDate) -> DutyRecord {
        DutyRecord {
            date,
            evidence: Evidence::PublishedStory,
        }
    }

    /// The four monthly items, all on `date`.
    fn monthly_set(date: NaiveDate) -> Vec<DutyRecord> {
        vec![
            act(date, ActivityKind::CitizenReception),
            opinion(date),
            act(date, ActivityKind::StationActivity),
            act(date, ActivityKind::StudyTraining),
        ]
    }

    /// The four yearly items, all on `date`.
    fn yearly_set(date: NaiveDate) -> Vec<DutyRecord> {
        vec![
            act(date, ActivityKind::DiaryEntry),
            act(date, ActivityKind::LivelihoodProject),
            story(date),
            act(date, ActivityKind::DutyReport),
        ]
    }

    fn status(items: &[ItemStatus], item: DutyItem) -> ItemStatus {
        *items.iter().find(|s| s.item == item).expect("item present")
    }

    #[test]
    fn item_lists_and_labels() {
        assert_eq!(DutyItem::MONTHLY.len() + DutyItem::YEARLY.len(), 8);
        for item in DutyItem::MONTHLY {
            assert!(!DutyItem::YEARLY.contains(&item));
        }
        assert_eq!(DutyItem::ReceiveCitizens.label_zh(), "接待一次选民群众");
        assert_eq!(DutyItem::DutyReport.label_zh(), "进行一次述职交流");
        let mut labels: Vec<_> = DutyItem::MONTHLY
            .iter()
            .chain(DutyItem::YEARLY.iter())
            .map(|i| i.label_zh())
            .collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), 8);
    }

    #[test]
    fn month_all_items_met() {
        let records = monthly_set(d(2025, 3, 15));
        let m = month(&records, 2025, 3, false).expect("ok");
        assert_eq!((m.year, m.month), (2025, 3));
        assert_eq!(m.items.len(), 4);
        let order: Vec<_> = m.items.iter().map(|s| s.item).collect();
        assert_eq!(order, DutyItem::MONTHLY.to_vec());
        assert!(m
            .items
            .iter()
            .all(|s| s.met && s.count == 1 && s.required == 1));
        assert_eq!(m.resident_hearings, None);
        assert!(m.fully_compliant);
    }

    #[test]
    fn month_each_missing_item_breaks_compliance() {
        let full = monthly_set(d(2025, 3, 15));
        for (i, item) in DutyItem::MONTHLY.iter().enumerate() {
            let mut records = full.clone();
            records.remove(i);
            let m = month(&records, 2025, 3, false).expect("ok");
            let s = status(&m.items, *item);
            assert_eq!((s.count, s.met), (0, false), "{item:?}");
            assert_eq!(m.items.iter().filter(|s| s.met).count(), 3, "{item:?}");
            assert!(!m.fully_compliant, "{item:?}");
        }
    }

    #[test]
    fn month_counts_repeats_and_ignores_other_evidence() {
        let day = d(2025, 6, 10);
        let mut records = monthly_set(day);
        records.push(act(day, ActivityKind::CitizenReception));
        records.push(act(day, ActivityKind::Inspection));
        records.push(act(day, ActivityKind::Research));
        let m = month(&records, 2025, 6, false).expect("ok");
        assert_eq!(status(&m.items, DutyItem::ReceiveCitizens).count, 2);
        assert_eq!(status(&m.items, DutyItem::StationActivity).count, 1);

        // Yearly evidence and household visits count towards no monthly item.
        let mut other = yearly_set(day);
        other.push(act(day, ActivityKind::HouseholdVisit));
        let m = month(&other, 2025, 6, false).expect("ok");
        assert!(m.items.iter().all(|s| s.count == 0 && !s.met));
        assert!(!m.fully_compliant);
    }

    #[test]
    fn month_boundary_jan_31_vs_feb_1() {
        let jan = monthly_set(d(2025, 1, 31));
        let feb = month(&jan, 2025, 2, false).expect("ok");
        assert!(feb.items.iter().all(|s| s.count == 0));
        assert!(month(&jan, 2025, 1, false).expect("ok").fully_compliant);

        let feb_first = monthly_set(d(2025, 2, 1));
        assert!(
            month(&feb_first, 2025, 2, false)
                .expect("ok")
                .fully_compliant
        );
        let jan_m = month(&feb_first, 2025, 1, false).expect("ok");
        assert!(jan_m.items.iter().all(|s| s.count == 0));
    }

    #[test]
    fn month_boundary_dec_31_vs_jan_1() {
        let dec = monthly_set(d(2024, 12, 31));
        assert!(month(&dec, 2024, 12, false).expect("ok").fully_compliant);
        let jan = month(&dec, 2025, 1, false).expect("ok");
        assert!(jan.items.iter().all(|s| s.count == 0));
        // Same month number, other year.
        let dec25 = month(&dec, 2025, 12, false).expect("ok");
        assert!(dec25.items.iter().all(|s| s.count == 0));

        let jan1 = monthly_set(d(2025, 1, 1));
        assert!(month(&jan1, 2025, 1, false).expect("ok").fully_compliant);
        assert!(!month(&jan1, 2024, 12, false).expect("ok").fully_compliant);
    }

    #[test]
    fn month_boundary_leap_day() {
        let leap = monthly_set(d(2024, 2, 29));
        assert!(month(&leap, 2024, 2, false).expect("ok").fully_compliant);
        let mar = month(&leap, 2024, 3, false).expect("ok");
        assert!(mar.items.iter().all(|s| s.count == 0));

        let mar1 = monthly_set(d(2024, 3, 1));
        let feb = month(&mar1, 2024, 2, false).expect("ok");
        assert!(feb.items.iter().all(|s| s.count == 0));
    }

    #[test]
    fn month_out_of_range_is_bad_input() {
        for bad in [0, 13, u32::MAX] {
            let err = month(&[], 2025, bad, false).expect_err("bad month");
            assert_eq!(err.code(), "BAD_USER_INPUT");
            assert_eq!(
                err,
                AppError::bad_input(
                    "month",
                    "月份须在1至12之间 (month must be between 1 and 12)"
                )
            );
        }
        assert!(month(&[], 2025, 1, false).is_ok());
        assert!(month(&[], 2025, 12, false).is_ok());
    }

    #[test]
    fn resident_needs_two_hearings() {
        let day = d(2025, 4, 8);
        // One reception: fine for a non-resident, short for a resident.
        let records = monthly_set(day);
        let plain = month(&records, 2025, 4, false).expect("ok");
        assert!(plain.fully_compliant);
        assert_eq!(plain.resident_hearings, None);
        let res = month(&records, 2025, 4, true).expect("ok");
        assert_eq!(
            res.resident_hearings,
            Some(HearingStatus {
                required: 2,
                count: 1,
                met: false
            })
        );
        assert!(!res.fully_compliant);
        assert!(res.items.iter().all(|s| s.met));

        // A household visit makes the second hearing.
        let mut visited = records.clone();
        visited.push(act(day, ActivityKind::HouseholdVisit));
        let res = month(&visited, 2025, 4, true).expect("ok");
        assert_eq!(
            res.resident_hearings.map(|h| (h.count, h.met)),
            Some((2, true))
        );
        assert!(res.fully_compliant);

        // A second reception does too.
        let mut twice = records.clone();
        twice.push(act(day, ActivityKind::CitizenReception));
        let res = month(&twice, 2025, 4, true).expect("ok");
        assert_eq!(
            res.resident_hearings.map(|h| (h.count, h.met)),
            Some((2, true))
        );
        assert!(res.fully_compliant);

        // A hearing in the next month does not count.
        let mut late = records;
        late.push(act(d(2025, 5, 1), ActivityKind::HouseholdVisit));
        let res = month(&late, 2025, 4, true).expect("ok");
        assert_eq!(res.resident_hearings.map(|h| h.count), Some(1));
        assert!(!res.fully_compliant);
    }

    #[test]
    fn resident_hearings_alone_do_not_make_compliance() {
        let day = d(2025, 4, 8);
        let records = vec![
            act(day, ActivityKind::HouseholdVisit),
            act(day, ActivityKind::HouseholdVisit),
        ];
        let m = month(&records, 2025, 4, true).expect("ok");
        assert_eq!(m.resident_hearings.map(|h| h.met), Some(true));
        assert!(!status(&m.items, DutyItem::ReceiveCitizens).met);
        assert!(!m.fully_compliant);
    }

    fn full_year(year: i32, through: u32) -> Vec<DutyRecord> {
        let mut records: Vec<_> = (1..=through)
            .flat_map(|m| monthly_set(d(year, m, 1)))
            .collect();
        records.extend(yearly_set(d(year, 6, 30)));
        records
    }

    #[test]
    fn year_fully_compliant() {
        let records = full_year(2025, 12);
        let y = year(&records, 2025, 12, false).expect("ok");
        assert_eq!((y.year, y.through_month), (2025, 12));
        assert_eq!(y.months.len(), 12);
        assert_eq!(
            y.months.iter().map(|m| m.month).collect::<Vec<_>>(),
            (1..=12).collect::<Vec<_>>()
        );
        assert_eq!(y.compliant_months, 12);
        let order: Vec<_> = y.yearly_items.iter().map(|s| s.item).collect();
        assert_eq!(order, DutyItem::YEARLY.to_vec());
        assert!(y.yearly_items.iter().all(|s| s.met && s.count == 1));
        assert!(y.fully_compliant);
    }

    #[test]
    fn year_each_missing_yearly_item_breaks_compliance() {
        let monthly: Vec<_> = (1..=12).flat_map(|m| monthly_set(d(2025, m, 1))).collect();
        let yearly = yearly_set(d(2025, 6, 30));
        for (i, item) in DutyItem::YEARLY.iter().enumerate() {
            let mut records = monthly.clone();
            records.extend(
                yearly
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, r)| *r),
            );
            let y = year(&records, 2025, 12, false).expect("ok");
            let s = status(&y.yearly_items, *item);
            assert_eq!((s.count, s.met), (0, false), "{item:?}");
            assert_eq!(y.yearly_items.iter().filter(|s| s.met).count(), 3);
            assert_eq!(y.compliant_months, 12);
            assert!(!y.fully_compliant, "{item:?}");
        }
    }

    #[test]
    fn year_one_missing_month_breaks_compliance() {
        let mut records = full_year(2025, 12);
        // Drop August's study/training.
        records.retain(|r| {
            !(r.date.month() == 8 && r.evidence == Evidence::Activity(ActivityKind::StudyTraining))
        });
        let y = year(&records, 2025, 12, false).expect("ok");
        assert_eq!(y.compliant_months, 11);
        assert!(!y.months[7].fully_compliant);
        assert!(y.yearly_items.iter().all(|s| s.met));
        assert!(!y.fully_compliant);
    }

    #[test]
    fn year_through_month_limits_the_span() {
        // Yearly items done in June: not yet counted through May.
        let records = full_year(2025, 12);
        let may = year(&records, 2025, 5, false).expect("ok");
        assert_eq!(may.months.len(), 5);
        assert_eq!(may.compliant_months, 5);
        assert!(may.yearly_items.iter().all(|s| s.count == 0));
        assert!(!may.fully_compliant);
        let june = year(&records, 2025, 6, false).expect("ok");
        assert!(june.fully_compliant);

        // Months after through_month are not required.
        let partial = full_year(2025, 6);
        assert!(year(&partial, 2025, 6, false).expect("ok").fully_compliant);
        let dec = year(&partial, 2025, 12, false).expect("ok");
        assert_eq!(dec.compliant_months, 6);
        assert!(!dec.fully_compliant);
    }

    #[test]
    fn year_boundary_dec_31_vs_jan_1() {
        let monthly: Vec<_> = (1..=12).flat_map(|m| monthly_set(d(2025, m, 15))).collect();
        // Yearly items on Dec 31 of the previous year or Jan 1 of the next do not count.
        let mut outside = monthly.clone();
        outside.extend(yearly_set(d(2024, 12, 31)));
        outside.extend(yearly_set(d(2026, 1, 1)));
        let y = year(&outside, 2025, 12, false).expect("ok");
        assert!(y.yearly_items.iter().all(|s| s.count == 0));
        assert!(!y.fully_compliant);

        // On Jan 1 and Dec 31 of the year itself they do.
        let mut first = monthly.clone();
        first.extend(yearly_set(d(2025, 1, 1)));
        assert!(year(&first, 2025, 12, false).expect("ok").fully_compliant);
        let mut last = monthly;
        last.extend(yearly_set(d(2025, 12, 31)));
        let y = year(&last, 2025, 12, false).expect("ok");
        assert!(y.fully_compliant);
        // ... but not through November.
        assert!(year(&last, 2025, 11, false)
            .expect("ok")
            .yearly_items
            .iter()
            .all(|s| !s.met));
    }

    #[test]
    fn year_leap_day_counts_in_february() {
        let mut records = full_year(2024, 12);
        records.retain(|r| r.date.month() != 2);
        records.extend(monthly_set(d(2024, 2, 29)));
        let y = year(&records, 2024, 12, false).expect("ok");
        assert!(y.months[1].fully_compliant);
        assert!(y.fully_compliant);
    }

    #[test]
    fn year_resident_applies_every_month() {
        let mut records = full_year(2025, 3);
        records.extend(yearly_set(d(2025, 3, 31)));
        assert!(year(&records, 2025, 3, false).expect("ok").fully_compliant);
        let y = year(&records, 2025, 3, true).expect("ok");
        assert_eq!(y.compliant_months, 0);
        assert!(y.months.iter().all(|m| m.resident_hearings.is_some()));
        assert!(!y.fully_compliant);

        let mut visited = records;
        visited.extend((1..=3).map(|m| act(d(2025, m, 20), ActivityKind::HouseholdVisit)));
        let y = year(&visited, 2025, 3, true).expect("ok");
        assert_eq!(y.compliant_months, 3);
        assert!(y.fully_compliant);
    }

    #[test]
    fn year_through_month_out_of_range_is_bad_input() {
        for bad in [0, 13] {
            let err = year(&[], 2025, bad, false).expect_err("bad month");
            assert_eq!(err.code(), "BAD_USER_INPUT");
            assert!(matches!(
                err,
                AppError::BadUserInput { field: Some(ref f), .. } if f == "throughMonth"
            ));
        }
        let y = year(&[], 2025, 1, false).expect("ok");
        assert_eq!(y.months.len(), 1);
        assert!(!y.fully_compliant);
    }

    #[test]
    fn rollup_shares() {
        let empty = rollup(Vec::<bool>::new());
        assert_eq!(
            empty,
            Rollup {
                deputies: 0,
                fully_compliant: 0,
                share: 0.0
            }
        );
        let all = rollup([true, true, true]);
        assert_eq!((all.deputies, all.fully_compliant), (3, 3));
        assert!((all.share - 1.0).abs() < f64::EPSILON);
        let none = rollup([false, false]);
        assert_eq!((none.deputies, none.fully_compliant), (2, 0));
        assert_eq!(none.share, 0.0);
        let some = rollup([true, false, false, true]);
        assert_eq!((some.deputies, some.fully_compliant), (4, 2));
        assert!((some.share - 0.5).abs() < f64::EPSILON);
        let third = rollup([true, false, false]);
        assert!((third.share - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn rollup_from_year_results() {
        let good = full_year(2025, 12);
        let statuses = [true, false]
            .map(|resident| year(&good, 2025, 12, resident).expect("ok").fully_compliant);
        let r = rollup(statuses);
        assert_eq!((r.deputies, r.fully_compliant), (2, 1));
        assert!((r.share - 0.5).abs() < f64::EPSILON);
    }
}
