use async_graphql::{Context, Object, ID};

use crate::domain::node_id::{NodeId, NodeKind};
use crate::graphql::loaders::TownshipLoader;
use crate::graphql::types::enums::DepartmentLevel;
use crate::graphql::types::{load_opt, Township};

/// 承办部门: a body that handles forwarded opinion items.
pub struct Department(pub entity::department::Model);

#[Object]
impl Department {
    pub async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Department, self.0.id).encode())
    }
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn level(&self) -> DepartmentLevel {
        self.0.level.into()
    }
    /// The township a township-level department belongs to.
    async fn township(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Township>> {
        Ok(load_opt::<TownshipLoader>(ctx, self.0.township_id)
            .await?
            .map(Township))
    }
}
