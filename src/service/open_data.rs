//! Open data (`/open-data/…`): public and anonymised. The loop's figures per period
//! and scope (the same `statistics::compute` the GraphQL `statistics` answers), and
//! the items one record each: when (the day), what (the category), where (township
//! and station, and in GeoJSON a place rounded to about a kilometre), how
//! far the loop got. Never a name, a phone, a title, the text or a result.
use chrono::{Datelike, Months, NaiveDate};
use entity::{category, petition, station, township};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::calendar::{day_start, local_date};
use crate::domain::open311::{self, Status};
use crate::domain::place::Location;
use crate::error::{AppError, AppResult};
use crate::service::open311::OrgTables;
use crate::service::statistics::{self, Scope, Statistics};
use crate::service::Ctx;

/// The most periods one statistics answer holds (ten years of months).
pub const MAX_PERIODS: usize = 120;
/// The longest period one items answer covers (a county-year, paged).
pub const MAX_ITEM_DAYS: i64 = 366;
/// Items per page: the default and the most.
pub const MAX_ITEMS_PAGE: u64 = 1000;

/// How a statistics answer cuts its period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grain {
    Month,
    Year,
    /// The whole period as one row.
    All,
}

impl Grain {
    pub fn parse(raw: Option<&str>) -> AppResult<Self> {
        match raw.map(str::trim).unwrap_or("month") {
            "month" => Ok(Grain::Month),
            "year" => Ok(Grain::Year),
            "all" => Ok(Grain::All),
            _ => Err(AppError::bad_input(
                "grain",
                "grain must be month, year or all",
            )),
        }
    }
}

/// The scope by public codes (`township=`, `station=`, `category=`).
#[derive(Clone, Debug, Default)]
pub struct ScopeCodes {
    pub township: Option<String>,
    pub station: Option<String>,
    pub category: Option<String>,
}

/// One row of figures: a period, its scope, the figures.
#[derive(Clone, Debug)]
pub struct PeriodFigures {
    pub period: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub scope: ScopeCodes,
    pub figures: Statistics,
}

/// The periods of `from..=to` by `grain`: calendar months or years, clipped to it.
pub fn periods(
    from: NaiveDate,
    to: NaiveDate,
    grain: Grain,
) -> AppResult<Vec<(String, NaiveDate, NaiveDate)>> {
    statistics::check_period(from, to)?;
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let (label, next) = match grain {
            Grain::All => (format!("{from}/{to}"), to.succ_opt().unwrap_or(to)),
            Grain::Year => (
                start.year().to_string(),
                NaiveDate::from_ymd_opt(start.year() + 1, 1, 1).unwrap_or(to),
            ),
            Grain::Month => {
                let first = start.with_day(1).unwrap_or(start);
                (
                    format!("{:04}-{:02}", start.year(), start.month()),
                    first.checked_add_months(Months::new(1)).unwrap_or(to),
                )
            }
        };
        let end = next.pred_opt().unwrap_or(next).min(to);
        out.push((label, start, end));
        if out.len() > MAX_PERIODS {
            return Err(AppError::bad_input(
                "grain",
                format!("at most {MAX_PERIODS} periods in one answer: a coarser grain or a shorter period"),
            ));
        }
        if end >= to {
            break;
        }
        start = end.succ_opt().unwrap_or(to);
    }
    Ok(out)
}

/// The figures of each period for the scope named by codes (an unknown code is
/// NOT_FOUND).
pub async fn figures(
    ctx: &Ctx<'_>,
    from: NaiveDate,
    to: NaiveDate,
    grain: Grain,
    codes: ScopeCodes,
) -> AppResult<Vec<PeriodFigures>> {
    let periods = periods(from, to, grain)?;
    let scope = scope_of(ctx, &codes).await?;
    let mut rows = Vec::with_capacity(periods.len());
    for (period, from, to) in periods {
        let figures = statistics::compute(ctx.db, from, to, &scope).await?;
        rows.push(PeriodFigures {
            period,
            from,
            to,
            scope: codes.clone(),
            figures,
        });
    }
    Ok(rows)
}

