//! Progress notes (办理进展) under an idempotency key: a retried note is added once.
use entity::petition;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::domain::petition_flow::Step;
use crate::error::{AppError, AppResult};
use crate::service::petitions::workflow::{act_attaching, Acted, Acting, Files};
use crate::service::support::idempotency::{self, Claim};
use crate::service::Ctx;

/// Adds a progress note (with the department's RESULT uploads, if any); with a key, a
/// repeat within 24 hours answers the item and adds nothing (one history entry, one
/// event).
pub async fn add(
    ctx: &Ctx<'_>,
    petition_id: i64,
    version: Option<i32>,
    note: String,
    attachment_ids: Vec<String>,
    idempotency_key: Option<String>,
) -> AppResult<Acted> {
    let db = ctx.db;
    let arguments = json!({
        "id": petition_id,
        "version": version,
        "note": note,
        "attachmentIds": attachment_ids,
    });
    let files = Files::new(&attachment_ids)?;
    let claim = Claim::new(ctx, idempotency_key, "addPetitionProgress", &arguments)?;
    idempotency::once(
        db,
        claim.as_ref(),
        act_attaching(
            ctx,
            Acting::Person {
                follow_secret: None,
            },
            petition_id,
            version,
            Step::AddProgress { note },
            claim.as_ref(),
            files,
        ),
        |stored| async move {
            let id = stored.object_id.unwrap_or(petition_id);
            let item = petition::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found("社情民意 (opinion item)"))?;
            Acted::read(db, ctx.actor, item).await
        },
    )
    .await
}
