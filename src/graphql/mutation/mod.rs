//! Mutation roots, one per area, merged into the schema's `Mutation`.
mod account;
mod duty;
mod org;
mod petition;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    account::AccountMutation,
    org::OrgMutation,
    duty::DutyMutation,
    petition::PetitionMutation,
);
