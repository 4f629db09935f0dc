//! Sign-in, sessions and passwords.
//!
//! A session family starts at sign-in. Each refresh rotates the refresh token: the
//! presented row is marked rotated and a new row joins the family. Presenting a
//! rotated token again means it was stolen or replayed, so the whole family is
//! revoked. Access tokens name their session row and are checked against it on every
//! request, so revocation takes effect at once. Open WebSocket connections are
//! prompted too (a control message to every replica, see `events::control`): they
//! read their session again through [`session_state`] and close if it ended.

pub mod admin;
pub mod bootstrap;
pub mod setup;

use chrono::{DateTime, Utc};
use entity::{account, account_role, auth_session};
use sea_orm::sea_query::{Expr, IntoCondition};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::auth::token::{hash_refresh_token, new_refresh_token, AccessClaims};
use crate::auth::{Actor, AuthKit, Grant, Principal};
use crate::db::write;
use crate::domain::{login, password_policy};
use crate::error::{AppError, AppResult};
use crate::events::{AccessChange, Control, Live};
use crate::service::support::audit::{self, action, Entry};
use crate::service::Ctx;

/// What a successful sign-in or refresh hands back.
#[derive(Clone, Debug)]
pub struct SessionTokens {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
    pub account: account::Model,
}

fn invalid_credentials() -> AppError {
    AppError::unauthenticated(
        "INVALID_CREDENTIALS",
        "登录名或密码错误 (wrong login or password)",
    )
}

/// `auth_session.revoked_reason` values.
pub mod revoked_reason {
    pub const SIGNED_OUT: &str = "signed out";
    pub const REFRESH_REUSED: &str = "refresh token reused";
    pub const PASSWORD_CHANGED: &str = "password changed";
    pub const ACCOUNT_DISABLED: &str = "account disabled";
}

/// Tells the account's open connections, on every replica, to re-check their session.
pub(crate) async fn announce(live: &Live, account_id: i64, change: AccessChange) {
    live.announce(Control::AccessChanged { account_id, change })
        .await;
}

fn session_revoked() -> AppError {
    AppError::unauthenticated(
        "SESSION_REVOKED",
        "会话已注销,请重新登录 (session revoked; sign in again)",
    )
}

pub async fn find_by_login<C: ConnectionTrait>(
    db: &C,
    login: &str,
) -> AppResult<Option<account::Model>> {
    Ok(account::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(account::Column::Login.eq(login))
                .add(account::Column::Phone.eq(login)),
        )
        .one(db)
        .await?)
}

