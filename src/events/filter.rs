//! What one subscription asked for (topics, kinds, scope arguments) together with
//! what its subscriber may see.
use super::event::LiveEvent;
use super::visibility::{may_see, Viewer};
use crate::domain::event::EventScope;

/// The arguments of a subscription; every `None`/empty field matches anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub topics: Vec<String>,
    pub kinds: Vec<String>,
    pub petition_id: Option<i64>,
    pub station_id: Option<i64>,
    pub township_id: Option<i64>,
    pub department_id: Option<i64>,
    /// `mine`: only events that name this account.
    pub account_id: Option<i64>,
}

fn matches_id(wanted: Option<i64>, actual: Option<i64>) -> bool {
    wanted.is_none() || wanted == actual
}

impl EventFilter {
    pub fn topic(topic: &str) -> Self {
        EventFilter {
            topics: vec![topic.to_owned()],
            ..Default::default()
        }
    }

    pub fn matches(&self, live: &LiveEvent) -> bool {
        let (event, scope) = (&live.event, live.scope());
        let listed =
            |names: &[String], name: &str| names.is_empty() || names.iter().any(|n| n == name);
        listed(&self.topics, event.topic_name())
            && listed(&self.kinds, event.kind())
            && matches_id(self.petition_id, scope.petition_id)
            && matches_id(self.station_id, scope.station_id)
            && matches_id(self.township_id, scope.township_id)
            && matches_id(self.department_id, scope.department_id)
            && matches_id(self.account_id, scope.account_id)
    }
}

/// The one scope value an event must carry for a filter to match it. The hub keeps
/// each subscriber under its filter's route, so that an event visits only the
/// subscribers of [`routes`] of its scope (a station's event: those of that station,
/// its township, its item, …, and the unscoped), not every subscriber of the replica:
/// with tens of thousands of subscribers spread over 71 stations, matching every
/// filter against every event was a quarter of the fan-out's CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    Petition(i64),
    Account(i64),
    Station(i64),
    Department(i64),
    Township(i64),
    /// No scope argument: any event may match.
    Any,
}

impl EventFilter {
    /// The most selective scope argument the filter has (see [`Route`]).
    pub fn route(&self) -> Route {
        if let Some(id) = self.petition_id {
            Route::Petition(id)
        } else if let Some(id) = self.account_id {
            Route::Account(id)
        } else if let Some(id) = self.station_id {
            Route::Station(id)
        } else if let Some(id) = self.department_id {
            Route::Department(id)
        } else if let Some(id) = self.township_id {
            Route::Township(id)
        } else {
            Route::Any
        }
    }
}

/// The routes of the filters that may match an event of `scope`: a filter matches
/// only if its route is among them.
pub fn routes(scope: &EventScope) -> impl Iterator<Item = Route> {
    [
        Some(Route::Any),
        scope.petition_id.map(Route::Petition),
        scope.account_id.map(Route::Account),
        scope.station_id.map(Route::Station),
        scope.department_id.map(Route::Department),
        scope.township_id.map(Route::Township),
    ]
    .into_iter()
    .flatten()
}

/// A subscription's filter and its subscriber's visibility.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Interest {
    pub filter: EventFilter,
    pub viewer: Viewer,
}

impl Interest {
    pub fn wants(&self, event: &LiveEvent) -> bool {
        self.filter.matches(event) && may_see(&self.viewer, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::{DomainEvent, EventScope};

    fn event() -> LiveEvent {
        let scope = EventScope {
            petition_id: Some(10),
            station_id: Some(3),
            township_id: Some(2),
            department_id: None,
            account_id: Some(50),
        };
        LiveEvent {
            seq: 1,
            event: DomainEvent::parse("petition", "accepted", scope, serde_json::Value::Null),
            occurred_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn every_argument_narrows() {
        let e = event();
        assert!(EventFilter::default().matches(&e));
        assert!(EventFilter::topic("petition").matches(&e));
        assert!(!EventFilter::topic("story").matches(&e));
        let with = |f: fn(&mut EventFilter)| {
            let mut filter = EventFilter::topic("petition");
            f(&mut filter);
            filter.matches(&e)
        };
        assert!(with(|f| f.petition_id = Some(10)));
        assert!(!with(|f| f.petition_id = Some(11)));
        assert!(!with(|f| f.station_id = Some(4)));
        assert!(!with(|f| f.township_id = Some(4)));
        assert!(
            !with(|f| f.department_id = Some(1)),
            "event has no department"
        );
        assert!(with(|f| f.account_id = Some(50)));
        assert!(!with(|f| f.account_id = Some(51)));
        assert!(with(|f| f.kinds = vec!["accepted".into()]));
        assert!(!with(|f| f.kinds = vec!["overdue".into()]));
    }

    /// Every filter that matches an event is under one of the event's routes: over
    /// every combination of absent, equal and other ids in the five scope arguments
    /// of both the filter and the event.
    #[test]
    fn a_matching_filter_is_under_one_of_the_events_routes() {
        let values = [None, Some(1), Some(2)];
        let combos = || {
            let mut all = Vec::new();
            for a in values {
                for b in values {
                    for c in values {
                        for d in values {
                            for e in values {
                                all.push([a, b, c, d, e]);
                            }
                        }
                    }
                }
            }
            all
        };
        let (mut matched, mut skipped) = (0, 0);
        for f in combos() {
            let filter = EventFilter {
                petition_id: f[0],
                station_id: f[1],
                township_id: f[2],
                department_id: f[3],
                account_id: f[4],
                ..EventFilter::default()
            };
            let route = filter.route();
            for s in combos() {
                let scope = EventScope {
                    petition_id: s[0],
                    station_id: s[1],
                    township_id: s[2],
                    department_id: s[3],
                    account_id: s[4],
                };
                let live = LiveEvent {
                    seq: 1,
                    event: DomainEvent::parse(
                        "petition",
                        "accepted",
                        scope,
                        serde_json::Value::Null,
                    ),
                    occurred_at: chrono::Utc::now(),
                };
                let routed = routes(&scope).any(|r| r == route);
                if filter.matches(&live) {
                    assert!(
                        routed,
                        "{filter:?} matches {scope:?} but is not routed to it"
                    );
                    matched += 1;
                } else if !routed {
                    skipped += 1;
                }
            }
        }
        // Both happen: the routes admit every match and leave most misses unvisited.
        assert!(matched > 1000 && skipped > 10_000, "{matched} {skipped}");
    }

    #[test]
    fn interest_also_applies_visibility() {
        let interest = Interest {
            filter: EventFilter::topic("petition"),
            viewer: Viewer::anonymous(),
        };
        assert!(!interest.wants(&event()));
    }
}
