//! Opinion items (社情民意): intake, the closed-loop workflow, queries and the
//! supervision job. Who may see and do what is decided here and in
//! `domain::petition_flow`; resolvers only translate.
pub mod intake;
pub mod progress;
pub mod queries;
pub mod supervision;
pub mod tally;
pub mod workflow;

use entity::{petition, petition_department, DepartmentRole, ForwardStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::Actor;
use crate::domain::petition_flow::Capacity;
use crate::error::AppResult;

/// How the actor stands towards one item.
#[derive(Debug, Clone, Default)]
pub struct Relation {
    pub capacities: Vec<Capacity>,
    /// May read the item at all.
    pub may_view: bool,
    /// May see the submitter's name and phone unmasked.
    pub may_see_personal: bool,
}

pub async fn departments_of<C: ConnectionTrait>(
    db: &C,
    petition_id: i64,
) -> AppResult<Vec<petition_department::Model>> {
    Ok(petition_department::Entity::find()
        .filter(petition_department::Column::PetitionId.eq(petition_id))
        .all(db)
        .await?)
}

/// Works out the actor's capacities and rights for an item. `follows_with_secret`:
/// the caller proved knowledge of the anonymous follow secret.
pub fn relation(
    actor: &Actor,
    item: &petition::Model,
    departments: &[petition_department::Model],
    follows_with_secret: bool,
) -> Relation {
    let mut capacities = Vec::new();
    let submitter = follows_with_secret
        || (item.submitter_account_id.is_some() && actor.account_id() == item.submitter_account_id);
    if submitter {
        capacities.push(Capacity::Submitter);
    }
    let addressed_deputy = item.deputy_id.is_some() && actor.deputy_id() == item.deputy_id;
    if addressed_deputy {
        capacities.push(Capacity::Deputy);
    }
    let staff = item.station_id.is_some_and(|s| actor.is_staff_of(s));
    if staff {
        capacities.push(Capacity::StationStaff);
    }
    let lead = item
        .lead_department_id
        .is_some_and(|d| actor.handles_department(d))
        && handles_active(actor, departments, DepartmentRole::Lead);
    if lead {
        capacities.push(Capacity::LeadHandler);
    }
    if handles_active(actor, departments, DepartmentRole::Assist) {
        capacities.push(Capacity::AssistHandler);
    }
    // A handler sees items forwarded to their department, including returned ones.
    let ever_forwarded = departments
        .iter()
        .any(|d| actor.handles_department(d.department_id));
    let supervisor = actor.supervises_township(item.township_id);
    if supervisor {
        capacities.push(Capacity::Supervisor);
    }
    let may_view =
        submitter || addressed_deputy || staff || ever_forwarded || supervisor || actor.is_admin();
    Relation {
        may_see_personal: submitter || addressed_deputy || staff || lead,
        may_view,
        capacities,
    }
}

/// Whether the actor handles a department with an active (not returned) part in
/// `role`.
fn handles_active(
    actor: &Actor,
    departments: &[petition_department::Model],
    role: DepartmentRole,
) -> bool {
    departments
        .iter()
        .filter(|d| d.role == role && d.status != ForwardStatus::Returned)
        .any(|d| actor.handles_department(d.department_id))
}
