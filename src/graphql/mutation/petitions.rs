use async_graphql::{Context, InputObject, Object, ID};
use chrono::{DateTime, Utc};

use crate::domain::calendar;
use crate::domain::node_id::{NodeId, NodeKind};
use crate::domain::petition_flow::Step;
use crate::error::{AppError, AppResult};
use crate::graphql::context::{idempotency_key, service_ctx, state};
use crate::graphql::types::enums::{Channel, HandlingLevel, Satisfaction, Urgency};
use crate::graphql::types::petitions::{SubmitPetitionPayload, SupervisionCycle};
use crate::graphql::types::places::LocationInput;
use crate::graphql::types::Petition;
use crate::service::petitions::intake::{self, Submission};
use crate::service::petitions::workflow::{act, act_attaching, Acting, Files};
use crate::service::petitions::{progress, queries, supervision};

#[derive(Default)]
pub struct PetitionMutation;

#[derive(InputObject)]
pub struct SubmitPetitionInput {
    pub title: String,
    pub content: String,
    /// Citizens: APP (default) or QR_CODE; deputies and staff recording what they
    /// collected: DEPUTY_VISIT or STATION_RECEPTION.
    pub channel: Option<Channel>,
    /// Address a deputy by public code (what the QR code carries) ...
    pub deputy_code: Option<String>,
    /// ... or a station.
    pub station_id: Option<ID>,
    pub submitter_name: Option<String>,
    /// Required when not signed in.
    pub submitter_phone: Option<String>,
    /// The submitter agrees to be told of the item's progress by SMS at
    /// `submitterPhone` (required then). Off unless given.
    #[graphql(default)]
    pub sms_consent: bool,
    /// Your own uploads (`uploadAttachment` with purpose PETITION, unused, of the last
    /// day), at most 9.
    #[graphql(default)]
    pub attachment_ids: Vec<ID>,
    /// Where the item is about (optional): WGS-84, or GCJ-02 as WeChat and Chinese
    /// maps give it (converted to WGS-84).
    pub location: Option<LocationInput>,
    /// Makes a retry safe (for WebSocket clients; over HTTP the `Idempotency-Key`
    /// header does the same): 1 to 128 characters of `A-Z a-z 0-9 _ - : .`, one per
    /// submission. A repeat within 24 hours answers the first item and creates
    /// nothing; reused with other input it is CONFLICT.
    pub idempotency_key: Option<String>,
}

fn petition_id(raw: &ID) -> AppResult<i64> {
    NodeId::decode_as("id", raw, NodeKind::Petition)
}

/// A step without files: [`step_with_files`] with none.
async fn step(
    ctx: &Context<'_>,
    id: &ID,
    version: Option<i32>,
    step: Step,
) -> async_graphql::Result<Petition> {
    step_with_files(ctx, id, version, step, Vec::new()).await
}

fn upload_ids(ids: Vec<ID>) -> Vec<String> {
    ids.into_iter().map(|id| id.0).collect()
}

/// A step with the department's files (RESULT uploads) on its history entry.
async fn step_with_files(
    ctx: &Context<'_>,
    id: &ID,
    version: Option<i32>,
    step: Step,
    attachment_ids: Vec<ID>,
) -> async_graphql::Result<Petition> {
    let files = Files::new(&upload_ids(attachment_ids))?;
    let acted = act_attaching(
        &service_ctx(ctx)?,
        Acting::Person {
            follow_secret: None,
        },
        petition_id(id)?,
        version,
        step,
        None,
        files,
    )
    .await?;
    Ok(Petition::from(acted))
}

