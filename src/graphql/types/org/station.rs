use async_graphql::{Context, Object, ID};

use crate::domain::node_id::{NodeId, NodeKind};
use crate::graphql::connection::Conn;
use crate::graphql::context::page_request;
use crate::graphql::loaders::{
    StationGridsLoader, StationLiaisonsLoader, StationLoader, StationResidentsLoader,
    TownshipLoader,
};
use crate::graphql::types::enums::StationKind;
use crate::graphql::types::paged_relation;
use crate::graphql::types::{load_one, load_opt, Deputy, Grid, Liaison, Township};

/// 站点: a liaison station, service point, service post or demonstration base.
pub struct Station(pub entity::station::Model);

#[Object]
impl Station {
    pub async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Station, self.0.id).encode())
    }
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> StationKind {
        self.0.kind.into()
    }
    /// Whether this is a brand station ("一站一品牌").
    async fn is_brand(&self) -> bool {
        self.0.is_brand
    }
    /// The brand, e.g. 三站合一, 代表直播, 幸福驿站.
    async fn brand_name(&self) -> Option<&str> {
        self.0.brand_name.as_deref()
    }
    /// What the station is known for.
    async fn feature(&self) -> Option<&str> {
        self.0.feature.as_deref()
    }
    async fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }
    async fn reception_hours(&self) -> Option<&str> {
        self.0.reception_hours.as_deref()
    }
    /// Where the station is (WGS-84), when known.
    async fn location(&self) -> Option<crate::graphql::types::places::GeoPoint> {
        crate::domain::place::Point::from_stored(self.0.latitude_e7, self.0.longitude_e7)
            .map(Into::into)
    }
    async fn township(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Township>> {
        Ok(load_one::<TownshipLoader>(ctx, self.0.township_id)
            .await?
            .map(Township))
    }
    /// The station this one belongs to (a post under a point or station), if any.
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Station>> {
        Ok(load_opt::<StationLoader>(ctx, self.0.parent_id)
            .await?
            .map(Station))
    }
    /// 驻站代表: deputies currently assigned to this station.
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn resident_deputies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Deputy>> {
        let request = page_request(ctx, first, after, last, before)?;
        paged_relation::<StationResidentsLoader, _, _, _>(ctx, self.0.id, (), &request, Deputy)
            .await
    }
    /// 网格: the grids the station's community is divided into.
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn grids(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Grid>> {
        let request = page_request(ctx, first, after, last, before)?;
        paged_relation::<StationGridsLoader, _, _, _>(ctx, self.0.id, (), &request, Grid).await
    }
    /// 兼职联络员: part-time liaisons (grid workers, volunteers).
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn liaisons(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Liaison>> {
        let request = page_request(ctx, first, after, last, before)?;
        paged_relation::<StationLiaisonsLoader, _, _, _>(ctx, self.0.id, (), &request, Liaison)
            .await
    }
}
