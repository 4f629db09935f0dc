//! What a change does to the statistics rollup (`statistics_rollup`): the counters an
//! item or a suggestion adds, under which rows, and the difference a change makes.
//! Pure; the service writes the [`Delta`] in the change's transaction.
//!
//! The layout (also described in the migration `m20261202_000001_statistics_rollup`,
//! whose SQL recomputes the same rows from the tables): a row per (grain, bucket,
//! township, station, department, category). A thing is counted in a day row and a
//! month row (China time); in the places (all, all), (its township, all), (all, its
//! station) and (its township, its station) — those it has values for; each once with
//! department [`ALL`] and once per department taking part in it. So every combination
//! of scope arguments reads one contiguous range of the primary key. [`ALL`] is "not
//! broken down", [`NONE`] "has no such value" (a category).
use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Add, Neg};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::{petition, suggestion, Adoption, PetitionState, Satisfaction, Urgency};

use crate::domain::calendar::local_date;
use crate::domain::petition_flow::PartChange;

/// A place column holding every value (not broken down).
pub const ALL: i64 = 0;
/// A place or category column for a thing that has none.
pub const NONE: i64 = -1;

/// A day or a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    Day = 0,
    Month = 1,
}

/// One row's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    // Field order is the primary key's, so a delta's rows are written (and locked) in
    // the order of the index: two transactions never wait for each other crosswise.
    pub department_id: i64,
    pub township_id: i64,
    pub station_id: i64,
    pub grain: Grain,
    /// The day, or the first day of the month.
    pub bucket: NaiveDate,
    pub category_id: i64,
}

/// The counters of a row (or what a change adds to them).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub collected: i64,
    /// Resolved or closed.
    pub completed: i64,
    /// Completed, with a deadline.
    pub with_deadline: i64,
    /// Completed with a deadline, resolved by it.
    pub on_time: i64,
    pub rated: i64,
    /// Rated (basically) satisfied.
    pub satisfied: i64,
    /// Completed, with a resolution time.
    pub handled: i64,
    /// Of those, milliseconds from collection to resolution (summed).
    pub handling_ms: i64,
    pub overdue: i64,
    /// Urgent or critical, completed.
    pub urgent_completed: i64,
    pub suggestions_made: i64,
    /// Adopted or partly adopted.
    pub suggestions_adopted: i64,
}

impl Counters {
    /// The columns, in the order of [`Counters::values`].
    pub const COLUMNS: [&'static str; 12] = [
        "collected",
        "completed",
        "with_deadline",
        "on_time",
        "rated",
        "satisfied",
        "handled",
        "handling_ms",
        "overdue",
        "urgent_completed",
        "suggestions_made",
        "suggestions_adopted",
    ];

    pub fn values(&self) -> [i64; 12] {
        [
            self.collected,
            self.completed,
            self.with_deadline,
            self.on_time,
            self.rated,
            self.satisfied,
            self.handled,
            self.handling_ms,
            self.overdue,
            self.urgent_completed,
            self.suggestions_made,
            self.suggestions_adopted,
        ]
    }

    pub fn from_values(v: [i64; 12]) -> Self {
        Counters {
            collected: v[0],
            completed: v[1],
            with_deadline: v[2],
            on_time: v[3],
            rated: v[4],
            satisfied: v[5],
            handled: v[6],
            handling_ms: v[7],
            overdue: v[8],
            urgent_completed: v[9],
            suggestions_made: v[10],
            suggestions_adopted: v[11],
        }
    }

    pub fn is_zero(&self) -> bool {
        self.values().iter().all(|v| *v == 0)
    }
}

impl Add for Counters {
    type Output = Counters;
    fn add(self, other: Counters) -> Counters {
        let (a, b) = (self.values(), other.values());
        Counters::from_values(std::array::from_fn(|i| a[i] + b[i]))
    }
}

impl Neg for Counters {
    type Output = Counters;
    fn neg(self) -> Counters {
        Counters::from_values(self.values().map(|v| -v))
    }
}

/// What of an item the figures depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFacts {
    pub collected_at: DateTime<Utc>,
    pub township_id: Option<i64>,
    pub station_id: Option<i64>,
    pub category_id: Option<i64>,
    /// Every department with a part in it (whatever the part's status).
    pub departments: BTreeSet<i64>,
    pub state: PetitionState,
    pub deadline: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub satisfaction: Option<Satisfaction>,
    pub is_overdue: bool,
    pub urgency: Option<Urgency>,
}

