//! Every error a client sees carries `extensions.code`. Errors raised by our code
//! already do ([`crate::error::AppError`]); anything else that reaches the response
//! from a resolver (a library error converted by `?`) is logged and replaced by a
//! generic INTERNAL error, so no internal message can leak.
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Value, Variables};

use crate::error::INTERNAL_MESSAGE;

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

fn with_code(mut error: ServerError, code: &str) -> ServerError {
    if !has_code(&error) {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", Value::from(code));
    }
    error
}

/// async-graphql's wording for arguments that do not coerce to their type.
fn is_input_coercion(message: &str) -> bool {
    message.starts_with("Invalid value for argument") || message.starts_with("Failed to parse")
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
        next.run(ctx, query, variables)
            .await
            .map_err(|e| with_code(e, "GRAPHQL_PARSE_FAILED"))
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

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        for error in &mut response.errors {
            // The engine's own coercion of arguments and variables met during execution:
            // the client's input is at fault, and the message names only the input.
            if !has_code(error) && is_input_coercion(&error.message) {
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", Value::from("BAD_USER_INPUT"));
                continue;
            }
            if !has_code(error) {
                tracing::error!(message = %error.message, path = ?error.path, "uncoded resolver error masked");
                error.message = INTERNAL_MESSAGE.to_owned();
                error.source = None;
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", Value::from("INTERNAL"));
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
            let mut error = ServerError::new("introspection is disabled", None);
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", Value::from("GRAPHQL_VALIDATION_FAILED"));
            return Err(error);
        }
        Ok(document)
    }
}

/// Mutations that check a credential (or create one). An operation may hold at most
/// one of them, so aliases cannot turn one request into a password-guessing batch.
pub const CREDENTIAL_FIELDS: &[&str] = &[
    "signIn",
    "refreshSession",
    "changePassword",
    "registerCitizen",
];

/// Whether a document selects more than one credential field at its roots, or one
/// next to root fragments (which could hide another).
pub fn has_several_credential_fields(document: &ExecutableDocument) -> bool {
    use async_graphql::parser::types::Selection;
    let roots = document
        .operations
        .iter()
        .flat_map(|(_, op)| op.node.selection_set.node.items.iter());
    let (mut credentials, mut fragments) = (0, 0);
    for item in roots {
        match &item.node {
            Selection::Field(field)
                if CREDENTIAL_FIELDS.contains(&field.node.name.node.as_str()) =>
            {
                credentials += 1
            }
            Selection::Field(_) => {}
            Selection::InlineFragment(_) | Selection::FragmentSpread(_) => fragments += 1,
        }
    }
    credentials > 1 || (credentials == 1 && fragments > 0)
}

/// Whether a document selects any credential field at its roots.
pub fn has_credential_field(document: &ExecutableDocument) -> bool {
    use async_graphql::parser::types::Selection;
    document.operations.iter().flat_map(|(_, op)| op.node.selection_set.node.items.iter()).any(|item| {
        matches!(&item.node, Selection::Field(f) if CREDENTIAL_FIELDS.contains(&f.node.name.node.as_str()))
    })
}

pub struct OneCredentialCheck;

impl ExtensionFactory for OneCredentialCheck {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OneCredentialCheckExtension)
    }
}

struct OneCredentialCheckExtension;

#[async_trait::async_trait]
impl Extension for OneCredentialCheckExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if has_several_credential_fields(&document) {
            let mut error = ServerError::new(
                "signIn 等凭证操作每个请求只能一个 (one credential operation per request)",
                None,
            );
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", Value::from("BAD_REQUEST"));
            return Err(error);
        }
        Ok(document)
    }
}
