//! `outbox_event`: the event outbox. Written in the same transaction as the change it
//! announces; the relay publishes rows in `seq` order and sets `published_at`.
//!
//! The `*_id` columns carry no `REFERENCES` in the schema: they are routing keys for
//! subscribers, so there are no relations.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "outbox_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub topic: String,
    pub kind: String,
    pub petition_id: Option<i64>,
    pub station_id: Option<i64>,
    pub township_id: Option<i64>,
    pub department_id: Option<i64>,
    pub account_id: Option<i64>,
    /// JSON.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