impl ItemFacts {
    pub fn of(item: &petition::Model, departments: impl IntoIterator<Item = i64>) -> Self {
        ItemFacts {
            collected_at: item.collected_at,
            township_id: item.township_id,
            station_id: item.station_id,
            category_id: item.category_id,
            departments: departments.into_iter().collect(),
            state: item.state,
            deadline: item.deadline,
            resolved_at: item.resolved_at,
            satisfaction: item.satisfaction,
            is_overdue: item.is_overdue,
            urgency: item.urgency,
        }
    }

    /// The item's counters (the same under each of its rows).
    pub fn counters(&self) -> Counters {
        let completed = matches!(self.state, PetitionState::Resolved | PetitionState::Closed);
        let with_deadline = completed && self.deadline.is_some();
        let on_time = with_deadline
            && matches!((self.resolved_at, self.deadline), (Some(r), Some(d)) if r <= d);
        let handling = self
            .resolved_at
            .filter(|_| completed)
            .map(|resolved| handling_ms(self.collected_at, resolved));
        Counters {
            collected: 1,
            completed: completed.into(),
            with_deadline: with_deadline.into(),
            on_time: on_time.into(),
            rated: self.satisfaction.is_some().into(),
            satisfied: matches!(
                self.satisfaction,
                Some(Satisfaction::Satisfied | Satisfaction::BasicallySatisfied)
            )
            .into(),
            handled: handling.is_some().into(),
            handling_ms: handling.unwrap_or(0),
            overdue: self.is_overdue.into(),
            urgent_completed: (completed
                && matches!(self.urgency, Some(Urgency::Urgent | Urgency::Critical)))
            .into(),
            ..Counters::default()
        }
    }

    fn keys(&self) -> Vec<Key> {
        keys(
            local_date(self.collected_at),
            self.township_id,
            self.station_id,
            &self.departments,
            self.category_id.unwrap_or(NONE),
        )
    }
}

/// Milliseconds from `from` to `to`, each instant taken to its nearest millisecond
/// (half up): what both backends' SQL sees (SQLite keeps milliseconds), so the rollup
/// rebuilt in SQL is exactly the one kept by the changes.
pub fn handling_ms(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    millis(to) - millis(from)
}

fn millis(t: DateTime<Utc>) -> i64 {
    let rest = t.timestamp_subsec_nanos() % 1_000_000;
    t.timestamp_millis() + i64::from(rest >= 500_000)
}

/// What of a suggestion the figures depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestionFacts {
    pub submitted_at: DateTime<Utc>,
    /// The township of its station.
    pub township_id: Option<i64>,
    pub station_id: Option<i64>,
    pub department_id: Option<i64>,
    pub adopted: bool,
}

impl SuggestionFacts {
    pub fn of(row: &suggestion::Model, station_township: Option<i64>) -> Self {
        SuggestionFacts {
            submitted_at: row.submitted_at,
            township_id: station_township,
            station_id: row.station_id,
            department_id: row.department_id,
            adopted: matches!(
                row.adoption,
                Some(Adoption::Adopted | Adoption::PartlyAdopted)
            ),
        }
    }

    pub fn counters(&self) -> Counters {
        Counters {
            suggestions_made: 1,
            suggestions_adopted: self.adopted.into(),
            ..Counters::default()
        }
    }

    fn keys(&self) -> Vec<Key> {
        keys(
            local_date(self.submitted_at),
            self.township_id,
            self.station_id,
            &self.department_id.into_iter().collect(),
            NONE,
        )
    }
}

/// The rows a thing of that day, place, departments and category is counted under.
fn keys(
    day: NaiveDate,
    township: Option<i64>,
    station: Option<i64>,
    departments: &BTreeSet<i64>,
    category_id: i64,
) -> Vec<Key> {
    let month = day.with_day(1).unwrap_or(day);
    let mut places = vec![(ALL, ALL)];
    if let Some(t) = township {
        places.push((t, ALL));
    }
    if let Some(s) = station {
        places.push((ALL, s));
    }
    if let (Some(t), Some(s)) = (township, station) {
        places.push((t, s));
    }
    let departments = std::iter::once(ALL).chain(departments.iter().copied());
    let mut keys = Vec::new();
    for department_id in departments {
        for &(township_id, station_id) in &places {
            for (grain, bucket) in [(Grain::Day, day), (Grain::Month, month)] {
                keys.push(Key {
                    department_id,
                    township_id,
                    station_id,
                    grain,
                    bucket,
                    category_id,
                });
            }
        }
    }
    keys
}

