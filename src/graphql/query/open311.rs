use async_graphql::{Context, Object};

use crate::graphql::context::service_ctx;
use crate::graphql::types::open311::Open311Key;
use crate::service::open311::keys;

#[derive(Default)]
pub struct Open311Query;

#[Object]
impl Open311Query {
    /// The Open311 API keys issued, newest first, at most 200 (admins).
    async fn open311_keys(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Open311Key>> {
        Ok(keys::list(&service_ctx(ctx)?)
            .await?
            .into_iter()
            .map(Open311Key)
            .collect())
    }
}
