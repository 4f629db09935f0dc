use async_graphql::{Context, Object, ID};

use crate::domain::node_id::{NodeId, NodeKind};
use crate::graphql::context::service_ctx;
use crate::graphql::types::open311::{IssuedOpen311Key, Open311Key};
use crate::service::open311::keys;

#[derive(Default)]
pub struct Open311Mutation;

#[Object]
impl Open311Mutation {
    /// Issues an API key for an Open311 client (admins): its requests land at the
    /// station. The key is in the answer this once; only its SHA-256 is kept.
    async fn issue_open311_key(
        &self,
        ctx: &Context<'_>,
        name: String,
        station_id: ID,
    ) -> async_graphql::Result<IssuedOpen311Key> {
        let station_id = NodeId::decode_as("stationId", &station_id, NodeKind::Station)?;
        let issued = keys::issue(&service_ctx(ctx)?, &name, station_id).await?;
        Ok(IssuedOpen311Key {
            key: issued.secret,
            open311_key: Open311Key(issued.key),
        })
    }

    /// Revokes an Open311 API key (admins); revoking it again changes nothing.
    async fn revoke_open311_key(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Open311Key> {
        let id = NodeId::decode_as("id", &id, NodeKind::Open311Key)?;
        Ok(Open311Key(keys::revoke(&service_ctx(ctx)?, id).await?))
    }
}