/// The departments of an item after a step: parts are never removed, a step may add some.
pub fn departments_after(before: &BTreeSet<i64>, parts: &[PartChange]) -> BTreeSet<i64> {
    let mut after = before.clone();
    for part in parts {
        if let PartChange::Involve { department_id, .. } = part {
            after.insert(*department_id);
        }
    }
    after
}

/// What to add to the rollup's rows, ordered by key; rows whose change is nothing are left out.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Delta(BTreeMap<Key, Counters>);

impl Delta {
    fn add(&mut self, keys: Vec<Key>, counters: Counters) {
        for key in keys {
            let sum = *self.0.entry(key).or_default() + counters;
            if sum.is_zero() {
                self.0.remove(&key);
            } else {
                self.0.insert(key, sum);
            }
        }
    }

    /// An item's change: `None` before when it is new.
    pub fn item(before: Option<&ItemFacts>, after: Option<&ItemFacts>) -> Delta {
        let mut delta = Delta::default();
        if let Some(b) = before {
            delta.add(b.keys(), -b.counters());
        }
        if let Some(a) = after {
            delta.add(a.keys(), a.counters());
        }
        delta
    }

    /// A suggestion's change: `None` before when it is new.
    pub fn suggestion(before: Option<&SuggestionFacts>, after: Option<&SuggestionFacts>) -> Delta {
        let mut delta = Delta::default();
        if let Some(b) = before {
            delta.add(b.keys(), -b.counters());
        }
        if let Some(a) = after {
            delta.add(a.keys(), a.counters());
        }
        delta
    }