async fn scope_of(ctx: &Ctx<'_>, codes: &ScopeCodes) -> AppResult<Scope> {
    let mut scope = Scope::default();
    if let Some(code) = &codes.township {
        let found = township::Entity::find()
            .filter(township::Column::Code.eq(code.trim()))
            .one(ctx.db)
            .await?;
        scope.township_id = Some(
            found
                .ok_or_else(|| AppError::NotFound(format!("township not found: {code}")))?
                .id,
        );
    }
    if let Some(code) = &codes.station {
        let found = station::Entity::find()
            .filter(station::Column::Code.eq(code.trim()))
            .one(ctx.db)
            .await?;
        scope.station_id = Some(
            found
                .ok_or_else(|| AppError::NotFound(format!("station not found: {code}")))?
                .id,
        );
    }
    if let Some(code) = &codes.category {
        let found = category::Entity::find()
            .filter(category::Column::Code.eq(code.trim()))
            .one(ctx.db)
            .await?;
        scope.category_id = Some(
            found
                .ok_or_else(|| AppError::NotFound(format!("category not found: {code}")))?
                .id,
        );
    }
    Ok(scope)
}

/// One item as open data.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenItem {
    pub id: i64,
    pub collected_on: NaiveDate,
    pub category_code: Option<String>,
    pub category_name: Option<String>,
    pub township_code: Option<String>,
    pub township_name: Option<String>,
    pub station_code: Option<String>,
    pub station_name: Option<String>,
    pub channel: String,
    pub state: String,
    pub status: Status,
    pub urgency: Option<String>,
    pub deadline_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub overdue: bool,
    pub satisfaction: Option<String>,
    /// The item's place rounded to 0.01° (about a kilometre) as (lat, long) degrees,
    /// when it has one: the GeoJSON's point, in no other file.
    pub point: Option<(f64, f64)>,
}

/// A page of items collected in `from..=to` (at most [`MAX_ITEM_DAYS`]), by id, after
/// `after`; and the id to continue after when there are more.
pub async fn items(
    ctx: &Ctx<'_>,
    from: NaiveDate,
    to: NaiveDate,
    after: Option<i64>,
    limit: Option<u64>,
) -> AppResult<(Vec<OpenItem>, Option<i64>)> {
    statistics::check_period(from, to)?;
    if (to - from).num_days() >= MAX_ITEM_DAYS {
        return Err(AppError::bad_input(
            "to",
            format!("at most {MAX_ITEM_DAYS} days at once"),
        ));
    }
    let limit = limit.unwrap_or(MAX_ITEMS_PAGE).clamp(1, MAX_ITEMS_PAGE);
    let end = day_start(to.succ_opt().unwrap_or(to));
    let rows = petition::Entity::find()
        .filter(petition::Column::CollectedAt.gte(day_start(from)))
        .filter(petition::Column::CollectedAt.lt(end))
        .filter(petition::Column::Id.gt(after.unwrap_or(0)))
        .order_by_asc(petition::Column::Id)
        .limit(limit + 1)
        .all(ctx.db)
        .await?;
    let more = rows.len() as u64 > limit;
    let tables = OrgTables::load(ctx.db).await?;
    let page: Vec<OpenItem> = rows
        .iter()
        .take(limit as usize)
        .map(|item| open_item(&tables, item))
        .collect();
    let next = if more {
        page.last().map(|i| i.id)
    } else {
        None
    };
    Ok((page, next))
}

