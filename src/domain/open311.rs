//! Open311 GeoReport v2 without I/O: what an item shows the public (open or closed, a
//! fixed note per state, never a name, a phone or the citizen's text), the query
//! window of `GET requests` (90 days by default and at most), the parameters' parsing,
//! and the API keys (32 random bytes, hex; only their SHA-256 is stored: a key with
//! 256 bits of entropy needs no slow hash, and the lookup is by hash).
use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::PetitionState;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::calendar::{day_start, is_supported_date};
use crate::domain::place::{CoordinateSystem, Location, LocationInput};
use crate::error::{AppError, AppResult};

/// The longest window `GET requests` answers, and its default (the spec's 90 days).
pub const WINDOW_DAYS: i64 = 90;
/// The most requests one `GET requests` answers (newest first).
pub const MAX_REQUESTS: u64 = 500;
/// The most ids one `service_request_id=` list may name.
pub const MAX_IDS: usize = 100;
/// Decimal places kept of a public latitude or longitude (0.01° is about 1 km).
pub const COORDINATE_DECIMALS: i32 = 2;

/// The spec's two statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Open,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Closed => "closed",
        }
    }

    /// The item states behind this status.
    pub fn states(self) -> &'static [PetitionState] {
        match self {
            Status::Open => &[
                PetitionState::Submitted,
                PetitionState::Registered,
                PetitionState::Forwarded,
                PetitionState::Accepted,
            ],
            Status::Closed => &[
                PetitionState::Resolved,
                PetitionState::Closed,
                PetitionState::Declined,
                PetitionState::Merged,
            ],
        }
    }
}

/// Open until a result is given (a new round opens it again), closed after.
pub fn status_of(state: PetitionState) -> Status {
    if Status::Open.states().contains(&state) {
        Status::Open
    } else {
        Status::Closed
    }
}

/// `status_notes`: a fixed sentence per state, never the handler's own words.
pub fn status_note(state: PetitionState) -> &'static str {
    match state {
        PetitionState::Submitted => "已受理，待站点登记 (received, awaiting registration)",
        PetitionState::Registered => "站点已登记 (registered at the station)",
        PetitionState::Forwarded => "已转交承办单位 (forwarded to the department)",
        PetitionState::Accepted => "承办单位办理中 (the department is handling it)",
        PetitionState::Resolved => "已答复，待评价 (answered, awaiting the citizen's rating)",
        PetitionState::Closed => "已办结 (closed)",
        PetitionState::Declined => "不予受理 (declined)",
        PetitionState::Merged => "已与同类事项合并办理 (merged with a similar item)",
    }
}

/// A coordinate as the public sees it: rounded to [`COORDINATE_DECIMALS`] places.
pub fn round_coordinate(value: f64) -> f64 {
    let scale = 10f64.powi(COORDINATE_DECIMALS);
    (value * scale).round() / scale
}

/// A date-time parameter in the W3C profile of ISO 8601 the spec names
/// (<https://www.w3.org/TR/NOTE-datetime>): a date-time with its offset, to the minute,
/// second or fraction (`2026-01-01T10:00Z`, `2026-01-01T10:00:00+08:00`,
/// `…T10:00:00.5Z`), or a day, month or year (its start in China: `2026-01-02`,
/// `2026-01`, `2026`).
pub fn parse_datetime(field: &str, raw: &str) -> AppResult<DateTime<Utc>> {
    let raw = raw.trim();
    let bad = || {
        AppError::bad_input(
            field,
            format!("{field} must be a W3C date-time such as 2026-01-01T00:00:00Z"),
        )
    };
    let parsed = if raw.contains('T') {
        w3c_time(raw).ok_or_else(bad)?
    } else {
        day_start(w3c_date(raw).ok_or_else(bad)?)
    };
    if !is_supported_date(parsed.date_naive()) {
        return Err(bad());
    }
    Ok(parsed)
}

