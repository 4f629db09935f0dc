//! Query roots, one per area, merged into the schema's `Query`.
mod node;
mod org;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct QueryRoot(org::OrgQuery, node::NodeQuery);
