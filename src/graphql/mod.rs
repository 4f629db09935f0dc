//! The GraphQL schema: query roots per area, types mapped from entities, one
//! DataLoader per relation, and the extension that guarantees error codes.
pub mod budget;
pub mod connection;
pub mod context;
pub mod extensions;
pub mod loaders;
pub mod metrics;
pub mod mutation;
pub mod persisted;
pub mod query;
mod response_order;
pub mod subscription;
mod trace;
pub mod types;
pub mod wake;

use async_graphql::{Schema, SchemaBuilder};

use crate::state::AppState;

// Shorthands for the `complexity` expressions of list and connection fields.
pub use connection::{list_complexity, page_complexity};

pub type AppSchema =
    Schema<query::QueryRoot, mutation::MutationRoot, subscription::SubscriptionRoot>;

/// Query depth and complexity bounds (OWASP GraphQL cheat sheet). A connection page
/// counts as its page size times its children, so the complexity bound also limits
/// how much one request can make the database do.
pub const MAX_DEPTH: usize = 16;
pub const MAX_COMPLEXITY: usize = 20_000;
/// Directives on one field or fragment.
pub const MAX_DIRECTIVES: usize = 8;

fn builder(
) -> SchemaBuilder<query::QueryRoot, mutation::MutationRoot, subscription::SubscriptionRoot> {
    Schema::build(
        query::QueryRoot::default(),
        mutation::MutationRoot::default(),
        subscription::SubscriptionRoot::default(),
    )
    // Outermost: it times the whole operation and sees the final error codes.
    .extension(crate::graphql::metrics::OperationMetrics)
    .extension(extensions::ErrorCodes)
    .extension(extensions::RequestBudget)
    .extension(wake::WakeRelayAfterMutations)
    .extension(response_order::ResponseOrder)
    // Innermost: releases DataLoader batches when the resolvers are idle.
    .extension(loaders::DriveBatches)
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(32)
    .limit_directives(MAX_DIRECTIVES)
}

pub fn build_schema(state: AppState) -> AppSchema {
    let mut builder = builder();
    if state.settings.production {
        builder = builder
            .disable_introspection()
            .disable_suggestions()
            .extension(extensions::NoIntrospection);
    }
    if state.settings.traces.is_some() {
        builder = builder.extension(trace::OperationSpans);
    }
    builder.data(state).finish()
}

/// The SDL of the schema as served, for `smart-npc schema` and the drift test.
pub fn sdl() -> String {
    builder().finish().sdl()
}
