//! Mutation roots, one per area, merged into the schema's `Mutation`.
mod accounts;
mod attachments;
mod duty;
mod import;
mod notifications;
mod open311;
mod org;
mod petitions;
mod suggestions;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    accounts::AccountMutation,
    attachments::AttachmentMutation,
    import::ImportMutation,
    org::OrgMutation,
    duty::DutyMutation,
    petitions::PetitionMutation,
    suggestions::SuggestionsMutation,
    notifications::NotificationsMutation,
    open311::Open311Mutation,
);