async fn open_session<C: ConnectionTrait>(
    db: &C,
    ctx: &Ctx<'_>,
    account: account::Model,
    family_id: String,
) -> AppResult<SessionTokens> {
    let (settings, client) = (ctx.settings, ctx.client);
    let now = ctx.auth.clock.now();
    let refresh_token = new_refresh_token();
    let refresh_expires =
        now + chrono::Duration::from_std(settings.refresh_token_ttl).unwrap_or_default();
    let session = auth_session::ActiveModel {
        account_id: Set(account.id),
        family_id: Set(family_id),
        refresh_token_hash: Set(hash_refresh_token(&refresh_token)),
        created_at: Set(now),
        expires_at: Set(refresh_expires),
        rotated_at: Set(None),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        client_ip: Set(Some(client.ip.clone())),
        user_agent: Set(client
            .user_agent
            .as_ref()
            .map(|ua| ua.chars().take(255).collect())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let access_expires =
        now + chrono::Duration::from_std(settings.access_token_ttl).unwrap_or_default();
    let access_token = ctx.auth.keys.issue(&AccessClaims {
        sid: session.id,
        sub: account.id,
        exp: access_expires.timestamp(),
    });
    Ok(SessionTokens {
        access_token,
        access_token_expires_at: access_expires,
        refresh_token,
        refresh_token_expires_at: refresh_expires,
        account,
    })
}

fn new_family_id() -> String {
    new_refresh_token()
}

/// Signs in: throttled per address and per login name, then the password checked, then
/// a new session family opened.
pub async fn sign_in(ctx: &Ctx<'_>, raw_login: &str, password: &str) -> AppResult<SessionTokens> {
    let limits = &ctx.settings.limits;
    let address_key = format!("signin:addr:{}", ctx.client.ip);
    let by_address = ctx
        .auth
        .limiter
        .hit(
            &address_key,
            limits.sign_in_attempts_per_address,
            limits.sign_in_address_window,
        )
        .await;
    unless_throttled(ctx, raw_login.trim(), "address", by_address).await?;
    let login = login::normalise(raw_login)?;
    // Failures are counted per login name, known or not, so that guessing at an
    // unknown account costs the same as at a real one.
    let account_key = format!("signin:login:{login}");
    let by_login = ctx
        .auth
        .limiter
        .check(
            &account_key,
            limits.sign_in_failures_per_account,
            limits.sign_in_account_window,
        )
        .await;
    unless_throttled(ctx, &login, "account", by_login).await?;
    let account = verified_account(ctx, &login, &account_key, password).await?;
    ctx.auth.limiter.reset(&account_key).await;
    open_audited_session(ctx, &account).await
}

/// A rate limit's verdict on a sign-in. A refusal is audited and handed back (or the
/// database's error, when the audit row cannot be written).
async fn unless_throttled(
    ctx: &Ctx<'_>,
    login: &str,
    limit: &str,
    verdict: AppResult<()>,
) -> AppResult<()> {
    let Err(error) = verdict else {
        return Ok(());
    };
    let entry = Entry {
        account_id: None,
        login: Some(login),
        action: action::SIGN_IN_THROTTLED,
        detail: Some(limit.into()),
    };
    audit::record_alone(ctx.db, ctx.client, entry).await?;
    Err(error)
}

/// The active account `login` names, if `password` is its password; otherwise the
/// failure is counted against the login name, audited, and INVALID_CREDENTIALS.
async fn verified_account(
    ctx: &Ctx<'_>,
    login: &str,
    account_key: &str,
    password: &str,
) -> AppResult<account::Model> {
    let account = find_by_login(ctx.db, login).await?;
    let verified = ctx
        .auth
        .hasher
        .verify(password, account.as_ref().map(|a| a.password_hash.as_str()))
        .await?;
    let other = match account {
        Some(account) if verified && !account.disabled => return Ok(account),
        other => other,
    };
    // Count the failure; the attempt that reaches the limit is still answered
    // INVALID_CREDENTIALS, the next ones RATE_LIMITED.
    let window = ctx.settings.limits.sign_in_account_window;
    let _ = ctx.auth.limiter.hit(account_key, u64::MAX, window).await;
    let detail = match &other {
        Some(a) if a.disabled && verified => "account disabled",
        Some(_) => "wrong password",
        None => "unknown login",
    };
    let entry = Entry {
        account_id: other.as_ref().map(|a| a.id),
        login: Some(login),
        action: action::SIGN_IN_FAILED,
        detail: Some(detail.into()),
    };
    audit::record_alone(ctx.db, ctx.client, entry).await?;
    Err(invalid_credentials())
}

/// A new session family for `account`, audited in the same transaction.
async fn open_audited_session(ctx: &Ctx<'_>, account: &account::Model) -> AppResult<SessionTokens> {
    write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        let tokens = open_session(txn, ctx, account.clone(), new_family_id()).await?;
        audit::record(
            txn,
            ctx.client,
            Entry::about(&tokens.account, action::SIGN_IN, None),
        )
        .await?;
        Ok(tokens)
    })
    .await
}

async fn revoke_family<C: ConnectionTrait>(
    db: &C,
    family_id: &str,
    reason: &str,
) -> AppResult<u64> {
    revoke_where(db, auth_session::Column::FamilyId.eq(family_id), reason).await
}

