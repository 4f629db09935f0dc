use async_graphql::{Context, InputObject, Object, ID};

use crate::domain::node_id::{NodeId, NodeKind};
use crate::error::AppResult;
use crate::graphql::context::{optional_id, service_ctx};
use crate::graphql::types::enums::Role;
use crate::graphql::types::{Account, AuthPayload};
use crate::service::accounts;
use crate::service::accounts::admin::{self as account_admin, GrantSpec, NewAccount};

#[derive(Default)]
pub struct AccountMutation;

/// A role and, where the role needs one, its scope.
#[derive(InputObject)]
pub struct RoleGrantInput {
    pub role: Role,
    /// Station staff: the station.
    pub station_id: Option<ID>,
    /// Department handlers: the department.
    pub department_id: Option<ID>,
    /// Supervisors: a township (omit for county-wide).
    pub township_id: Option<ID>,
}

impl RoleGrantInput {
    fn to_spec(&self) -> AppResult<GrantSpec> {
        let id = |field: &str, id: &Option<ID>, kind| optional_id(field, id.as_ref(), kind);
        Ok(GrantSpec {
            role: self.role.into(),
            station_id: id("stationId", &self.station_id, NodeKind::Station)?,
            department_id: id("departmentId", &self.department_id, NodeKind::Department)?,
            township_id: id("townshipId", &self.township_id, NodeKind::Township)?,
        })
    }
}

#[derive(InputObject)]
pub struct CreateAccountInput {
    /// A username (3-32 letters, digits, . _ -) or a mobile number.
    pub login: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub password: String,
    /// Required with the DEPUTY role: the deputy this account speaks for.
    pub deputy_id: Option<ID>,
    pub roles: Vec<RoleGrantInput>,
}

fn account_id(id: &ID) -> AppResult<i64> {
    NodeId::decode_as("accountId", id, NodeKind::Account)
}

#[Object]
impl AccountMutation {
    /// Signs in with a login name (or phone number) and password. Never batchable.
    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        login: String,
        password: String,
    ) -> async_graphql::Result<AuthPayload> {
        let tokens = accounts::sign_in(&service_ctx(ctx)?, &login, &password).await?;
        Ok(tokens.into())
    }

    /// Exchanges a refresh token for new tokens. A refresh token works once: using it
    /// again revokes the whole sign-in (REFRESH_TOKEN_REUSED).
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<AuthPayload> {
        let tokens = accounts::refresh(&service_ctx(ctx)?, &refresh_token).await?;
        Ok(tokens.into())
    }

    /// Ends this sign-in (all tokens issued from it).
    async fn sign_out(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(accounts::sign_out(&service_ctx(ctx)?).await?)
    }

    /// Changes the password; every other sign-in of the account is revoked.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> async_graphql::Result<bool> {
        Ok(accounts::change_password(&service_ctx(ctx)?, &current_password, &new_password).await?)
    }

    /// Sets the password of an account created without one (by `smart-npc import`)
    /// with the one-time code its importer handed over; the code is spent. A wrong or
    /// expired code is BAD_USER_INPUT and counts as a failed sign-in for the login.
    async fn set_password_with_code(
        &self,
        ctx: &Context<'_>,
        login: String,
        code: String,
        new_password: String,
    ) -> async_graphql::Result<bool> {
        let ctx = &service_ctx(ctx)?;
        Ok(accounts::setup::set_password_with_code(ctx, &login, &code, &new_password).await?)
    }

    /// A citizen signs up with a mobile number and is signed in. With an idempotency
    /// key (`Idempotency-Key` header or `idempotencyKey`), a retry within 24 hours
    /// creates no second account: it signs in the account the first request created
    /// (new tokens; a different password fails as a wrong password does).
    async fn register_citizen(
        &self,
        ctx: &Context<'_>,
        phone: String,
        display_name: String,
        password: String,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<AuthPayload> {
        let key = crate::graphql::context::idempotency_key(ctx, idempotency_key)?;
        let tokens = account_admin::register_citizen(
            &service_ctx(ctx)?,
            &phone,
            &display_name,
            &password,
            key,
        )
        .await?;
        Ok(tokens.into())
    }

    /// Creates an account with roles (admins).
    async fn create_account(
        &self,
        ctx: &Context<'_>,
        input: CreateAccountInput,
    ) -> async_graphql::Result<Account> {
        let grants = input
            .roles
            .iter()
            .map(RoleGrantInput::to_spec)
            .collect::<AppResult<Vec<_>>>()?;
        let new = NewAccount {
            login: input.login,
            display_name: input.display_name,
            phone: input.phone,
            password: input.password,
            deputy_id: optional_id("deputyId", input.deputy_id.as_ref(), NodeKind::Deputy)?,
            grants,
        };
        Ok(Account(
            account_admin::create_account(&service_ctx(ctx)?, new).await?,
        ))
    }

    /// Grants a role (admins).
    async fn grant_role(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        grant: RoleGrantInput,
    ) -> async_graphql::Result<Account> {
        let id = self::account_id(&account_id)?;
        let account = account_admin::grant_role(&service_ctx(ctx)?, id, grant.to_spec()?).await?;
        Ok(Account(account))
    }

    /// Revokes a role (admins).
    async fn revoke_role(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        grant: RoleGrantInput,
    ) -> async_graphql::Result<Account> {
        let id = self::account_id(&account_id)?;
        let account = account_admin::revoke_role(&service_ctx(ctx)?, id, grant.to_spec()?).await?;
        Ok(Account(account))
    }

    /// Disables (revoking all sessions) or re-enables an account (admins).
    async fn set_account_disabled(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        disabled: bool,
    ) -> async_graphql::Result<Account> {
        let id = self::account_id(&account_id)?;
        let account = account_admin::set_disabled(&service_ctx(ctx)?, id, disabled).await?;
        Ok(Account(account))
    }
}
