//! Scope rules for the *other* ids a change names: besides the object an actor acts
//! on (a station, an item), a mutation often names further records (a deputy to
//! assign, an item to merge into, a department to forward to, a parent station). Each
//! of them must lie within the actor's reach, or the change would carry the actor's
//! authority — and what it lets them see — beyond their scope.
//!
//! The service answers a named record that is out of reach exactly as one that does
//! not exist (same code, same message), so ids elsewhere cannot be probed.
use entity::DepartmentLevel;

use super::petition_flow::{Capacity, MAY_MERGE};
use crate::error::AppError;

/// How far an actor's authority over a station reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authority {
    /// Admins and county-wide supervisors (县人大常委会): the whole county.
    County,
    /// Supervisors of the station's township and the station's own staff.
    Local,
}

/// Who may make a deputy a resident deputy (驻站代表) of a station.
///
/// A deputy enters the station of the township of their electoral unit (the report:
/// "驻站代表" serve where they were elected; the seed assigns county and township
/// deputies to stations of their own township). So:
/// - county-wide authority (admins, county supervisors) may assign any deputy to any
///   station — this is how a deputy is placed at a station outside their township
///   (a county deputy at a brand station, a standing-committee member's base);
/// - local authority (the station's staff, supervisors of its township) may assign only
///   deputies whose township (`deputy.township_id`, the township of their electoral
///   unit) is the station's township. A deputy with no township on record is not
///   theirs to assign.
///
/// The caller must already be allowed to manage the station; this rule decides only
/// which deputies that authority reaches. Residency matters beyond the ledger: a
/// station's staff see its resident deputies' full phone numbers, archives and
/// compliance, write their stories and log their activities.
pub fn may_assign_resident(
    authority: Authority,
    station_township_id: i64,
    deputy_township_id: Option<i64>,
) -> bool {
    match authority {
        Authority::County => true,
        Authority::Local => deputy_township_id == Some(station_township_id),
    }
}

/// Whether a department serves an item of `item_township_id` (分级交办): county
/// departments serve the whole county; a township department only its own township,
/// and never an item that has no township.
pub fn department_serves(
    item_township_id: Option<i64>,
    level: DepartmentLevel,
    department_township_id: Option<i64>,
) -> bool {
    match level {
        DepartmentLevel::County => true,
        DepartmentLevel::Township => {
            department_township_id.is_some() && department_township_id == item_township_id
        }
    }
}

/// Whether an item may be merged into a target on which the actor holds
/// `capacities_on_target`: the actor must be able to merge the target itself (for
/// station staff: an item of a station they staff). Seeing the target is not enough:
/// a staff member who submitted an item elsewhere as a citizen sees it, but it is not
/// in their ledger.
pub fn may_merge_into(capacities_on_target: &[Capacity]) -> bool {
    capacities_on_target.iter().any(|c| MAY_MERGE.contains(c))
}

/// The one answer for a named record that is missing or out of the actor's reach.
/// `zh` and `en` name the record ("代表", "deputy").
pub fn out_of_reach(field: &str, zh: &str, en: &str) -> AppError {
    AppError::bad_input(
        field,
        format!("{zh}不存在或不在您的范围内 (no such {en} within your scope)"),
    )
}

/// A station's parent (the liaison station a service point or post belongs to) lies in
/// the station's own township.
pub fn parent_station_fits(station_township_id: i64, parent_township_id: i64) -> bool {
    station_township_id == parent_township_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_authority_assigns_only_deputies_of_the_stations_township() {
        assert!(may_assign_resident(Authority::Local, 3, Some(3)));
        assert!(!may_assign_resident(Authority::Local, 3, Some(4)));
        assert!(
            !may_assign_resident(Authority::Local, 3, None),
            "a deputy without a township is the county's to place"
        );
    }

    #[test]
    fn county_authority_assigns_anyone_anywhere() {
        assert!(may_assign_resident(Authority::County, 3, Some(3)));
        assert!(may_assign_resident(Authority::County, 3, Some(4)));
        assert!(may_assign_resident(Authority::County, 3, None));
    }

    #[test]
    fn county_departments_serve_every_item_township_ones_their_own() {
        use DepartmentLevel::{County, Township};
        assert!(department_serves(Some(1), County, None));
        assert!(department_serves(None, County, None));
        assert!(department_serves(Some(1), Township, Some(1)));
        assert!(!department_serves(Some(1), Township, Some(2)));
        assert!(!department_serves(None, Township, Some(2)));
        assert!(!department_serves(None, Township, None));
    }

    #[test]
    fn only_a_capacity_that_merges_reaches_a_merge_target() {
        assert!(may_merge_into(&[Capacity::StationStaff]));
        assert!(may_merge_into(&[
            Capacity::Submitter,
            Capacity::StationStaff
        ]));
        for seeing_only in [
            Capacity::Submitter,
            Capacity::Deputy,
            Capacity::LeadHandler,
            Capacity::AssistHandler,
            Capacity::Supervisor,
            Capacity::System,
        ] {
            assert!(!may_merge_into(&[seeing_only]), "{seeing_only:?}");
        }
        assert!(!may_merge_into(&[]));
    }

    #[test]
    fn parents_lie_in_the_same_township() {
        assert!(parent_station_fits(2, 2));
        assert!(!parent_station_fits(2, 5));
    }
}