/// Revokes, for `reason`, the sessions still open among those `which` selects; how
/// many it revoked.
async fn revoke_where<C: ConnectionTrait>(
    db: &C,
    which: impl IntoCondition,
    reason: &str,
) -> AppResult<u64> {
    let result = auth_session::Entity::update_many()
        .col_expr(auth_session::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(auth_session::Column::RevokedReason, Expr::value(reason))
        .filter(which)
        .filter(auth_session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Rotates a refresh token into new tokens. A token presented a second time revokes
/// its whole family (it was stolen or replayed).
pub async fn refresh(ctx: &Ctx<'_>, refresh_token: &str) -> AppResult<SessionTokens> {
    let invalid =
        || AppError::unauthenticated("TOKEN_INVALID", "刷新令牌无效 (invalid refresh token)");
    let session = auth_session::Entity::find()
        .filter(auth_session::Column::RefreshTokenHash.eq(hash_refresh_token(refresh_token)))
        .one(ctx.db)
        .await?
        .ok_or_else(invalid)?;
    if session.revoked_at.is_some() {
        return Err(session_revoked());
    }
    match rotate(ctx, &session).await? {
        Some(tokens) => Ok(tokens),
        None => {
            // Already rotated: this token was used before. Revoke the family for good.
            revoke_reused_family(ctx, &session).await?;
            Err(AppError::unauthenticated(
                "REFRESH_TOKEN_REUSED",
                "刷新令牌已被使用,会话已全部注销 (refresh token reused; all sessions of this sign-in revoked)",
            ))
        }
    }
}

/// Claims `session`'s refresh token and opens its successor in the family; `None` when
/// the token was claimed before.
async fn rotate(ctx: &Ctx<'_>, session: &auth_session::Model) -> AppResult<Option<SessionTokens>> {
    write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        // Claim the token: only one caller can turn `rotated_at` from NULL to now.
        let claimed = auth_session::Entity::update_many()
            .col_expr(auth_session::Column::RotatedAt, Expr::value(Utc::now()))
            .filter(auth_session::Column::Id.eq(session.id))
            .filter(auth_session::Column::RotatedAt.is_null())
            .filter(auth_session::Column::RevokedAt.is_null())
            .exec(txn)
            .await?
            .rows_affected
            == 1;
        if !claimed {
            return Ok(None);
        }
        // An error from here on rolls the claim back.
        if session.expires_at <= ctx.auth.clock.now() {
            return Err(AppError::unauthenticated(
                "TOKEN_EXPIRED",
                "刷新令牌已过期,请重新登录 (refresh token expired; sign in again)",
            ));
        }
        let account = account::Entity::find_by_id(session.account_id)
            .one(txn)
            .await?;
        let Some(account) = account.filter(|a| !a.disabled) else {
            return Err(session_revoked());
        };
        let tokens = open_session(txn, ctx, account, session.family_id.clone()).await?;
        Ok(Some(tokens))
    })
    .await
}

/// Revokes the family of a reused refresh token, audited, and tells its connections.
async fn revoke_reused_family(ctx: &Ctx<'_>, session: &auth_session::Model) -> AppResult<()> {
    write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        let revoked =
            revoke_family(txn, &session.family_id, revoked_reason::REFRESH_REUSED).await?;
        audit::record(
            txn,
            ctx.client,
            Entry {
                account_id: Some(session.account_id),
                login: None,
                action: action::REFRESH_REUSE_DETECTED,
                detail: Some(format!("{revoked} sessions revoked")),
            },
        )
        .await
    })
    .await?;
    announce(ctx.live, session.account_id, AccessChange::RefreshReused).await;
    Ok(())
}

/// Ends the caller's session family (this device's sign-in).
pub async fn sign_out(ctx: &Ctx<'_>) -> AppResult<bool> {
    let principal = ctx.actor.require_signed_in()?;
    write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        let session = auth_session::Entity::find_by_id(principal.session_id)
            .one(txn)
            .await?
            .ok_or_else(session_revoked)?;
        revoke_family(txn, &session.family_id, revoked_reason::SIGNED_OUT).await?;
        audit::record(
            txn,
            ctx.client,
            Entry::by(principal, action::SIGN_OUT, None),
        )
        .await
    })
    .await?;
    announce(ctx.live, principal.account_id, AccessChange::SignedOut).await;
    Ok(true)
}

/// Changes the caller's password and revokes every other session of the account.
pub async fn change_password(ctx: &Ctx<'_>, current: &str, new: &str) -> AppResult<bool> {
    let principal = ctx.actor.require_signed_in()?;
    let account = current_password_checked(ctx, principal, current).await?;
    password_policy::check(new, &account.login)?;
    if new == current {
        return Err(AppError::bad_input(
            "newPassword",
            "新密码不能与当前密码相同 (must differ from the current password)",
        ));
    }
    let hash = ctx.auth.hasher.hash(new).await?;
    store_password(ctx, principal, account, hash).await?;
    announce(
        ctx.live,
        principal.account_id,
        AccessChange::PasswordChanged,
    )
    .await;
    Ok(true)
}

