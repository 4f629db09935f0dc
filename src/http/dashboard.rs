//! The supervision dashboard at `/dashboard` (on unless production; `DASHBOARD_ENABLED`
//! turns it on there), served entirely from the binary: the page, its script and style
//! (`pages/dashboard.*`) and the vendored ECharts and graphql-ws client
//! (`assets/dashboard/`, versions in its README). No request leaves the server.
//!
//! The page is an ordinary client of the public API: it sends only the operations in
//! `assets/operations/dashboard/` (one per file), over `/graphql` and `/graphql/ws`.
//! They are embedded here and handed to the page as a JSON map name → `{id, query}`,
//! `id` being the sha256 of the file's exact bytes (the persisted-query id).
use std::sync::LazyLock;

use poem::http::{header, StatusCode};
use poem::web::Path;
use poem::{handler, Response};
use sha2::{Digest, Sha256};

const PAGE: &str = include_str!("pages/dashboard.html");

/// Where the operations go in the page (inside a `<script type="application/json">`).
const OPERATIONS_SLOT: &str = "{/*OPERATIONS*/}";

/// The dashboard's operations: name (= file name) and the file's bytes.
// The persisted-query manifest will offer these (every client's files under
// `assets/operations/`); until then the page's own list is kept here, in one place.
pub const OPERATIONS: &[(&str, &str)] = &[
    op(
        "DashboardSignIn",
        include_str!("../../assets/operations/dashboard/DashboardSignIn.graphql"),
    ),
    op(
        "DashboardRefresh",
        include_str!("../../assets/operations/dashboard/DashboardRefresh.graphql"),
    ),
    op(
        "DashboardSignOut",
        include_str!("../../assets/operations/dashboard/DashboardSignOut.graphql"),
    ),
    op(
        "DashboardOrganisation",
        include_str!("../../assets/operations/dashboard/DashboardOrganisation.graphql"),
    ),
    op(
        "DashboardLiveFigures",
        include_str!("../../assets/operations/dashboard/DashboardLiveFigures.graphql"),
    ),
    op(
        "DashboardFigures",
        include_str!("../../assets/operations/dashboard/DashboardFigures.graphql"),
    ),
    op(
        "DashboardAlerts",
        include_str!("../../assets/operations/dashboard/DashboardAlerts.graphql"),
    ),
    op(
        "DashboardPetition",
        include_str!("../../assets/operations/dashboard/DashboardPetition.graphql"),
    ),
    op(
        "DashboardComplianceRollup",
        include_str!("../../assets/operations/dashboard/DashboardComplianceRollup.graphql"),
    ),
    op(
        "DashboardDeputyCompliance",
        include_str!("../../assets/operations/dashboard/DashboardDeputyCompliance.graphql"),
    ),
    op(
        "DashboardCoverage",
        include_str!("../../assets/operations/dashboard/DashboardCoverage.graphql"),
    ),
];

const fn op(name: &'static str, text: &'static str) -> (&'static str, &'static str) {
    (name, text)
}

/// The persisted-query id of an operation: sha256 of its exact bytes, in hex.
pub fn operation_id(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// `{"Name": {"id": "<sha256>", "query": "<text>"}, ...}`, safe inside a `<script>`
/// element (`<` is escaped, so no text can close it).
fn operations_json() -> String {
    let map: serde_json::Map<String, serde_json::Value> = OPERATIONS
        .iter()
        .map(|(name, text)| {
            let entry = serde_json::json!({ "id": operation_id(text), "query": text });
            ((*name).to_owned(), entry)
        })
        .collect();
    serde_json::Value::Object(map)
        .to_string()
        .replace('<', "\\u003c")
}

static RENDERED: LazyLock<String> =
    LazyLock::new(|| PAGE.replace(OPERATIONS_SLOT, &operations_json()));

/// What the page may load and reach: this origin only (its WebSocket included).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `/dashboard/{file}`: name, media type, body.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "echarts.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/dashboard/echarts.min.js"),
    ),
    (
        "graphql-ws.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/dashboard/graphql-ws.min.js"),
    ),
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_bytes!("pages/dashboard.js"),
    ),
    (
        "dashboard.css",
        "text/css; charset=utf-8",
        include_bytes!("pages/dashboard.css"),
    ),
];

#[handler]
pub fn page() -> Response {
    Response::builder()
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)
        .header("x-content-type-options", "nosniff")
        .body(RENDERED.as_str())
}

#[handler]
pub fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(file, _, _)| *file == name) {
        Some((_, media_type, body)) => Response::builder()
            .content_type(*media_type)
            // Revalidated after an hour: a new binary may carry new versions.
            .header(header::CACHE_CONTROL, "public, max-age=3600")
            .header("x-content-type-options", "nosniff")
            .body(*body),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("no such dashboard file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_files_served_here() {
        for (attribute, rest) in PAGE.split(['"', '\'']).zip(PAGE.split(['"', '\'']).skip(1)) {
            if attribute.ends_with("src=") || attribute.ends_with("href=") {
                let served = rest
                    .strip_prefix("/dashboard/")
                    .is_some_and(|file| ASSETS.iter().any(|(name, _, _)| *name == file));
                assert!(served, "{rest} is not served by the binary");
            }
        }
        assert!(!PAGE.contains("://"), "no absolute URL");
    }

    #[test]
    fn the_page_carries_every_operation_with_its_id() {
        assert!(PAGE.contains(OPERATIONS_SLOT));
        let start = RENDERED.find("id=\"operations\">").unwrap() + "id=\"operations\">".len();
        let end = start + RENDERED[start..].find("</script>").unwrap();
        let map: serde_json::Value = serde_json::from_str(&RENDERED[start..end]).unwrap();
        assert_eq!(map.as_object().unwrap().len(), OPERATIONS.len());
        for (name, text) in OPERATIONS {
            assert_eq!(map[name]["query"], *text);
            assert_eq!(map[name]["id"], operation_id(text));
            assert!(
                text.contains(&format!(" {name}")),
                "{name}: the file's operation has the file's name"
            );
        }
    }

    #[test]
    fn the_id_is_the_sha256_of_the_exact_bytes() {
        assert_eq!(
            operation_id("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