#[Object]
impl PetitionMutation {
    /// A citizen leaves a message (signed in, or anonymously with a phone number), or a
    /// deputy records what they collected. Returns the tracking code and, for anonymous
    /// submitters, the follow secret. Idempotent with a key (`Idempotency-Key` header
    /// or `input.idempotencyKey`): a retry within 24 hours answers the same item,
    /// tracking code and follow secret and creates nothing.
    async fn submit_petition(
        &self,
        ctx: &Context<'_>,
        input: SubmitPetitionInput,
    ) -> async_graphql::Result<SubmitPetitionPayload> {
        let key = idempotency_key(ctx, input.idempotency_key)?;
        let submission = Submission {
            title: input.title,
            content: input.content,
            channel: input.channel.map(Into::into),
            deputy_code: input.deputy_code,
            station_id: input
                .station_id
                .map(|s| NodeId::decode_as("stationId", &s, NodeKind::Station))
                .transpose()?,
            submitter_name: input.submitter_name,
            submitter_phone: input.submitter_phone,
            sms_consent: input.sms_consent,
            attachment_ids: input.attachment_ids.into_iter().map(|id| id.0).collect(),
            location: input.location.map(Into::into),
        };
        let done = intake::submit(&service_ctx(ctx)?, submission, key).await?;
        let tracking_code = done.item.tracking_code.clone();
        // The submitter sees their own data in full.
        Ok(SubmitPetitionPayload {
            petition: Petition {
                model: done.item,
                personal: true,
            },
            tracking_code,
            follow_secret: done.follow_secret,
        })
    }

    /// 建账: register in the station ledger with category, urgency and handling level.
    async fn register_petition(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
        category_id: ID,
        urgency: Urgency,
        handling_level: HandlingLevel,
    ) -> async_graphql::Result<Petition> {
        let category_id = NodeId::decode_as("categoryId", &category_id, NodeKind::Category)?;
        step(
            ctx,
            &id,
            version,
            Step::Register {
                category_id,
                urgency: urgency.into(),
                handling_level: handling_level.into(),
            },
        )
        .await
    }

    /// Declines an item with a reason.
    async fn decline_petition(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
        reason: String,
    ) -> async_graphql::Result<Petition> {
        step(ctx, &id, version, Step::Decline { reason }).await
    }

    /// Merges a duplicate into another item.
    async fn merge_petition(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
        into_id: ID,
        note: Option<String>,
    ) -> async_graphql::Result<Petition> {
        let into_id = NodeId::decode_as("intoId", &into_id, NodeKind::Petition)?;
        step(ctx, &id, version, Step::Merge { into_id, note }).await
    }

    /// Closes an item at station level with the result (resolved on the spot).
    async fn resolve_petition_on_spot(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
        result: String,
    ) -> async_graphql::Result<Petition> {
        step(ctx, &id, version, Step::ResolveOnSpot { result }).await
    }

    /// 转办: to a lead department (主办) and any assisting ones (协办).
    async fn forward_petition(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
        lead_department_id: ID,
        #[graphql(default)] assist_department_ids: Vec<ID>,
        note: Option<String>,
    ) -> async_graphql::Result<Petition> {
        let lead_department_id = NodeId::decode_as(
            "leadDepartmentId",
            &lead_department_id,
            NodeKind::Department,
        )?;
        let assist_department_ids = assist_department_ids
            .iter()
            .map(|d| NodeId::decode_as("assistDepartmentIds", d, NodeKind::Department))
            .collect::<AppResult<Vec<_>>>()?;
        step(
            ctx,
            &id,
            version,
            Step::Forward {
                lead_department_id,
                assist_department_ids,
                note,
            },
        )
        .await
    }

    /// 逐级转办: on to a county-level department.
    async fn escalate_petition(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
        department_id: ID,
        note: Option<String>,
    ) -> async_graphql::Result<Petition> {
        let department_id =
            NodeId::decode_as("departmentId", &department_id, NodeKind::Department)?;
        step(
            ctx,
            &id,
            version,
            Step::Escalate {
                department_id,
                note,
            },
        )
        .await
    }

    /// 部门承接: the lead department accepts; the deadline follows the urgency.
    async fn accept_petition(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
        note: Option<String>,
    ) -> async_graphql::Result<Petition> {
        step(ctx, &id, version, Step::Accept { note }).await
    }

    /// 退回: the lead department returns the item to the forwarder with a reason.
    async fn return_petition(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
        reason: String,
    ) -> async_graphql::Result<Petition> {
        step(ctx, &id, version, Step::Return { reason }).await
    }

