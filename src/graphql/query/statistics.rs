use async_graphql::{Context, Object, ID};

use crate::graphql::context::state;
use crate::graphql::types::petitions::{statistics_scope, Statistics};
use crate::graphql::types::scalars::Date;
use crate::service::statistics;

#[derive(Default)]
pub struct StatisticsQuery;

#[Object]
impl StatisticsQuery {
    /// The loop's figures for a period (inclusive dates) and a scope: the county, a
    /// township, a station, a department or a category.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = 500)]
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
        township_id: Option<ID>,
        station_id: Option<ID>,
        department_id: Option<ID>,
        category_id: Option<ID>,
    ) -> async_graphql::Result<Statistics> {
        let scope = statistics_scope(
            township_id.as_ref(),
            station_id.as_ref(),
            department_id.as_ref(),
            category_id.as_ref(),
        )?;
        let figures = statistics::compute(&state(ctx)?.db, from.0, to.0, &scope).await?;
        Ok(Statistics::from(&figures))
    }
}
