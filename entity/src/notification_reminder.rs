//! `notification_reminder`: a reminder given once per kind, period and account
//! (unique), written with the reminder's event so that replicas remind each person
//! once (`duty_month` for a deputy's month, `due_soon` for an item's deadline).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "notification_reminder")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    /// `2026-11` for a month; `<petition id>@<deadline>` for a deadline.
    pub period: String,
    pub account_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
