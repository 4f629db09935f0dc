//! The supervision dashboard at `/dashboard` (on unless production; `DASHBOARD_ENABLED`
//! turns it on there), served entirely from the binary: the page, its script and style
//! (`pages/dashboard.*`) and the vendored ECharts and graphql-ws client
//! (`assets/dashboard/`, versions in its README). No request leaves the server.
//!
//! The page is an ordinary client of the public API: it sends only the operations in
//! `assets/operations/dashboard/` (one per file), over `/graphql` and `/graphql/ws`.
//! They come from the persisted-query manifest (`graphql::persisted`, which embeds
//! that folder) and are handed to the page as a JSON map name → `{id, query}`, `id`
//! being the sha256 of the file's exact bytes (the persisted-query id).
use std::sync::LazyLock;

use poem::http::header;
use poem::web::Path;
use poem::{handler, Response};

use super::embedded::{self, Asset};
use crate::graphql::persisted;

const PAGE: &str = include_str!("pages/dashboard.html");

/// Where the operations go in the page (inside a `<script type="application/json">`).
const OPERATIONS_SLOT: &str = "{/*OPERATIONS*/}";

/// The manifest client whose operations the page sends.
const CLIENT: &str = "dashboard";

/// The operations the page sends: every file of `assets/operations/dashboard/`.
const OPERATIONS: &[&str] = &[
    "DashboardSignIn",
    "DashboardRefresh",
    "DashboardSignOut",
    "DashboardOrganisation",
    "DashboardLiveFigures",
    "DashboardFigures",
    "DashboardAlerts",
    "DashboardPetition",
    "DashboardComplianceRollup",
    "DashboardDeputyCompliance",
    "DashboardCoverage",
];

static RENDERED: LazyLock<String> = LazyLock::new(|| {
    PAGE.replace(
        OPERATIONS_SLOT,
        &persisted::operations_json(CLIENT, OPERATIONS),
    )
});

/// What the page may load and reach: this origin only (its WebSocket included).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `/dashboard/{file}`: name, media type, body.
const ASSETS: &[Asset] = &[
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
    embedded::serve(ASSETS, &name, "dashboard")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_files_served_here() {
        for (attribute, rest) in PAGE.split(['"', '\'']).zip(PAGE.split(['"', '\'']).skip(1)) {
            if attribute.ends_with("src=") || attribute.ends_with("href=") {
                let served = embedded::is_served(ASSETS, "/dashboard/", rest);
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
        let files = persisted::operations_for_client(CLIENT);
        // Every file of the folder, and nothing else.
        assert_eq!(files.len(), OPERATIONS.len());
        assert_eq!(map.as_object().unwrap().len(), OPERATIONS.len());
        for op in files {
            assert!(
                OPERATIONS.contains(&op.name),
                "{} is not in the page",
                op.name
            );
            assert_eq!(map[op.name]["query"], op.text);
            assert_eq!(map[op.name]["id"], persisted::sha256_hex(op.text));
        }
    }
}
