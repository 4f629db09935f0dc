//! A span per GraphQL operation, for traces (registered only when they are exported).
//!
//! Our own rather than async-graphql's `extensions::Tracing`: that one puts the whole
//! query document in its `parse` span (`source`), and a document may hold a password or
//! a phone number as a literal argument. This span carries the operation's name and type
//! (`graphql.operation.name`, `graphql.operation.type`, named `query WhoAmI`) as the
//! document defines them, and the first error's code; never the document, the variables
//! or a value. It starts before parsing and ends with the response; resolvers, and the
//! database work they do, run inside it. Its target is trace-only (`otel::graphql`), so
//! log lines keep showing the request's own span.
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
    NextRequest,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Request, Response, ServerResult, Variables};
use tracing::Instrument;

use super::response_order::chosen_operation;

pub struct OperationSpans;

impl ExtensionFactory for OperationSpans {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationSpan::default())
    }
}

#[derive(Default)]
struct OperationSpan {
    /// The request's `operationName`: only a key to look up in the document.
    requested: Mutex<Option<String>>,
    /// Opened when the request is prepared, as a child of the span current then (the
    /// HTTP request's, or the WebSocket operation's).
    span: Mutex<Option<tracing::Span>>,
}

impl OperationSpan {
    fn span(&self) -> Option<tracing::Span> {
        self.span
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn type_name(ty: OperationType) -> &'static str {
    match ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for OperationSpan {
    /// HTTP, and queries and mutations over WebSocket: the span ends with the response,
    /// marked as an error when it carries one. (A subscription's ends with its stream.)
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let response = next.run(ctx).await;
        let span = self
            .span
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let (Some(span), Some(error)) = (span, response.errors.first()) {
            span.record("otel.status_code", "error");
            if let Some(async_graphql::Value::String(code)) =
                error.extensions.as_ref().and_then(|e| e.get("code"))
            {
                span.record("graphql.error.code", code.as_str());
            }
        }
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if let Ok(mut requested) = self.requested.lock() {
            requested.clone_from(&request.operation_name);
        }
        let span = tracing::info_span!(
            target: "otel::graphql",
            "graphql",
            otel.name = "graphql",
            otel.status_code = tracing::field::Empty,
            graphql.operation.name = tracing::field::Empty,
            graphql.operation.type = tracing::field::Empty,
            graphql.error.code = tracing::field::Empty,
        );
        *self.span.lock().unwrap_or_else(PoisonError::into_inner) = Some(span);
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let requested = self.requested.lock().ok().and_then(|r| r.clone());
        if let (Some(span), Some((name, operation))) = (
            self.span(),
            chosen_operation(&document, requested.as_deref()),
        ) {
            let ty = type_name(operation.node.ty);
            span.record("graphql.operation.type", ty);
            match name {
                Some(name) => {
                    span.record("graphql.operation.name", name);
                    span.record("otel.name", format!("{ty} {name}").as_str());
                }
                None => {
                    span.record("otel.name", ty);
                }
            }
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        match self.span() {
            Some(span) => next.run(ctx, operation_name).instrument(span).await,
            None => next.run(ctx, operation_name).await,
        }
    }
}
