//! Wakes the outbox relay as soon as a mutation has run, so that events committed by
//! this process go out without waiting for the next poll.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Response, ServerResult, Variables};

use crate::state::AppState;

pub struct WakeRelayAfterMutations;

impl ExtensionFactory for WakeRelayAfterMutations {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(WakeRelay {
            mutation: AtomicBool::new(false),
        })
    }
}

struct WakeRelay {
    mutation: AtomicBool,
}

#[async_trait::async_trait]
impl Extension for WakeRelay {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if document
            .operations
            .iter()
            .any(|(_, op)| op.node.ty == OperationType::Mutation)
        {
            self.mutation.store(true, Ordering::Relaxed);
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let response = next.run(ctx, operation_name).await;
        if self.mutation.load(Ordering::Relaxed) {
            if let Some(state) = ctx.data_opt::<AppState>() {
                state.live.wake_relay();
            }
        }
        response
    }
}
