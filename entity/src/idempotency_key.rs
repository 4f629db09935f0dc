//! `idempotency_key`: the first answer of a creating mutation, per actor scope and
//! client key, kept 24 hours so a retry gets it again and creates nothing.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "idempotency_key")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `account:<id>` or `anon:<client address>`.
    pub scope: String,
    pub idempotency_key: String,
    /// The GraphQL field, e.g. `submitPetition`.
    pub operation: String,
    /// sha256 (hex) of the canonical JSON of the arguments.
    pub request_hash: String,
    /// The created (or acted on) object.
    pub object_id: Option<i64>,
    /// What else is needed to answer again (JSON).
    #[sea_orm(column_type = "Text")]
    pub response: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
