//! Open311 GeoReport v2 (`/open311/v2/…`): the categories as services, items as
//! public service requests (only what `domain::open311` lets the public see), and
//! requests filed by clients with an admin-issued key through the same intake as every
//! other channel (`petitions::intake::submit_from_open311`). The keys themselves are
//! in [`keys`].
pub mod keys;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{category, department, petition, station, township};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::open311::{self, Status};
use crate::domain::place::Location;
use crate::error::{AppError, AppResult};
use crate::service::org;
use crate::service::petitions::intake::{self, Open311Filing};
use crate::service::Ctx;

/// The window of `OPEN311_SUBMISSIONS_PER_KEY`.
const FILING_WINDOW: std::time::Duration = std::time::Duration::from_secs(3600);

/// A service (request type): an active category.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub code: String,
    pub name: String,
}

/// What the public may see of one item.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicRequest {
    pub id: i64,
    pub status: Status,
    pub status_notes: &'static str,
    pub service_code: Option<String>,
    pub service_name: Option<String>,
    /// The lead department, else the station that holds the item.
    pub agency_responsible: Option<String>,
    pub requested_datetime: DateTime<Utc>,
    pub updated_datetime: DateTime<Utc>,
    /// The department's deadline, once there is one.
    pub expected_datetime: Option<DateTime<Utc>>,
    /// The township's name (never the address the submitter typed: free text).
    pub address: Option<String>,
    /// The item's place rounded to 0.01° (as open data gives it), when it has one.
    pub lat: Option<f64>,
    pub long: Option<f64>,
}

/// What `GET requests` asks for (parsed by `domain::open311`).
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    /// When given, these items and nothing else (the spec: it overrides the rest).
    pub ids: Vec<i64>,
    pub service_codes: Vec<String>,
    pub statuses: Vec<Status>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

/// What a client files with `POST requests`.
#[derive(Debug, Clone, Default)]
pub struct Filing {
    pub api_key: Option<String>,
    pub service_code: Option<String>,
    pub description: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    /// WGS-84 degrees, both or neither.
    pub lat: Option<String>,
    pub long: Option<String>,
    /// Kept (not public) with a point; alone it is not kept.
    pub address_string: Option<String>,
}

/// `jurisdiction_id` may be left out; when given it must be this deployment's.
pub fn check_jurisdiction(ctx: &Ctx<'_>, given: Option<&str>) -> AppResult<()> {
    match given.map(str::trim).filter(|j| !j.is_empty()) {
        Some(j) if j != ctx.settings.open311.jurisdiction_id => Err(AppError::NotFound(format!(
            "jurisdiction_id not found: this endpoint serves {}",
            ctx.settings.open311.jurisdiction_id
        ))),
        _ => Ok(()),
    }
}

/// Every active category, in display order.
pub async fn services(ctx: &Ctx<'_>) -> AppResult<Vec<Service>> {
    Ok(org::categories(ctx.db)
        .await?
        .into_iter()
        .map(|c| Service {
            code: c.code,
            name: c.name,
        })
        .collect())
}

/// One service by code (an active category), else NOT_FOUND.
pub async fn service(ctx: &Ctx<'_>, code: &str) -> AppResult<Service> {
    active_category(ctx.db, code)
        .await?
        .map(|c| Service {
            code: c.code,
            name: c.name,
        })
        .ok_or_else(|| AppError::NotFound(format!("service_code not found: {code}")))
}

async fn active_category<C: ConnectionTrait>(
    db: &C,
    code: &str,
) -> AppResult<Option<category::Model>> {
    Ok(category::Entity::find()
        .filter(category::Column::Code.eq(code.trim()))
        .filter(category::Column::Active.eq(true))
        .one(db)
        .await?)
}

/// `GET requests`: the items asked for, newest first, at most `MAX_REQUESTS`.
pub async fn requests(ctx: &Ctx<'_>, query: RequestQuery) -> AppResult<Vec<PublicRequest>> {
    let mut select = petition::Entity::find();
    if query.ids.is_empty() {
        let (start, end) = open311::window(query.start, query.end, ctx.now())?;
        select = select
            .filter(petition::Column::CollectedAt.gte(start))
            .filter(petition::Column::CollectedAt.lte(end));
        if !query.service_codes.is_empty() {
            let ids: Vec<i64> = category::Entity::find()
                .filter(category::Column::Code.is_in(query.service_codes.clone()))
                .all(ctx.db)
                .await?
                .into_iter()
                .map(|c| c.id)
                .collect();
            select = select.filter(petition::Column::CategoryId.is_in(ids));
        }
        if !query.statuses.is_empty() {
            let states = query
                .statuses
                .iter()
                .flat_map(|s| s.states().iter().copied());
            select = select.filter(petition::Column::State.is_in(states));
        }
    } else {
        select = select.filter(petition::Column::Id.is_in(query.ids));
    }
    let items = select
        .order_by_desc(petition::Column::CollectedAt)
        .order_by_desc(petition::Column::Id)
        .limit(open311::MAX_REQUESTS)
        .all(ctx.db)
        .await?;
    public(ctx.db, items).await
}

/// `GET requests/{id}`: one item, else NOT_FOUND.
pub async fn request(ctx: &Ctx<'_>, id: i64) -> AppResult<PublicRequest> {
    let item = petition::Entity::find_by_id(id)
        .one(ctx.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("service_request_id not found: {id}")))?;
    public(ctx.db, vec![item])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal("open311: an item vanished"))
}

