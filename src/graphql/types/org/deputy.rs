use async_graphql::{Context, Object, ID};

use crate::domain::mask;
use crate::domain::node_id::{NodeId, NodeKind};
use crate::graphql::connection::Conn;
use crate::graphql::context::{actor, page_request};
use crate::graphql::loaders::{DeputyStationsLoader, TownshipLoader};
use crate::graphql::types::duty::deputy_duty::{self, DeputyArchive};
use crate::graphql::types::duty::{Activity, MonthCompliance, Pairing, YearCompliance};
use crate::graphql::types::enums::{CongressLevel, Gender, TermStatus};
use crate::graphql::types::related_page;
use crate::graphql::types::{load_many, load_opt, Station, Story, Township};
use crate::service::org;

/// 人大代表: a deputy to a people's congress.
pub struct Deputy(pub entity::deputy::Model);

#[Object]
impl Deputy {
    pub async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Deputy, self.0.id).encode())
    }
    /// The deputy's stable public code, carried by their personal QR code (专属二维码).
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn gender(&self) -> Gender {
        self.0.gender.into()
    }
    async fn level(&self) -> CongressLevel {
        self.0.level.into()
    }
    /// 领导干部代表 (true) or 基层代表 (false).
    async fn is_leading_cadre(&self) -> bool {
        self.0.is_leading_cadre
    }
    async fn term_status(&self) -> TermStatus {
        self.0.term_status.into()
    }
    /// 常委会组成人员
    async fn is_standing_committee_member(&self) -> bool {
        self.0.is_sc_member
    }
    /// 常委会领导
    async fn is_standing_committee_leader(&self) -> bool {
        self.0.is_sc_leader
    }
    async fn professional_field(&self) -> Option<&str> {
        self.0.professional_field.as_deref()
    }
    async fn occupation(&self) -> Option<&str> {
        self.0.occupation.as_deref()
    }
    /// Full number for admins, supervisors of the deputy's township, the deputy and
    /// the staff of the deputy's stations; masked (138****5678) for everyone else.
    async fn phone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(phone) = self.0.phone.as_deref() else {
            return Ok(None);
        };
        let stations: Vec<i64> = load_many::<DeputyStationsLoader, _>(ctx, self.0.id)
            .await?
            .iter()
            .map(|s| s.id)
            .collect();
        let entitled = org::may_see_deputy_contact(actor(ctx), &self.0, &stations);
        Ok(Some(if entitled {
            phone.to_owned()
        } else {
            mask::phone(phone)
        }))
    }
    async fn bio(&self) -> Option<&str> {
        self.0.bio.as_deref()
    }
    /// The township of the deputy's electoral unit.
    async fn township(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Township>> {
        Ok(load_opt::<TownshipLoader>(ctx, self.0.township_id)
            .await?
            .map(Township))
    }
    /// Stations the deputy is currently assigned to as a resident deputy.
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
        related_page::<DeputyStationsLoader, _, _>(ctx, self.0.id, &request, |m| m.id, Station)
            .await
    }
    /// 三联结对: pairings on either side (active ones unless `activeOnly: false`).
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn pairings(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = true)] active_only: bool,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Pairing>> {
        let request = page_request(ctx, first, after, last, before)?;
        self.pairings_page(ctx, active_only, &request).await
    }
    /// Duty activities the deputy took part in, oldest first (optionally one year).
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn activities(
        &self,
        ctx: &Context<'_>,
        year: Option<i32>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Activity>> {
        let request = page_request(ctx, first, after, last, before)?;
        deputy_duty::activities_page(ctx, self.0.id, year, &request).await
    }
    /// "Eight ones" compliance in a month (the deputy, their stations' staff,
    /// supervisors and admins).
    #[graphql(complexity = 50)]
    async fn compliance(
        &self,
        ctx: &Context<'_>,
        year: i32,
        month: u32,
    ) -> async_graphql::Result<MonthCompliance> {
        deputy_duty::month_compliance(ctx, &self.0, year, month).await
    }
    /// "Eight ones" compliance in a year, January through `throughMonth` (default: the
    /// months so far).
    #[graphql(complexity = 100)]
    async fn year_compliance(
        &self,
        ctx: &Context<'_>,
        year: i32,
        through_month: Option<u32>,
    ) -> async_graphql::Result<YearCompliance> {
        deputy_duty::year_compliance(ctx, &self.0, year, through_month).await
    }
    /// 电子履职档案: the year's activities, items, suggestions, stories and compliance.
    #[graphql(complexity = 200)]
    async fn archive(&self, ctx: &Context<'_>, year: i32) -> async_graphql::Result<DeputyArchive> {
        deputy_duty::archive(ctx, &self.0, year).await
    }
    /// Published showcase stories about this deputy, newest first.
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn stories(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Story>> {
        let request = page_request(ctx, first, after, last, before)?;
        deputy_duty::published_stories(ctx, self.0.id, &request).await
    }
    /// The deputy's personal QR code (专属二维码) as a PNG; `qr.svg` and a printable
    /// `card.svg` sit beside it. It encodes `messagePageUrl`.
    async fn qr_code_url(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let base = &crate::graphql::context::state(ctx)?
            .settings
            .public_base_url;
        Ok(crate::links::qr_code_url(base, &self.0.code))
    }
    /// The mobile page where citizens leave the deputy a message (what the QR code opens).
    async fn message_page_url(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let base = &crate::graphql::context::state(ctx)?
            .settings
            .public_base_url;
        Ok(crate::links::message_page_url(base, &self.0.code))
    }
}
