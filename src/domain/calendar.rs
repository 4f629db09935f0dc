//! Dates as Heshun sees them: China Standard Time (UTC+8, no daylight saving).
//! Timestamps are stored in UTC; months, years and deadlines are counted in CST.
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

const OFFSET_SECS: i32 = 8 * 3600;

pub fn china() -> FixedOffset {
    FixedOffset::east_opt(OFFSET_SECS)
        .unwrap_or_else(|| FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()))
}

/// The calendar date in China of a UTC instant.
pub fn local_date(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&china()).date_naive()
}

/// The UTC instant at which `date` begins in China.
pub fn day_start(date: NaiveDate) -> DateTime<Utc> {
    let local = date.and_time(NaiveTime::MIN);
    china()
        .from_local_datetime(&local)
        .single()
        .map(|dt| dt.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local) - Duration::seconds(OFFSET_SECS.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midnight_in_beijing_is_four_pm_utc() {
        let date = NaiveDate::from_ymd_opt(2025, 2, 1).expect("date");
        let start = day_start(date);
        assert_eq!(start.to_rfc3339(), "2025-01-31T16:00:00+00:00");
        assert_eq!(local_date(start), date);
        assert_eq!(
            local_date(start - Duration::seconds(1)),
            NaiveDate::from_ymd_opt(2025, 1, 31).expect("date")
        );
    }
}
