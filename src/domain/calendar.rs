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

/// The first and last years a date or instant given to the gateway may fall in. Both
/// backends hold far more (PostgreSQL from 4713 BC), but no record of a county's
/// deputies, items or activities lies outside these, and a period that spans them is
/// a mistake or a probe: refused at the edge, identically on SQLite and PostgreSQL.
pub const FIRST_YEAR: i32 = 1900;
pub const LAST_YEAR: i32 = 2999;

/// Whether `date` lies in the supported range [`FIRST_YEAR`]..=[`LAST_YEAR`].
pub fn is_supported_date(date: NaiveDate) -> bool {
    use chrono::Datelike;
    (FIRST_YEAR..=LAST_YEAR).contains(&date.year())
}

/// Whether an instant's date in China lies in the supported range.
pub fn is_supported_instant(instant: DateTime<Utc>) -> bool {
    // `local_date` cannot overflow here: chrono's range is far wider than ours, and
    // an instant at its very edge simply falls outside.
    instant
        .checked_add_signed(Duration::seconds(OFFSET_SECS.into()))
        .is_some_and(|local| is_supported_date(local.date_naive()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_outside_the_supported_years_are_refused() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert!(is_supported_date(date(1900, 1, 1)));
        assert!(is_supported_date(date(2999, 12, 31)));
        assert!(!is_supported_date(date(1899, 12, 31)));
        assert!(!is_supported_date(date(3000, 1, 1)));
        assert!(!is_supported_date(date(-4713, 11, 24)));
        assert!(is_supported_instant(day_start(date(2025, 6, 1))));
        assert!(!is_supported_instant(DateTime::<Utc>::MIN_UTC));
        assert!(!is_supported_instant(DateTime::<Utc>::MAX_UTC));
        // 2999-12-31T20:00Z is already 3000-01-01 in Heshun.
        assert!(!is_supported_instant(day_start(date(3000, 1, 1))));
    }

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
