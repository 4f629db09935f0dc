//! Open data under `/open-data/` (docs/open-data.md): `statistics.{json,csv}`,
//! `items.{json,csv,geojson}` (a page at a time, the next one linked) and
//! `dictionary.json`. Public and anonymised (`service::open_data` says what is in
//! them); cacheable: `Cache-Control: public`, a strong `ETag` of the body, and 304 for
//! a matching `If-None-Match`.
use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate};
use poem::http::{header, StatusCode};
use poem::web::{Data, Path, Query};
use poem::{handler, Request, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::graphql::client_of;
use crate::auth::Actor;
use crate::domain::calendar::local_date;
use crate::error::{AppError, AppResult};
use crate::service::open_data::{self, Grain, ScopeCodes, ITEM_FIELDS, STATISTICS_FIELDS};
use crate::state::AppState;

const CACHE_CONTROL: &str = "public, max-age=300";

/// One answer before it is written: its media type and body.
struct Body {
    content_type: &'static str,
    text: String,
    next: Option<String>,
}

#[handler]
pub async fn serve(
    req: &Request,
    Path(file): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    state: Data<&AppState>,
) -> Response {
    let answer = match file.as_str() {
        "dictionary.json" => Ok(dictionary()),
        "statistics.json" | "statistics.csv" => statistics(req, &state, &params, &file).await,
        "items.json" | "items.csv" | "items.geojson" => items(req, &state, &params, &file).await,
        _ => Err(AppError::NotFound(format!("no open data file {file}"))),
    };
    match answer {
        Ok(body) => cached(req, body),
        Err(error) => error_response(&error),
    }
}

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn date(params: &HashMap<String, String>, name: &str) -> AppResult<Option<NaiveDate>> {
    param(params, name)
        .map(|raw| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
                AppError::bad_input(name, format!("{name} must be a date such as 2026-01-31"))
            })
        })
        .transpose()
}

fn number(params: &HashMap<String, String>, name: &str) -> AppResult<Option<u64>> {
    param(params, name)
        .map(|raw| {
            raw.parse::<u64>()
                .map_err(|_| AppError::bad_input(name, format!("{name} must be a whole number")))
        })
        .transpose()
}

/// `statistics.{json,csv}?from&to&grain&township&station&category`: by default this
/// year so far, by month, the whole county.
async fn statistics(
    req: &Request,
    state: &AppState,
    params: &HashMap<String, String>,
    file: &str,
) -> AppResult<Body> {
    let today = local_date(state.clock.now());
    let from = date(params, "from")?.unwrap_or_else(|| today.with_ordinal(1).unwrap_or(today));
    let to = date(params, "to")?.unwrap_or(today);
    let codes = ScopeCodes {
        township: param(params, "township").map(str::to_owned),
        station: param(params, "station").map(str::to_owned),
        category: param(params, "category").map(str::to_owned),
    };
    let client = client_of(req, state.settings.trust_proxy_headers);
    let anonymous = Actor::Anonymous;
    let ctx = state.ctx(&anonymous, &client);
    let rows =
        open_data::figures(&ctx, from, to, Grain::parse(param(params, "grain"))?, codes).await?;
    let records: Vec<Vec<Value>> = rows.iter().map(open_data::statistics_record).collect();
    Ok(if file.ends_with(".csv") {
        csv_body(STATISTICS_FIELDS, &records)?
    } else {
        Body {
            content_type: "application/json; charset=utf-8",
            text: json!({ "statistics": objects(STATISTICS_FIELDS, &records) }).to_string(),
            next: None,
        }
    })
}

/// `items.{json,csv,geojson}?from&to&after&limit`: by default the last 30 days; at
/// most a year, a page at a time.
async fn items(
    req: &Request,
    state: &AppState,
    params: &HashMap<String, String>,
    file: &str,
) -> AppResult<Body> {
    let today = local_date(state.clock.now());
    let from = date(params, "from")?.unwrap_or(today - Duration::days(29));
    let to = date(params, "to")?.unwrap_or(today);
    let after = number(params, "after")?.map(|a| a.min(i64::MAX as u64) as i64);
    let limit = number(params, "limit")?;
    let client = client_of(req, state.settings.trust_proxy_headers);
    let anonymous = Actor::Anonymous;
    let ctx = state.ctx(&anonymous, &client);
    let (page, next) = open_data::items(&ctx, from, to, after, limit).await?;
    let next = next.map(|after| {
        // Relative (RFC 8288 allows it): right behind any proxy or base URL.
        let mut url = format!("/open-data/{file}?from={from}&to={to}&after={after}");
        if let Some(limit) = limit {
            url.push_str(&format!("&limit={limit}"));
        }
        url
    });
    let records: Vec<Vec<Value>> = page.iter().map(open_data::item_record).collect();
    if file.ends_with(".csv") {
        return Ok(Body {
            next,
            ..csv_body(ITEM_FIELDS, &records)?
        });
    }
    let text = if file.ends_with(".geojson") {
        // GeoJSON's positions are [longitude, latitude]; rounded to 0.01°.
        let features: Vec<Value> = objects(ITEM_FIELDS, &records)
            .into_iter()
            .zip(&page)
            .map(|(properties, item)| {
                let geometry = item.point.map_or(
                    Value::Null,
                    |(lat, long)| json!({ "type": "Point", "coordinates": [long, lat] }),
                );
                json!({ "type": "Feature", "geometry": geometry, "properties": properties })
            })
            .collect();
        json!({ "type": "FeatureCollection", "features": features, "next": next }).to_string()
    } else {
        json!({ "items": objects(ITEM_FIELDS, &records), "next": next }).to_string()
    };
    Ok(Body {
        content_type: if file.ends_with(".geojson") {
            "application/geo+json; charset=utf-8"
        } else {
            "application/json; charset=utf-8"
        },
        text,
        next,
    })
}

