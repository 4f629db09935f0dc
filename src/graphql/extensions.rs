//! Every error a client sees carries `extensions.code`. Errors raised by our code
//! already do ([`crate::error::AppError`]); anything else that reaches the response
//! from a resolver (a library error converted by `?`) is logged and replaced by a
//! generic INTERNAL error, so no internal message can leak.
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest,
    NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Value, Variables};

use crate::error::INTERNAL_MESSAGE;
use crate::graphql::budget;

pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension)
    }
}

struct ErrorCodesExtension;

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some())
}

fn set_code(error: &mut ServerError, code: &str) {
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", Value::from(code));
}

fn with_code(mut error: ServerError, code: &str) -> ServerError {
    if !has_code(&error) {
        set_code(&mut error, code);
    }
    error
}

/// async-graphql's wording for arguments that do not coerce to their type (the last: a
/// scalar whose own parse refused the value as it came, e.g. an `Upload` given a plain
/// string in a JSON request).
fn is_input_coercion(message: &str) -> bool {
    message.starts_with("Invalid value for argument")
        || message.starts_with("Failed to parse")
        || message.starts_with("Expected input type")
}

/// The engine's message when a document holds no operation of the requested name, or
/// several and no name.
fn is_operation_resolution(message: &str) -> bool {
    message.starts_with("Unknown operation named")
        || message == "Operation name required in request."
}

/// The engine's message for a subscription sent to a transport that only answers once.
const SUBSCRIPTION_ON_HTTP: &str = "Subscriptions are not supported on this transport.";

/// Gives a code to every error of a response that still has none: those the engine
/// raises while choosing the operation, which no execution hook sees. Used for every
/// transport (the WebSocket path runs without the `request` hook).
pub fn code_request_errors(response: &mut Response) {
    for error in &mut response.errors {
        if has_code(error) {
            continue;
        }
        let code = if is_operation_resolution(&error.message) {
            "OPERATION_RESOLUTION_FAILURE"
        } else {
            tracing::warn!(message = %error.message, "uncoded request error");
            "BAD_REQUEST"
        };
        set_code(error, code);
    }
}

/// Codes for the request-level failures the GraphQL engine itself reports.
fn validation_code(message: &str) -> &'static str {
    match message {
        "Query is nested too deep." => "QUERY_TOO_DEEP",
        "Query is too complex." => "QUERY_TOO_COMPLEX",
        _ => "GRAPHQL_VALIDATION_FAILED",
    }
}

#[async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables).await.map_err(|e| {
            // The engine's own bounds, checked as part of its parse step.
            let code = if e.message.starts_with("The recursion depth of the query") {
                "QUERY_TOO_DEEP"
            } else if e.message.starts_with("The number of directives") {
                "GRAPHQL_VALIDATION_FAILED"
            } else {
                "GRAPHQL_PARSE_FAILED"
            };
            with_code(e, code)
        })
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| {
                    let code = validation_code(&e.message);
                    with_code(e, code)
                })
                .collect()
        })
    }

    /// The last word on every response: errors the engine raises outside the hooks
    /// below (choosing the operation) get their code here, and anything else still
    /// uncoded is a request error.
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        code_request_errors(&mut response);
        response
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        for error in &mut response.errors {
            if !has_code(error) && error.message == SUBSCRIPTION_ON_HTTP {
                error.message =
                    "订阅须经 WebSocket (subscriptions are served on /graphql/ws, graphql-transport-ws)"
                        .to_owned();
                set_code(error, "OPERATION_NOT_SUPPORTED");
                continue;
            }
            // The engine's own coercion of arguments and variables met during execution:
            // the client's input is at fault, and the message names only the input.
            if !has_code(error) && is_input_coercion(&error.message) {
                set_code(error, "BAD_USER_INPUT");
                continue;
            }
            if !has_code(error) {
                tracing::error!(message = %error.message, path = ?error.path, "uncoded resolver error masked");
                error.message = INTERNAL_MESSAGE.to_owned();
                error.source = None;
                set_code(error, "INTERNAL");
            }
        }
        response
    }
}

/// Production mode: introspection queries get a coded error instead of silently
/// resolving to null (async-graphql's behaviour when introspection is disabled).
pub struct NoIntrospection;

impl ExtensionFactory for NoIntrospection {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(NoIntrospectionExtension)
    }
}

struct NoIntrospectionExtension;

fn asks_for_introspection(document: &ExecutableDocument) -> bool {
    use async_graphql::parser::types::{Selection, SelectionSet};
    fn walk(set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                matches!(field.node.name.node.as_str(), "__schema" | "__type")
                    || walk(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => walk(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => false,
        })
    }
    document
        .operations
        .iter()
        .any(|(_, op)| walk(&op.node.selection_set.node))
        || document
            .fragments
            .values()
            .any(|f| walk(&f.node.selection_set.node))
}

#[async_trait::async_trait]
impl Extension for NoIntrospectionExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if asks_for_introspection(&document) {
            return Err(coded(
                "introspection is disabled",
                "GRAPHQL_VALIDATION_FAILED",
            ));
        }
        Ok(document)
    }
}

/// Mutations that check a credential (or create one). An operation may hold at most
/// one of them, counted after fragment expansion, so aliases and fragments cannot turn
/// one request into a password-guessing batch.
pub const CREDENTIAL_FIELDS: &[&str] = &[
    "signIn",
    "refreshSession",
    "changePassword",
    "registerCitizen",
];

fn coded(message: impl Into<String>, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    set_code(&mut error, code);
    error
}

/// The request budget ([`crate::graphql::budget`]) around the parser, for every
/// transport: the raw text is bounded before it is parsed, the document after (fields,
/// spreads and aliases once fragments are expanded) before it is validated. Then the
/// rules that need the whole document: one credential operation, and no control
/// characters in any input.
pub struct RequestBudget;

impl ExtensionFactory for RequestBudget {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestBudgetExtension)
    }
}

struct RequestBudgetExtension;

#[async_trait::async_trait]
impl Extension for RequestBudgetExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let limits = &budget::LIMITS;
        if let Err(over) = budget::check_text(query, limits) {
            return Err(coded(over.message(limits), over.code()));
        }
        // The engine's parse step also runs its recursive-depth check, which follows
        // every fragment spread: an exponential walk. So the document is parsed here
        // first (linear, the text being bounded) and bounded after expansion before the
        // engine sees it.
        let parsed = async_graphql::parser::parse_query(query)
            .map_err(|e| with_code(ServerError::from(e), "GRAPHQL_PARSE_FAILED"))?;
        let cost = budget::check_document(&parsed, limits, CREDENTIAL_FIELDS)
            .map_err(|over| coded(over.message(limits), over.code()))?;
        drop(parsed);
        let document = next.run(ctx, query, variables).await?;
        if cost.credential_fields > 1 {
            return Err(coded(
                "signIn 等凭证操作每个请求只能一个 (one credential operation per request)",
                "BAD_REQUEST",
            ));
        }
        if let Some(path) = budget::find_control_character(&document, variables) {
            return Err(coded(
                format!("输入 {path} 含有控制字符 (input `{path}` contains a control character)"),
                "BAD_USER_INPUT",
            ));
        }
        Ok(document)
    }
}