fn open_item(tables: &OrgTables, item: &petition::Model) -> OpenItem {
    let category = item.category_id.and_then(|c| tables.categories.get(&c));
    let township = item.township_id.and_then(|t| tables.townships.get(&t));
    let station = item.station_id.and_then(|s| tables.stations.get(&s));
    OpenItem {
        id: item.id,
        collected_on: local_date(item.collected_at),
        category_code: category.map(|c| c.code.clone()),
        category_name: category.map(|c| c.name.clone()),
        township_code: township.map(|t| t.code.clone()),
        township_name: township.map(|t| t.name.clone()),
        station_code: station.map(|s| s.code.clone()),
        station_name: station.map(|s| s.name.clone()),
        channel: wire(&item.channel).unwrap_or_default(),
        state: wire(&item.state).unwrap_or_default(),
        status: open311::status_of(item.state),
        urgency: item.urgency.as_ref().and_then(wire),
        deadline_on: item.deadline.map(local_date),
        completed_on: item.resolved_at.or(item.closed_at).map(local_date),
        overdue: item.is_overdue,
        satisfaction: item.satisfaction.as_ref().and_then(wire),
        point: Location::from_stored(item.latitude_e7, item.longitude_e7, None, None)
            .map(|l| open311::public_point(&l)),
    }
}

/// The data dictionary: each dataset's fields in column order, with their type and
/// meaning (`/open-data/dictionary.json`; the CSV header is the names).
pub const STATISTICS_FIELDS: &[(&str, &str, &str)] = &[
    (
        "period",
        "string",
        "the period: a month (2026-03), a year (2026), or from/to for grain=all",
    ),
    (
        "from",
        "date",
        "first day of the period (China Standard Time)",
    ),
    ("to", "date", "last day of the period, inclusive"),
    (
        "township",
        "string|null",
        "township code of the scope (null: the whole county)",
    ),
    (
        "station",
        "string|null",
        "station code of the scope (null: every station)",
    ),
    (
        "category",
        "string|null",
        "category code of the scope (null: every category)",
    ),
    (
        "items_collected",
        "integer",
        "opinion items collected in the period (社情民意)",
    ),
    (
        "items_completed",
        "integer",
        "of those, resolved or closed (办结)",
    ),
    (
        "completion_rate",
        "number",
        "items_completed / items_collected (0 when none)",
    ),
    (
        "completed_with_deadline",
        "integer",
        "completed items that had a department deadline",
    ),
    (
        "completed_on_time",
        "integer",
        "of those, completed by the deadline",
    ),
    (
        "on_time_rate",
        "number",
        "completed_on_time / completed_with_deadline",
    ),
    ("rated", "integer", "completed items the citizen rated"),
    (
        "satisfied",
        "integer",
        "rated satisfied or basically satisfied",
    ),
    ("satisfaction_rate", "number", "satisfied / rated"),
    (
        "average_handling_hours",
        "number",
        "mean hours from collection to result, over completed items",
    ),
    (
        "overdue_count",
        "integer",
        "items collected in the period that are or were overdue",
    ),
    (
        "urgent_completed",
        "integer",
        "urgent or critical items completed (急难愁盼)",
    ),
    (
        "suggestions_made",
        "integer",
        "deputies' suggestions made in the period",
    ),
    (
        "suggestions_adopted",
        "integer",
        "of those, adopted or partly adopted",
    ),
];

pub const ITEM_FIELDS: &[(&str, &str, &str)] = &[
    ("id", "integer", "the item's number (the same as Open311's service_request_id)"),
    ("collected_on", "date", "the day it was collected (China Standard Time); never the hour"),
    ("category", "string|null", "category code (null until the station classifies it)"),
    ("category_name", "string|null", "category name"),
    ("township", "string|null", "township code"),
    ("township_name", "string|null", "township name"),
    ("station", "string|null", "code of the station that holds it"),
    ("station_name", "string|null", "station name"),
    ("channel", "string", "how it arrived: station_reception, deputy_visit, app, qr_code, wechat"),
    ("state", "string", "where it stands: submitted, registered, forwarded, accepted, resolved, closed, declined, merged"),
    ("status", "string", "open or closed (as Open311 says it)"),
    ("urgency", "string|null", "normal, urgent or critical, once assessed"),
    ("deadline_on", "date|null", "the department's deadline (day)"),
    ("completed_on", "date|null", "the day a result was given or it was closed"),
    ("overdue", "boolean", "whether it is or was past its deadline"),
    ("satisfaction", "string|null", "the citizen's latest rating: satisfied, basically_satisfied, unsatisfied"),
];

