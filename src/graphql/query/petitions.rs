use async_graphql::{Context, InputObject, Object, ID};

use crate::domain::node_id::{NodeId, NodeKind};
use crate::error::{AppError, AppResult};
use crate::graphql::connection::{to_connection, Conn};
use crate::graphql::context::{actor, page_request, service_ctx, state};
use crate::graphql::types::enums::{PetitionState, Urgency};
use crate::graphql::types::petitions::{PetitionStatus, TrackedPetition};
use crate::graphql::types::scalars::Date;
use crate::graphql::types::{Category, Petition};
use crate::service::org;
use crate::service::petitions::queries::{self, ItemFilter, Tracked};
use crate::service::petitions::relation;

#[derive(Default)]
pub struct PetitionQuery;

/// Filters for lists of opinion items.
#[derive(InputObject, Default)]
pub struct PetitionFilterInput {
    pub states: Option<Vec<PetitionState>>,
    pub category_id: Option<ID>,
    pub urgency: Option<Urgency>,
    pub overdue: Option<bool>,
    /// Collected on or after this date.
    pub from: Option<Date>,
    /// Collected on or before this date.
    pub to: Option<Date>,
}

impl PetitionFilterInput {
    fn into_filter(self) -> AppResult<ItemFilter> {
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if to < from {
                return Err(AppError::bad_input(
                    "filter.to",
                    "结束日期早于开始日期 (to is before from)",
                ));
            }
        }
        Ok(ItemFilter {
            states: self
                .states
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            category_id: self
                .category_id
                .map(|c| NodeId::decode_as("filter.categoryId", &c, NodeKind::Category))
                .transpose()?,
            urgency: self.urgency.map(Into::into),
            overdue: self.overdue,
            from: self.from.map(|d| d.0),
            to: self.to.map(|d| d.0),
        })
    }
}

/// Items of a list, each with the viewer's right to see personal data.
fn items(
    ctx: &Context<'_>,
    page: crate::domain::page::Page<entity::petition::Model>,
) -> Conn<Petition> {
    let viewer = actor(ctx);
    to_connection(page, |model| {
        // Lists never carry department rows; the lead handler's right comes from the
        // item's lead department.
        let personal = relation(viewer, &model, &[], false).may_see_personal
            || model
                .lead_department_id
                .is_some_and(|d| viewer.handles_department(d));
        Petition { model, personal }
    })
}

fn id(field: &str, raw: &ID, kind: NodeKind) -> AppResult<i64> {
    NodeId::decode_as(field, raw, kind)
}

#[Object]
impl PetitionQuery {
    /// 站点台账: a station's ledger (its staff, supervisors, admins).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn station_ledger(
        &self,
        ctx: &Context<'_>,
        station_id: ID,
        filter: Option<PetitionFilterInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Petition>> {
        let request = page_request(ctx, first, after, last, before)?;
        let filter = filter.unwrap_or_default().into_filter()?;
        let station = id("stationId", &station_id, NodeKind::Station)?;
        Ok(items(
            ctx,
            queries::ledger(&service_ctx(ctx)?, station, &filter, &request).await?,
        ))
    }

    /// A department's inbox: items forwarded to it (its handlers, county supervisors).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn department_inbox(
        &self,
        ctx: &Context<'_>,
        department_id: ID,
        filter: Option<PetitionFilterInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Petition>> {
        let request = page_request(ctx, first, after, last, before)?;
        let filter = filter.unwrap_or_default().into_filter()?;
        let department = id("departmentId", &department_id, NodeKind::Department)?;
        Ok(items(
            ctx,
            queries::inbox(&service_ctx(ctx)?, department, &filter, &request).await?,
        ))
    }

    /// Items addressed to or collected by the signed-in deputy.
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn my_deputy_petitions(
        &self,
        ctx: &Context<'_>,
        filter: Option<PetitionFilterInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Petition>> {
        let request = page_request(ctx, first, after, last, before)?;
        let filter = filter.unwrap_or_default().into_filter()?;
        Ok(items(
            ctx,
            queries::deputy_items(&service_ctx(ctx)?, &filter, &request).await?,
        ))
    }

    /// The signed-in citizen's own items.
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn my_petitions(
        &self,
        ctx: &Context<'_>,
        filter: Option<PetitionFilterInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Petition>> {
        let request = page_request(ctx, first, after, last, before)?;
        let filter = filter.unwrap_or_default().into_filter()?;
        Ok(items(
            ctx,
            queries::my_items(&service_ctx(ctx)?, &filter, &request).await?,
        ))
    }

    /// Supervisors: every item in their townships (county-wide ones: all).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn petitions(
        &self,
        ctx: &Context<'_>,
        township_id: Option<ID>,
        filter: Option<PetitionFilterInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Petition>> {
        let request = page_request(ctx, first, after, last, before)?;
        let filter = filter.unwrap_or_default().into_filter()?;
        let township = township_id
            .map(|t| id("townshipId", &t, NodeKind::Township))
            .transpose()?;
        Ok(items(
            ctx,
            queries::supervised(&service_ctx(ctx)?, township, &filter, &request).await?,
        ))
    }

    /// Follow an item by its tracking code: its status for anyone with the code; the
    /// whole item for its submitter (signed in, or with the follow secret).
    async fn track_petition(
        &self,
        ctx: &Context<'_>,
        tracking_code: String,
        follow_secret: Option<String>,
    ) -> async_graphql::Result<TrackedPetition> {
        let tracked =
            queries::track(&service_ctx(ctx)?, &tracking_code, follow_secret.as_deref()).await?;
        Ok(match tracked {
            Tracked::Full(model, rel) => TrackedPetition {
                status: PetitionStatus::from(&model),
                petition: Some(Petition {
                    model,
                    personal: rel.may_see_personal,
                }),
            },
            Tracked::Status(model) => TrackedPetition {
                status: PetitionStatus::from(&model),
                petition: None,
            },
        })
    }

    /// The category taxonomy.
    async fn categories(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Category>> {
        Ok(org::categories(&state(ctx)?.db)
            .await?
            .into_iter()
            .map(Category)
            .collect())
    }
}
