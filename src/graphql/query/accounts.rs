use async_graphql::{Context, Object, ID};

use crate::domain::node_id::NodeKind;
use crate::graphql::connection::{to_connection, Conn};
use crate::graphql::context::{optional_id, page_request, service_ctx};
use crate::graphql::types::{Account, AuditEntry};
use crate::service::accounts::{self, admin as account_admin};
use crate::service::support::audit;

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in account with its roles.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Account> {
        Ok(Account(accounts::me(&service_ctx(ctx)?).await?))
    }

    /// All accounts (admins).
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Account>> {
        let request = page_request(ctx, first, after, last, before)?;
        let page = account_admin::list_accounts(&service_ctx(ctx)?, &request).await?;
        Ok(to_connection(page, Account))
    }

    /// The audit log: sign-ins, failures, role changes, revocations (admins).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        account_id: Option<ID>,
        #[graphql(desc = "e.g. sign_in, sign_in_failed, role_granted, refresh_reuse_detected")]
        action: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<AuditEntry>> {
        let request = page_request(ctx, first, after, last, before)?;
        let filter = audit::AuditFilter {
            account_id: optional_id("accountId", account_id.as_ref(), NodeKind::Account)?,
            action,
        };
        let page = audit::list(&service_ctx(ctx)?, &filter, &request).await?;
        Ok(to_connection(page, AuditEntry))
    }
}
