//! An Open311 client's API key as admins see it (never the key itself, which is shown
//! once, in `IssuedOpen311Key`).
use async_graphql::{Context, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::open311_key;

use super::{load_opt, Station};
use crate::domain::node_id::{NodeId, NodeKind};
use crate::graphql::loaders::StationLoader;

pub struct Open311Key(pub open311_key::Model);

#[Object]
impl Open311Key {
    async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Open311Key, self.0.id).encode())
    }
    /// Who the key is for.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The key's first 8 characters, to tell keys apart.
    async fn key_prefix(&self) -> &str {
        &self.0.key_prefix
    }
    /// Where the requests filed with this key land.
    async fn station(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Station>> {
        Ok(load_opt::<StationLoader>(ctx, Some(self.0.station_id))
            .await?
            .map(Station))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Set once the key was revoked: it files nothing any more.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

/// A new key: `key` is shown this once (only its hash is kept).
#[derive(SimpleObject)]
pub struct IssuedOpen311Key {
    pub key: String,
    pub open311_key: Open311Key,
}
