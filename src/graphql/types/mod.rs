//! GraphQL object types, each wrapping an entity model, grouped by area as the query
//! and mutation roots are.
pub mod accounts;
pub mod attachments;
pub mod duty;
pub mod enums;
pub mod import;
pub mod node;
pub mod notifications;
pub mod open311;
pub mod org;
pub mod petitions;
pub mod places;
pub mod scalars;

pub use accounts::{Account, AuditEntry, AuthPayload, RoleGrant};
pub use attachments::Attachment;
pub use duty::story::Story;
pub use duty::{Activity, Campaign, Pairing};
pub use node::Node;
pub use notifications::{Notification, NotificationDelivery};
pub use org::{Department, Deputy, Grid, Liaison, SpecialCommittee, Station, Township};
pub use petitions::{Category, Petition, Suggestion};

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::Context;

use crate::error::{AppError, AppResult};

/// Loads one related row through the request's DataLoader.
pub async fn load_one<L>(ctx: &Context<'_>, key: i64) -> AppResult<Option<L::Value>>
where
    L: Loader<i64, Error = AppError>,
{
    let loader = ctx.data::<DataLoader<L>>().map_err(|_| {
        AppError::internal(format!(
            "loader {} not registered",
            std::any::type_name::<L>()
        ))
    })?;
    loader.load_one(key).await
}

/// Loads an optional to-one relation: no key, no row.
pub async fn load_opt<L>(ctx: &Context<'_>, key: Option<i64>) -> AppResult<Option<L::Value>>
where
    L: Loader<i64, Error = AppError>,
{
    match key {
        Some(key) => load_one::<L>(ctx, key).await,
        None => Ok(None),
    }
}

/// Loads a to-many relation through the request's DataLoader (empty when none).
pub(crate) async fn load_many<L, T>(ctx: &Context<'_>, key: i64) -> AppResult<Vec<T>>
where
    L: Loader<i64, Value = Vec<T>, Error = AppError>,
    T: Clone + Send + Sync + 'static,
{
    Ok(load_one::<L>(ctx, key).await?.unwrap_or_default())
}

/// One page of a to-many relation loaded through the request's DataLoader (already
/// batched, so paging happens in memory over rows sorted by id).
pub(crate) async fn related_page<L, M, T>(
    ctx: &Context<'_>,
    key: i64,
    request: &crate::domain::page::PageRequest,
    id_of: fn(&M) -> i64,
    wrap: fn(M) -> T,
) -> async_graphql::Result<crate::graphql::connection::Conn<T>>
where
    L: Loader<i64, Value = Vec<M>, Error = AppError>,
    M: Clone + Send + Sync + 'static,
    T: async_graphql::OutputType,
{
    let rows = load_many::<L, M>(ctx, key)
        .await?
        .into_iter()
        .map(|m| (id_of(&m), m))
        .collect();
    let page = crate::domain::page::Page::from_sorted(rows, request);
    Ok(crate::graphql::connection::to_connection(page, wrap))
}

/// One page of a to-many relation, paged in SQL per parent by a
/// [`page_loader`](crate::graphql::loaders) (batched: one statement per level).
pub(crate) async fn paged_relation<L, F, M, T>(
    ctx: &Context<'_>,
    parent: i64,
    filter: F,
    request: &crate::domain::page::PageRequest,
    wrap: fn(M) -> T,
) -> async_graphql::Result<crate::graphql::connection::Conn<T>>
where
    L: Loader<
        crate::db::paging::PageKey<F>,
        Value = crate::domain::page::Page<M>,
        Error = AppError,
    >,
    F: Clone + Send + Sync + std::hash::Hash + Eq + 'static,
    M: Clone + Send + Sync + 'static,
    T: async_graphql::OutputType,
{
    let loader = ctx.data::<DataLoader<L>>().map_err(|_| {
        AppError::internal(format!(
            "loader {} not registered",
            std::any::type_name::<L>()
        ))
    })?;
    let key = crate::db::paging::PageKey {
        parent,
        page: *request,
        filter,
    };
    let page = loader
        .load_one(key)
        .await?
        .unwrap_or_else(|| crate::domain::page::Page::from_sorted(Vec::new(), request));
    Ok(crate::graphql::connection::to_connection(page, wrap))
}
