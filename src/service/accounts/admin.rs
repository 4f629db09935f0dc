//! Account management: admins create accounts and grant or revoke roles; citizens
//! register themselves. Every change is audited.
use chrono::Utc;
use entity::{account, account_role, auth_session, department, deputy, station, township, Role};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::auth::{Actor, AuthKit, ClientInfo};
use crate::db::paging::fetch_page;
use crate::db::write;
use crate::domain::page::{Page, PageRequest};
use crate::domain::phone::Phone;
use crate::domain::{login, password_policy};
use crate::error::{AppError, AppResult};
use crate::events::AccessChange;
use crate::service::accounts::{self, revoked_reason, SessionTokens};
use crate::service::support::audit::{self, action, Entry};
use crate::service::support::idempotency::{self, Claim};
use crate::service::Ctx;

/// A role with the scope it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantSpec {
    pub role: Role,
    pub station_id: Option<i64>,
    pub department_id: Option<i64>,
    pub township_id: Option<i64>,
}

impl GrantSpec {
    pub fn unscoped(role: Role) -> Self {
        GrantSpec {
            role,
            station_id: None,
            department_id: None,
            township_id: None,
        }
    }

    /// Checks that the scope fits the role, and returns the row's `scope_key`.
    pub fn validate(&self) -> AppResult<String> {
        let scope = |field: &str, message: &str| Err(AppError::bad_input(field, message));
        match self.role {
            Role::StationStaff => match (self.station_id, self.department_id, self.township_id) {
                (Some(id), None, None) => Ok(format!("station:{id}")),
                _ => scope(
                    "stationId",
                    "站点工作人员须指定且仅指定一个站点 (station staff need exactly one station)",
                ),
            },
            Role::DepartmentHandler => {
                match (self.station_id, self.department_id, self.township_id) {
                    (None, Some(id), None) => Ok(format!("department:{id}")),
                    _ => scope(
                        "departmentId",
                        "部门承办人须指定且仅指定一个部门 (handlers need exactly one department)",
                    ),
                }
            }
            Role::Supervisor => match (self.station_id, self.department_id, self.township_id) {
                (None, None, Some(id)) => Ok(format!("township:{id}")),
                (None, None, None) => Ok("*".into()),
                _ => scope(
                    "townshipId",
                    "督办人员只能按乡镇限定范围 (supervisors are scoped by township only)",
                ),
            },
            Role::Citizen | Role::Deputy | Role::Admin => {
                match (self.station_id, self.department_id, self.township_id) {
                    (None, None, None) => Ok("*".into()),
                    _ => scope("role", "该角色没有范围 (this role takes no scope)"),
                }
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewAccount {
    pub login: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub password: String,
    pub deputy_id: Option<i64>,
    pub grants: Vec<GrantSpec>,
}

async fn check_scope_exists<C: ConnectionTrait>(db: &C, grant: &GrantSpec) -> AppResult<()> {
    if let Some(id) = grant.station_id {
        station::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::bad_input("stationId", "站点不存在 (no such station)"))?;
    }
    if let Some(id) = grant.department_id {
        department::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| {
                AppError::bad_input("departmentId", "部门不存在 (no such department)")
            })?;
    }
    if let Some(id) = grant.township_id {
        township::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::bad_input("townshipId", "乡镇不存在 (no such township)"))?;
    }
    Ok(())
}

fn display_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(AppError::bad_input(
            "displayName",
            "姓名须为1-64个字符 (1 to 64 characters)",
        ));
    }
    Ok(name.to_owned())
}

/// A new account whose input passed every check that needs no database, with its
/// password hashed. Hashing is slow, so it happens before the write transaction.
#[derive(Clone, Debug)]
pub struct PreparedAccount {
    login: String,
    display_name: String,
    phone: Option<String>,
    password_hash: String,
    deputy_id: Option<i64>,
    /// Each grant with its `scope_key`.
    grants: Vec<(GrantSpec, String)>,
}

