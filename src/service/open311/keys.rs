//! The API keys of Open311 clients: issued by an admin (shown once), revoked by an
//! admin, checked on every `POST requests`. Only the key's SHA-256 is stored.
use entity::{open311_key, station};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::db::write;
use crate::domain::open311;
use crate::error::{AppError, AppResult};
use crate::service::support::audit::{self, action, Entry};
use crate::service::Ctx;

/// The most keys `open311Keys` lists (newest first).
pub const MAX_LISTED: u64 = 200;

/// A new key's row and the key itself (shown once; only its hash is kept).
pub struct Issued {
    pub key: open311_key::Model,
    pub secret: String,
}

/// The key a request carries, if it is one that was issued and not revoked; else
/// FORBIDDEN (the spec's 403).
pub async fn authenticate(ctx: &Ctx<'_>, raw: Option<&str>) -> AppResult<open311_key::Model> {
    let raw = raw
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| AppError::Forbidden("api_key was not provided".into()))?;
    open311_key::Entity::find()
        .filter(open311_key::Column::KeyHash.eq(open311::key_hash(raw)))
        .filter(open311_key::Column::RevokedAt.is_null())
        .one(ctx.db)
        .await?
        .ok_or_else(|| AppError::Forbidden("api_key is not valid".into()))
}

/// Issues a key whose requests land at `station_id` (admins).
pub async fn issue(ctx: &Ctx<'_>, name: &str, station_id: i64) -> AppResult<Issued> {
    let actor = ctx.actor;
    actor.require(actor.is_admin())?;
    let principal = actor.require_signed_in()?;
    let name = name.trim();
    if !(1..=64).contains(&name.chars().count()) {
        return Err(AppError::bad_input(
            "name",
            "名称须为1-64个字符 (1 to 64 characters)",
        ));
    }
    let (secret, hash) = open311::new_key();
    let now = ctx.now();
    let key = write::transaction(ctx.db, |txn| {
        let (secret, hash) = (secret.clone(), hash.clone());
        async move {
            let txn = &*txn;
            station::Entity::find_by_id(station_id)
                .one(txn)
                .await?
                .ok_or_else(|| AppError::bad_input("stationId", "站点不存在 (no such station)"))?;
            let key = open311_key::ActiveModel {
                name: Set(name.to_owned()),
                key_prefix: Set(open311::key_prefix(&secret)),
                key_hash: Set(hash),
                station_id: Set(station_id),
                created_by_account_id: Set(Some(principal.account_id)),
                created_at: Set(now),
                revoked_at: Set(None),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            let detail = format!("open311 key {} ({})", key.id, key.name);
            audit::record(
                txn,
                ctx.client,
                Entry::by(principal, action::OPEN311_KEY_ISSUED, Some(detail)),
            )
            .await?;
            Ok(key)
        }
    })
    .await?;
    Ok(Issued { key, secret })
}

/// Revokes a key (admins); a revoked key stays revoked.
pub async fn revoke(ctx: &Ctx<'_>, id: i64) -> AppResult<open311_key::Model> {
    let actor = ctx.actor;
    actor.require(actor.is_admin())?;
    let principal = actor.require_signed_in()?;
    let now = ctx.now();
    write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        let key = open311_key::Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found("Open311密钥 (Open311 key)"))?;
        if key.revoked_at.is_some() {
            return Ok(key);
        }
        let mut active: open311_key::ActiveModel = key.into();
        active.revoked_at = Set(Some(now));
        let key = active.update(txn).await?;
        let detail = format!("open311 key {} ({})", key.id, key.name);
        audit::record(
            txn,
            ctx.client,
            Entry::by(principal, action::OPEN311_KEY_REVOKED, Some(detail)),
        )
        .await?;
        Ok(key)
    })
    .await
}

/// The keys issued, newest first (admins).
pub async fn list(ctx: &Ctx<'_>) -> AppResult<Vec<open311_key::Model>> {
    ctx.actor.require(ctx.actor.is_admin())?;
    Ok(open311_key::Entity::find()
        .order_by_desc(open311_key::Column::Id)
        .limit(MAX_LISTED)
        .all(ctx.db)
        .await?)
}
