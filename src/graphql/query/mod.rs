//! Query roots, one per area, merged into the schema's `Query`.
mod account;
mod duty;
mod node;
mod org;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    org::OrgQuery,
    duty::DutyQuery,
    account::AccountQuery,
    node::NodeQuery,
);
