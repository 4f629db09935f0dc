//! Answers for ids a change names besides its main object (see `domain::scope`).
//!
//! The main object of a mutation (the item acted on, the story edited) answers
//! NOT_FOUND when the actor may not see it and FORBIDDEN when they see it but may not
//! act. Every *other* id the mutation names — a deputy to assign, a merge target, a
//! department, a parent station, a grid — answers BAD_USER_INPUT naming the argument,
//! with one message whether the record does not exist or lies outside the actor's
//! reach: the two cannot be told apart, so ids elsewhere cannot be probed.
use crate::auth::Actor;
use crate::domain::scope::Authority;

pub use crate::domain::scope::out_of_reach;

/// The actor's authority over stations: county-wide for admins and county
/// supervisors, local otherwise (a station's staff, a township's supervisors).
pub fn station_authority(actor: &Actor) -> Authority {
    if actor.is_admin() || actor.is_county_supervisor() {
        Authority::County
    } else {
        Authority::Local
    }
}
