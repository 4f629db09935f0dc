use async_graphql::{Context, Object, Upload};

use crate::domain::import::read::File;
use crate::error::AppError;
use crate::graphql::context::service_ctx;
use crate::graphql::types::import::ImportReport;
use crate::service::import;

#[derive(Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    /// Imports a county's organisation from one CSV or XLSX file (admins), as
    /// `smart-npc import` does: checked as a whole, nothing stored if any row fails
    /// (`ok: false` and every problem in `errors`), one transaction otherwise.
    /// `dryRun` reports the changes without storing them. The file's name says its
    /// format (`.csv`, `.xlsx`) and, for a CSV, its kind (`stations.csv`); see
    /// `docs/import.md`.
    async fn import_organisation(
        &self,
        ctx: &Context<'_>,
        file: Upload,
        #[graphql(default = false)] dry_run: bool,
    ) -> async_graphql::Result<ImportReport> {
        // Who may import, before the upload is read or parsed.
        let service = service_ctx(ctx)?;
        import::may_import(&service)?;
        let missing = || AppError::bad_input("file", "文件缺失 (the file part is missing)");
        if ctx.query_env.uploads.get(*file).is_none() {
            return Err(missing().into());
        }
        let upload = file.value(ctx).map_err(|_| missing())?;
        let name = upload.filename;
        let mut content = upload.content;
        // The transport bounded the file (UPLOAD_MAX_FILE_BYTES); it waits on disk.
        let bytes = tokio::task::spawn_blocking(move || {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut content, &mut bytes).map(|_| bytes)
        })
        .await
        .map_err(|e| AppError::internal(format!("import upload task: {e}")))?
        .map_err(|e| AppError::internal(format!("import upload read: {e}")))?;
        let file = File { name, bytes };
        let result = import::import_upload(&service, file, dry_run).await?;
        Ok(ImportReport::new(result))
    }
}
