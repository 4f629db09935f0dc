use async_graphql::{Context, InputObject, Object, ID};

use crate::domain::node_id::{NodeId, NodeKind};
use crate::error::AppResult;
use crate::graphql::context::{optional_id, service_ctx, state};
use crate::graphql::types::enums::{
    CongressLevel, DepartmentLevel, Gender, LiaisonKind, StationKind, TermStatus,
};
use crate::graphql::types::scalars::Date;
use crate::graphql::types::{Department, Deputy, Grid, Liaison, Station};
use crate::service::org::management::{
    self, DeputyInput, LiaisonInput, StationInput, StationPatch,
};

#[derive(Default)]
pub struct OrgMutation;

#[derive(InputObject)]
pub struct CreateStationInput {
    /// A stable slug: 2-32 of a-z 0-9 _ -.
    pub code: String,
    pub name: String,
    pub kind: StationKind,
    pub township_id: ID,
    pub parent_id: Option<ID>,
    /// Sets the station as a brand station (一站一品牌).
    pub brand_name: Option<String>,
    pub feature: Option<String>,
    pub address: Option<String>,
    pub reception_hours: Option<String>,
}

/// Omitted fields stay as they are; an empty string clears an optional field.
#[derive(InputObject, Default)]
pub struct UpdateStationInput {
    pub name: Option<String>,
    pub brand_name: Option<String>,
    pub feature: Option<String>,
    pub address: Option<String>,
    pub reception_hours: Option<String>,
}

#[derive(InputObject)]
pub struct DeputyDetailsInput {
    pub name: String,
    pub gender: Gender,
    pub level: CongressLevel,
    pub township_id: Option<ID>,
    #[graphql(default)]
    pub is_leading_cadre: bool,
    pub term_status: TermStatus,
    #[graphql(default)]
    pub is_standing_committee_member: bool,
    #[graphql(default)]
    pub is_standing_committee_leader: bool,
    pub professional_field: Option<String>,
    pub occupation: Option<String>,
    pub phone: Option<String>,
    pub bio: Option<String>,
}

impl DeputyDetailsInput {
    fn into_input(self) -> AppResult<DeputyInput> {
        Ok(DeputyInput {
            name: self.name,
            gender: self.gender.into(),
            level: self.level.into(),
            township_id: optional_id("townshipId", self.township_id.as_ref(), NodeKind::Township)?,
            is_leading_cadre: self.is_leading_cadre,
            term_status: self.term_status.into(),
            is_sc_member: self.is_standing_committee_member,
            is_sc_leader: self.is_standing_committee_leader,
            professional_field: self.professional_field,
            occupation: self.occupation,
            phone: self.phone,
            bio: self.bio,
        })
    }
}

#[derive(InputObject)]
pub struct CreateLiaisonInput {
    pub station_id: ID,
    pub grid_id: Option<ID>,
    pub name: String,
    pub kind: LiaisonKind,
    pub phone: Option<String>,
}

fn id(field: &str, id: &ID, kind: NodeKind) -> AppResult<i64> {
    NodeId::decode_as(field, id, kind)
}

#[Object]
impl OrgMutation {
    /// Creates a station, service point, post or base (admins; supervisors in their townships).
    async fn create_station(
        &self,
        ctx: &Context<'_>,
        input: CreateStationInput,
    ) -> async_graphql::Result<Station> {
        let input = StationInput {
            code: input.code,
            name: input.name,
            kind: input.kind.into(),
            township_id: id("townshipId", &input.township_id, NodeKind::Township)?,
            parent_id: input
                .parent_id
                .map(|p| id("parentId", &p, NodeKind::Station))
                .transpose()?,
            brand_name: input.brand_name,
            feature: input.feature,
            address: input.address,
            reception_hours: input.reception_hours,
        };
        Ok(Station(
            management::create_station(&service_ctx(ctx)?, input).await?,
        ))
    }

    /// Edits a station's descriptive fields (also its own staff).
    async fn update_station(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateStationInput,
    ) -> async_graphql::Result<Station> {
        let station_id = self::id("id", &id, NodeKind::Station)?;
        let patch = StationPatch {
            name: input.name,
            brand_name: input.brand_name,
            feature: input.feature,
            address: input.address,
            reception_hours: input.reception_hours,
        };
        Ok(Station(
            management::update_station(&service_ctx(ctx)?, station_id, patch).await?,
        ))
    }

    /// Adds a grid (网格) to a station's community.
    async fn create_grid(
        &self,
        ctx: &Context<'_>,
        station_id: ID,
        name: String,
        description: Option<String>,
    ) -> async_graphql::Result<Grid> {
        let station_id = id("stationId", &station_id, NodeKind::Station)?;
        Ok(Grid(
            management::create_grid(&service_ctx(ctx)?, station_id, &name, description).await?,
        ))
    }

