use async_graphql::{Context, Object};

use crate::graphql::connection::{to_connection, Conn};
use crate::graphql::context::{page_request, service_ctx};
use crate::graphql::types::notifications::NotificationDeliveryStatus;
use crate::graphql::types::{Notification, NotificationDelivery};
use crate::service::notifications;

#[derive(Default)]
pub struct NotificationsQuery;

#[Object]
impl NotificationsQuery {
    /// The signed-in account's notices, newest first; only unread ones with
    /// `unreadOnly`.
    #[graphql(complexity = "crate::graphql::page_complexity(first, None, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] unread_only: bool,
    ) -> async_graphql::Result<Conn<Notification>> {
        let request = page_request(ctx, first, after, None, None)?;
        Ok(to_connection(
            notifications::list(&service_ctx(ctx)?, unread_only, &request).await?,
            Notification,
        ))
    }

    /// How many of the signed-in account's notices are unread.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        Ok(notifications::unread_count(&service_ctx(ctx)?).await?)
    }

    /// Every delivery of every notice, newest first, optionally of one status (admins).
    #[graphql(complexity = "crate::graphql::page_complexity(first, None, child_complexity)")]
    async fn notification_deliveries(
        &self,
        ctx: &Context<'_>,
        status: Option<NotificationDeliveryStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Conn<NotificationDelivery>> {
        let request = page_request(ctx, first, after, None, None)?;
        let status = status.map(Into::into);
        Ok(to_connection(
            notifications::deliveries(&service_ctx(ctx)?, status, &request).await?,
            NotificationDelivery,
        ))
    }
}