/// The caller's account, once `current` is its password. Wrong guesses count against
/// the login name as failed sign-ins do, so this is no side door for guessing.
async fn current_password_checked(
    ctx: &Ctx<'_>,
    principal: &Principal,
    current: &str,
) -> AppResult<account::Model> {
    let limits = &ctx.settings.limits;
    let account_key = format!("signin:login:{}", principal.login);
    ctx.auth
        .limiter
        .check(
            &account_key,
            limits.sign_in_failures_per_account,
            limits.sign_in_account_window,
        )
        .await?;
    let account = account::Entity::find_by_id(principal.account_id)
        .one(ctx.db)
        .await?
        .ok_or_else(session_revoked)?;
    let hasher = &ctx.auth.hasher;
    if !hasher.verify(current, Some(&account.password_hash)).await? {
        let window = limits.sign_in_account_window;
        let _ = ctx.auth.limiter.hit(&account_key, u64::MAX, window).await;
        return Err(AppError::bad_input(
            "currentPassword",
            "当前密码不正确 (current password is wrong)",
        ));
    }
    Ok(account)
}

/// Stores the new hash and revokes the account's other session families, audited.
async fn store_password(
    ctx: &Ctx<'_>,
    principal: &Principal,
    account: account::Model,
    hash: String,
) -> AppResult<()> {
    let (account, hash) = (&account, &hash);
    write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        let own_family = auth_session::Entity::find_by_id(principal.session_id)
            .one(txn)
            .await?
            .map(|s| s.family_id)
            .unwrap_or_default();
        let mut account: account::ActiveModel = account.clone().into();
        account.password_hash = Set(hash.clone());
        account.password_changed_at = Set(Utc::now());
        account.update(txn).await?;
        let others = Condition::all()
            .add(auth_session::Column::AccountId.eq(principal.account_id))
            .add(auth_session::Column::FamilyId.ne(own_family));
        let revoked = revoke_where(txn, others, revoked_reason::PASSWORD_CHANGED).await?;
        audit::record(
            txn,
            ctx.client,
            Entry::by(
                principal,
                action::PASSWORD_CHANGED,
                Some(format!("{revoked} other sessions revoked")),
            ),
        )
        .await
    })
    .await
}

/// The grants of one account, in a stable order.
pub async fn grants_of<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> AppResult<Vec<account_role::Model>> {
    Ok(account_role::Entity::find()
        .filter(account_role::Column::AccountId.eq(account_id))
        .order_by_asc(account_role::Column::Id)
        .all(db)
        .await?)
}

pub fn to_grant(row: &account_role::Model) -> Grant {
    Grant {
        role: row.role,
        station_id: row.station_id,
        department_id: row.department_id,
        township_id: row.township_id,
    }
}

/// Why a session may no longer act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// Signed out, revoked for a reused refresh token, or gone.
    Revoked,
    /// Revoked when the account's password was changed from another sign-in.
    PasswordChanged,
    /// The account is disabled.
    AccountDisabled,
}

impl SessionEnd {
    /// The reason given when a live connection closes for it.
    pub fn describe(self) -> &'static str {
        match self {
            SessionEnd::Revoked => "session revoked",
            SessionEnd::PasswordChanged => "password changed",
            SessionEnd::AccountDisabled => "account disabled",
        }
    }
}

/// The session an access token names, as it stands now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// It may act, with the account's current grants.
    Active(Actor),
    Ended(SessionEnd),
}

/// Reads the session behind a bearer access token now: the one check behind every
/// HTTP request ([`actor_for_token`]) and every WebSocket operation. `Err` for a
/// malformed, forged or expired token.
///
/// One statement: the session joined to its account and the account's grants (one
/// row per grant, one row with no grant columns when it has none). Read at every
/// request rather than cached, so a revocation, a disabled account or a withdrawn
/// role takes effect at the very next request on every replica, with no
/// invalidation to get wrong.
pub async fn session_state<C: ConnectionTrait>(
    db: &C,
    kit: &AuthKit,
    token: &str,
) -> AppResult<SessionState> {
    let claims = kit.keys.verify(token, kit.clock.now().timestamp())?;
    let rows = db
        .query_all(
            db.get_database_backend()
                .build(&session_query(claims.sid, claims.sub)),
        )
        .await?;
    // No row: the session is gone, names another account, or its account is gone.
    let Some(first) = rows.first() else {
        return Ok(SessionState::Ended(SessionEnd::Revoked));
    };
    let session = SessionRow::read(first)?;
    // A disabled account explains why a session ended, even a revoked one.
    if session.disabled {
        return Ok(SessionState::Ended(SessionEnd::AccountDisabled));
    }
    if session.revoked {
        let end = match session.revoked_reason.as_deref() {
            Some(revoked_reason::PASSWORD_CHANGED) => SessionEnd::PasswordChanged,
            _ => SessionEnd::Revoked,
        };
        return Ok(SessionState::Ended(end));
    }
    let mut grants = Vec::new();
    for row in &rows {
        if let Some(grant) = grant_of_row(row)? {
            grants.push(grant);
        }
    }
    Ok(SessionState::Active(Actor::Account(Principal {
        account_id: claims.sub,
        session_id: claims.sid,
        login: session.login,
        display_name: session.display_name,
        deputy_id: session.deputy_id,
        grants,
    })))
}

