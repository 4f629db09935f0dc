use async_graphql::{Context, InputObject, Object, ID};

use crate::domain::node_id::NodeKind;
use crate::graphql::connection::{to_connection, Conn};
use crate::graphql::context::{filter_station, filter_township, optional_id, page_request, state};
use crate::graphql::types::enums::{CongressLevel, DepartmentLevel, StationKind};
use crate::graphql::types::{Department, Deputy, SpecialCommittee, Station, Township};
use crate::service::org::{self, DepartmentFilter, DeputyFilter, StationFilter};

#[derive(Default)]
pub struct OrgQuery;

/// Filters for `deputies`.
#[derive(InputObject, Default)]
pub struct DeputyFilterInput {
    pub level: Option<CongressLevel>,
    pub station_id: Option<ID>,
    pub township_id: Option<ID>,
    /// Part of the name (姓名包含).
    pub name: Option<String>,
}

#[Object]
impl OrgQuery {
    /// The county's townships and urban district.
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn townships(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Township>> {
        let request = page_request(ctx, first, after, last, before)?;
        let page = org::townships(&state(ctx)?.db, &request).await?;
        Ok(to_connection(page, Township))
    }

    /// Stations, service points, service posts and demonstration bases.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn stations(
        &self,
        ctx: &Context<'_>,
        kind: Option<StationKind>,
        #[graphql(desc = "Only brand stations (true) or only others (false).")] brand: Option<bool>,
        township_id: Option<ID>,
        #[graphql(desc = "Part of the station's name.")] name: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Station>> {
        let request = page_request(ctx, first, after, last, before)?;
        let filter = StationFilter {
            kind: kind.map(Into::into),
            brand,
            township_id: optional_id("townshipId", township_id.as_ref(), NodeKind::Township)?,
            name,
        };
        let page = org::stations(&state(ctx)?.db, &filter, &request).await?;
        Ok(to_connection(page, Station))
    }

    /// Deputies, filtered by level, station, township or name.
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn deputies(
        &self,
        ctx: &Context<'_>,
        filter: Option<DeputyFilterInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Deputy>> {
        let request = page_request(ctx, first, after, last, before)?;
        let input = filter.unwrap_or_default();
        let filter = DeputyFilter {
            level: input.level.map(Into::into),
            station_id: filter_station(input.station_id.as_ref())?,
            township_id: filter_township(input.township_id.as_ref())?,
            name: input.name,
        };
        let page = org::deputies(&state(ctx)?.db, &filter, &request).await?;
        Ok(to_connection(page, Deputy))
    }

    /// A deputy by public code (as printed in the QR code).
    async fn deputy_by_code(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Option<Deputy>> {
        Ok(org::deputy_by_code(&state(ctx)?.db, &code)
            .await?
            .map(Deputy))
    }

    /// Departments (承办部门) at township or county level.
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn departments(
        &self,
        ctx: &Context<'_>,
        level: Option<DepartmentLevel>,
        township_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Department>> {
        let request = page_request(ctx, first, after, last, before)?;
        let filter = DepartmentFilter {
            level: level.map(Into::into),
            township_id: optional_id("townshipId", township_id.as_ref(), NodeKind::Township)?,
        };
        let page = org::departments(&state(ctx)?.db, &filter, &request).await?;
        Ok(to_connection(page, Department))
    }

    /// 专门委员会: the standing committee's special committees, by code.
    async fn special_committees(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<SpecialCommittee>> {
        Ok(org::special_committees(&state(ctx)?.db)
            .await?
            .into_iter()
            .map(SpecialCommittee)
            .collect())
    }
}
