use async_graphql::{Context, Object, SimpleObject, ID};

use crate::domain::node_id::{NodeId, NodeKind};
use crate::graphql::context::service_ctx;
use crate::graphql::types::NotificationDelivery;
use crate::service::notifications::{self, MAX_MARK};

#[derive(Default)]
pub struct NotificationsMutation;

#[derive(SimpleObject)]
pub struct MarkNotificationsReadPayload {
    /// The signed-in account's unread notices after marking.
    unread_count: u64,
}

#[Object]
impl NotificationsMutation {
    /// Marks notices of the signed-in account read (at most 100). All or nothing: an id
    /// that is not one of the caller's notices is `BAD_USER_INPUT` and nothing is marked.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<MarkNotificationsReadPayload> {
        // One past the limit is enough for the service to refuse a longer list.
        let ids = ids
            .iter()
            .take(MAX_MARK + 1)
            .map(|id| NodeId::decode_as("ids", id, NodeKind::Notification))
            .collect::<Result<Vec<_>, _>>()?;
        let unread_count = notifications::mark_read(&service_ctx(ctx)?, &ids).await?;
        Ok(MarkNotificationsReadPayload { unread_count })
    }

    /// Sends a `FAILED` delivery again (admins).
    async fn retry_notification_delivery(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<NotificationDelivery> {
        let id = NodeId::decode_as("id", &id, NodeKind::NotificationDelivery)?;
        Ok(NotificationDelivery(
            notifications::retry(&service_ctx(ctx)?, id).await?,
        ))
    }
}
