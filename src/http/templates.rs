//! `GET /import/templates/{kind}.xlsx` (or `all.xlsx`): empty import workbooks with
//! their header rows in Chinese and English (see `docs/import.md`). Public: they hold
//! no data.
use poem::http::{header, StatusCode};
use poem::web::Path;
use poem::{handler, Response};

use crate::domain::import::template;

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[handler]
pub fn download(Path(file): Path<String>) -> Response {
    let Some(kinds) = template::kinds_for(&file) else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("no such template");
    };
    match template::workbook(&kinds) {
        Ok(bytes) => Response::builder()
            .header(header::CONTENT_TYPE, XLSX)
            .header(
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            )
            .header(header::CACHE_CONTROL, "public, max-age=3600")
            .body(bytes),
        Err(error) => {
            tracing::error!(%error, "import template");
            Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .body("cannot build the template")
        }
    }
}
