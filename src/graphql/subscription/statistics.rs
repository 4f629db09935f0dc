//! `liveStatistics`: the figures of the `statistics` query, live.
use async_graphql::{Context, Subscription, ID};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;

use super::serving::{self, LiveItem};
use crate::graphql::context;
use crate::graphql::types::petitions::{statistics_scope, Statistics};
use crate::graphql::types::scalars::Date;
use crate::service::statistics::live::Period;

#[derive(Default)]
pub struct StatisticsSubscription;

#[Subscription]
impl StatisticsSubscription {
    /// The figures of `statistics` for a period and a scope: the current ones at once,
    /// then again whenever one of them changes. A burst of changes gives one update
    /// (the scope is recomputed once it has been quiet for `LIVE_STATISTICS_QUIET_MS`,
    /// at most `LIVE_STATISTICS_MAX_DELAY_MS` after the burst began). `from` defaults
    /// to the first day of this year; without `to` the period runs up to today (China
    /// time). Public aggregates, like `statistics`.
    #[allow(clippy::too_many_arguments)]
    async fn live_statistics(
        &self,
        ctx: &Context<'_>,
        from: Option<Date>,
        to: Option<Date>,
        township_id: Option<ID>,
        station_id: Option<ID>,
        department_id: Option<ID>,
        category_id: Option<ID>,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<Statistics>>> {
        let scope = statistics_scope(
            township_id.as_ref(),
            station_id.as_ref(),
            department_id.as_ref(),
            category_id.as_ref(),
        )?;
        let period = Period::new(from.map(|d| d.0), to.map(|d| d.0))?;
        let boards = context::state(ctx)?.live_statistics.clone();
        let open = move || {
            Ok(boards
                .subscribe(period, scope)?
                .map(|snapshot| Ok(LiveItem::Statistics(snapshot)))
                .boxed())
        };
        serving::serve(ctx, open, |item| match item {
            LiveItem::Statistics(snapshot) => Some(Statistics::from(&snapshot.statistics)),
            LiveItem::Event(_) => None,
        })
    }
}
