//! What one subscription asked for (topics, kinds, scope arguments) together with
//! what its subscriber may see.
use super::event::LiveEvent;
use super::visibility::{may_see, Viewer};

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

    #[test]
    fn interest_also_applies_visibility() {
        let interest = Interest {
            filter: EventFilter::topic("petition"),
            viewer: Viewer::anonymous(),
        };
        assert!(!interest.wants(&event()));
    }
}
