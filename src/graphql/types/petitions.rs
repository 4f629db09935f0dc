use async_graphql::{ComplexObject, Context, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::enums::{
    Adoption, Channel, DepartmentRole, ForwardStatus, HandlingLevel, PetitionState, Satisfaction,
    SuggestionStatus, Urgency,
};
use super::{load_many, load_one, load_opt, Attachment, Department, Deputy, Station, Township};
use crate::domain::mask;
use crate::domain::node_id::{NodeId, NodeKind};
use crate::error::AppResult;
use crate::graphql::loaders::{
    CategoryLoader, DepartmentLoader, DeputyLoader, PetitionAttachmentsLoader,
    PetitionDepartmentsLoader, PetitionEventAttachmentsLoader, PetitionEventsLoader, StationLoader,
    TownshipLoader,
};
use crate::service::statistics;

/// 社情民意: an opinion item in the closed loop. Personal data (the submitter's name
/// and phone) is shown to the submitter, the addressed deputy, the station's staff and
/// the lead department's handlers; masked for everyone else.
pub struct Petition {
    pub model: entity::petition::Model,
    pub personal: bool,
}

impl From<crate::service::petitions::workflow::Acted> for Petition {
    fn from(acted: crate::service::petitions::workflow::Acted) -> Self {
        Petition {
            model: acted.item,
            personal: acted.may_see_personal,
        }
    }
}

#[Object]
impl Petition {
    pub async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Petition, self.model.id).encode())
    }
    /// 查询码: the code a citizen follows the item with.
    async fn tracking_code(&self) -> &str {
        &self.model.tracking_code
    }
    async fn title(&self) -> &str {
        &self.model.title
    }
    async fn content(&self) -> &str {
        &self.model.content
    }
    async fn channel(&self) -> Channel {
        self.model.channel.into()
    }
    async fn state(&self) -> PetitionState {
        self.model.state.into()
    }
    /// Pass it back with a step to detect concurrent changes (CONFLICT).
    async fn version(&self) -> i32 {
        self.model.version
    }
    async fn submitter_name(&self) -> Option<String> {
        self.model.submitter_name.as_deref().map(|n| {
            if self.personal {
                n.to_owned()
            } else {
                mask::name(n)
            }
        })
    }
    async fn submitter_phone(&self) -> Option<String> {
        self.model.submitter_phone.as_deref().map(|p| {
            if self.personal {
                p.to_owned()
            } else {
                mask::phone(p)
            }
        })
    }
    async fn deputy(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Deputy>> {
        Ok(load_opt::<DeputyLoader>(ctx, self.model.deputy_id)
            .await?
            .map(Deputy))
    }
    async fn station(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Station>> {
        Ok(load_opt::<StationLoader>(ctx, self.model.station_id)
            .await?
            .map(Station))
    }
    async fn township(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Township>> {
        Ok(load_opt::<TownshipLoader>(ctx, self.model.township_id)
            .await?
            .map(Township))
    }
    async fn category(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Category>> {
        Ok(load_opt::<CategoryLoader>(ctx, self.model.category_id)
            .await?
            .map(Category))
    }
    async fn urgency(&self) -> Option<Urgency> {
        self.model.urgency.map(Into::into)
    }
    async fn handling_level(&self) -> Option<HandlingLevel> {
        self.model.handling_level.map(Into::into)
    }
    /// 主办部门
    async fn lead_department(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Department>> {
        Ok(
            load_opt::<DepartmentLoader>(ctx, self.model.lead_department_id)
                .await?
                .map(Department),
        )
    }
    /// Every department involved (主办/协办), with its part.
    async fn departments(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<PetitionDepartment>> {
        Ok(
            load_many::<PetitionDepartmentsLoader, _>(ctx, self.model.id)
                .await?
                .into_iter()
                .map(PetitionDepartment)
                .collect(),
        )
    }
    /// The item this one was merged into.
    async fn merged_into_id(&self) -> Option<ID> {
        self.model
            .merged_into_id
            .map(|id| ID(NodeId::new(NodeKind::Petition, id).encode()))
    }
    /// Where the item is about (WGS-84): exact, with the address, for those who may
    /// see the submitter's details (like the name and phone); rounded to 0.01° without
    /// the address for the item's other viewers.
    async fn location(&self) -> Option<super::places::Location> {
        let exact = crate::domain::place::Location::from_stored(
            self.model.latitude_e7,
            self.model.longitude_e7,
            self.model.location_accuracy_m,
            self.model.location_address.clone(),
        )?;
        Some(if self.personal { exact } else { exact.coarse() }.into())
    }
    /// Photos and documents the submitter attached (随手拍).
    async fn attachments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Attachment>> {
        Ok(
            load_many::<PetitionAttachmentsLoader, _>(ctx, self.model.id)
                .await?
                .into_iter()
                .map(Attachment)
                .collect(),
        )
    }
    async fn deadline(&self) -> Option<DateTime<Utc>> {
        self.model.deadline
    }
    async fn is_overdue(&self) -> bool {
        self.model.is_overdue
    }
    /// Supervision escalations so far.
    async fn escalation_level(&self) -> i32 {
        self.model.escalation_level
    }
    /// 督办 count.
    async fn urge_count(&self) -> i32 {
        self.model.urge_count
    }
    /// Handling round: 1, then +1 after each unsatisfied rating (重办).
    async fn round(&self) -> i32 {
        self.model.round
    }
    async fn result(&self) -> Option<&str> {
        self.model.result.as_deref()
    }
    async fn decline_reason(&self) -> Option<&str> {
        self.model.decline_reason.as_deref()
    }
    async fn satisfaction(&self) -> Option<Satisfaction> {
        self.model.satisfaction.map(Into::into)
    }
    async fn collected_at(&self) -> DateTime<Utc> {
        self.model.collected_at
    }
    async fn registered_at(&self) -> Option<DateTime<Utc>> {
        self.model.registered_at
    }
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.model.accepted_at
    }
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.model.resolved_at
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.model.closed_at
    }
    /// The immutable history, oldest first (a short list per item).
    async fn timeline(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PetitionEvent>> {
        Ok(load_many::<PetitionEventsLoader, _>(ctx, self.model.id)
            .await?
            .into_iter()
            .map(PetitionEvent)
            .collect())
    }
}

/// One entry of an item's history: who, when, from, to, note.
pub struct PetitionEvent(pub entity::petition_event::Model);

#[Object]
impl PetitionEvent {
    /// e.g. submit, register, forward, accept, complete, rate_satisfied, urge, mark_overdue.
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn from_state(&self) -> Option<&str> {
        self.0.from_state.as_deref()
    }
    async fn to_state(&self) -> &str {
        &self.0.to_state
    }
    /// In what capacity the actor acted (station_staff, lead_handler, system, ...).
    async fn actor_role(&self) -> Option<&str> {
        self.0.actor_role.as_deref()
    }
    async fn department(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Department>> {
        Ok(load_opt::<DepartmentLoader>(ctx, self.0.department_id)
            .await?
            .map(Department))
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The files attached to this step (a department's result documents, with
    /// `completePetition`, `addPetitionProgress` or `reportAssistPart`): for
    /// everyone who may see the item, its signed-in submitter included.
    async fn attachments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Attachment>> {
        Ok(
            load_many::<PetitionEventAttachmentsLoader, _>(ctx, self.0.id)
                .await?
                .into_iter()
                .map(Attachment)
                .collect(),
        )
    }
}

/// A department's part in an item (部门协同).
pub struct PetitionDepartment(pub entity::petition_department::Model);

#[Object]
impl PetitionDepartment {
    async fn department(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Department>> {
        Ok(load_one::<DepartmentLoader>(ctx, self.0.department_id)
            .await?
            .map(Department))
    }
    async fn role(&self) -> DepartmentRole {
        self.0.role.into()
    }
    async fn status(&self) -> ForwardStatus {
        self.0.status.into()
    }
    /// What this department reported (assisting departments report their part).
    async fn report(&self) -> Option<&str> {
        self.0.report.as_deref()
    }
    async fn return_reason(&self) -> Option<&str> {
        self.0.return_reason.as_deref()
    }
    async fn forwarded_at(&self) -> DateTime<Utc> {
        self.0.forwarded_at
    }
}

/// A category of the managed taxonomy (道路交通, 就业创业, ...).
pub struct Category(pub entity::category::Model);

#[Object]
impl Category {
    pub async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Category, self.0.id).encode())
    }
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
}

/// 意见建议: a deputy's suggestion and the department's answer.
pub struct Suggestion(pub entity::suggestion::Model);

#[Object]
impl Suggestion {
    pub async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Suggestion, self.0.id).encode())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn content(&self) -> &str {
        &self.0.content
    }
    async fn status(&self) -> SuggestionStatus {
        self.0.status.into()
    }
    async fn adoption(&self) -> Option<Adoption> {
        self.0.adoption.map(Into::into)
    }
    async fn answer(&self) -> Option<&str> {
        self.0.answer.as_deref()
    }
    async fn deputy(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Deputy>> {
        Ok(load_one::<DeputyLoader>(ctx, self.0.deputy_id)
            .await?
            .map(Deputy))
    }
    async fn department(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Department>> {
        Ok(load_opt::<DepartmentLoader>(ctx, self.0.department_id)
            .await?
            .map(Department))
    }
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.submitted_at
    }
    async fn answered_at(&self) -> Option<DateTime<Utc>> {
        self.0.answered_at
    }
}

/// What a submission returns.
#[derive(SimpleObject)]
pub struct SubmitPetitionPayload {
    pub petition: Petition,
    pub tracking_code: String,
    /// Anonymous submitters only, shown once: with the tracking code it lets them
    /// follow and rate the item without an account.
    pub follow_secret: Option<String>,
}

/// Where an item stands, without anything personal (for anyone with its code).
#[derive(SimpleObject)]
pub struct PetitionStatus {
    pub tracking_code: String,
    pub state: PetitionState,
    pub channel: Channel,
    pub collected_at: DateTime<Utc>,
    pub registered_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub is_overdue: bool,
    pub satisfaction: Option<Satisfaction>,
}

impl From<&entity::petition::Model> for PetitionStatus {
    fn from(m: &entity::petition::Model) -> Self {
        PetitionStatus {
            tracking_code: m.tracking_code.clone(),
            state: m.state.into(),
            channel: m.channel.into(),
            collected_at: m.collected_at,
            registered_at: m.registered_at,
            accepted_at: m.accepted_at,
            resolved_at: m.resolved_at,
            closed_at: m.closed_at,
            is_overdue: m.is_overdue,
            satisfaction: m.satisfaction.map(Into::into),
        }
    }
}

/// `trackPetition`: always the status; the whole item for the submitter (signed in,
/// or with the follow secret) and others entitled to it.
#[derive(SimpleObject)]
pub struct TrackedPetition {
    pub status: PetitionStatus,
    pub petition: Option<Petition>,
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CategoryStatistics {
    #[graphql(skip)]
    pub category_id: Option<i64>,
    pub items_collected: i64,
    pub items_completed: i64,
}

#[ComplexObject]
impl CategoryStatistics {
    /// None for items not yet categorised.
    async fn category(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Category>> {
        Ok(match self.category_id {
            Some(id) => load_one::<CategoryLoader>(ctx, id).await?.map(Category),
            None => None,
        })
    }
}

/// The loop's figures for a period and scope (read from counters every change keeps
/// up to date: a few rows per month of the period, whatever the history).
#[derive(SimpleObject)]
pub struct Statistics {
    pub items_collected: i64,
    /// 办结 (resolved or closed).
    pub items_completed: i64,
    /// 办结率
    pub completion_rate: f64,
    pub completed_on_time: i64,
    /// Of completed items with a deadline, the share done in time.
    pub on_time_rate: f64,
    pub rated: i64,
    /// (Basically) satisfied / rated.
    pub satisfaction_rate: f64,
    pub average_handling_hours: f64,
    pub overdue_count: i64,
    /// Urgent or critical items completed (急难愁盼).
    pub urgent_completed: i64,
    pub suggestions_made: i64,
    pub suggestions_adopted: i64,
    /// The categories with items in the period, by category id, then the items not yet
    /// categorised (if any), on every database.
    pub by_category: Vec<CategoryStatistics>,
}

impl From<&statistics::Statistics> for Statistics {
    fn from(s: &statistics::Statistics) -> Self {
        Statistics {
            items_collected: s.items_collected,
            items_completed: s.items_completed,
            completion_rate: s.completion_rate,
            completed_on_time: s.completed_on_time,
            on_time_rate: s.on_time_rate,
            rated: s.rated,
            satisfaction_rate: s.satisfaction_rate,
            average_handling_hours: s.average_handling_hours,
            overdue_count: s.overdue_count,
            urgent_completed: s.urgent_completed,
            suggestions_made: s.suggestions_made,
            suggestions_adopted: s.suggestions_adopted,
            by_category: s
                .by_category
                .iter()
                .map(|c| CategoryStatistics {
                    category_id: c.category_id,
                    items_collected: c.collected,
                    items_completed: c.completed,
                })
                .collect(),
        }
    }
}

/// The scope arguments of `statistics` and `liveStatistics`.
pub fn statistics_scope(
    township_id: Option<&ID>,
    station_id: Option<&ID>,
    department_id: Option<&ID>,
    category_id: Option<&ID>,
) -> AppResult<statistics::Scope> {
    let decode = |field: &str, id: Option<&ID>, kind: NodeKind| {
        NodeId::decode_optional(field, id.map(|id| id.as_str()), kind)
    };
    Ok(statistics::Scope {
        township_id: decode("townshipId", township_id, NodeKind::Township)?,
        station_id: decode("stationId", station_id, NodeKind::Station)?,
        department_id: decode("departmentId", department_id, NodeKind::Department)?,
        category_id: decode("categoryId", category_id, NodeKind::Category)?,
    })
}

/// Result of a supervision run.
#[derive(SimpleObject)]
pub struct SupervisionCycle {
    pub marked_overdue: u32,
    pub escalated: u32,
    pub auto_closed: u32,
    /// Uploads left unattached for a day, removed.
    pub expired_uploads: u32,
    /// Reminders given (a deputy's month, a deadline within 24 hours).
    pub reminders: u32,
}