/// `YYYY-MM-DDThh:mm[:ss[.s]]TZD`, TZD being `Z` or `±hh:mm`.
fn w3c_time(raw: &str) -> Option<DateTime<Utc>> {
    let offset = match raw.strip_suffix(['Z', 'z']) {
        Some(rest) => format!("{rest}+00:00"),
        None => raw.to_owned(),
    };
    DateTime::parse_from_rfc3339(&offset)
        .or_else(|_| DateTime::parse_from_str(&offset, "%Y-%m-%dT%H:%M%:z"))
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// `YYYY-MM-DD`, `YYYY-MM` (its first day) or `YYYY` (its first day).
fn w3c_date(raw: &str) -> Option<NaiveDate> {
    let full = match raw.len() {
        4 => format!("{raw}-01-01"),
        7 => format!("{raw}-01"),
        10 => raw.to_owned(),
        _ => return None,
    };
    NaiveDate::parse_from_str(&full, "%Y-%m-%d").ok()
}

/// `lat`, `long` (WGS-84 degrees, both or neither) and `address_string` of a
/// `POST requests`, as an item's location; an address without a point is not kept
/// (the item's place is then its station's). Errors name the spec's fields.
pub fn parse_location(
    lat: Option<&str>,
    long: Option<&str>,
    address: Option<&str>,
) -> AppResult<Option<Location>> {
    let (lat, long) = match (lat, long) {
        (None, None) => return Ok(None),
        (Some(lat), Some(long)) => (lat, long),
        (None, Some(_)) => return Err(AppError::bad_input("lat", "lat and long go together")),
        (Some(_), None) => return Err(AppError::bad_input("long", "lat and long go together")),
    };
    let number = |field: &str, raw: &str| {
        raw.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                AppError::bad_input(field, format!("{field} must be a number of degrees"))
            })
    };
    let input = LocationInput {
        latitude: number("lat", lat)?,
        longitude: number("long", long)?,
        accuracy: None,
        address: address.map(str::to_owned),
        coordinate_system: CoordinateSystem::Wgs84,
    };
    Location::parse("", &input)
        .map(Some)
        .map_err(|error| match error {
            AppError::BadUserInput { message, field } => {
                let field = match field.as_deref() {
                    Some("latitude") => "lat",
                    Some("longitude") => "long",
                    _ => "address_string",
                };
                AppError::bad_input(field, format!("{field}: {message}"))
            }
            other => other,
        })
}

/// What the public is told of an item's place: its point rounded to 0.01° (about a
/// kilometre), as open data gives it, as (lat, long) degrees.
pub fn public_point(location: &Location) -> (f64, f64) {
    let coarse = location.coarse().point;
    (coarse.latitude(), coarse.longitude())
}

/// The window of `GET requests`: the last 90 days by default; one bound alone reaches
/// 90 days from it; both may not be further apart than that, nor the wrong way round.
pub fn window(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<(DateTime<Utc>, DateTime<Utc>)> {
    let span = Duration::days(WINDOW_DAYS);
    let (start, end) = match (start, end) {
        (None, None) => (now - span, now),
        (Some(start), None) => (start, start + span),
        (None, Some(end)) => (end - span, end),
        (Some(start), Some(end)) => (start, end),
    };
    if end < start {
        return Err(AppError::bad_input(
            "end_date",
            "end_date is before start_date",
        ));
    }
    if end - start > span {
        return Err(AppError::bad_input(
            "end_date",
            format!("start_date and end_date may be at most {WINDOW_DAYS} days apart"),
        ));
    }
    Ok((start, end))
}

/// `status=open,closed`: the statuses asked for (none: all).
pub fn parse_statuses(raw: &str) -> AppResult<Vec<Status>> {
    let mut statuses = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let status = match part.to_ascii_lowercase().as_str() {
            "open" => Status::Open,
            "closed" => Status::Closed,
            _ => {
                return Err(AppError::bad_input(
                    "status",
                    "status must be open or closed (comma-separated)",
                ))
            }
        };
        if !statuses.contains(&status) {
            statuses.push(status);
        }
    }
    Ok(statuses)
}

