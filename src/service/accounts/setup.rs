//! One-time set-password codes: an account created without a password (by
//! `smart-npc import`) gets a code, shown once to whoever imported it; its holder
//! chooses a password with `setPasswordWithCode`. Wrong codes count against the login
//! name like failed sign-ins, so the code (60 bits) cannot be guessed either.
use chrono::{DateTime, Duration, Utc};
use entity::{account, password_setup};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::db::write;
use crate::domain::{login, password_policy, setup_code};
use crate::error::{AppError, AppResult};
use crate::service::accounts::find_by_login;
use crate::service::support::audit::{self, action, Entry};
use crate::service::Ctx;

/// A code as issued: shown once, never stored in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    pub login: String,
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// Issues a fresh code for the account (replacing any earlier one), in the caller's
/// transaction.
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    account: &account::Model,
    now: DateTime<Utc>,
) -> AppResult<IssuedCode> {
    let code = setup_code::generate();
    let digest = setup_code::digest(&code).ok_or_else(|| AppError::internal("setup code"))?;
    let expires_at = now + Duration::days(setup_code::VALID_DAYS);
    password_setup::Entity::delete_many()
        .filter(password_setup::Column::AccountId.eq(account.id))
        .exec(db)
        .await?;
    password_setup::ActiveModel {
        account_id: Set(account.id),
        code_hash: Set(digest),
        expires_at: Set(expires_at),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(IssuedCode {
        login: account.login.clone(),
        code,
        expires_at,
    })
}

fn invalid_code() -> AppError {
    AppError::bad_input("code", "设置码无效或已过期 (invalid or expired code)")
}

/// Sets the password of `raw_login` with its one-time code, and spends the code.
pub async fn set_password_with_code(
    ctx: &Ctx<'_>,
    raw_login: &str,
    code: &str,
    new_password: &str,
) -> AppResult<bool> {
    let login = login::normalise(raw_login)?;
    let limits = &ctx.settings.limits;
    let key = format!("signin:login:{login}");
    let window = limits.sign_in_account_window;
    let limiter = &ctx.auth.limiter;
    limiter
        .check(&key, limits.sign_in_failures_per_account, window)
        .await?;
    let Some((account, setup)) = valid_setup(ctx, &login, code).await? else {
        let _ = limiter.hit(&key, u64::MAX, window).await;
        return Err(invalid_code());
    };
    password_policy::check(new_password, &account.login)?;
    let hash = ctx.auth.hasher.hash(new_password).await?;
    spend(ctx, &account, &setup, &hash).await?;
    limiter.reset(&key).await;
    Ok(true)
}

/// The account and its unexpired code, when `code` is that code.
async fn valid_setup(
    ctx: &Ctx<'_>,
    login: &str,
    code: &str,
) -> AppResult<Option<(account::Model, password_setup::Model)>> {
    let (Some(account), Some(digest)) = (
        find_by_login(ctx.db, login).await?,
        setup_code::digest(code),
    ) else {
        return Ok(None);
    };
    let setup = password_setup::Entity::find()
        .filter(password_setup::Column::AccountId.eq(account.id))
        .one(ctx.db)
        .await?;
    let Some(setup) = setup else { return Ok(None) };
    use subtle::ConstantTimeEq;
    let matches: bool = setup.code_hash.as_bytes().ct_eq(digest.as_bytes()).into();
    let valid = matches && setup.expires_at > ctx.now() && !account.disabled;
    Ok(valid.then_some((account, setup)))
}

/// Stores the password and deletes the code (once: a second use finds no row).
async fn spend(
    ctx: &Ctx<'_>,
    account: &account::Model,
    setup: &password_setup::Model,
    hash: &str,
) -> AppResult<()> {
    write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        let deleted = password_setup::Entity::delete_by_id(setup.id)
            .exec(txn)
            .await?;
        if deleted.rows_affected != 1 {
            return Err(invalid_code());
        }
        let mut row: account::ActiveModel = account.clone().into();
        row.password_hash = Set(hash.to_owned());
        row.password_changed_at = Set(Utc::now());
        row.update(txn).await?;
        let detail = Some("set with a one-time code".to_owned());
        let entry = Entry::about(account, action::PASSWORD_CHANGED, detail);
        audit::record(txn, ctx.client, entry).await
    })
    .await
}
