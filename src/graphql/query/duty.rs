use async_graphql::{Context, InputObject, Object, ID};

use crate::domain::node_id::NodeKind;
use crate::domain::pairing_rules::Gap;
use crate::graphql::connection::{to_connection, Conn};
use crate::graphql::context::{
    filter_deputy, filter_station, filter_township, optional_id, page_request, service_ctx, state,
};
use crate::graphql::loaders::DeputyLoader;
use crate::graphql::types::duty::{
    Activity, Campaign, ComplianceRollup, CoverageGap, CoverageGapKind, Pairing,
};
use crate::graphql::types::enums::{ActivityKind, PairingKind};
use crate::graphql::types::scalars::Date;
use crate::graphql::types::{load_one, Deputy, Story};
use crate::service::duty::compliance;
use crate::service::duty::{activities, pairings, stories};

#[derive(Default)]
pub struct DutyQuery;

#[derive(InputObject, Default)]
pub struct ActivityFilterInput {
    pub deputy_id: Option<ID>,
    pub station_id: Option<ID>,
    pub township_id: Option<ID>,
    pub kind: Option<ActivityKind>,
    pub campaign_id: Option<ID>,
    pub from: Option<Date>,
    pub to: Option<Date>,
}

#[derive(InputObject, Default)]
pub struct ShowcaseFilterInput {
    pub township_id: Option<ID>,
    pub station_id: Option<ID>,
    pub deputy_id: Option<ID>,
}

#[Object]
impl DutyQuery {
    /// Pairings (三联结对, 包联), optionally of one kind or one deputy.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn pairings(
        &self,
        ctx: &Context<'_>,
        kind: Option<PairingKind>,
        deputy_id: Option<ID>,
        #[graphql(default = true)] active_only: bool,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Pairing>> {
        let request = page_request(ctx, first, after, last, before)?;
        let filter = pairings::PairingFilter {
            kind: kind.map(Into::into),
            deputy_id: optional_id("deputyId", deputy_id.as_ref(), NodeKind::Deputy)?,
            active_only,
        };
        Ok(to_connection(
            pairings::list(&state(ctx)?.db, &filter, &request).await?,
            Pairing,
        ))
    }

    /// Gaps against the pairing rules for a month: members with fewer than 5 or more
    /// than 8 grassroots deputies, leaders not covering 2 townships, leaders with
    /// fewer than 2 station visits (supervisors, admins).
    #[graphql(complexity = 500)]
    async fn coverage_report(
        &self,
        ctx: &Context<'_>,
        year: i32,
        month: u32,
    ) -> async_graphql::Result<Vec<CoverageGap>> {
        let gaps = pairings::coverage(&service_ctx(ctx)?, year, month).await?;
        let mut out = Vec::with_capacity(gaps.len());
        for gap in gaps {
            let kind = match gap {
                Gap::MemberTooFew { .. } => CoverageGapKind::MemberTooFew,
                Gap::MemberTooMany { .. } => CoverageGapKind::MemberTooMany,
                Gap::LeaderTownships { .. } => CoverageGapKind::LeaderTownships,
                Gap::LeaderVisits { .. } => CoverageGapKind::LeaderVisits,
            };
            let (deputy, actual, expected) = (gap.deputy(), gap.actual(), gap.expected());
            if let Some(model) = load_one::<DeputyLoader>(ctx, deputy).await? {
                out.push(CoverageGap {
                    kind,
                    deputy: Deputy(model),
                    actual: actual as u32,
                    expected,
                });
            }
        }
        Ok(out)
    }

    /// Duty activities (public record), oldest first.
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn activities(
        &self,
        ctx: &Context<'_>,
        filter: Option<ActivityFilterInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Activity>> {
        let request = page_request(ctx, first, after, last, before)?;
        let f = filter.unwrap_or_default();
        let filter = activities::ActivityFilter {
            deputy_id: filter_deputy(f.deputy_id.as_ref())?,
            station_id: filter_station(f.station_id.as_ref())?,
            township_id: filter_township(f.township_id.as_ref())?,
            kind: f.kind.map(Into::into),
            campaign_id: optional_id(
                "filter.campaignId",
                f.campaign_id.as_ref(),
                NodeKind::Campaign,
            )?,
            from: f.from.map(|d| d.0),
            to: f.to.map(|d| d.0),
        };
        Ok(to_connection(
            activities::list(&state(ctx)?.db, &filter, &request).await?,
            Activity,
        ))
    }

    /// Themed campaigns ("百名代表入千户", "双岗建新功", ...).
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Campaign>> {
        let request = page_request(ctx, first, after, last, before)?;
        Ok(to_connection(
            activities::campaigns(&state(ctx)?.db, &request).await?,
            Campaign,
        ))
    }

    /// 代表风采: published stories, newest first; filter by township, station, deputy.
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn showcase(
        &self,
        ctx: &Context<'_>,
        filter: Option<ShowcaseFilterInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Story>> {
        let request = page_request(ctx, first, after, last, before)?;
        let f = filter.unwrap_or_default();
        let filter = stories::FeedFilter {
            township_id: filter_township(f.township_id.as_ref())?,
            station_id: filter_station(f.station_id.as_ref())?,
            deputy_id: filter_deputy(f.deputy_id.as_ref())?,
        };
        Ok(to_connection(
            stories::feed(&state(ctx)?.db, &filter, &request).await?,
            Story,
        ))
    }

    /// Stories submitted for review where the viewer is an editor.
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn story_review_queue(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Story>> {
        let request = page_request(ctx, first, after, last, before)?;
        Ok(to_connection(
            stories::review_queue(&service_ctx(ctx)?, &request).await?,
            Story,
        ))
    }

    /// Share of a station's or township's deputies fully compliant with the "eight
    /// ones": in `month`, or in the year so far without it.
    #[graphql(complexity = 1000)]
    async fn compliance_rollup(
        &self,
        ctx: &Context<'_>,
        station_id: Option<ID>,
        township_id: Option<ID>,
        year: i32,
        month: Option<u32>,
    ) -> async_graphql::Result<ComplianceRollup> {
        let scope = compliance::Scope::one_of(
            optional_id("stationId", station_id.as_ref(), NodeKind::Station)?,
            optional_id("townshipId", township_id.as_ref(), NodeKind::Township)?,
        )?;
        compliance::check_year(year)?;
        let service = service_ctx(ctx)?;
        let today = crate::domain::calendar::local_date(service.now());
        let through = compliance::months_so_far(year, today);
        let rollup = compliance::rollup(&service, scope, year, month, through).await?;
        Ok(ComplianceRollup {
            deputies: rollup.deputies,
            fully_compliant: rollup.fully_compliant,
            share: rollup.share,
        })
    }
}
