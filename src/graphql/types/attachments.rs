//! `Attachment`: an uploaded photo or document. Its URLs are served by the gateway
//! (`/files/{id}`) to exactly those who may see what it is attached to.
use async_graphql::{Context, Object, ID};
use chrono::{DateTime, Utc};

use crate::graphql::context::state;
use crate::links;

pub struct Attachment(pub entity::attachment::Model);

#[Object]
impl Attachment {
    /// The upload's id: pass it in `attachmentIds` of a creating mutation.
    async fn id(&self) -> ID {
        ID(self.0.public_id.clone())
    }
    /// The file (with a bearer token: the same authorization as the item).
    async fn url(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let base = &state(ctx)?.settings.public_base_url;
        Ok(links::file_url(base, &self.0.public_id))
    }
    /// A small JPEG (PNG with transparency) of an image; none for a PDF.
    async fn thumbnail_url(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let base = &state(ctx)?.settings.public_base_url;
        Ok(self
            .0
            .has_thumbnail
            .then(|| links::file_thumbnail_url(base, &self.0.public_id)))
    }
    /// Sniffed from the content: image/jpeg, image/png or application/pdf.
    async fn content_type(&self) -> &str {
        &self.0.content_type
    }
    /// Bytes stored.
    async fn size(&self) -> i64 {
        self.0.size
    }
    /// In pixels, orientation applied; none for a PDF.
    async fn width(&self) -> Option<i32> {
        self.0.width
    }
    async fn height(&self) -> Option<i32> {
        self.0.height
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