pub async fn prepare_account(kit: &AuthKit, input: NewAccount) -> AppResult<PreparedAccount> {
    let login = login::normalise(&input.login)?;
    let display_name = display_name(&input.display_name)?;
    let phone = Phone::parse_optional("phone", input.phone.as_deref())?;
    password_policy::check(&input.password, &login)?;
    if input.grants.is_empty() {
        return Err(AppError::bad_input(
            "roles",
            "至少需要一个角色 (at least one role)",
        ));
    }
    let mut grants = Vec::new();
    for grant in input.grants {
        let scope_key = grant.validate()?;
        grants.push((grant, scope_key));
    }
    let wants_deputy = grants.iter().any(|(g, _)| g.role == Role::Deputy);
    match (wants_deputy, input.deputy_id) {
        (true, None) => {
            return Err(AppError::bad_input(
                "deputyId",
                "代表账号须关联代表 (a deputy account needs its deputy record)",
            ))
        }
        (false, Some(_)) => {
            return Err(AppError::bad_input(
                "deputyId",
                "只有代表账号可关联代表 (only deputy accounts link a deputy)",
            ))
        }
        _ => {}
    }
    let password_hash = kit.hasher.hash(&input.password).await?;
    Ok(PreparedAccount {
        login,
        display_name,
        phone,
        password_hash,
        deputy_id: input.deputy_id,
        grants,
    })
}

/// Creates a prepared account without an actor check (CLI bootstrap); callers that act
/// for a user go through [`create_account`]. Every creation is audited; `how` says who
/// or what created it.
pub async fn insert_account<C: ConnectionTrait>(
    db: &C,
    client: &ClientInfo,
    new: &PreparedAccount,
    granted_by: Option<i64>,
    how: String,
) -> AppResult<account::Model> {
    for (grant, _) in &new.grants {
        check_scope_exists(db, grant).await?;
    }
    if let Some(id) = new.deputy_id {
        deputy::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::bad_input("deputyId", "代表不存在 (no such deputy)"))?;
    }
    if accounts::find_by_login(db, &new.login).await?.is_some()
        || match &new.phone {
            Some(p) => accounts::find_by_login(db, p).await?.is_some(),
            None => false,
        }
    {
        return Err(AppError::Conflict(
            "登录名或手机号已被使用 (login or phone already in use)".into(),
        ));
    }
    let now = Utc::now();
    let account = account::ActiveModel {
        login: Set(new.login.clone()),
        phone: Set(new.phone.clone()),
        display_name: Set(new.display_name.clone()),
        password_hash: Set(new.password_hash.clone()),
        deputy_id: Set(new.deputy_id),
        disabled: Set(false),
        created_at: Set(now),
        password_changed_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    for (grant, scope_key) in &new.grants {
        insert_grant(db, account.id, grant, scope_key.clone(), granted_by).await?;
    }
    let entry = Entry::about(&account, action::ACCOUNT_CREATED, Some(how));
    audit::record(db, client, entry).await?;
    Ok(account)
}

async fn insert_grant<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    grant: &GrantSpec,
    scope_key: String,
    granted_by: Option<i64>,
) -> AppResult<()> {
    account_role::ActiveModel {
        account_id: Set(account_id),
        role: Set(grant.role),
        station_id: Set(grant.station_id),
        department_id: Set(grant.department_id),
        township_id: Set(grant.township_id),
        scope_key: Set(scope_key),
        granted_at: Set(Utc::now()),
        granted_by: Set(granted_by),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

fn describe(grant: &GrantSpec) -> String {
    let scope = grant.validate().unwrap_or_default();
    format!("{:?} {scope}", grant.role)
}

/// The audit entry of a grant or revocation: which grant, by whom.
fn role_change<'a>(
    account: &'a account::Model,
    what: &'static str,
    grant: &GrantSpec,
    actor: &Actor,
) -> Entry<'a> {
    let detail = format!("{} by account {:?}", describe(grant), actor.account_id());
    Entry::about(account, what, Some(detail))
}