/// `auth_session ⋈ account ⟕ account_role` for one session of one account.
fn session_query(session_id: i64, account_id: i64) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Alias, Query};
    let (s, a, r) = (auth_session::Entity, account::Entity, account_role::Entity);
    Query::select()
        .expr_as(
            Expr::col((s, auth_session::Column::RevokedAt)).is_not_null(),
            Alias::new("revoked"),
        )
        .column((s, auth_session::Column::RevokedReason))
        .columns([
            (a, account::Column::Login),
            (a, account::Column::DisplayName),
            (a, account::Column::DeputyId),
            (a, account::Column::Disabled),
        ])
        .expr_as(
            Expr::col((r, account_role::Column::Role)),
            Alias::new("role"),
        )
        .columns([
            (r, account_role::Column::StationId),
            (r, account_role::Column::DepartmentId),
            (r, account_role::Column::TownshipId),
        ])
        .from(s)
        .inner_join(
            a,
            Expr::col((a, account::Column::Id)).equals((s, auth_session::Column::AccountId)),
        )
        .left_join(
            r,
            Expr::col((r, account_role::Column::AccountId)).equals((a, account::Column::Id)),
        )
        .and_where(Expr::col((s, auth_session::Column::Id)).eq(session_id))
        .and_where(Expr::col((s, auth_session::Column::AccountId)).eq(account_id))
        .order_by((r, account_role::Column::Id), sea_orm::Order::Asc)
        .to_owned()
}

/// The session and account columns of [`session_query`]'s rows (the same on each).
struct SessionRow {
    revoked: bool,
    revoked_reason: Option<String>,
    login: String,
    display_name: String,
    deputy_id: Option<i64>,
    disabled: bool,
}

impl SessionRow {
    fn read(row: &sea_orm::QueryResult) -> AppResult<Self> {
        Ok(SessionRow {
            revoked: row.try_get("", "revoked")?,
            revoked_reason: row.try_get("", "revoked_reason")?,
            login: row.try_get("", "login")?,
            display_name: row.try_get("", "display_name")?,
            deputy_id: row.try_get("", "deputy_id")?,
            disabled: row.try_get("", "disabled")?,
        })
    }
}

/// The grant on one row of [`session_query`] (none on the row of an account without).
fn grant_of_row(row: &sea_orm::QueryResult) -> AppResult<Option<Grant>> {
    let role: Option<entity::Role> = row.try_get("", "role")?;
    Ok(match role {
        Some(role) => Some(Grant {
            role,
            station_id: row.try_get("", "station_id")?,
            department_id: row.try_get("", "department_id")?,
            township_id: row.try_get("", "township_id")?,
        }),
        None => None,
    })
}

/// Turns a bearer access token into the actor behind it.
pub async fn actor_for_token<C: ConnectionTrait>(
    db: &C,
    kit: &AuthKit,
    token: &str,
) -> AppResult<Actor> {
    match session_state(db, kit, token).await? {
        SessionState::Active(actor) => Ok(actor),
        SessionState::Ended(_) => Err(session_revoked()),
    }
}

/// The signed-in account (`me`).
pub async fn me(ctx: &Ctx<'_>) -> AppResult<account::Model> {
    let principal = ctx.actor.require_signed_in()?;
    account::Entity::find_by_id(principal.account_id)
        .one(ctx.db)
        .await?
        .ok_or_else(session_revoked)
}

pub async fn accounts_by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, account::Model>> {
    let rows = account::Entity::find()
        .filter(account::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|a| (a.id, a)).collect())
}

pub async fn grants_by_accounts<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, Vec<account_role::Model>>> {
    let rows = account_role::Entity::find()
        .filter(account_role::Column::AccountId.is_in(ids.iter().copied()))
        .order_by_asc(account_role::Column::Id)
        .all(db)
        .await?;
    Ok(crate::service::support::group(
        rows.into_iter().map(|g| (g.account_id, g)),
    ))
}
