use async_graphql::{Context, Object, ID};

use crate::domain::node_id::{NodeId, NodeKind};
use crate::graphql::context::service_ctx;
use crate::graphql::types::enums::Adoption;
use crate::graphql::types::Suggestion;
use crate::service::suggestions;

#[derive(Default)]
pub struct SuggestionsMutation;

#[Object]
impl SuggestionsMutation {
    /// A deputy submits a suggestion (意见建议) to a department. Idempotent with a key
    /// (`Idempotency-Key` header or `idempotencyKey`).
    async fn submit_suggestion(
        &self,
        ctx: &Context<'_>,
        title: String,
        content: String,
        department_id: ID,
        station_id: Option<ID>,
        #[graphql(
            desc = "Makes a retry safe: 1 to 128 characters of A-Z a-z 0-9 _ - : . (or the Idempotency-Key header); a repeat within 24 hours answers the first suggestion"
        )]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Suggestion> {
        let key = crate::graphql::context::idempotency_key(ctx, idempotency_key)?;
        let department_id =
            NodeId::decode_as("departmentId", &department_id, NodeKind::Department)?;
        let station_id = station_id
            .map(|s| NodeId::decode_as("stationId", &s, NodeKind::Station))
            .transpose()?;
        Ok(Suggestion(
            suggestions::submit(
                &service_ctx(ctx)?,
                &title,
                &content,
                department_id,
                station_id,
                key,
            )
            .await?,
        ))
    }

    /// The department answers a suggestion.
    async fn answer_suggestion(
        &self,
        ctx: &Context<'_>,
        id: ID,
        adoption: Adoption,
        answer: String,
    ) -> async_graphql::Result<Suggestion> {
        let id = NodeId::decode_as("id", &id, NodeKind::Suggestion)?;
        Ok(Suggestion(
            suggestions::answer(&service_ctx(ctx)?, id, adoption.into(), &answer).await?,
        ))
    }
}
