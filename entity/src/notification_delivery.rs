//! `notification_delivery`: one notice to one recipient over one channel, derived from
//! one outbox event (unique on `(event_seq, recipient, channel)`). `in_app` rows are the
//! account's notices (`read_at`); `wechat` rows are template messages to a follower,
//! sent with retries (`attempts`, `next_attempt_at`, a claim lease in `claimed_until`).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "notification_delivery")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The outbox event the notice was derived from.
    pub event_seq: i64,
    /// `account:<id>`, `wechat:<open id>` or `sms:<phone>`.
    pub recipient: String,
    /// `in_app`, `wechat` or `sms`.
    pub channel: String,
    pub account_id: Option<i64>,
    pub open_id: Option<String>,
    /// The phone an `sms` delivery goes to.
    pub phone: Option<String>,
    pub petition_id: Option<i64>,
    /// What the notice says happened (`registered`, `forwarded`, ...).
    pub kind: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// A sender holds the row until then (another replica leaves it alone).
    pub claimed_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text")]
    pub last_error: Option<String>,
    pub read_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
