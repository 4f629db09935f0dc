//! Pairings, activities, campaigns, compliance and the performance archive.

pub mod deputy_duty;
pub mod story;

use async_graphql::{Context, Enum, Object, SimpleObject, ID};

use super::enums::PairingKind;
use super::paged_relation;
use super::scalars::Date;
use super::{load_one, load_opt, Attachment, Deputy, Station, Township};
use crate::domain::compliance::{self as rules, DutyItem as DomainDutyItem};
use crate::domain::node_id::{NodeId, NodeKind};
use crate::graphql::connection::Conn;
use crate::graphql::context::page_request;
use crate::graphql::loaders::{
    ActivityParticipantsLoader, ActivityPhotosLoader, ActivityStationsLoader, CampaignLoader,
    DeputyLoader, TownshipLoader,
};

/// 三联结对 / 包联: a pairing between deputies, or a leader's township coverage.
pub struct Pairing(pub entity::pairing::Model);

#[Object]
impl Pairing {
    pub async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Pairing, self.0.id).encode())
    }
    async fn kind(&self) -> PairingKind {
        self.0.kind.into()
    }
    /// The leading cadre / re-elected / upper-level deputy, standing-committee member or leader.
    async fn senior(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Deputy>> {
        Ok(load_one::<DeputyLoader>(ctx, self.0.senior_deputy_id)
            .await?
            .map(Deputy))
    }
    /// The paired deputy (null for a township coverage).
    async fn junior(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Deputy>> {
        Ok(load_opt::<DeputyLoader>(ctx, self.0.junior_deputy_id)
            .await?
            .map(Deputy))
    }
    /// The township a standing-committee leader covers (包联).
    async fn township(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Township>> {
        Ok(load_opt::<TownshipLoader>(ctx, self.0.township_id)
            .await?
            .map(Township))
    }
    async fn started_on(&self) -> Date {
        Date(self.0.started_on)
    }
    /// Set once the pairing ended; ended pairings stay as history.
    async fn ended_on(&self) -> Option<Date> {
        self.0.ended_on.map(Date)
    }
    async fn active(&self) -> bool {
        self.0.ended_on.is_none()
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

/// 履职活动: a duty activity with its date, stations and participants.
pub struct Activity(pub entity::activity::Model);

#[Object]
impl Activity {
    pub async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Activity, self.0.id).encode())
    }
    async fn kind(&self) -> super::enums::ActivityKind {
        self.0.kind.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn occurred_on(&self) -> Date {
        Date(self.0.occurred_on)
    }
    /// Joint activities (联合视察、联动调研) span several stations.
    async fn is_joint(&self) -> bool {
        self.0.is_joint
    }
    async fn citizens_heard(&self) -> i32 {
        self.0.citizens_heard
    }
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    async fn campaign(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Campaign>> {
        Ok(load_opt::<CampaignLoader>(ctx, self.0.campaign_id)
            .await?
            .map(Campaign))
    }
    #[graphql(complexity = "crate::graphql::page_complexity(first, last, child_complexity)")]
    async fn participants(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Deputy>> {
        let request = page_request(ctx, first, after, last, before)?;
        paged_relation::<ActivityParticipantsLoader, _, _, _>(ctx, self.0.id, (), &request, Deputy)
            .await
    }
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
        paged_relation::<ActivityStationsLoader, _, _, _>(ctx, self.0.id, (), &request, Station)
            .await
    }
    /// Photos of the activity (`logActivity`'s `attachmentIds`), evidence for the duty
    /// archive: for the one who logged it, its deputies, the staff and supervisors of
    /// its and its deputies' stations (empty for anyone else).
    async fn photos(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Attachment>> {
        let loaded = load_one::<ActivityPhotosLoader>(ctx, self.0.id).await?;
        let actor = crate::graphql::context::actor(ctx);
        Ok(match loaded {
            Some((readers, photos)) if readers.allows(actor) => {
                photos.into_iter().map(Attachment).collect()
            }
            _ => Vec::new(),
        })
    }
}

/// A themed campaign such as "百名代表入千户".
pub struct Campaign(pub entity::campaign::Model);

#[Object]
impl Campaign {
    pub async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Campaign, self.0.id).encode())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn starts_on(&self) -> Date {
        Date(self.0.starts_on)
    }
    async fn ends_on(&self) -> Option<Date> {
        self.0.ends_on.map(Date)
    }
}

/// The "eight ones" (八个一).
// `remote` derives the conversions both ways, so a drift from the domain's list
// fails to compile.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "DomainDutyItem")]
pub enum DutyItem {
    /// 每月接待一次选民群众
    ReceiveCitizens,
    /// 每月反映一条社情民意
    ReportOpinion,
    /// 每月参加一次进站活动
    StationActivity,
    /// 每月参加一次学习培训
    StudyTraining,
    /// 每年记录一本民情日志
    SentimentDiary,
    /// 每年承办一件民生实事
    LivelihoodProject,
    /// 每年撰写一篇履职故事
    DutyStory,
    /// 每年进行一次述职交流
    DutyReport,
}

#[derive(SimpleObject)]
pub struct DutyItemStatus {
    pub item: DutyItem,
    /// The item in the standard's words (接待一次选民群众 ...).
    pub label: String,
    pub required: u32,
    pub count: u32,
    pub met: bool,
}

impl From<&rules::ItemStatus> for DutyItemStatus {
    fn from(s: &rules::ItemStatus) -> Self {
        DutyItemStatus {
            item: s.item.into(),
            label: s.item.label_zh().to_owned(),
            required: s.required,
            count: s.count,
            met: s.met,
        }
    }
}

/// A resident deputy's hearings of citizens (at least twice a month).
#[derive(SimpleObject)]
pub struct HearingStatus {
    pub required: u32,
    pub count: u32,
    pub met: bool,
}

#[derive(SimpleObject)]
pub struct MonthCompliance {
    pub year: i32,
    pub month: u32,
    pub items: Vec<DutyItemStatus>,
    /// The items not met.
    pub missing: Vec<DutyItem>,
    /// Only for resident deputies.
    pub resident_hearings: Option<HearingStatus>,
    pub fully_compliant: bool,
}

impl From<&rules::MonthCompliance> for MonthCompliance {
    fn from(m: &rules::MonthCompliance) -> Self {
        MonthCompliance {
            year: m.year,
            month: m.month,
            items: m.items.iter().map(Into::into).collect(),
            missing: m
                .items
                .iter()
                .filter(|i| !i.met)
                .map(|i| i.item.into())
                .collect(),
            resident_hearings: m.resident_hearings.map(|h| HearingStatus {
                required: h.required,
                count: h.count,
                met: h.met,
            }),
            fully_compliant: m.fully_compliant,
        }
    }
}

#[derive(SimpleObject)]
pub struct YearCompliance {
    pub year: i32,
    pub through_month: u32,
    pub months: Vec<MonthCompliance>,
    pub yearly_items: Vec<DutyItemStatus>,
    pub missing_yearly: Vec<DutyItem>,
    pub compliant_months: u32,
    pub fully_compliant: bool,
}

impl From<&rules::YearCompliance> for YearCompliance {
    fn from(y: &rules::YearCompliance) -> Self {
        YearCompliance {
            year: y.year,
            through_month: y.through_month,
            months: y.months.iter().map(Into::into).collect(),
            yearly_items: y.yearly_items.iter().map(Into::into).collect(),
            missing_yearly: y
                .yearly_items
                .iter()
                .filter(|i| !i.met)
                .map(|i| i.item.into())
                .collect(),
            compliant_months: y.compliant_months,
            fully_compliant: y.fully_compliant,
        }
    }
}

/// Share of a station's or township's deputies fully compliant.
#[derive(SimpleObject)]
pub struct ComplianceRollup {
    pub deputies: u32,
    pub fully_compliant: u32,
    pub share: f64,
}

/// One gap in pairing coverage against the report's rules.
#[derive(SimpleObject)]
pub struct CoverageGap {
    pub kind: CoverageGapKind,
    pub deputy: Deputy,
    /// Grassroots deputies paired, townships covered or station visits, as the kind says.
    pub actual: u32,
    /// The rule, e.g. "5-8", "2", ">= 2".
    pub expected: String,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum CoverageGapKind {
    /// A standing-committee member paired with fewer than 5 grassroots deputies.
    MemberTooFew,
    /// ... with more than 8.
    MemberTooMany,
    /// A standing-committee leader not covering 2 townships.
    LeaderTownships,
    /// A leader with fewer than 2 station visits in the month.
    LeaderVisits,
}
