//! Open311 GeoReport v2 under `/open311/v2/` (docs/open311.md), in JSON and XML:
//! `services.{fmt}`, `services/{code}.{fmt}`, `requests.{fmt}` (GET and POST) and
//! `requests/{id}.{fmt}`. Errors are the spec's list of `{code, description}` with
//! the HTTP status as the code: 400 bad input, 403 a missing or wrong `api_key`, 404
//! an unknown service, request or jurisdiction, 429 a key over its hourly limit, 503
//! when the database is busy; never a 500 for what a client sent.
use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use poem::http::{header, StatusCode};
use poem::web::{Data, Path, Query};
use poem::{handler, Body, Request, Response};
use serde_json::{json, Value};

use super::graphql::client_of;
use crate::auth::{Actor, ClientInfo};
use crate::domain::calendar::china;
use crate::domain::open311 as rules;
use crate::error::{AppError, AppResult};
use crate::service::open311::{self, Filing, PublicRequest, RequestQuery, Service};
use crate::service::Ctx;
use crate::state::AppState;

/// The largest `POST requests` body (a form of a few fields).
const MAX_FORM_BYTES: usize = 64 * 1024;
/// What a service is grouped under.
const GROUP: &str = "社情民意";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

/// `name.json` / `name.xml` → (name, format).
fn split(file: &str) -> Option<(&str, Format)> {
    let (name, ext) = file.rsplit_once('.')?;
    let format = match ext {
        "json" => Format::Json,
        "xml" => Format::Xml,
        _ => return None,
    };
    (!name.is_empty()).then_some((name, format))
}

type Params = Query<HashMap<String, String>>;

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
}

/// `GET services.{fmt}` and `GET requests.{fmt}`.
#[handler]
pub async fn list(
    req: &Request,
    Path(file): Path<String>,
    Query(params): Params,
    state: Data<&AppState>,
) -> Response {
    let Some((name, format)) = split(&file) else {
        return not_found();
    };
    let answer = match name {
        "services" => services(&state, req, &params)
            .await
            .map(|s| services_doc(&s)),
        "requests" => requests(&state, req, &params)
            .await
            .map(|r| requests_doc(&r)),
        _ => return not_found(),
    };
    respond(answer, format)
}

/// `GET services/{code}.{fmt}`: the service's definition (no extra attributes).
#[handler]
pub async fn definition(
    req: &Request,
    Path(file): Path<String>,
    Query(params): Params,
    state: Data<&AppState>,
) -> Response {
    let Some((code, format)) = split(&file) else {
        return not_found();
    };
    let caller = Caller::of(req, &state);
    let answer = async {
        let ctx = caller.ctx(&state, &params)?;
        open311::service(&ctx, code).await
    }
    .await;
    respond(answer.map(|s| definition_doc(&s)), format)
}

/// `GET requests/{id}.{fmt}`: a list of one, as the spec has it.
#[handler]
pub async fn request(
    req: &Request,
    Path(file): Path<String>,
    Query(params): Params,
    state: Data<&AppState>,
) -> Response {
    let Some((id, format)) = split(&file) else {
        return not_found();
    };
    let caller = Caller::of(req, &state);
    let answer = async {
        let ctx = caller.ctx(&state, &params)?;
        let id = id
            .parse::<i64>()
            .map_err(|_| AppError::NotFound(format!("service_request_id not found: {id}")))?;
        open311::request(&ctx, id).await
    }
    .await;
    respond(answer.map(|r| requests_doc(&[r])), format)
}

