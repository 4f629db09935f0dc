//! The duty side of a deputy (pairings, activities, compliance, archive, stories):
//! the work behind the `Deputy` fields of the same names.
use async_graphql::{ComplexObject, Context, SimpleObject};

use crate::domain::page::PageRequest;
use crate::graphql::connection::{to_connection, Conn};
use crate::graphql::context::{actor, page_request, state};
use crate::graphql::loaders::{DeputyActivitiesLoader, DeputyPairingsLoader, DeputyStationsLoader};
use crate::graphql::types::duty::{Activity, MonthCompliance, Pairing, YearCompliance};
use crate::graphql::types::{load_many, paged_relation, Deputy, Story};
use crate::service::duty::{activities, compliance, stories};

/// 电子履职档案: what a deputy did in a year.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct DeputyArchive {
    pub year: i32,
    pub activity_count: u64,
    pub opinion_items_collected: u64,
    pub suggestions_made: u64,
    pub suggestions_adopted: u64,
    pub stories_published: u64,
    pub compliance: YearCompliance,
    #[graphql(skip)]
    pub deputy_id: i64,
}

#[ComplexObject]
impl DeputyArchive {
    /// The year's activities, oldest first.
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn activities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Activity>> {
        let request = page_request(ctx, first, after, last, before)?;
        let (from, to) = compliance::year_range(self.year)?;
        let filter = activities::ActivityFilter {
            deputy_id: Some(self.deputy_id),
            from: Some(from),
            to: Some(to),
            ..Default::default()
        };
        Ok(to_connection(
            activities::list(&state(ctx)?.db, &filter, &request).await?,
            Activity,
        ))
    }
}

async fn check_may_view(
    ctx: &Context<'_>,
    deputy: &entity::deputy::Model,
) -> async_graphql::Result<()> {
    let stations = load_many::<DeputyStationsLoader, _>(ctx, deputy.id).await?;
    actor(ctx).require(compliance::may_view(actor(ctx), deputy, &stations))?;
    Ok(())
}

impl Deputy {
    pub(crate) async fn pairings_page(
        &self,
        ctx: &Context<'_>,
        active_only: bool,
        request: &PageRequest,
    ) -> async_graphql::Result<Conn<Pairing>> {
        paged_relation::<DeputyPairingsLoader, _, _, _>(
            ctx,
            self.0.id,
            active_only,
            request,
            Pairing,
        )
        .await
    }
}

pub(crate) async fn activities_page(
    ctx: &Context<'_>,
    deputy_id: i64,
    year: Option<i32>,
    request: &PageRequest,
) -> async_graphql::Result<Conn<Activity>> {
    paged_relation::<DeputyActivitiesLoader, _, _, _>(ctx, deputy_id, year, request, Activity).await
}

pub(crate) async fn month_compliance(
    ctx: &Context<'_>,
    deputy: &entity::deputy::Model,
    year: i32,
    month: u32,
) -> async_graphql::Result<MonthCompliance> {
    compliance::check_year(year)?;
    check_may_view(ctx, deputy).await?;
    let result = compliance::deputy_month(&state(ctx)?.db, deputy.id, year, month).await?;
    Ok((&result).into())
}

pub(crate) async fn year_compliance(
    ctx: &Context<'_>,
    deputy: &entity::deputy::Model,
    year: i32,
    through_month: Option<u32>,
) -> async_graphql::Result<YearCompliance> {
    compliance::check_year(year)?;
    check_may_view(ctx, deputy).await?;
    let today = crate::domain::calendar::local_date(state(ctx)?.clock.now());
    let through = through_month.unwrap_or_else(|| compliance::months_so_far(year, today));
    let result = compliance::deputy_year(&state(ctx)?.db, deputy.id, year, through).await?;
    Ok((&result).into())
}

pub(crate) async fn archive(
    ctx: &Context<'_>,
    deputy: &entity::deputy::Model,
    year: i32,
) -> async_graphql::Result<DeputyArchive> {
    compliance::check_year(year)?;
    check_may_view(ctx, deputy).await?;
    let db = &state(ctx)?.db;
    let counts = compliance::archive_counts(db, deputy.id, year).await?;
    // The app's clock, as the printed archive (/deputies/{code}/archive/{year}) reads it.
    let today = crate::domain::calendar::local_date(state(ctx)?.clock.now());
    let through = compliance::months_so_far(year, today);
    let year_compliance = compliance::deputy_year(db, deputy.id, year, through).await?;
    Ok(DeputyArchive {
        year,
        activity_count: counts.activities,
        opinion_items_collected: counts.opinion_items_collected,
        suggestions_made: counts.suggestions_made,
        suggestions_adopted: counts.suggestions_adopted,
        stories_published: counts.stories_published,
        compliance: (&year_compliance).into(),
        deputy_id: deputy.id,
    })
}

pub(crate) async fn published_stories(
    ctx: &Context<'_>,
    deputy_id: i64,
    request: &PageRequest,
) -> async_graphql::Result<Conn<Story>> {
    let filter = stories::FeedFilter {
        deputy_id: Some(deputy_id),
        ..Default::default()
    };
    Ok(to_connection(
        stories::feed(&state(ctx)?.db, &filter, request).await?,
        Story,
    ))
}
