//! Notices: a signed-in account's own (`Notification`) and, for admins, every
//! delivery with its status (`NotificationDelivery`).
use async_graphql::{Enum, Object, ID};
use chrono::{DateTime, Utc};
use entity::notification_delivery as delivery;

use crate::domain::node_id::{NodeId, NodeKind};
use crate::service::notifications::Status;

fn petition_id(model: &delivery::Model) -> Option<ID> {
    model
        .petition_id
        .map(|id| ID(NodeId::new(NodeKind::Petition, id).encode()))
}

/// An in-app notice.
pub struct Notification(pub delivery::Model);

impl Notification {
    /// The notice a `notification` event carries, as `myNotifications` delivers it.
    pub fn live(
        notice: &crate::domain::event::NotificationEvent,
        account_id: Option<i64>,
        at: DateTime<Utc>,
    ) -> Self {
        Notification(delivery::Model {
            id: notice.notification_id,
            event_seq: 0,
            recipient: String::new(),
            channel: "in_app".into(),
            account_id,
            open_id: None,
            phone: None,
            petition_id: notice.petition_id,
            kind: notice.notice.clone(),
            title: notice.title.clone(),
            body: notice.body.clone(),
            status: "sent".into(),
            attempts: 0,
            next_attempt_at: at,
            claimed_until: None,
            last_error: None,
            read_at: None,
            created_at: at,
            sent_at: Some(at),
        })
    }
}

#[Object]
impl Notification {
    pub async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Notification, self.0.id).encode())
    }
    /// What happened: `registered`, `forwarded`, `accepted`, `completed`, `reopened`,
    /// `declined`, `merged` (the citizen's items); `new_in_ledger`, `returned` (station
    /// staff); `addressed`, `result` (deputies); `forwarded_to_department`, `urged`,
    /// `overdue`, `due_soon` (handlers); `escalated`, `rated_unsatisfied` (supervisors);
    /// `duty_month` (deputies: the "eight ones" of last month still owed).
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// The item it is about (fetch it with `node` or `petition`).
    async fn petition_id(&self) -> Option<ID> {
        petition_id(&self.0)
    }
    async fn read(&self) -> bool {
        self.0.read_at.is_some()
    }
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationChannel {
    InApp,
    Wechat,
    Sms,
}

/// Where a delivery stands: `PENDING` (to be sent, perhaps after a failed attempt),
/// `SENT`, or `FAILED` (for good: `lastError` says why; an admin may retry it).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationDeliveryStatus {
    Pending,
    Sent,
    Failed,
}

impl From<NotificationDeliveryStatus> for Status {
    fn from(status: NotificationDeliveryStatus) -> Self {
        match status {
            NotificationDeliveryStatus::Pending => Status::Pending,
            NotificationDeliveryStatus::Sent => Status::Sent,
            NotificationDeliveryStatus::Failed => Status::Failed,
        }
    }
}

/// One notice to one recipient over one channel.
pub struct NotificationDelivery(pub delivery::Model);

#[Object]
impl NotificationDelivery {
    pub async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::NotificationDelivery, self.0.id).encode())
    }
    async fn channel(&self) -> NotificationChannel {
        match self.0.channel.as_str() {
            "wechat" => NotificationChannel::Wechat,
            "sms" => NotificationChannel::Sms,
            _ => NotificationChannel::InApp,
        }
    }
    async fn status(&self) -> NotificationDeliveryStatus {
        match Status::parse(&self.0.status) {
            Status::Pending => NotificationDeliveryStatus::Pending,
            Status::Sent => NotificationDeliveryStatus::Sent,
            Status::Failed => NotificationDeliveryStatus::Failed,
        }
    }
    /// The account told in-app.
    async fn account_id(&self) -> Option<ID> {
        self.0
            .account_id
            .map(|id| ID(NodeId::new(NodeKind::Account, id).encode()))
    }
    /// The notice's kind (see `Notification.kind`).
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn petition_id(&self) -> Option<ID> {
        petition_id(&self.0)
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// Why the last attempt failed.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When a pending delivery is tried next.
    async fn next_attempt_at(&self) -> DateTime<Utc> {
        self.0.next_attempt_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
}