/// `service_request_id=1,2,3`: at most [`MAX_IDS`] ids.
pub fn parse_request_ids(raw: &str) -> AppResult<Vec<i64>> {
    let ids = raw
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<i64>().ok().filter(|id| *id > 0))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            AppError::bad_input(
                "service_request_id",
                "service_request_id must be ids separated by commas",
            )
        })?;
    if ids.len() > MAX_IDS {
        return Err(AppError::bad_input(
            "service_request_id",
            format!("at most {MAX_IDS} service_request_id at once"),
        ));
    }
    Ok(ids)
}

/// `service_code=a,b`: the codes asked for (none: all), at most [`MAX_IDS`].
pub fn parse_codes(raw: &str) -> AppResult<Vec<String>> {
    let codes: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    if codes.len() > MAX_IDS || codes.iter().any(|c| c.chars().count() > 32) {
        return Err(AppError::bad_input(
            "service_code",
            "service_code must be a few codes separated by commas",
        ));
    }
    Ok(codes)
}

/// A new API key (64 hex characters) and its stored form.
pub fn new_key() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = hex::encode(bytes);
    let hash = key_hash(&key);
    (key, hash)
}

/// The stored form of a key as sent: its SHA-256, hex.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.trim().as_bytes()))
}

/// The characters of a key kept in the clear, to tell keys apart.
pub fn key_prefix(key: &str) -> String {
    key.chars().take(8).collect()
}

