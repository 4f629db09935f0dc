use async_graphql::{Context, Object, ID};

use crate::domain::node_id::{NodeId, NodeKind};
use crate::graphql::connection::Conn;
use crate::graphql::context::page_request;
use crate::graphql::loaders::{GridDeputiesLoader, StationLoader};
use crate::graphql::types::paged_relation;
use crate::graphql::types::{load_one, Deputy, Station};

/// 网格: a part of a community served by a grid worker and linked deputies.
pub struct Grid(pub entity::grid::Model);

#[Object]
impl Grid {
    pub async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Grid, self.0.id).encode())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn station(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Station>> {
        Ok(load_one::<StationLoader>(ctx, self.0.station_id)
            .await?
            .map(Station))
    }
    /// Resident deputies linked to this grid (each links 1-2 grids).
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn deputies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Deputy>> {
        let request = page_request(ctx, first, after, last, before)?;
        paged_relation::<GridDeputiesLoader, _, _, _>(ctx, self.0.id, (), &request, Deputy).await
    }
}
