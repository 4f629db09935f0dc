//! Who may see which live event: the one rule every subscription applies, both to
//! events replayed from the database and to events fanned out live.
use crate::auth::Actor;
use crate::domain::event::Topic;

use super::event::LiveEvent;

/// What an actor's grants let it see, computed once per subscription so that the
/// check per event allocates nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Viewer {
    /// Admins and county-wide supervisors.
    pub everything: bool,
    pub account_id: Option<i64>,
    /// Township-scoped supervisors.
    pub townships: Vec<i64>,
    /// Station staff.
    pub stations: Vec<i64>,
    /// Department handlers.
    pub departments: Vec<i64>,
}

impl Viewer {
    pub fn of(actor: &Actor) -> Self {
        Viewer {
            everything: actor.is_admin() || actor.is_county_supervisor(),
            account_id: actor.account_id(),
            townships: actor.supervised_townships(),
            stations: actor.staff_stations(),
            departments: actor.handler_departments(),
        }
    }

    pub fn anonymous() -> Self {
        Viewer::default()
    }
}

fn contains(scope: &[i64], id: Option<i64>) -> bool {
    id.is_some_and(|id| scope.contains(&id))
}

/// Whether `viewer` may see `event`: public topics are for everyone; otherwise admins
/// and county supervisors see all, township supervisors the events of their
/// townships, station staff those of their stations, department handlers those of
/// their departments, and any signed-in account the events that name it (a citizen's
/// own petitions). Anonymous viewers see public topics only.
///
/// Suggestions are read by the deputy who made them, the department they went to,
/// county supervisors and admins only (as `suggestions` and `node` decide): their
/// station and township place them for statistics but grant nobody a look.
pub fn may_see(viewer: &Viewer, event: &LiveEvent) -> bool {
    let topic = event.event.topic();
    let scope = event.scope();
    let placed_by_site = topic != Some(Topic::Suggestion);
    if topic == Some(Topic::Notification) {
        // A notice is its account's alone: not even admins read others' notices.
        return viewer.account_id.is_some() && viewer.account_id == scope.account_id;
    }
    topic.is_some_and(Topic::is_public)
        || viewer.everything
        || (placed_by_site && contains(&viewer.townships, scope.township_id))
        || (placed_by_site && contains(&viewer.stations, scope.station_id))
        || contains(&viewer.departments, scope.department_id)
        || (viewer.account_id.is_some() && viewer.account_id == scope.account_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Grant, Principal};
    use crate::domain::event::{DomainEvent, EventScope};
    use entity::Role;

    fn actor(account_id: i64, grants: Vec<Grant>) -> Actor {
        Actor::Account(Principal {
            account_id,
            session_id: 1,
            login: "x".into(),
            display_name: "x".into(),
            deputy_id: None,
            grants,
        })
    }

    fn grant(role: Role) -> Grant {
        Grant::unscoped(role)
    }

    fn event(topic: &str) -> LiveEvent {
        let scope = EventScope {
            petition_id: Some(10),
            station_id: Some(3),
            township_id: Some(2),
            department_id: Some(7),
            account_id: Some(50),
        };
        LiveEvent {
            seq: 1,
            event: DomainEvent::parse(topic, "k", scope, serde_json::Value::Null),
            occurred_at: chrono::Utc::now(),
        }
    }

    fn sees(actor: &Actor, event: &LiveEvent) -> bool {
        may_see(&Viewer::of(actor), event)
    }

    #[test]
    fn public_topics_are_for_everyone() {
        assert!(sees(&Actor::Anonymous, &event("story")));
        assert!(!sees(&Actor::Anonymous, &event("petition")));
        assert!(!sees(&Actor::Anonymous, &event("supervision")));
        assert!(!sees(&Actor::Anonymous, &event("unknown-topic")));
    }

    #[test]
    fn a_notice_is_seen_by_its_account_only() {
        let mut notice = event("notification");
        notice.event.scope = EventScope {
            account_id: Some(50),
            petition_id: Some(10),
            ..EventScope::default()
        };
        assert!(sees(&actor(50, vec![]), &notice));
        for other in [
            actor(1, vec![grant(Role::Admin)]),
            actor(2, vec![grant(Role::Supervisor)]),
            actor(51, vec![]),
        ] {
            assert!(!sees(&other, &notice));
        }
        assert!(!sees(&Actor::Anonymous, &notice));
    }

    #[test]
    fn admins_and_county_supervisors_see_everything() {
        let admin = actor(1, vec![grant(Role::Admin)]);
        let county = actor(2, vec![grant(Role::Supervisor)]);
        let mut unscoped = event("supervision");
        unscoped.event.scope = EventScope::default();
        for who in [&admin, &county] {
            assert!(sees(who, &event("petition")));
            assert!(sees(who, &unscoped));
        }
    }

    #[test]
    fn scoped_roles_see_their_scope_only() {
        let township = |t| {
            actor(
                3,
                vec![Grant {
                    township_id: Some(t),
                    ..grant(Role::Supervisor)
                }],
            )
        };
        let staff = |s| {
            actor(
                4,
                vec![Grant {
                    station_id: Some(s),
                    ..grant(Role::StationStaff)
                }],
            )
        };
        let handler = |d| {
            actor(
                5,
                vec![Grant {
                    department_id: Some(d),
                    ..grant(Role::DepartmentHandler)
                }],
            )
        };
        let e = event("petition");
        assert!(sees(&township(2), &e) && !sees(&township(9), &e));
        assert!(sees(&staff(3), &e) && !sees(&staff(9), &e));
        assert!(sees(&handler(7), &e) && !sees(&handler(9), &e));
        let mut elsewhere = e.clone();
        elsewhere.event.scope.township_id = None;
        assert!(!sees(&township(2), &elsewhere), "no township on the event");
    }

    #[test]
    fn suggestions_are_for_their_deputy_department_and_the_county_only() {
        let township = actor(
            3,
            vec![Grant {
                township_id: Some(2),
                ..grant(Role::Supervisor)
            }],
        );
        let staff = actor(
            4,
            vec![Grant {
                station_id: Some(3),
                ..grant(Role::StationStaff)
            }],
        );
        let handler = actor(
            5,
            vec![Grant {
                department_id: Some(7),
                ..grant(Role::DepartmentHandler)
            }],
        );
        let deputy = actor(50, vec![grant(Role::Deputy)]);
        let county = actor(6, vec![grant(Role::Supervisor)]);
        let e = event("suggestion");
        assert!(!sees(&township, &e), "township supervisors do not");
        assert!(!sees(&staff, &e), "station staff do not");
        assert!(sees(&handler, &e));
        assert!(sees(&deputy, &e), "the deputy's account");
        assert!(sees(&county, &e));
        assert!(!sees(&Actor::Anonymous, &e));
    }

    #[test]
    fn accounts_see_events_that_name_them() {
        let citizen = actor(50, vec![grant(Role::Citizen)]);
        let other = actor(51, vec![grant(Role::Citizen)]);
        let deputy = actor(52, vec![grant(Role::Deputy)]);
        let e = event("petition");
        assert!(sees(&citizen, &e));
        assert!(!sees(&other, &e));
        assert!(!sees(&deputy, &e));
        let mut nobody = e.clone();
        nobody.event.scope.account_id = None;
        assert!(!sees(&citizen, &nobody));
    }

    #[test]
    fn several_grants_combine() {
        let both = actor(
            60,
            vec![
                Grant {
                    station_id: Some(99),
                    ..grant(Role::StationStaff)
                },
                Grant {
                    department_id: Some(7),
                    ..grant(Role::DepartmentHandler)
                },
            ],
        );
        assert!(sees(&both, &event("supervision")));
    }
}