/// The organisation's rows an item's public view names, for a page of items. The
/// tables are small (a county: tens of townships, about a hundred stations and
/// departments, a few categories), so they are read whole, once per answer.
pub struct OrgTables {
    pub categories: HashMap<i64, category::Model>,
    pub townships: HashMap<i64, township::Model>,
    pub stations: HashMap<i64, station::Model>,
    pub departments: HashMap<i64, department::Model>,
}

impl OrgTables {
    pub async fn load<C: ConnectionTrait>(db: &C) -> AppResult<Self> {
        Ok(OrgTables {
            categories: by_id(category::Entity::find().all(db).await?, |m| m.id),
            townships: by_id(township::Entity::find().all(db).await?, |m| m.id),
            stations: by_id(station::Entity::find().all(db).await?, |m| m.id),
            departments: by_id(department::Entity::find().all(db).await?, |m| m.id),
        })
    }
}

fn by_id<M>(rows: Vec<M>, id: impl Fn(&M) -> i64) -> HashMap<i64, M> {
    rows.into_iter().map(|m| (id(&m), m)).collect()
}

async fn public<C: ConnectionTrait>(
    db: &C,
    items: Vec<petition::Model>,
) -> AppResult<Vec<PublicRequest>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let tables = OrgTables::load(db).await?;
    Ok(items
        .iter()
        .map(|item| public_view(&tables, item))
        .collect())
}

/// The public view: state as open/closed with a fixed note, category, who handles it,
/// times and the township; never the title, the text, a name, a phone or a result.
fn public_view(tables: &OrgTables, item: &petition::Model) -> PublicRequest {
    let category = item.category_id.and_then(|c| tables.categories.get(&c));
    let point = Location::from_stored(item.latitude_e7, item.longitude_e7, None, None)
        .map(|l| open311::public_point(&l));
    let agency = item
        .lead_department_id
        .and_then(|d| tables.departments.get(&d).map(|d| &d.name))
        .or_else(|| {
            item.station_id
                .and_then(|s| tables.stations.get(&s).map(|s| &s.name))
        });
    PublicRequest {
        id: item.id,
        status: open311::status_of(item.state),
        status_notes: open311::status_note(item.state),
        service_code: category.map(|c| c.code.clone()),
        service_name: category.map(|c| c.name.clone()),
        agency_responsible: agency.cloned(),
        // To the day, as open data gives them: the public datasets share item ids, so
        // an exact time here would undo open data's "days, not hours".
        requested_datetime: day_of(item.collected_at),
        updated_datetime: day_of(item.updated_at),
        expected_datetime: item.deadline,
        address: item
            .township_id
            .and_then(|t| tables.townships.get(&t))
            .map(|t| t.name.clone()),
        lat: point.map(|p| p.0),
        long: point.map(|p| p.1),
    }
}

/// `POST requests`: the key, the service and the place, the key's rate limit, then
/// the intake. Answers the new item's id.
pub async fn submit(ctx: &Ctx<'_>, filing: Filing) -> AppResult<i64> {
    let key = keys::authenticate(ctx, filing.api_key.as_deref()).await?;
    let code = filing
        .service_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AppError::bad_input("service_code", "service_code was not provided"))?;
    let category = active_category(ctx.db, code).await?.ok_or_else(|| {
        AppError::bad_input("service_code", format!("service_code not found: {code}"))
    })?;
    let location = open311::parse_location(
        filing.lat.as_deref(),
        filing.long.as_deref(),
        filing.address_string.as_deref(),
    )?;
    // One atomic step takes a slot of the key's hour (concurrent filings cannot all
    // pass a check made before any of them counted); a filing the intake refuses
    // gives its slot back.
    let (limit, window) = (ctx.settings.open311.submissions_per_key, FILING_WINDOW);
    let throttle = format!("open311:key:{}", key.id);
    ctx.auth.limiter.hit(&throttle, limit, window).await?;
    let description = filing.description.unwrap_or_default();
    let name = [filing.first_name, filing.last_name]
        .into_iter()
        .flatten()
        .map(|part| part.trim().to_owned())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let filed = Open311Filing {
        station_id: key.station_id,
        category_id: category.id,
        title: open311::title_from(&description, &category.name),
        description,
        submitter_name: Some(name).filter(|n| !n.is_empty()),
        submitter_phone: filing.phone.filter(|p| !p.trim().is_empty()),
        location,
    };
    match intake::submit_from_open311(ctx, filed).await {
        Ok(item) => Ok(item.id),
        Err(error) => {
            ctx.auth.limiter.release(&throttle, window).await;
            Err(as_open311_field(error))
        }
    }
}

/// The intake names the item's own fields; an Open311 client sent `description`.
fn as_open311_field(error: AppError) -> AppError {
    match error {
        AppError::BadUserInput {
            message,
            field: Some(field),
        } => {
            let field = match field.as_str() {
                "title" | "content" => "description".to_owned(),
                "submitterName" => "first_name".to_owned(),
                "submitterPhone" => "phone".to_owned(),
                _ => field,
            };
            AppError::bad_input(&field, format!("{field}: {message}"))
        }
        other => other,
    }
}

/// The start (China time) of the day `at` falls on.
fn day_of(at: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    crate::domain::calendar::day_start(crate::domain::calendar::local_date(at))
}
