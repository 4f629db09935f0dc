//! Query roots, one per area, merged into the schema's `Query`.
mod accounts;
mod duty;
mod node;
mod notifications;
mod open311;
mod org;
mod petitions;
mod places;
mod statistics;
mod suggestions;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    org::OrgQuery,
    duty::DutyQuery,
    petitions::PetitionQuery,
    places::PlacesQuery,
    statistics::StatisticsQuery,
    suggestions::SuggestionsQuery,
    accounts::AccountQuery,
    node::NodeQuery,
    notifications::NotificationsQuery,
    open311::Open311Query,
);
