use async_graphql::{Context, InputObject, MaybeUndefined, Object, ID};

use crate::domain::node_id::{NodeId, NodeKind};
use crate::error::AppResult;
use crate::graphql::context::service_ctx;
use crate::graphql::types::duty::{Activity, Campaign, Pairing};
use crate::graphql::types::enums::{ActivityKind, PairingKind};
use crate::graphql::types::scalars::Date;
use crate::graphql::types::Story;
use crate::service::duty::activities::{self, NewActivity, NewCampaign};
use crate::service::duty::pairings::{self, NewPairing};
use crate::service::duty::stories::{self, StoryInput};

#[derive(Default)]
pub struct DutyMutation;

#[derive(InputObject)]
pub struct CreatePairingInput {
    pub kind: PairingKind,
    pub senior_deputy_id: ID,
    /// Every kind but SC_LEADER_TOWNSHIP.
    pub junior_deputy_id: Option<ID>,
    /// SC_LEADER_TOWNSHIP only.
    pub township_id: Option<ID>,
    pub started_on: Option<Date>,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct LogActivityInput {
    pub kind: ActivityKind,
    pub title: String,
    pub occurred_on: Date,
    /// Several stations make a joint activity (联合视察、联动调研).
    #[graphql(default)]
    pub station_ids: Vec<ID>,
    pub participant_ids: Vec<ID>,
    pub campaign_id: Option<ID>,
    #[graphql(default)]
    pub citizens_heard: i32,
    pub notes: Option<String>,
    /// Photos of the activity: your own uploads of purpose ACTIVITY, unused, of the
    /// last day, at most 9. They show in `Activity.photos` and the duty archive.
    #[graphql(default)]
    pub attachment_ids: Vec<ID>,
    /// Makes a retry safe (or the `Idempotency-Key` header): 1 to 128 characters of
    /// `A-Z a-z 0-9 _ - : .`; a repeat within 24 hours answers the first activity.
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct StoryFieldsInput {
    pub title: String,
    pub body: String,
    pub cover_url: Option<String>,
    /// The cover image: your own upload of purpose STORY (an image, not a PDF),
    /// unused, of the last day. Left out, the cover stays as it is; null takes it off.
    pub cover_id: MaybeUndefined<ID>,
    /// The gallery in full (at most 9 images, purpose STORY): images already in it
    /// stay, new ones are your own fresh uploads. Left out, it stays as it is.
    pub gallery_ids: Option<Vec<ID>>,
}

impl From<StoryFieldsInput> for StoryInput {
    fn from(input: StoryFieldsInput) -> Self {
        let cover_id = match input.cover_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(id) => Some(Some(id.0)),
        };
        StoryInput {
            title: input.title,
            body: input.body,
            cover_url: input.cover_url,
            cover_id,
            gallery_ids: input
                .gallery_ids
                .map(|ids| ids.into_iter().map(|id| id.0).collect()),
        }
    }
}

fn id(field: &str, id: &ID, kind: NodeKind) -> AppResult<i64> {
    NodeId::decode_as(field, id, kind)
}

fn ids(field: &str, ids: &[ID], kind: NodeKind) -> AppResult<Vec<i64>> {
    ids.iter().map(|i| id(field, i, kind)).collect()
}

#[Object]
impl DutyMutation {
    /// Pairs two deputies (or a leader with a township). The kind must fit both
    /// deputies' attributes (supervisors, admins).
    async fn create_pairing(
        &self,
        ctx: &Context<'_>,
        input: CreatePairingInput,
    ) -> async_graphql::Result<Pairing> {
        let input = NewPairing {
            kind: input.kind.into(),
            senior_deputy_id: id("seniorDeputyId", &input.senior_deputy_id, NodeKind::Deputy)?,
            junior_deputy_id: input
                .junior_deputy_id
                .map(|j| id("juniorDeputyId", &j, NodeKind::Deputy))
                .transpose()?,
            township_id: input
                .township_id
                .map(|t| id("townshipId", &t, NodeKind::Township))
                .transpose()?,
            started_on: input.started_on.map(|d| d.0),
            note: input.note,
        };
        Ok(Pairing(pairings::create(&service_ctx(ctx)?, input).await?))
    }

