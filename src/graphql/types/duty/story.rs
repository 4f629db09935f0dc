use async_graphql::{Context, Object, ID};
use chrono::{DateTime, Utc};

use crate::domain::node_id::{NodeId, NodeKind};
use crate::graphql::loaders::{DeputyLoader, StationLoader, TownshipLoader};
use crate::graphql::types::enums::StoryStatus;
use crate::graphql::types::{load_one, load_opt, Deputy, Station, Township};

/// 代表风采: a story of a deputy's work.
pub struct Story(pub entity::story::Model);

#[Object]
impl Story {
    pub async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Story, self.0.id).encode())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    async fn cover_url(&self) -> Option<&str> {
        self.0.cover_url.as_deref()
    }
    async fn status(&self) -> StoryStatus {
        self.0.status.into()
    }
    /// Why an editor returned it.
    async fn return_reason(&self) -> Option<&str> {
        self.0.return_reason.as_deref()
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    async fn deputy(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Deputy>> {
        Ok(load_one::<DeputyLoader>(ctx, self.0.deputy_id)
            .await?
            .map(Deputy))
    }
    async fn station(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Station>> {
        Ok(load_opt::<StationLoader>(ctx, self.0.station_id)
            .await?
            .map(Station))
    }
    async fn township(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Township>> {
        Ok(load_opt::<TownshipLoader>(ctx, self.0.township_id)
            .await?
            .map(Township))
    }
}
