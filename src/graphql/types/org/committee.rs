use async_graphql::{Context, Object};

use crate::graphql::context::state;
use crate::graphql::types::Deputy;
use crate::service::org;

/// 专门委员会: a special committee (or working body) of the standing committee,
/// linked with deputies of its professional field.
pub struct SpecialCommittee(pub entity::special_committee::Model);

#[Object]
impl SpecialCommittee {
    /// Its natural key, as import files name it.
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn professional_field(&self) -> &str {
        &self.0.professional_field
    }
    /// Member deputies, by code.
    #[graphql(complexity = "10 * child_complexity")]
    async fn members(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Deputy>> {
        Ok(org::committee_members(&state(ctx)?.db, self.0.id)
            .await?
            .into_iter()
            .map(Deputy)
            .collect())
    }
}
