use async_graphql::{Context, Object, ID};

use super::{load_one, Station};
use crate::domain::node_id::{NodeId, NodeKind};
use crate::graphql::loaders::StationLoader;

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
}
