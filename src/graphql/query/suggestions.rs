use async_graphql::{Context, Object, ID};

use crate::domain::node_id::{NodeId, NodeKind};
use crate::graphql::connection::{to_connection, Conn};
use crate::graphql::context::{page_request, service_ctx};
use crate::graphql::types::Suggestion;
use crate::service::suggestions::{self, SuggestionScope};

#[derive(Default)]
pub struct SuggestionsQuery;

#[Object]
impl SuggestionsQuery {
    /// Suggestions: the signed-in deputy's own (default), a department's
    /// (`departmentId`: its handlers), or all (`all: true`: supervisors, admins).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn suggestions(
        &self,
        ctx: &Context<'_>,
        department_id: Option<ID>,
        #[graphql(default)] all: bool,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Suggestion>> {
        let request = page_request(ctx, first, after, last, before)?;
        let scope = match (department_id, all) {
            (Some(d), _) => SuggestionScope::Department(NodeId::decode_as(
                "departmentId",
                &d,
                NodeKind::Department,
            )?),
            (None, true) => SuggestionScope::All,
            (None, false) => SuggestionScope::Mine,
        };
        Ok(to_connection(
            suggestions::list(&service_ctx(ctx)?, scope, &request).await?,
            Suggestion,
        ))
    }
}
