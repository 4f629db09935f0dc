//! Responses in selection-set order (GraphQL spec, "Serialized Map Ordering": clients
//! and people reading a response expect its fields in the order they asked for).
//! async-graphql 7 resolves an object's fields concurrently and keeps them in the
//! order they *finish* (async-graphql#612), so `{ liaison: … base: … }` may answer
//! `base` first. This extension puts every object of `data` back in the order of the
//! operation's selection sets (fragments and inline fragments expanded in place, the
//! first occurrence of a response key deciding its place), for queries and mutations
//! and each subscription event alike. The wire format keeps it because serde_json is
//! built with `preserve_order`.
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
    NextSubscribe,
};
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::futures_util::StreamExt;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, OperationDefinition, Selection,
    SelectionSet,
};
use async_graphql::parser::Positioned;
use async_graphql::{Name, Request, Response, ServerResult, Value, Variables};

pub struct ResponseOrder;

impl ExtensionFactory for ResponseOrder {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ResponseOrderExtension::default())
    }
}

/// One request's document and chosen operation, kept to order its responses.
#[derive(Default)]
struct ResponseOrderExtension {
    document: Arc<Mutex<Option<Arc<ExecutableDocument>>>>,
    operation_name: Arc<Mutex<Option<String>>>,
}

impl ResponseOrderExtension {
    fn document(&self) -> Option<Arc<ExecutableDocument>> {
        self.document.lock().ok().and_then(|d| d.clone())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ResponseOrderExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if let Ok(mut name) = self.operation_name.lock() {
            name.clone_from(&request.operation_name);
        }
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
        if let Ok(mut kept) = self.document.lock() {
            *kept = Some(Arc::new(document.clone()));
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        if let Some(document) = self.document() {
            order_response(&mut response, &document, operation_name);
        }
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        // The document is parsed once the stream is first polled: look it up per event.
        let document = self.document.clone();
        let operation_name = self.operation_name.clone();
        next.run(ctx, stream)
            .map(move |mut response| {
                let kept = document.lock().ok().and_then(|d| d.clone());
                let name = operation_name.lock().ok().and_then(|n| n.clone());
                if let Some(document) = kept {
                    order_response(&mut response, &document, name.as_deref());
                }
                response
            })
            .boxed()
    }
}

/// The operation a request runs, with its name (`None` for an anonymous one), as
/// GraphQL picks it: the only one, or the one `operationName` names. `None` when the
/// name matches nothing (the request then fails to resolve and never runs).
pub fn chosen_operation<'d>(
    document: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<(Option<&'d str>, &'d Positioned<OperationDefinition>)> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some((None, operation)),
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .get_key_value(name)
            .map(|(name, operation)| (Some(name.as_str()), operation)),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations
            .iter()
            .next()
            .map(|(name, operation)| (Some(name.as_str()), operation)),
        _ => None,
    }
}

/// Reorders `response.data` after the selection sets of the operation it answers.
pub fn order_response(
    response: &mut Response,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) {
    let Some((_, operation)) = chosen_operation(document, operation_name) else {
        return;
    };
    order_value(
        &mut response.data,
        &[&operation.node.selection_set.node],
        &document.fragments,
    );
}

type Fragments = std::collections::HashMap<Name, Positioned<FragmentDefinition>>;

fn order_value(value: &mut Value, sets: &[&SelectionSet], fragments: &Fragments) {
    match value {
        Value::List(items) => {
            for item in items {
                order_value(item, sets, fragments);
            }
        }
        Value::Object(map) => {
            let mut keys: IndexMap<&Name, Vec<&SelectionSet>> = IndexMap::new();
            let mut seen = HashSet::new();
            for set in sets {
                collect_keys(set, fragments, &mut keys, &mut seen);
            }
            let mut ordered = IndexMap::with_capacity(map.len());
            for (key, subsets) in keys {
                if let Some((key, mut item)) = map.shift_remove_entry(key) {
                    order_value(&mut item, &subsets, fragments);
                    ordered.insert(key, item);
                }
            }
            // Nothing the selection did not name should be there; keep it if it is.
            ordered.extend(map.drain(..));
            *map = ordered;
        }
        _ => {}
    }
}

/// The response keys of a selection set in order, each with the selection sets of the
/// fields that answer to it (a key selected twice merges both sub-selections).
fn collect_keys<'a>(
    set: &'a SelectionSet,
    fragments: &'a Fragments,
    keys: &mut IndexMap<&'a Name, Vec<&'a SelectionSet>>,
    seen_fragments: &mut HashSet<&'a Name>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => keys
                .entry(&field.node.response_key().node)
                .or_default()
                .push(&field.node.selection_set.node),
            Selection::InlineFragment(inline) => collect_keys(
                &inline.node.selection_set.node,
                fragments,
                keys,
                seen_fragments,
            ),
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                // A cycle is a validation error; never loop on one.
                if !seen_fragments.insert(name) {
                    continue;
                }
                if let Some(fragment) = fragments.get(name) {
                    collect_keys(
                        &fragment.node.selection_set.node,
                        fragments,
                        keys,
                        seen_fragments,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ordered(query: &str, operation: Option<&str>, data: serde_json::Value) -> String {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        let mut response = Response::new(Value::from_json(data).expect("json"));
        order_response(&mut response, &document, operation);
        serde_json::to_string(&response.data).expect("serialises")
    }

    #[test]
    fn objects_follow_the_selection_set_through_lists_aliases_and_fragments() {
        let query = r#"
            query Other { b a }
            query Wanted {
              z: station { ...Names code }
              list { ... on Deputy { name } id }
              a: __typename
            }
            fragment Names on Station { name alias: name }
        "#;
        let data = serde_json::json!({
            "a": "QueryRoot",
            "list": [{ "id": 1, "name": "x" }, { "name": "y", "id": 2 }],
            "z": { "code": "c", "alias": "n", "name": "n" },
        });
        assert_eq!(
            ordered(query, Some("Wanted"), data),
            r#"{"z":{"name":"n","alias":"n","code":"c"},"list":[{"name":"x","id":1},{"name":"y","id":2}],"a":"QueryRoot"}"#
        );
    }

    #[test]
    fn a_key_selected_twice_keeps_its_first_place_and_merges_its_fields() {
        let query = "{ s { a } t s { b } }";
        let data = serde_json::json!({ "t": 1, "s": { "b": 2, "a": 1 } });
        assert_eq!(ordered(query, None, data), r#"{"s":{"a":1,"b":2},"t":1}"#);
    }

    #[test]
    fn a_fragment_cycle_does_not_loop() {
        let query = "{ ...F } fragment F on QueryRoot { b ...F a }";
        let data = serde_json::json!({ "a": 1, "b": 2 });
        assert_eq!(ordered(query, None, data), r#"{"b":2,"a":1}"#);
    }
}