fn objects(fields: &[(&str, &str, &str)], records: &[Vec<Value>]) -> Vec<Value> {
    records
        .iter()
        .map(|record| {
            Value::Object(
                fields
                    .iter()
                    .zip(record)
                    .map(|((name, _, _), value)| ((*name).to_owned(), value.clone()))
                    .collect(),
            )
        })
        .collect()
}

/// CSV with a header row (UTF-8, RFC 4180 quoting); null is an empty cell.
fn csv_body(fields: &[(&str, &str, &str)], records: &[Vec<Value>]) -> AppResult<Body> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| AppError::internal(format!("open data csv: {e}"));
    writer
        .write_record(fields.iter().map(|(name, _, _)| *name))
        .map_err(failed)?;
    for record in records {
        writer
            .write_record(record.iter().map(|v| match v {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }))
            .map_err(failed)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| AppError::internal(format!("open data csv: {e}")))?;
    Ok(Body {
        content_type: "text/csv; charset=utf-8",
        text: String::from_utf8_lossy(&bytes).into_owned(),
        next: None,
    })
}

fn dictionary() -> Body {
    let fields = |list: &[(&str, &str, &str)]| -> Vec<Value> {
        list.iter()
            .map(|(name, kind, meaning)| json!({ "name": name, "type": kind, "description": meaning }))
            .collect()
    };
    let text = json!({
        "license": "CC BY 4.0",
        "publisher": "和顺县人大常委会 (Heshun County People's Congress Standing Committee)",
        "anonymisation": "no names, phone numbers, titles, texts or results of items; days, never hours; places no finer than a station or about a kilometre",
        "datasets": [
            {
                "name": "statistics",
                "files": ["/open-data/statistics.json", "/open-data/statistics.csv"],
                "parameters": {
                    "from": "first day (default: 1 January this year)",
                    "to": "last day (default: today)",
                    "grain": "month (default), year or all; at most 120 periods",
                    "township": "a township code", "station": "a station code", "category": "a category code"
                },
                "fields": fields(STATISTICS_FIELDS),
            },
            {
                "name": "items",
                "files": ["/open-data/items.json", "/open-data/items.csv", "/open-data/items.geojson"],
                "parameters": {
                    "from": "first collection day (default: 29 days ago)",
                    "to": "last collection day (default: today); at most 366 days from from",
                    "after": "the id to continue after (the next link carries it)",
                    "limit": "items per page, at most 1000 (default)"
                },
                "paging": "by id; the next page is the JSON's next, the GeoJSON's next, or the CSV's Link header (rel=\"next\")",
                "fields": fields(ITEM_FIELDS),
            }
        ]
    });
    Body {
        content_type: "application/json; charset=utf-8",
        text: text.to_string(),
        next: None,
    }
}

/// The body with its validators: a strong ETag (SHA-256 of the body) and 304 when the
/// client already has it.
fn cached(req: &Request, body: Body) -> Response {
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(body.text.as_bytes()))[..32]
    );
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let mut builder = Response::builder()
        .header(header::CACHE_CONTROL, CACHE_CONTROL)
        .header(header::ETAG, &etag);
    if let Some(next) = &body.next {
        builder = builder.header(header::LINK, format!("<{next}>; rel=\"next\""));
    }
    if matches {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    builder.content_type(body.content_type).body(body.text)
}

fn error_response(error: &AppError) -> Response {
    let status = match error {
        AppError::BadUserInput { .. } => StatusCode::BAD_REQUEST,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(detail) => {
            tracing::error!(%detail, "open data");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    };
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(
            json!({ "error": { "code": error.code(), "message": error.public_message() } })
                .to_string(),
        )
}
