//! Query roots, one per area, merged into the schema's `Query`.
mod account;
mod duty;
mod node;
mod org;
mod petition;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    org::OrgQuery,
    duty::DutyQuery,
    petition::PetitionQuery,
    account::AccountQuery,
    node::NodeQuery,
);