/// `POST requests.{fmt}`: a form (`application/x-www-form-urlencoded`) with the key;
/// the answer is the new request's id. The key is read from the form only (a query
/// string ends up in proxies' logs and browsers' histories); the other fields may also
/// come in the query string.
#[handler]
pub async fn create(
    req: &Request,
    Path(file): Path<String>,
    Query(query): Params,
    body: Body,
    state: Data<&AppState>,
) -> Response {
    let Some(("requests", format)) = split(&file) else {
        return not_found();
    };
    let caller = Caller::of(req, &state);
    let answer = async {
        let bytes = body.into_bytes_limit(MAX_FORM_BYTES).await.map_err(|_| {
            AppError::bad_input(
                "body",
                format!("the form is larger than {MAX_FORM_BYTES} bytes"),
            )
        })?;
        let mut form: HashMap<String, String> =
            url::form_urlencoded::parse(&bytes).into_owned().collect();
        for (k, v) in query.into_iter().filter(|(k, _)| k != "api_key") {
            form.entry(k).or_insert(v);
        }
        let ctx = caller.ctx(&state, &form)?;
        let text = |name: &str| param(&form, name).map(str::to_owned);
        let filing = Filing {
            api_key: text("api_key"),
            service_code: text("service_code"),
            description: text("description"),
            first_name: text("first_name"),
            last_name: text("last_name"),
            phone: text("phone"),
            lat: text("lat"),
            long: text("long"),
            address_string: text("address_string"),
        };
        open311::submit(&ctx, filing).await
    }
    .await;
    respond(answer.map(created_doc), format)
}

/// Who calls: Open311 has no sign-in (a filing's key is checked by the use case), so
/// every call is anonymous, from its client's address.
struct Caller {
    actor: Actor,
    client: ClientInfo,
}

impl Caller {
    fn of(req: &Request, state: &AppState) -> Self {
        Caller {
            actor: Actor::Anonymous,
            client: client_of(req, state.settings.trust_proxy_headers),
        }
    }

    /// The call's context, once its `jurisdiction_id` (if any) is this deployment's.
    fn ctx<'a>(
        &'a self,
        state: &'a AppState,
        params: &HashMap<String, String>,
    ) -> AppResult<Ctx<'a>> {
        let ctx = state.ctx(&self.actor, &self.client);
        open311::check_jurisdiction(&ctx, param(params, "jurisdiction_id"))?;
        Ok(ctx)
    }
}

async fn services(
    state: &AppState,
    req: &Request,
    params: &HashMap<String, String>,
) -> AppResult<Vec<Service>> {
    let caller = Caller::of(req, state);
    open311::services(&caller.ctx(state, params)?).await
}

async fn requests(
    state: &AppState,
    req: &Request,
    params: &HashMap<String, String>,
) -> AppResult<Vec<PublicRequest>> {
    let caller = Caller::of(req, state);
    let ctx = caller.ctx(state, params)?;
    let date = |name: &str| {
        param(params, name)
            .map(|raw| rules::parse_datetime(name, raw))
            .transpose()
    };
    let query = RequestQuery {
        ids: param(params, "service_request_id")
            .map(rules::parse_request_ids)
            .transpose()?
            .unwrap_or_default(),
        service_codes: param(params, "service_code")
            .map(rules::parse_codes)
            .transpose()?
            .unwrap_or_default(),
        statuses: param(params, "status")
            .map(rules::parse_statuses)
            .transpose()?
            .unwrap_or_default(),
        start: date("start_date")?,
        end: date("end_date")?,
    };
    open311::requests(&ctx, query).await
}

