//! Subscription roots, one per area, merged into the schema's `Subscription`. They
//! are served on `/graphql/ws` (see `http::ws`).
mod live;

use async_graphql::MergedSubscription;

pub use live::LiveSubscription;

#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(LiveSubscription);
