use async_graphql::{Context, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::enums::Role;
use super::{load_many, load_opt, Department, Deputy, Station, Township};
use crate::domain::mask;
use crate::domain::node_id::{NodeId, NodeKind};
use crate::graphql::context::actor;
use crate::graphql::loaders::{
    AccountGrantsLoader, AccountLoader, DepartmentLoader, DeputyLoader, StationLoader,
    TownshipLoader,
};

/// A platform account (账号). Visible to its owner and to admins.
pub struct Account(pub entity::account::Model);

#[Object]
impl Account {
    pub async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Account, self.0.id).encode())
    }
    async fn login(&self) -> &str {
        &self.0.login
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// Full number for the owner and admins; masked (138****5678) otherwise.
    async fn phone(&self, ctx: &Context<'_>) -> Option<String> {
        let viewer = actor(ctx);
        let entitled = viewer.is_admin() || viewer.account_id() == Some(self.0.id);
        self.0.phone.as_deref().map(|p| {
            if entitled {
                p.to_owned()
            } else {
                mask::phone(p)
            }
        })
    }
    async fn disabled(&self) -> bool {
        self.0.disabled
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The deputy record a deputy account speaks for.
    async fn deputy(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Deputy>> {
        Ok(load_opt::<DeputyLoader>(ctx, self.0.deputy_id)
            .await?
            .map(Deputy))
    }
    /// Roles with their scopes (a short list, not paginated).
    async fn roles(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<RoleGrant>> {
        Ok(load_many::<AccountGrantsLoader, _>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(RoleGrant)
            .collect())
    }
}

/// One role an account holds, with its scope.
pub struct RoleGrant(pub entity::account_role::Model);

#[Object]
impl RoleGrant {
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// Station staff: the station.
    async fn station(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Station>> {
        Ok(load_opt::<StationLoader>(ctx, self.0.station_id)
            .await?
            .map(Station))
    }
    /// Department handlers: the department.
    async fn department(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Department>> {
        Ok(load_opt::<DepartmentLoader>(ctx, self.0.department_id)
            .await?
            .map(Department))
    }
    /// Township-scoped supervisors: the township (null means county-wide).
    async fn township(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Township>> {
        Ok(load_opt::<TownshipLoader>(ctx, self.0.township_id)
            .await?
            .map(Township))
    }
    async fn granted_at(&self) -> DateTime<Utc> {
        self.0.granted_at
    }
}

/// Tokens from `signIn`, `refreshSession` and `registerCitizen`.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Send as `Authorization: Bearer <accessToken>` (HTTP) or in the WebSocket
    /// `connection_init` payload as `{"token": "<accessToken>"}`.
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    /// Exchange for new tokens with `refreshSession`; each refresh token works once.
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
    pub account: Account,
}

impl From<crate::service::accounts::SessionTokens> for AuthPayload {
    fn from(tokens: crate::service::accounts::SessionTokens) -> Self {
        AuthPayload {
            access_token: tokens.access_token,
            access_token_expires_at: tokens.access_token_expires_at,
            refresh_token: tokens.refresh_token,
            refresh_token_expires_at: tokens.refresh_token_expires_at,
            account: Account(tokens.account),
        }
    }
}

/// An audit-log entry (who, what, when, from where).
pub struct AuditEntry(pub entity::audit_log::Model);

#[Object]
impl AuditEntry {
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn login(&self) -> Option<&str> {
        self.0.login.as_deref()
    }
    async fn account(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Account>> {
        Ok(load_opt::<AccountLoader>(ctx, self.0.account_id)
            .await?
            .map(Account))
    }
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
    async fn client_ip(&self) -> Option<&str> {
        self.0.client_ip.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