/// A row of figures in [`STATISTICS_FIELDS`] order.
pub fn statistics_record(row: &PeriodFigures) -> Vec<serde_json::Value> {
    use serde_json::json;
    let f = &row.figures;
    vec![
        json!(row.period),
        json!(row.from.to_string()),
        json!(row.to.to_string()),
        json!(row.scope.township),
        json!(row.scope.station),
        json!(row.scope.category),
        json!(f.items_collected),
        json!(f.items_completed),
        json!(f.completion_rate),
        json!(f.completed_with_deadline),
        json!(f.completed_on_time),
        json!(f.on_time_rate),
        json!(f.rated),
        json!(f.satisfied),
        json!(f.satisfaction_rate),
        json!(f.average_handling_hours),
        json!(f.overdue_count),
        json!(f.urgent_completed),
        json!(f.suggestions_made),
        json!(f.suggestions_adopted),
    ]
}

/// An item in [`ITEM_FIELDS`] order.
pub fn item_record(item: &OpenItem) -> Vec<serde_json::Value> {
    use serde_json::json;
    let day = |d: Option<NaiveDate>| json!(d.map(|d| d.to_string()));
    vec![
        json!(item.id),
        json!(item.collected_on.to_string()),
        json!(item.category_code),
        json!(item.category_name),
        json!(item.township_code),
        json!(item.township_name),
        json!(item.station_code),
        json!(item.station_name),
        json!(item.channel),
        json!(item.state),
        json!(item.status.as_str()),
        json!(item.urgency),
        day(item.deadline_on),
        day(item.completed_on),
        json!(item.overdue),
        json!(item.satisfaction),
    ]
}

/// A stored enum as the database spells it (`snake_case`).
fn wire<T: serde::Serialize>(value: &T) -> Option<String> {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn a_period_is_cut_into_calendar_months_or_years() {
        let months = periods(d(2026, 1, 15), d(2026, 3, 10), Grain::Month).expect("ok");
        assert_eq!(
            months,
            vec![
                ("2026-01".into(), d(2026, 1, 15), d(2026, 1, 31)),
                ("2026-02".into(), d(2026, 2, 1), d(2026, 2, 28)),
                ("2026-03".into(), d(2026, 3, 1), d(2026, 3, 10)),
            ]
        );
        let years = periods(d(2025, 6, 1), d(2026, 12, 31), Grain::Year).expect("ok");
        assert_eq!(years.len(), 2);
        assert_eq!(years[1], ("2026".into(), d(2026, 1, 1), d(2026, 12, 31)));
        let all = periods(d(2025, 6, 1), d(2026, 12, 31), Grain::All).expect("ok");
        assert_eq!(
            all,
            vec![(
                "2025-06-01/2026-12-31".into(),
                d(2025, 6, 1),
                d(2026, 12, 31)
            )]
        );
    }

    #[test]
    fn records_follow_the_dictionary() {
        let row = PeriodFigures {
            period: "2026".into(),
            from: d(2026, 1, 1),
            to: d(2026, 12, 31),
            scope: ScopeCodes::default(),
            figures: Statistics::default(),
        };
        assert_eq!(statistics_record(&row).len(), STATISTICS_FIELDS.len());
        let item = OpenItem {
            id: 1,
            collected_on: d(2026, 1, 1),
            category_code: None,
            category_name: None,
            township_code: None,
            township_name: None,
            station_code: None,
            station_name: None,
            channel: "app".into(),
            state: "submitted".into(),
            status: Status::Open,
            urgency: None,
            deadline_on: None,
            completed_on: None,
            overdue: false,
            satisfaction: None,
            point: None,
        };
        assert_eq!(item_record(&item).len(), ITEM_FIELDS.len());
    }

    #[test]
    fn periods_are_bounded() {
        assert!(periods(d(2010, 1, 1), d(2020, 12, 31), Grain::Month).is_err());
        assert!(periods(d(2026, 2, 1), d(2026, 1, 1), Grain::Month).is_err());
    }
}
