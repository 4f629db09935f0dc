//! Subscription roots, one per area, merged into the schema's `Subscription`. They
//! are served on `/graphql/ws` (see `http::ws`), through [`serving`].
mod live;
mod notifications;
pub mod serving;
mod statistics;

use async_graphql::MergedSubscription;

pub use live::LiveSubscription;
pub use notifications::NotificationsSubscription;
pub use statistics::StatisticsSubscription;

#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(
    LiveSubscription,
    StatisticsSubscription,
    NotificationsSubscription,
);
