use async_graphql::{Context, Object, ID};
use chrono::{DateTime, Utc};

use crate::domain::node_id::{NodeId, NodeKind};
use crate::error::AppResult;
use crate::graphql::loaders::{
    DeputyLoader, StationLoader, StoryAttachmentsLoader, TownshipLoader,
};
use crate::graphql::types::enums::StoryStatus;
use crate::graphql::types::{load_many, load_one, load_opt, Attachment, Deputy, Station, Township};

/// 代表风采: a story of a deputy's work.
pub struct Story(pub entity::story::Model);

impl Story {
    async fn images(&self, ctx: &Context<'_>) -> AppResult<Vec<entity::attachment::Model>> {
        load_many::<StoryAttachmentsLoader, _>(ctx, self.0.id).await
    }
}

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
    /// A link given by hand (kept for old clients; `cover` is the uploaded image).
    async fn cover_url(&self) -> Option<&str> {
        self.0.cover_url.as_deref()
    }
    /// The cover image (`coverId` of `createStory`/`updateStory`). Once the story is
    /// published its images are public (`/files/{id}` without a token, cacheable);
    /// before, only for those who may see the draft.
    async fn cover(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Attachment>> {
        Ok(self
            .images(ctx)
            .await?
            .into_iter()
            .find(|a| a.story_cover)
            .map(Attachment))
    }
    /// The gallery (`galleryIds`), in upload order.
    async fn gallery(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Attachment>> {
        Ok(self
            .images(ctx)
            .await?
            .into_iter()
            .filter(|a| !a.story_cover)
            .map(Attachment)
            .collect())
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
