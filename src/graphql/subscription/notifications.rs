//! `myNotifications`: the signed-in account's new in-app notices, live. Each is the
//! `notification` event the notifier wrote with the notice (so a reconnect resumes
//! with `after` like every live subscription).
use async_graphql::{Context, Subscription};
use futures_util::stream::BoxStream;

use super::live::events;
use crate::domain::event::{EventBody, Topic};
use crate::events::EventFilter;
use crate::graphql::context;
use crate::graphql::types::Notification;

#[derive(Default)]
pub struct NotificationsSubscription;

#[Subscription]
impl NotificationsSubscription {
    /// The signed-in account's notices as they are written (unread).
    async fn my_notifications(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<Notification>>> {
        let principal = context::actor(ctx).require_signed_in()?;
        let filter = EventFilter {
            account_id: Some(principal.account_id),
            ..EventFilter::topic(Topic::Notification.as_str())
        };
        events(ctx, filter, after, |event| {
            let EventBody::Notification(notice) = &event.event.body else {
                return None;
            };
            let account_id = event.scope().account_id;
            Some(Notification::live(notice, account_id, event.occurred_at))
        })
    }
}
