//! `open311_key`: an Open311 GeoReport v2 client's API key; only its sha256 is stored.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "open311_key")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Who the key is for (an app, a partner), as the admin named it.
    pub name: String,
    /// The key's first characters, to tell keys apart (never enough to use one).
    pub key_prefix: String,
    /// sha256 (hex) of the key.
    pub key_hash: String,
    /// Where the requests filed with this key land.
    pub station_id: i64,
    pub created_by_account_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
