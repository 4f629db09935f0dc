//! Mutation roots, one per area, merged into the schema's `Mutation`.
mod account;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct MutationRoot(account::AccountMutation);
