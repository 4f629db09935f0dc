//! The audit log: sign-ins, failures, role changes, revocations. Written by the
//! account services; read by admins only.
use chrono::Utc;
use entity::{account, audit_log};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use crate::auth::{ClientInfo, Principal};
use crate::db::paging::fetch_page;
use crate::db::write;
use crate::domain::page::{Page, PageRequest};
use crate::error::AppResult;
use crate::service::Ctx;

/// The actions recorded, as stored in `audit_log.action`.
pub mod action {
    pub const SIGN_IN: &str = "sign_in";
    pub const SIGN_IN_FAILED: &str = "sign_in_failed";
    pub const SIGN_IN_THROTTLED: &str = "sign_in_throttled";
    pub const SIGN_OUT: &str = "sign_out";
    pub const REFRESH_REUSE_DETECTED: &str = "refresh_reuse_detected";
    pub const PASSWORD_CHANGED: &str = "password_changed";
    pub const ACCOUNT_CREATED: &str = "account_created";
    pub const ACCOUNT_DISABLED: &str = "account_disabled";
    pub const ACCOUNT_ENABLED: &str = "account_enabled";
    pub const ROLE_GRANTED: &str = "role_granted";
    pub const ROLE_REVOKED: &str = "role_revoked";
    pub const SESSIONS_REVOKED: &str = "sessions_revoked";
    pub const OPEN311_KEY_ISSUED: &str = "open311_key_issued";
    pub const OPEN311_KEY_REVOKED: &str = "open311_key_revoked";
    /// An admin imported organisation files (`importOrganisation`).
    pub const ORGANISATION_IMPORTED: &str = "organisation_imported";
}

#[derive(Clone)]
pub struct Entry<'a> {
    pub account_id: Option<i64>,
    pub login: Option<&'a str>,
    pub action: &'static str,
    pub detail: Option<String>,
}

impl<'a> Entry<'a> {
    /// An entry about a known account, under its id and login.
    pub fn about(
        account: &'a account::Model,
        action: &'static str,
        detail: Option<String>,
    ) -> Self {
        Entry {
            account_id: Some(account.id),
            login: Some(&account.login),
            action,
            detail,
        }
    }

    /// An entry about the signed-in caller's own account.
    pub fn by(principal: &'a Principal, action: &'static str, detail: Option<String>) -> Self {
        Entry {
            account_id: Some(principal.account_id),
            login: Some(&principal.login),
            action,
            detail,
        }
    }
}

pub async fn record<C: ConnectionTrait>(
    db: &C,
    client: &ClientInfo,
    entry: Entry<'_>,
) -> AppResult<()> {
    audit_log::Entity::insert(audit_log::ActiveModel {
        account_id: Set(entry.account_id),
        login: Set(entry.login.map(str::to_owned)),
        action: Set(entry.action.to_owned()),
        detail: Set(entry.detail),
        client_ip: Set(Some(client.ip.clone()).filter(|ip| !ip.is_empty())),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Records one entry in a write transaction of its own (an event with nothing else to
/// write, such as a failed sign-in).
pub async fn record_alone(
    db: &DatabaseConnection,
    client: &ClientInfo,
    entry: Entry<'_>,
) -> AppResult<()> {
    let entry = &entry;
    write::transaction(db, |txn| async move {
        record(&*txn, client, entry.clone()).await
    })
    .await
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub account_id: Option<i64>,
    pub action: Option<String>,
}

pub async fn list(
    ctx: &Ctx<'_>,
    filter: &AuditFilter,
    page: &PageRequest,
) -> AppResult<Page<audit_log::Model>> {
    let (db, actor) = (ctx.db, ctx.actor);
    actor.require(actor.is_admin())?;
    let mut query = audit_log::Entity::find();
    if let Some(account_id) = filter.account_id {
        query = query.filter(audit_log::Column::AccountId.eq(account_id));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::Column::Action.eq(action.as_str()));
    }
    fetch_page(db, query, audit_log::Column::Id, |m| m.id, page).await
}
