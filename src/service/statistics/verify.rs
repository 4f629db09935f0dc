//! `smart-npc statistics verify`: the rollup's figures against the from-scratch
//! computation ([`super::recompute`], the specification), for every year that holds
//! items or suggestions and every scope (the county, each township, station,
//! department and category).
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::{category, department, petition, station, suggestion, township};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QuerySelect};

use super::{compute, recompute, Scope, Statistics};
use crate::domain::calendar::local_date;
use crate::error::AppResult;

/// A period and scope whose figures differ.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub scope: Scope,
    /// From scratch (the specification).
    pub expected: Statistics,
    /// From the rollup.
    pub found: Statistics,
}

/// Whether the rollup's figures are the specification's: every count equal (the rates
/// follow from them), the average handling time within 1e-6 hours (the rollup sums
/// whole milliseconds; the from-scratch average is the backend's floating-point one).
pub fn agree(expected: &Statistics, found: &Statistics) -> bool {
    let close = (expected.average_handling_hours - found.average_handling_hours).abs() <= 1e-6;
    let mut found = found.clone();
    found.average_handling_hours = expected.average_handling_hours;
    close && &found == expected
}

/// The years that hold items or suggestions (China time), first to last.
async fn years<C: ConnectionTrait>(db: &C) -> AppResult<Vec<i32>> {
    let mut instants: Vec<DateTime<Utc>> = Vec::new();
    for ascending in [true, false] {
        let mut items = petition::Entity::find().select_only();
        let mut suggestions = suggestion::Entity::find().select_only();
        items = items.column(petition::Column::CollectedAt);
        suggestions = suggestions.column(suggestion::Column::SubmittedAt);
        if ascending {
            items = items.order_by_asc(petition::Column::CollectedAt);
            suggestions = suggestions.order_by_asc(suggestion::Column::SubmittedAt);
        } else {
            items = items.order_by_desc(petition::Column::CollectedAt);
            suggestions = suggestions.order_by_desc(suggestion::Column::SubmittedAt);
        }
        instants.extend(items.into_tuple::<DateTime<Utc>>().one(db).await?);
        instants.extend(suggestions.into_tuple::<DateTime<Utc>>().one(db).await?);
    }
    let years = instants.iter().map(|t| local_date(*t).year());
    Ok(match (years.clone().min(), years.max()) {
        (Some(first), Some(last)) => (first..=last).collect(),
        _ => Vec::new(),
    })
}

/// The county and every township, station, department and category.
async fn scopes<C: ConnectionTrait>(db: &C) -> AppResult<Vec<Scope>> {
    let mut scopes = vec![Scope::default()];
    let ids = |rows: Vec<i64>, make: fn(i64) -> Scope| rows.into_iter().map(make);
    let townships = township::Entity::find()
        .select_only()
        .column(township::Column::Id);
    let stations = station::Entity::find()
        .select_only()
        .column(station::Column::Id);
    let departments = department::Entity::find()
        .select_only()
        .column(department::Column::Id);
    let categories = category::Entity::find()
        .select_only()
        .column(category::Column::Id);
    scopes.extend(ids(townships.into_tuple().all(db).await?, |id| Scope {
        township_id: Some(id),
        ..Scope::default()
    }));
    scopes.extend(ids(stations.into_tuple().all(db).await?, |id| Scope {
        station_id: Some(id),
        ..Scope::default()
    }));
    scopes.extend(ids(departments.into_tuple().all(db).await?, |id| Scope {
        department_id: Some(id),
        ..Scope::default()
    }));
    scopes.extend(ids(categories.into_tuple().all(db).await?, |id| Scope {
        category_id: Some(id),
        ..Scope::default()
    }));
    Ok(scopes)
}

/// Every year × scope whose rollup figures differ from the specification's; empty
/// when they all agree. Also returns how many were compared.
pub async fn verify<C: ConnectionTrait>(db: &C) -> AppResult<(usize, Vec<Difference>)> {
    let scopes = scopes(db).await?;
    let mut compared = 0;
    let mut differences = Vec::new();
    for year in years(db).await? {
        let (Some(from), Some(to)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            continue;
        };
        for scope in &scopes {
            let expected = recompute(db, from, to, scope).await?;
            let found = compute(db, from, to, scope).await?;
            compared += 1;
            if !agree(&expected, &found) {
                differences.push(Difference {
                    from,
                    to,
                    scope: *scope,
                    expected,
                    found,
                });
            }
        }
    }
    Ok((compared, differences))
}
