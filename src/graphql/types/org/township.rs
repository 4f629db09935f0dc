use async_graphql::{Context, Object, ID};

use crate::domain::node_id::{NodeId, NodeKind};
use crate::graphql::connection::Conn;
use crate::graphql::context::page_request;
use crate::graphql::loaders::TownshipStationsLoader;
use crate::graphql::types::enums::TownshipKind;
use crate::graphql::types::paged_relation;
use crate::graphql::types::Station;

/// 乡镇(城区): a township or the urban district of Heshun County.
pub struct Township(pub entity::township::Model);

#[Object]
impl Township {
    pub async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Township, self.0.id).encode())
    }
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> TownshipKind {
        self.0.kind.into()
    }
    /// The stations, service points and posts in this township.
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn stations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Station>> {
        let request = page_request(ctx, first, after, last, before)?;
        paged_relation::<TownshipStationsLoader, _, _, _>(ctx, self.0.id, (), &request, Station)
            .await
    }
}