    /// Adds another delta to this one.
    pub fn merge(&mut self, other: Delta) {
        for (key, counters) in other.0 {
            self.add(vec![key], counters);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn rows(&self) -> impl Iterator<Item = (&Key, &Counters)> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use entity::DepartmentRole;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .expect("time")
    }

    fn item() -> ItemFacts {
        ItemFacts {
            collected_at: at(2025, 3, 31, 20), // 2025-04-01 in China
            township_id: Some(3),
            station_id: Some(7),
            category_id: Some(2),
            departments: BTreeSet::new(),
            state: PetitionState::Submitted,
            deadline: None,
            resolved_at: None,
            satisfaction: None,
            is_overdue: false,
            urgency: None,
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn a_new_item_counts_once_in_each_place_and_grain_on_its_china_date() {
        let delta = Delta::item(None, Some(&item()));
        let rows: Vec<_> = delta.rows().collect();
        // (all, all), (3, all), (all, 7), (3, 7) × day and month, department "all" only.
        assert_eq!(rows.len(), 8);
        for (key, counters) in &rows {
            assert_eq!(counters.collected, 1);
            assert_eq!(counters.values().iter().sum::<i64>(), 1);
            assert_eq!(key.department_id, ALL);
            assert_eq!(key.category_id, 2);
            let want = match key.grain {
                Grain::Day => date(2025, 4, 1),
                Grain::Month => date(2025, 4, 1),
            };
            assert_eq!(key.bucket, want);
        }
        let places: BTreeSet<_> = rows
            .iter()
            .map(|(k, _)| (k.township_id, k.station_id))
            .collect();
        assert_eq!(
            places,
            BTreeSet::from([(ALL, ALL), (3, ALL), (ALL, 7), (3, 7)])
        );
    }

    #[test]
    fn a_station_without_township_and_no_category_use_none() {
        let facts = ItemFacts {
            township_id: None,
            category_id: None,
            collected_at: at(2025, 5, 9, 1),
            ..item()
        };
        let delta = Delta::item(None, Some(&facts));
        let keys: BTreeSet<_> = delta
            .rows()
            .map(|(k, _)| {
                (
                    k.township_id,
                    k.station_id,
                    k.category_id,
                    k.grain,
                    k.bucket,
                )
            })
            .collect();
        assert!(keys.contains(&(ALL, 7, NONE, Grain::Day, date(2025, 5, 9))));
        assert!(keys.contains(&(ALL, ALL, NONE, Grain::Month, date(2025, 5, 1))));
        assert_eq!(keys.len(), 4);
    }

    #[test]
    fn completing_on_time_changes_only_the_figures_that_moved() {
        let before = ItemFacts {
            state: PetitionState::Accepted,
            departments: BTreeSet::from([11]),
            deadline: Some(at(2025, 4, 10, 0)),
            urgency: Some(Urgency::Urgent),
            ..item()
        };
        let after = ItemFacts {
            state: PetitionState::Resolved,
            resolved_at: Some(at(2025, 4, 1, 20)),
            ..before.clone()
        };
        let delta = Delta::item(Some(&before), Some(&after));
        // 4 places × 2 grains × (all + department 11).
        assert_eq!(delta.rows().count(), 16);
        for (_, c) in delta.rows() {
            assert_eq!(c.collected, 0);
            assert_eq!((c.completed, c.with_deadline, c.on_time), (1, 1, 1));
            assert_eq!((c.handled, c.handling_ms), (1, 24 * 3600 * 1000));
            assert_eq!(c.urgent_completed, 1);
        }
        // Late: resolved after the deadline.
        let late = ItemFacts {
            resolved_at: Some(at(2025, 4, 11, 0)),
            ..after.clone()
        };
        let c = *Delta::item(Some(&before), Some(&late))
            .rows()
            .next()
            .expect("row")
            .1;
        assert_eq!((c.with_deadline, c.on_time), (1, 0));
    }

    #[test]
    fn a_step_that_changes_nothing_counted_writes_nothing() {
        let before = ItemFacts {
            state: PetitionState::Forwarded,
            ..item()
        };
        let after = ItemFacts {
            state: PetitionState::Accepted,
            ..before.clone()
        };
        assert!(Delta::item(Some(&before), Some(&after)).is_empty());
    }

    #[test]
    fn categorising_moves_the_item_between_category_rows() {
        let before = ItemFacts {
            category_id: None,
            ..item()
        };
        let after = item();
        let delta = Delta::item(Some(&before), Some(&after));
        let moved: Vec<_> = delta
            .rows()
            .map(|(k, c)| (k.category_id, c.collected))
            .collect();
        assert_eq!(moved.iter().filter(|m| **m == (NONE, -1)).count(), 8);
        assert_eq!(moved.iter().filter(|m| **m == (2, 1)).count(), 8);
    }

    #[test]
    fn forwarding_adds_the_departments_rows() {
        let parts = [
            PartChange::Involve {
                department_id: 4,
                role: DepartmentRole::Lead,
            },
            PartChange::AcceptAssists,
        ];
        let before = item();
        let after = ItemFacts {
            departments: departments_after(&before.departments, &parts),
            state: PetitionState::Forwarded,
            ..item()
        };
        let delta = Delta::item(Some(&before), Some(&after));
        assert_eq!(delta.rows().count(), 8);
        assert!(delta
            .rows()
            .all(|(k, c)| k.department_id == 4 && c.collected == 1));
    }

    #[test]
    fn suggestions_count_without_category_and_by_their_department() {
        let s = SuggestionFacts {
            submitted_at: at(2025, 6, 1, 1),
            township_id: Some(3),
            station_id: Some(7),
            department_id: Some(9),
            adopted: false,
        };
        let made = Delta::suggestion(None, Some(&s));
        assert_eq!(made.rows().count(), 16);
        assert!(made
            .rows()
            .all(|(k, c)| k.category_id == NONE && c.suggestions_made == 1));
        let adopted = SuggestionFacts {
            adopted: true,
            ..s.clone()
        };
        let answered = Delta::suggestion(Some(&s), Some(&adopted));
        assert!(answered
            .rows()
            .all(|(_, c)| c.suggestions_adopted == 1 && c.suggestions_made == 0));
    }

    #[test]
    fn undoing_a_change_cancels_it() {
        let a = item();
        let b = ItemFacts {
            state: PetitionState::Closed,
            resolved_at: Some(at(2025, 4, 3, 0)),
            satisfaction: Some(Satisfaction::Satisfied),
            ..item()
        };
        let mut delta = Delta::item(Some(&a), Some(&b));
        delta.merge(Delta::item(Some(&b), Some(&a)));
        assert!(delta.is_empty());
    }

    #[test]
    fn handling_time_takes_each_instant_to_its_nearest_millisecond() {
        let t = at(2025, 1, 1, 0);
        let us = chrono::Duration::microseconds;
        assert_eq!(handling_ms(t, t + us(1_499)), 1);
        assert_eq!(handling_ms(t, t + us(1_500)), 2);
        assert_eq!(handling_ms(t + us(400), t + us(600)), 1);
        assert_eq!(handling_ms(t + us(600), t + us(400)), -1);
        assert_eq!(handling_ms(t, t + chrono::Duration::hours(10)), 36_000_000);
    }
}