pub async fn create_account(ctx: &Ctx<'_>, input: NewAccount) -> AppResult<account::Model> {
    let (actor, client) = (ctx.actor, ctx.client);
    actor.require(actor.is_admin())?;
    let grants: Vec<String> = input.grants.iter().map(describe).collect();
    let grants = &grants;
    let new = &prepare_account(ctx.auth, input).await?;
    write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        let how = format!(
            "by account {:?}; roles: {}",
            actor.account_id(),
            grants.join(", ")
        );
        insert_account(txn, client, new, actor.account_id(), how).await
    })
    .await
}

/// Citizens sign up with their phone number; they are signed in at once.
///
/// With an idempotency key, a retry within 24 hours creates nothing: it signs in the
/// account the first request created, with the password it gives (a new session: the
/// first request's tokens are not stored). The password is not part of the request's
/// fingerprint (no fast hash of it is ever stored); a retry with another password
/// fails as a wrong password would.
pub async fn register_citizen(
    ctx: &Ctx<'_>,
    phone: &str,
    display_name: &str,
    password: &str,
    idempotency_key: Option<String>,
) -> AppResult<SessionTokens> {
    let arguments = serde_json::json!({ "phone": phone, "displayName": display_name });
    // Keyed by address even for a caller who is signed in: the account is new.
    let anonymous = Ctx {
        actor: &crate::auth::Actor::Anonymous,
        ..*ctx
    };
    let claim = Claim::new(&anonymous, idempotency_key, "registerCitizen", &arguments)?;
    let account_id = idempotency::once(
        ctx.db,
        claim.as_ref(),
        register_new(ctx, phone, display_name, password, claim.as_ref()),
        |stored| async move {
            stored
                .object_id
                .ok_or_else(|| AppError::internal("an idempotent registration without its account"))
        },
    )
    .await?;
    let account = existing_account(ctx.db, account_id).await?;
    accounts::sign_in(ctx, &account.login, password).await
}

async fn register_new(
    ctx: &Ctx<'_>,
    phone: &str,
    display_name: &str,
    password: &str,
    claim: Option<&Claim>,
) -> AppResult<i64> {
    let (limits, client) = (&ctx.settings.limits, ctx.client);
    ctx.auth
        .limiter
        .hit(
            &format!("register:addr:{}", client.ip),
            limits.anonymous_submissions_per_address,
            limits.anonymous_submission_window,
        )
        .await?;
    let phone = Phone::parse("phone", phone)?.into_string();
    let input = NewAccount {
        login: phone.clone(),
        display_name: display_name.to_owned(),
        phone: Some(phone),
        password: password.to_owned(),
        deputy_id: None,
        grants: vec![GrantSpec::unscoped(Role::Citizen)],
    };
    let new = &prepare_account(ctx.auth, input).await?;
    write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        let how = "self-registered citizen".to_owned();
        let account = insert_account(txn, client, new, None, how).await?;
        idempotency::record(claim, txn, Some(account.id), serde_json::json!({})).await?;
        Ok(account.id)
    })
    .await
}

async fn existing_account<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> AppResult<account::Model> {
    account::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("账号 (account)"))
}

pub async fn grant_role(
    ctx: &Ctx<'_>,
    account_id: i64,
    grant: GrantSpec,
) -> AppResult<account::Model> {
    let (actor, client) = (ctx.actor, ctx.client);
    actor.require(actor.is_admin())?;
    let grant = &grant;
    write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        let scope_key = grant.validate()?;
        let account = existing_account(txn, account_id).await?;
        check_scope_exists(txn, grant).await?;
        if grant.role == Role::Deputy && account.deputy_id.is_none() {
            return Err(AppError::bad_input(
                "role",
                "账号未关联代表,不能授予代表角色 (link a deputy record first)",
            ));
        }
        insert_grant(txn, account_id, grant, scope_key, actor.account_id()).await?;
        audit::record(
            txn,
            client,
            role_change(&account, action::ROLE_GRANTED, grant, actor),
        )
        .await?;
        Ok(account)
    })
    .await
}