    /// A progress note from a handling department. Idempotent with a key
    /// (`Idempotency-Key` header or `idempotencyKey`): a retry within 24 hours adds
    /// nothing and answers the item.
    async fn add_petition_progress(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
        note: String,
        #[graphql(
            default,
            desc = "Your own RESULT uploads of the last day, unused, at most 9: shown on this step of the timeline"
        )]
        attachment_ids: Vec<ID>,
        #[graphql(desc = "1 to 128 characters of A-Z a-z 0-9 _ - : . (one per note)")]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Petition> {
        let key = crate::graphql::context::idempotency_key(ctx, idempotency_key)?;
        let files = upload_ids(attachment_ids);
        let id = petition_id(&id)?;
        let acted = progress::add(&service_ctx(ctx)?, id, version, note, files, key).await?;
        Ok(Petition::from(acted))
    }

    /// An assisting department reports its part.
    async fn report_assist_part(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
        report: String,
        #[graphql(
            default,
            desc = "Your own RESULT uploads of the last day, unused, at most 9: shown on this step of the timeline"
        )]
        attachment_ids: Vec<ID>,
    ) -> async_graphql::Result<Petition> {
        let step = Step::ReportAssist { report };
        step_with_files(ctx, &id, version, step, attachment_ids).await
    }

    /// 结果反馈: the lead department gives the result.
    async fn complete_petition(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
        result: String,
        #[graphql(
            default,
            desc = "Your own RESULT uploads of the last day (the result documents), unused, at most 9: shown on this step of the timeline, to everyone who may see the item, the signed-in submitter included"
        )]
        attachment_ids: Vec<ID>,
    ) -> async_graphql::Result<Petition> {
        let step = Step::Complete { result };
        step_with_files(ctx, &id, version, step, attachment_ids).await
    }

    /// 满意度评价, once per round: by id (signed-in submitter) or by tracking code and
    /// follow secret (anonymous). UNSATISFIED reopens the item for re-handling.
    async fn rate_petition(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        tracking_code: Option<String>,
        follow_secret: Option<String>,
        satisfaction: Satisfaction,
        comment: Option<String>,
    ) -> async_graphql::Result<Petition> {
        let app = state(ctx)?;
        let petition = match (&id, &tracking_code) {
            (Some(id), None) => petition_id(id)?,
            (None, Some(code)) => {
                let code = crate::domain::tracking::parse_tracking_code(code)?;
                queries::by_tracking_code(&app.db, &code)
                    .await?
                    .ok_or_else(|| AppError::not_found("社情民意 (opinion item)"))?
                    .id
            }
            _ => {
                return Err(AppError::bad_input(
                    "id",
                    "须提供 id 或查询码之一 (give id or trackingCode)",
                )
                .into())
            }
        };
        let acting = Acting::Person {
            follow_secret: follow_secret.as_deref(),
        };
        let comment = comment.filter(|c| !c.trim().is_empty());
        let acted = act(
            &service_ctx(ctx)?,
            acting,
            petition,
            None,
            Step::Rate {
                satisfaction: satisfaction.into(),
                comment,
            },
        )
        .await?;
        // The rater is the submitter (signed in, or proven by the follow secret).
        Ok(Petition {
            model: acted.item,
            personal: true,
        })
    }

    /// 督办: a supervisor urges an item with a note and a new deadline.
    async fn urge_petition(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
        note: String,
        deadline: DateTime<Utc>,
    ) -> async_graphql::Result<Petition> {
        if !calendar::is_supported_instant(deadline) {
            return Err(AppError::bad_input(
                "deadline",
                format!(
                    "deadline 须在 {}–{} 年之间 (deadline must fall in the years {} to {})",
                    calendar::FIRST_YEAR,
                    calendar::LAST_YEAR,
                    calendar::FIRST_YEAR,
                    calendar::LAST_YEAR
                ),
            )
            .into_graphql());
        }
        step(ctx, &id, version, Step::Urge { note, deadline }).await
    }

    /// A supervisor escalates an item's supervision.
    async fn escalate_supervision(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
        note: Option<String>,
    ) -> async_graphql::Result<Petition> {
        step(ctx, &id, version, Step::EscalateSupervision { note }).await
    }

    /// Runs the supervision job now (overdue marking, escalation, auto-close). Admins;
    /// it also runs on its own every SUPERVISION_INTERVAL_SECS.
    async fn run_supervision_cycle(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<SupervisionCycle> {
        let report = supervision::run_now(&service_ctx(ctx)?).await?;
        Ok(SupervisionCycle {
            marked_overdue: report.marked_overdue,
            escalated: report.escalated,
            auto_closed: report.auto_closed,
            expired_uploads: report.expired_uploads,
            reminders: report.reminders,
        })
    }
}
