//! `GET /exports/{kind}.xlsx?...`: Excel workbooks for meetings (`docs/exports.md`),
//! with the bearer token as on `/graphql` and each export's figures read through the
//! same use case as its GraphQL query (`service::exports`). Parameters are the query's
//! arguments by the same names (global ids, `YYYY-MM-DD` dates); an unknown, repeated
//! or malformed one is a 400 `BAD_USER_INPUT` naming it, an object out of the actor's
//! reach the 403 / 404 its query answers, before any workbook is written.
use std::collections::HashMap;

use chrono::NaiveDate;
use poem::http::header;
use poem::web::{Data, Path};
use poem::{handler, Request, Response};

use super::graphql::{actor_of, client_of, error_reply};
use super::media::ResponseMedia;
use super::templates::XLSX;
use crate::domain::calendar::is_supported_date;
use crate::domain::export::{self, Kind, Sheet};
use crate::domain::node_id::{NodeId, NodeKind};
use crate::error::{AppError, AppResult};
use crate::service::duty::compliance;
use crate::service::exports;
use crate::service::statistics;
use crate::service::Ctx;
use crate::state::AppState;

#[handler]
pub async fn download(req: &Request, Path(file): Path<String>, state: Data<&AppState>) -> Response {
    let actor = match actor_of(req, &state).await {
        Ok(actor) => actor,
        Err(reply) => return reply.into_response(ResponseMedia::Json),
    };
    let client = client_of(req, state.settings.trust_proxy_headers);
    let ctx = state.ctx(&actor, &client);
    let answer = match Kind::from_file(&file) {
        None => Err(AppError::not_found("导出 (export)")),
        Some(kind) => sheets(&ctx, kind, req.uri().query().unwrap_or("")).await,
    };
    let built = match answer {
        Ok(sheets) => tokio::task::spawn_blocking(move || export::workbook(&sheets))
            .await
            .map_err(|e| AppError::internal(format!("export task: {e}")))
            .and_then(|r| r.map_err(|e| AppError::internal(format!("export workbook: {e}")))),
        Err(error) => Err(error),
    };
    match built {
        Ok(bytes) => Response::builder()
            .header(header::CONTENT_TYPE, XLSX)
            .header(
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            )
            .header("X-Content-Type-Options", "nosniff")
            // Per person and of the moment: no cache keeps it.
            .header(header::CACHE_CONTROL, "private, no-store")
            .body(bytes),
        Err(error) => error_reply(error).into_response(ResponseMedia::Json),
    }
}

/// The export's sheets, from its parameters.
async fn sheets(ctx: &Ctx<'_>, kind: Kind, query: &str) -> AppResult<Vec<Sheet>> {
    let p = Params::parse(query, allowed(kind))?;
    match kind {
        Kind::StationLedger => {
            let station = p.id("stationId", NodeKind::Station)?;
            let filter = exports::period(p.date("from")?, p.date("to")?)?;
            exports::station_ledger(ctx, station, &filter).await
        }
        Kind::DepartmentInbox => {
            let department = p.id("departmentId", NodeKind::Department)?;
            let filter = exports::period(p.date("from")?, p.date("to")?)?;
            exports::department_inbox(ctx, department, &filter).await
        }
        Kind::Statistics => {
            let scope = statistics::Scope {
                township_id: p.optional_id("townshipId", NodeKind::Township)?,
                station_id: p.optional_id("stationId", NodeKind::Station)?,
                department_id: p.optional_id("departmentId", NodeKind::Department)?,
                category_id: p.optional_id("categoryId", NodeKind::Category)?,
            };
            exports::statistics(ctx, p.date("from")?, p.date("to")?, scope).await
        }
        Kind::Coverage => exports::coverage(ctx, p.int("year")?, p.month()?).await,
        Kind::Compliance => {
            let scope = compliance::Scope::one_of(
                p.optional_id("stationId", NodeKind::Station)?,
                p.optional_id("townshipId", NodeKind::Township)?,
            )?;
            let month = p.raw("month").map(|_| p.month()).transpose()?;
            exports::compliance(ctx, scope, p.int("year")?, month).await
        }
    }
}

/// The parameters each export takes.
fn allowed(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::StationLedger => &["stationId", "from", "to"],
        Kind::DepartmentInbox => &["departmentId", "from", "to"],
        Kind::Statistics => &[
            "from",
            "to",
            "townshipId",
            "stationId",
            "departmentId",
            "categoryId",
        ],
        Kind::Coverage => &["year", "month"],
        Kind::Compliance => &["stationId", "townshipId", "year", "month"],
    }
}

/// A query string's parameters, each named once and known to the export.
struct Params(HashMap<String, String>);

impl Params {
    fn parse(query: &str, allowed: &[&str]) -> AppResult<Params> {
        if query.len() > 2048 {
            return Err(AppError::bad_input(
                "query",
                "参数过长 (parameters too long)",
            ));
        }
        let mut map = HashMap::new();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let key = key.into_owned();
            if !allowed.contains(&key.as_str()) {
                return Err(AppError::bad_input(
                    &key,
                    format!("未知参数 {key} (unknown parameter)"),
                ));
            }
            if map.insert(key.clone(), value.into_owned()).is_some() {
                return Err(AppError::bad_input(
                    &key,
                    format!("参数 {key} 重复 (given twice)"),
                ));
            }
        }
        Ok(Params(map))
    }

    fn raw(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn required(&self, key: &str) -> AppResult<&str> {
        self.raw(key)
            .ok_or_else(|| AppError::bad_input(key, format!("缺少参数 {key} (required)")))
    }

    fn id(&self, key: &str, kind: NodeKind) -> AppResult<i64> {
        NodeId::decode_as(key, self.required(key)?, kind)
    }

    fn optional_id(&self, key: &str, kind: NodeKind) -> AppResult<Option<i64>> {
        self.raw(key)
            .map(|raw| NodeId::decode_as(key, raw, kind))
            .transpose()
    }

    fn date(&self, key: &str) -> AppResult<NaiveDate> {
        NaiveDate::parse_from_str(self.required(key)?, "%Y-%m-%d")
            .ok()
            .filter(|d| is_supported_date(*d))
            .ok_or_else(|| AppError::bad_input(key, format!("{key} 须为 YYYY-MM-DD 日期 (a date)")))
    }

    fn int<T: std::str::FromStr>(&self, key: &str) -> AppResult<T> {
        self.required(key)?
            .parse()
            .map_err(|_| AppError::bad_input(key, format!("{key} 须为整数 (an integer)")))
    }

    fn month(&self) -> AppResult<u32> {
        let month: u32 = self.int("month")?;
        if (1..=12).contains(&month) {
            Ok(month)
        } else {
            Err(AppError::bad_input(
                "month",
                "月份须为1-12 (month must be 1 to 12)",
            ))
        }
    }
}