/// Revokes a grant. The account's open connections are closed (they ran with the
/// grant); its clients reconnect with the rights it keeps.
pub async fn revoke_role(
    ctx: &Ctx<'_>,
    account_id: i64,
    grant: GrantSpec,
) -> AppResult<account::Model> {
    let (actor, client) = (ctx.actor, ctx.client);
    actor.require(actor.is_admin())?;
    let grant = &grant;
    let account = write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        let account = existing_account(txn, account_id).await?;
        delete_grant(txn, account_id, grant).await?;
        if actor.account_id() == Some(account_id) && grant.role == Role::Admin {
            return Err(AppError::bad_input(
                "role",
                "不能撤销自己的管理员角色 (you cannot revoke your own admin role)",
            ));
        }
        audit::record(
            txn,
            client,
            role_change(&account, action::ROLE_REVOKED, grant, actor),
        )
        .await?;
        Ok(account)
    })
    .await?;
    // Once committed: the connections read their session again when told.
    accounts::announce(ctx.live, account_id, AccessChange::RoleRevoked).await;
    Ok(account)
}

/// Deletes the account's grant of `grant`'s role and scope; NOT_FOUND without one.
async fn delete_grant<C: ConnectionTrait>(
    txn: &C,
    account_id: i64,
    grant: &GrantSpec,
) -> AppResult<()> {
    let scope_key = grant.validate()?;
    let removed = account_role::Entity::delete_many()
        .filter(account_role::Column::AccountId.eq(account_id))
        .filter(account_role::Column::Role.eq(grant.role))
        .filter(account_role::Column::ScopeKey.eq(scope_key))
        .exec(txn)
        .await?
        .rows_affected;
    if removed == 0 {
        return Err(AppError::not_found("该角色授权 (role grant)"));
    }
    Ok(())
}

/// Disabling an account also revokes all its sessions and closes its connections.
pub async fn set_disabled(
    ctx: &Ctx<'_>,
    account_id: i64,
    disabled: bool,
) -> AppResult<account::Model> {
    let (actor, client) = (ctx.actor, ctx.client);
    actor.require(actor.is_admin())?;
    let account = write::transaction(ctx.db, |txn| async move {
        let txn = &*txn;
        if actor.account_id() == Some(account_id) && disabled {
            return Err(AppError::bad_input(
                "accountId",
                "不能停用自己的账号 (you cannot disable yourself)",
            ));
        }
        let account = existing_account(txn, account_id).await?;
        let mut active: account::ActiveModel = account.into();
        active.disabled = Set(disabled);
        let account = active.update(txn).await?;
        if disabled {
            revoke_sessions(txn, account_id).await?;
        }
        let what = if disabled {
            action::ACCOUNT_DISABLED
        } else {
            action::ACCOUNT_ENABLED
        };
        audit::record(
            txn,
            client,
            Entry::about(
                &account,
                what,
                Some(format!("by account {:?}", actor.account_id())),
            ),
        )
        .await?;
        Ok(account)
    })
    .await?;
    // Once committed: the connections read their session again when told.
    if disabled {
        accounts::announce(ctx.live, account_id, AccessChange::AccountDisabled).await;
    }
    Ok(account)
}

/// Ends every open session of a disabled account.
async fn revoke_sessions<C: ConnectionTrait>(txn: &C, account_id: i64) -> AppResult<()> {
    let open = auth_session::Column::AccountId.eq(account_id);
    accounts::revoke_where(txn, open, revoked_reason::ACCOUNT_DISABLED).await?;
    Ok(())
}

pub async fn list_accounts(ctx: &Ctx<'_>, page: &PageRequest) -> AppResult<Page<account::Model>> {
    ctx.actor.require(ctx.actor.is_admin())?;
    fetch_page(
        ctx.db,
        account::Entity::find(),
        account::Column::Id,
        |m| m.id,
        page,
    )
    .await
}
