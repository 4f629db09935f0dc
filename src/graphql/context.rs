//! Small accessors resolvers use to reach shared state.
use async_graphql::Context;

use crate::auth::Actor;
use crate::domain::node_id::{NodeId, NodeKind};
use crate::domain::page::PageRequest;
use crate::error::{AppError, AppResult};
use crate::service::Ctx;
use crate::state::AppState;

pub fn state<'a>(ctx: &Context<'a>) -> AppResult<&'a AppState> {
    ctx.data::<AppState>()
        .map_err(|_| AppError::internal("AppState missing from schema data"))
}

pub fn actor<'a>(ctx: &Context<'a>) -> &'a Actor {
    static ANONYMOUS: Actor = Actor::Anonymous;
    ctx.data_opt::<Actor>().unwrap_or(&ANONYMOUS)
}

/// What a service call needs of the request: borrowed from the schema's and the
/// request's data, so building it for each resolver costs nothing.
pub fn service_ctx<'a>(ctx: &Context<'a>) -> AppResult<Ctx<'a>> {
    Ok(state(ctx)?.ctx(actor(ctx), client(ctx)))
}

/// Relay arguments → a validated page request, bounded by `MAX_PAGE_SIZE`.
pub fn page_request(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> AppResult<PageRequest> {
    let max = state(ctx)?.settings.max_page_size;
    let request = PageRequest::new(first, after.as_deref(), last, before.as_deref(), max)?;
    // Look ahead at the connection's selection: `{ totalCount }` alone reads no row,
    // and a page without `totalCount` counts nothing.
    let selection = ctx.look_ahead();
    let rows = ["edges", "nodes", "pageInfo"]
        .iter()
        .any(|field| selection.field(field).exists());
    let count = selection.field("totalCount").exists();
    Ok(request.wanting(rows, count))
}

pub fn client<'a>(ctx: &Context<'a>) -> &'a crate::auth::ClientInfo {
    static UNKNOWN: std::sync::OnceLock<crate::auth::ClientInfo> = std::sync::OnceLock::new();
    ctx.data_opt::<crate::auth::ClientInfo>()
        .unwrap_or_else(|| UNKNOWN.get_or_init(Default::default))
}

/// The idempotency key of a creating mutation: its `idempotencyKey` argument, else
/// the request's `Idempotency-Key` header (validated: BAD_USER_INPUT).
pub fn idempotency_key(ctx: &Context<'_>, argument: Option<String>) -> AppResult<Option<String>> {
    crate::service::support::idempotency::choose_key(
        argument,
        ctx.data_opt::<crate::service::support::idempotency::HeaderKey>(),
    )
}

/// An optional ID argument that must name a node of `kind`, decoded (BAD_USER_INPUT on
/// `field` otherwise).
pub fn optional_id(
    field: &str,
    id: Option<&async_graphql::ID>,
    kind: NodeKind,
) -> AppResult<Option<i64>> {
    NodeId::decode_optional(field, id.map(|id| id.as_str()), kind)
}

// The places a list filter may name, each decoded (and blamed) under one field name.
pub fn filter_deputy(id: Option<&async_graphql::ID>) -> AppResult<Option<i64>> {
    optional_id("filter.deputyId", id, NodeKind::Deputy)
}

pub fn filter_station(id: Option<&async_graphql::ID>) -> AppResult<Option<i64>> {
    optional_id("filter.stationId", id, NodeKind::Station)
}

pub fn filter_township(id: Option<&async_graphql::ID>) -> AppResult<Option<i64>> {
    optional_id("filter.townshipId", id, NodeKind::Township)
}