    /// Ends a pairing; it stays in the history.
    async fn end_pairing(
        &self,
        ctx: &Context<'_>,
        id: ID,
        ended_on: Option<Date>,
    ) -> async_graphql::Result<Pairing> {
        let pairing_id = self::id("id", &id, NodeKind::Pairing)?;
        Ok(Pairing(
            pairings::end(&service_ctx(ctx)?, pairing_id, ended_on.map(|d| d.0)).await?,
        ))
    }

    /// Logs a duty activity (deputies for themselves, staff for their station's deputies).
    /// Idempotent with a key (`Idempotency-Key` header or `input.idempotencyKey`).
    async fn log_activity(
        &self,
        ctx: &Context<'_>,
        input: LogActivityInput,
    ) -> async_graphql::Result<Activity> {
        let key = crate::graphql::context::idempotency_key(ctx, input.idempotency_key)?;
        let input = NewActivity {
            kind: input.kind.into(),
            title: input.title,
            occurred_on: input.occurred_on.0,
            station_ids: ids("stationIds", &input.station_ids, NodeKind::Station)?,
            participant_ids: ids("participantIds", &input.participant_ids, NodeKind::Deputy)?,
            campaign_id: input
                .campaign_id
                .map(|c| id("campaignId", &c, NodeKind::Campaign))
                .transpose()?,
            citizens_heard: input.citizens_heard,
            notes: input.notes,
            attachment_ids: input.attachment_ids.into_iter().map(|a| a.0).collect(),
        };
        Ok(Activity(
            activities::log(&service_ctx(ctx)?, input, key).await?,
        ))
    }

    /// Starts a themed campaign (supervisors, admins).
    async fn create_campaign(
        &self,
        ctx: &Context<'_>,
        name: String,
        description: Option<String>,
        starts_on: Date,
        ends_on: Option<Date>,
    ) -> async_graphql::Result<Campaign> {
        let input = NewCampaign {
            name,
            description,
            starts_on: starts_on.0,
            ends_on: ends_on.map(|d| d.0),
        };
        Ok(Campaign(
            activities::create_campaign(&service_ctx(ctx)?, input).await?,
        ))
    }

    /// Writes a draft story about a deputy (the deputy, or staff of their station).
    /// Idempotent with a key (`Idempotency-Key` header or `idempotencyKey`).
    async fn create_story(
        &self,
        ctx: &Context<'_>,
        deputy_id: ID,
        input: StoryFieldsInput,
        #[graphql(
            desc = "Makes a retry safe: 1 to 128 characters of A-Z a-z 0-9 _ - : . (or the Idempotency-Key header); a repeat within 24 hours answers the first draft"
        )]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Story> {
        let key = crate::graphql::context::idempotency_key(ctx, idempotency_key)?;
        let deputy_id = id("deputyId", &deputy_id, NodeKind::Deputy)?;
        Ok(Story(
            stories::create(&service_ctx(ctx)?, deputy_id, input.into(), key).await?,
        ))
    }

    /// Edits a draft or returned story.
    async fn update_story(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: StoryFieldsInput,
    ) -> async_graphql::Result<Story> {
        let story_id = self::id("id", &id, NodeKind::Story)?;
        Ok(Story(
            stories::update(&service_ctx(ctx)?, story_id, input.into()).await?,
        ))
    }

    /// Submits a story for review.
    async fn submit_story(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Story> {
        let story_id = self::id("id", &id, NodeKind::Story)?;
        Ok(Story(stories::submit(&service_ctx(ctx)?, story_id).await?))
    }

    /// Publishes a submitted story to the showcase (station staff, supervisors, admins).
    async fn publish_story(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Story> {
        let story_id = self::id("id", &id, NodeKind::Story)?;
        Ok(Story(stories::publish(&service_ctx(ctx)?, story_id).await?))
    }

    /// Returns a submitted story to its author with a reason.
    async fn return_story(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> async_graphql::Result<Story> {
        let story_id = self::id("id", &id, NodeKind::Story)?;
        Ok(Story(
            stories::return_to_author(&service_ctx(ctx)?, story_id, &reason).await?,
        ))
    }
}