    /// Registers a deputy; a random public code is assigned (admins, county supervisors).
    async fn create_deputy(
        &self,
        ctx: &Context<'_>,
        input: DeputyDetailsInput,
    ) -> async_graphql::Result<Deputy> {
        Ok(Deputy(
            management::create_deputy(&service_ctx(ctx)?, input.into_input()?).await?,
        ))
    }

    /// Replaces a deputy's details; the public code never changes.
    async fn update_deputy(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: DeputyDetailsInput,
        #[graphql(desc = "Whether the deputy is in office; omitted keeps it as it is.")]
        active: Option<bool>,
    ) -> async_graphql::Result<Deputy> {
        let deputy_id = self::id("id", &id, NodeKind::Deputy)?;
        Ok(Deputy(
            management::update_deputy(&service_ctx(ctx)?, deputy_id, input.into_input()?, active)
                .await?,
        ))
    }

    /// Makes a deputy a resident deputy (驻站代表) of a station. The station's staff and
    /// the supervisors of its township assign deputies of the station's township (their
    /// electoral unit's); admins and county supervisors assign any deputy anywhere.
    async fn assign_resident_deputy(
        &self,
        ctx: &Context<'_>,
        deputy_id: ID,
        station_id: ID,
        since: Option<Date>,
    ) -> async_graphql::Result<Station> {
        let (d, s) = (
            id("deputyId", &deputy_id, NodeKind::Deputy)?,
            id("stationId", &station_id, NodeKind::Station)?,
        );
        let app = state(ctx)?;
        management::assign_resident(&service_ctx(ctx)?, d, s, since.map(|d| d.0)).await?;
        Ok(Station(
            crate::service::org::stations_by_ids(&app.db, &[s])
                .await?
                .remove(&s)
                .ok_or_else(|| crate::error::AppError::not_found("站点 (station)"))?,
        ))
    }

    /// Ends a resident assignment (kept as history).
    async fn end_resident_assignment(
        &self,
        ctx: &Context<'_>,
        deputy_id: ID,
        station_id: ID,
        until: Option<Date>,
    ) -> async_graphql::Result<Station> {
        let (d, s) = (
            id("deputyId", &deputy_id, NodeKind::Deputy)?,
            id("stationId", &station_id, NodeKind::Station)?,
        );
        let app = state(ctx)?;
        management::end_resident(&service_ctx(ctx)?, d, s, until.map(|d| d.0)).await?;
        Ok(Station(
            crate::service::org::stations_by_ids(&app.db, &[s])
                .await?
                .remove(&s)
                .ok_or_else(|| crate::error::AppError::not_found("站点 (station)"))?,
        ))
    }

    /// Links a resident deputy to one of the station's grids (at most two each).
    async fn link_deputy_grid(
        &self,
        ctx: &Context<'_>,
        deputy_id: ID,
        grid_id: ID,
    ) -> async_graphql::Result<Grid> {
        let (d, g) = (
            id("deputyId", &deputy_id, NodeKind::Deputy)?,
            id("gridId", &grid_id, NodeKind::Grid)?,
        );
        let app = state(ctx)?;
        management::link_grid(&service_ctx(ctx)?, d, g).await?;
        Ok(Grid(
            crate::service::org::grids_by_ids(&app.db, &[g])
                .await?
                .remove(&g)
                .ok_or_else(|| crate::error::AppError::not_found("网格 (grid)"))?,
        ))
    }

    async fn unlink_deputy_grid(
        &self,
        ctx: &Context<'_>,
        deputy_id: ID,
        grid_id: ID,
    ) -> async_graphql::Result<bool> {
        let (d, g) = (
            id("deputyId", &deputy_id, NodeKind::Deputy)?,
            id("gridId", &grid_id, NodeKind::Grid)?,
        );
        Ok(management::unlink_grid(&service_ctx(ctx)?, d, g).await?)
    }

    /// Adds a part-time liaison (grid worker, volunteer, ...) to a station.
    async fn create_liaison(
        &self,
        ctx: &Context<'_>,
        input: CreateLiaisonInput,
    ) -> async_graphql::Result<Liaison> {
        let input = LiaisonInput {
            station_id: id("stationId", &input.station_id, NodeKind::Station)?,
            grid_id: input
                .grid_id
                .map(|g| id("gridId", &g, NodeKind::Grid))
                .transpose()?,
            name: input.name,
            kind: input.kind.into(),
            phone: input.phone,
        };
        Ok(Liaison(
            management::create_liaison(&service_ctx(ctx)?, input).await?,
        ))
    }

    /// Adds a department (admins).
    async fn create_department(
        &self,
        ctx: &Context<'_>,
        code: String,
        name: String,
        level: DepartmentLevel,
        township_id: Option<ID>,
    ) -> async_graphql::Result<Department> {
        let township = township_id
            .map(|t| id("townshipId", &t, NodeKind::Township))
            .transpose()?;
        Ok(Department(
            management::create_department(&service_ctx(ctx)?, &code, &name, level.into(), township)
                .await?,
        ))
    }
}