/// A document in a neutral shape both formats are written from: a list of records
/// under a root and an element name (XML), each record an ordered list of fields.
struct Doc {
    root: &'static str,
    element: &'static str,
    records: Vec<Vec<(&'static str, Value)>>,
    /// The service definition is one object, not a list.
    single: bool,
}

fn services_doc(services: &[Service]) -> Doc {
    Doc {
        root: "services",
        element: "service",
        records: services
            .iter()
            .map(|s| {
                vec![
                    ("service_code", json!(s.code)),
                    ("service_name", json!(s.name)),
                    ("description", json!(s.name)),
                    ("metadata", json!(false)),
                    ("type", json!("realtime")),
                    ("keywords", json!("")),
                    ("group", json!(GROUP)),
                ]
            })
            .collect(),
        single: false,
    }
}

fn definition_doc(service: &Service) -> Doc {
    Doc {
        root: "service_definition",
        element: "service_definition",
        records: vec![vec![
            ("service_code", json!(service.code)),
            ("attributes", json!([])),
        ]],
        single: true,
    }
}

fn datetime(at: DateTime<Utc>) -> Value {
    json!(at
        .with_timezone(&china())
        .to_rfc3339_opts(SecondsFormat::Secs, false))
}

fn requests_doc(requests: &[PublicRequest]) -> Doc {
    let record = |r: &PublicRequest| {
        vec![
            ("service_request_id", json!(r.id.to_string())),
            ("status", json!(r.status.as_str())),
            ("status_notes", json!(r.status_notes)),
            ("service_name", json!(r.service_name)),
            ("service_code", json!(r.service_code)),
            ("agency_responsible", json!(r.agency_responsible)),
            ("requested_datetime", datetime(r.requested_datetime)),
            ("updated_datetime", datetime(r.updated_datetime)),
            (
                "expected_datetime",
                r.expected_datetime.map_or(Value::Null, datetime),
            ),
            ("address", json!(r.address)),
            ("lat", json!(r.lat)),
            ("long", json!(r.long)),
        ]
    };
    Doc {
        root: "service_requests",
        element: "request",
        records: requests.iter().map(record).collect(),
        single: false,
    }
}

fn created_doc(id: i64) -> Doc {
    Doc {
        root: "service_requests",
        element: "request",
        records: vec![vec![
            ("service_request_id", json!(id.to_string())),
            (
                "service_notice",
                json!("已受理，站点将登记办理 (received; the station will register it)"),
            ),
            ("account_id", Value::Null),
        ]],
        single: false,
    }
}

fn error_doc(error: &AppError) -> (StatusCode, Doc) {
    let status = match error {
        AppError::BadUserInput { .. } => StatusCode::BAD_REQUEST,
        AppError::Unauthenticated { .. } | AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict(_) | AppError::InvalidTransition(_) => StatusCode::CONFLICT,
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        // Busy, not wrong: the same call again may pass.
        AppError::Unavailable | AppError::Contention => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(detail) => {
            tracing::error!(%detail, "open311");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    let doc = Doc {
        root: "errors",
        element: "error",
        records: vec![vec![
            ("code", json!(status.as_u16())),
            ("description", json!(error.public_message())),
        ]],
        single: false,
    };
    (status, doc)
}

fn not_found() -> Response {
    respond(
        Err(AppError::NotFound(
            "no such Open311 resource (GeoReport v2: services, requests; .json or .xml)".into(),
        )),
        Format::Json,
    )
}

fn respond(answer: AppResult<Doc>, format: Format) -> Response {
    let retry_after = match &answer {
        Err(error) => error.retry_after_secs(),
        _ => None,
    };
    let (status, doc) = match answer {
        Ok(doc) => (StatusCode::OK, doc),
        Err(error) => error_doc(&error),
    };
    let mut builder = Response::builder().status(status);
    if let Some(secs) = retry_after {
        builder = builder.header(header::RETRY_AFTER, secs.to_string());
    }
    match format {
        Format::Json => builder
            .content_type("application/json; charset=utf-8")
            .body(to_json(&doc).to_string()),
        Format::Xml => builder
            .content_type("text/xml; charset=utf-8")
            .body(to_xml(&doc)),
    }
}

fn to_json(doc: &Doc) -> Value {
    let objects: Vec<Value> = doc
        .records
        .iter()
        .map(|fields| {
            Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.clone()))
                    .collect(),
            )
        })
        .collect();
    if doc.single {
        objects.into_iter().next().unwrap_or(Value::Null)
    } else {
        Value::Array(objects)
    }
}

/// The XML the spec shows: `<root><element><field>…</field>…</element>…</root>`; a
/// null field is an empty element, a list (the definition's attributes) an empty one.
fn to_xml(doc: &Doc) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    let field = |out: &mut String, name: &str, value: &Value| {
        let text = match value {
            Value::Null | Value::Array(_) | Value::Object(_) => String::new(),
            Value::String(s) => quick_xml::escape::escape(s.as_str()).into_owned(),
            other => other.to_string(),
        };
        out.push_str(&format!("<{name}>{text}</{name}>"));
    };
    if !doc.single {
        out.push_str(&format!("<{}>", doc.root));
    }
    for record in &doc.records {
        out.push_str(&format!("<{}>", doc.element));
        for (name, value) in record {
            field(&mut out, name, value);
        }
        out.push_str(&format!("</{}>", doc.element));
    }
    if !doc.single {
        out.push_str(&format!("</{}>", doc.root));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contention_is_503_with_retry_after_never_a_client_error() {
        let response = respond(Err(AppError::Contention), Format::Json);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some("1")
        );
        let (status, doc) = error_doc(&AppError::bad_input("lat", "lat and long go together"));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(doc.records[0][0].1, json!(400));
    }
}