/// An item's title from an Open311 description: its first 30 characters, or the
/// service's name when the description is too short to make one.
pub fn title_from(description: &str, service_name: &str) -> String {
    let text = description.trim();
    let title: String = text.chars().take(30).collect();
    if title.chars().count() < 2 {
        service_name.chars().take(100).collect()
    } else {
        title
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn every_state_is_open_or_closed_and_has_a_note() {
        use sea_orm::Iterable;
        for state in PetitionState::iter() {
            let status = status_of(state);
            assert!(status.states().contains(&state), "{state:?}");
            assert!(!status_note(state).is_empty());
        }
        assert_eq!(status_of(PetitionState::Accepted), Status::Open);
        assert_eq!(status_of(PetitionState::Resolved), Status::Closed);
    }

    #[test]
    fn the_window_is_ninety_days_by_default_and_at_most() {
        let now = at(2026, 6, 1);
        assert_eq!(window(None, None, now), Ok((now - Duration::days(90), now)));
        let start = at(2026, 1, 1);
        assert_eq!(
            window(Some(start), None, now),
            Ok((start, start + Duration::days(90)))
        );
        assert!(window(Some(start), Some(at(2026, 4, 1)), now).is_ok());
        let too_long = window(Some(start), Some(at(2026, 4, 2)), now);
        assert!(matches!(too_long, Err(AppError::BadUserInput { .. })));
        let backwards = window(Some(at(2026, 2, 1)), Some(start), now);
        assert!(matches!(backwards, Err(AppError::BadUserInput { .. })));
    }

    #[test]
    fn dates_are_w3c_date_times_or_dates() {
        assert_eq!(
            parse_datetime("start_date", "2026-01-01T00:00:00Z"),
            Ok(at(2026, 1, 1))
        );
        assert_eq!(
            parse_datetime("start_date", "2026-01-01T08:00:00+08:00"),
            Ok(at(2026, 1, 1))
        );
        assert_eq!(
            parse_datetime("start_date", "2026-01-02"),
            Ok(at(2026, 1, 1) + Duration::hours(16))
        );
        // Without seconds, with a fraction, a month, a year: all W3C date-times.
        assert_eq!(
            parse_datetime("start_date", "2026-01-01T10:00Z"),
            Ok(at(2026, 1, 1) + Duration::hours(10))
        );
        assert_eq!(
            parse_datetime("start_date", "2026-01-01T10:00+08:00"),
            Ok(at(2026, 1, 1) + Duration::hours(2))
        );
        assert_eq!(
            parse_datetime("start_date", "2026-01-01T00:00:00.5Z"),
            Ok(at(2026, 1, 1) + Duration::milliseconds(500))
        );
        assert_eq!(
            parse_datetime("start_date", "2026-02"),
            Ok(at(2026, 2, 1) - Duration::hours(8))
        );
        assert_eq!(
            parse_datetime("start_date", "2026"),
            Ok(at(2026, 1, 1) - Duration::hours(8))
        );
        for bad in [
            "yesterday",
            "2026-13-01",
            "01-02-2026",
            "9999-01-01T00:00:00Z",
            "2026-01-01T10Z",
            "2026-01-01T10:00",
            "2026-1-1",
            "",
        ] {
            assert!(parse_datetime("start_date", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_filing_s_place_is_both_coordinates_and_the_public_one_is_rounded() {
        assert_eq!(parse_location(None, None, Some("滨河路口")), Ok(None));
        let at = parse_location(Some("37.32968"), Some(" 113.56842"), Some("滨河路口"))
            .expect("valid")
            .expect("a place");
        assert_eq!(
            (at.point.lat_e7, at.point.lon_e7),
            (373_296_800, 1_135_684_200)
        );
        assert_eq!(at.address.as_deref(), Some("滨河路口"));
        // 37.32968 → 37.33, 113.56842 → 113.57 (to the nearest hundredth).
        assert_eq!(public_point(&at), (37.33, 113.57));
        let south_west = parse_location(Some("-33.8651"), Some("-151.2099"), None)
            .expect("valid")
            .expect("a place");
        assert_eq!(public_point(&south_west), (-33.87, -151.21));
        let field = |r: AppResult<Option<Location>>| match r {
            Err(AppError::BadUserInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(parse_location(Some("37.3"), None, None)).as_deref(),
            Some("long")
        );
        assert_eq!(
            field(parse_location(Some("north"), Some("113.5"), None)).as_deref(),
            Some("lat")
        );
        assert_eq!(
            field(parse_location(Some("37.3"), Some("200"), None)).as_deref(),
            Some("long")
        );
        assert_eq!(
            field(parse_location(Some("91"), Some("113.5"), None)).as_deref(),
            Some("lat")
        );
        let long_address = "路".repeat(201);
        assert_eq!(
            field(parse_location(
                Some("37.3"),
                Some("113.5"),
                Some(&long_address)
            ))
            .as_deref(),
            Some("address_string")
        );
    }

    #[test]
    fn lists_are_parsed_and_bounded() {
        assert_eq!(
            parse_statuses("open, CLOSED,open"),
            Ok(vec![Status::Open, Status::Closed])
        );
        assert!(parse_statuses("pending").is_err());
        assert_eq!(parse_request_ids("3,4"), Ok(vec![3, 4]));
        assert!(parse_request_ids("3,x").is_err());
        assert!(parse_request_ids("-1").is_err());
        let many = vec!["1"; MAX_IDS + 1].join(",");
        assert!(parse_request_ids(&many).is_err());
        assert_eq!(
            parse_codes("a,,b"),
            Ok(vec!["a".to_owned(), "b".to_owned()])
        );
    }

    #[test]
    fn coordinates_are_rounded_to_about_a_kilometre() {
        assert_eq!(round_coordinate(37.329_871), 37.33);
        assert_eq!(round_coordinate(113.564_49), 113.56);
    }

    #[test]
    fn a_key_is_stored_as_its_hash_only() {
        let (key, hash) = new_key();
        assert_eq!(key.len(), 64);
        assert_eq!(key_hash(&key), hash);
        assert_ne!(hash, key);
        assert_eq!(key_prefix(&key).len(), 8);
        assert_ne!(new_key().0, key);
    }

    #[test]
    fn a_title_is_made_from_the_description() {
        assert_eq!(
            title_from("路灯坏了，晚上很黑", "路灯"),
            "路灯坏了，晚上很黑"
        );
        assert_eq!(title_from(" x ", "道路交通"), "道路交通");
        assert_eq!(title_from(&"长".repeat(40), "x").chars().count(), 30);
    }
}
