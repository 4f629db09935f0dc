use async_graphql::{Context, Object, Upload};

use crate::error::AppError;
use crate::graphql::context::service_ctx;
use crate::graphql::types::enums::AttachmentPurpose;
use crate::graphql::types::Attachment;
use crate::service::attachments;

#[derive(Default)]
pub struct AttachmentMutation;

#[Object]
impl AttachmentMutation {
    /// Uploads a photo (JPEG, PNG, WebP: re-encoded without EXIF, orientation applied)
    /// or a PDF, sent by the GraphQL multipart request spec. Anonymous citizens may
    /// upload for their own submission (PETITION; bounded per address). Attach it by
    /// id within a day (`submitPetition`'s `attachmentIds`), or it is removed.
    async fn upload_attachment(
        &self,
        ctx: &Context<'_>,
        file: Upload,
        purpose: AttachmentPurpose,
    ) -> async_graphql::Result<Attachment> {
        // The index is the engine's own (the transport refuses a forged one), but a
        // missing file must not panic.
        let missing = || AppError::bad_input("file", "文件缺失 (the file part is missing)");
        if ctx.query_env.uploads.get(*file).is_none() {
            return Err(missing().into());
        }
        let file = file.value(ctx).map_err(|_| missing())?.content;
        let model = attachments::upload(&service_ctx(ctx)?, purpose.into(), file).await?;
        Ok(Attachment(model))
    }
}
