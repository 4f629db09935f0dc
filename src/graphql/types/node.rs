use async_graphql::{Interface, ID};

use super::{
    Account, Activity, Campaign, Category, Department, Deputy, Grid, Notification,
    NotificationDelivery, Pairing, Petition, Station, Story, Suggestion, Township,
};

/// Anything with a global id, fetchable through `node(id:)`.
// Values live for one resolver call; boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Township(Township),
    Station(Station),
    Grid(Grid),
    Deputy(Deputy),
    Department(Department),
    Account(Account),
    Pairing(Pairing),
    Activity(Activity),
    Campaign(Campaign),
    Story(Story),
    Petition(Petition),
    Suggestion(Suggestion),
    Category(Category),
    Notification(Notification),
    NotificationDelivery(NotificationDelivery),
}
