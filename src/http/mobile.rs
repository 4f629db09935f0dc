//! The citizen's mobile pages, opened from a deputy's QR code (and in WeChat's in-app
//! browser): `/m/d/{code}` to leave a message for the deputy, `/m/t/{trackingCode}`
//! (and `/m/t` to type a code in) to follow the item and rate the result.
//!
//! Each page is one self-contained HTML document (inline CSS and vanilla JS from
//! `pages/`, no third-party assets) that talks to `/graphql`. The inline style and
//! script are allowed by hash in a strict Content-Security-Policy.
//!
//! The pages' GraphQL operations are the manifest's (`assets/operations/mobile/`): each
//! page embeds the ones it runs (name → id and text) and sends them by hash first,
//! with the text only when the server answers `PERSISTED_QUERY_NOT_FOUND`, so they
//! work with `PERSISTED_QUERIES=manifest` and send small requests on slow networks.
use std::sync::LazyLock;

use base64::Engine as _;
use poem::http::{header, StatusCode};
use poem::web::{Data, Path};
use poem::{handler, Request, Response};
use sha2::{Digest, Sha256};

use super::qr::{cached, find_deputy, text, xml_escape};
use crate::auth::Actor;
use crate::error::AppError;
use crate::graphql::persisted;
use crate::service::petitions::queries;
use crate::state::AppState;

const STYLE: &str = include_str!("pages/common.css");
const COMMON_JS: &str = include_str!("pages/common.js");

/// The pages are tiny and change with releases: revalidate every time (ETag).
const PAGE_CACHE: &str = "no-cache";

pub struct Page {
    pub html: String,
    pub csp: String,
}

fn csp_hash(source: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(source.as_bytes()))
    )
}

fn assemble(template: &str, script: Option<&str>) -> Page {
    let html = template.replace("/*STYLE*/", STYLE);
    let (html, script_src) = match script {
        Some(script) => (html.replace("/*SCRIPT*/", script), csp_hash(script)),
        None => (html, "'none'".to_owned()),
    };
    let csp = format!(
        "default-src 'none'; script-src {script_src}; style-src {}; connect-src 'self'; \
         img-src 'self' data: blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        csp_hash(STYLE)
    );
    Page { html, csp }
}

/// The manifest's client whose operations the pages run.
const CLIENT: &str = "mobile";
/// The operations each page runs (files of `assets/operations/mobile/`).
const DEPUTY_OPERATIONS: &[&str] = &["DeputyPage", "SubmitPetition", "UploadAttachment"];
const TRACK_OPERATIONS: &[&str] = &["TrackPetition", "RatePetition"];

/// A page's script: the shared helpers (first, for their `'use strict'`), its
/// operations (`var OPS = {name: {id, query}}`), then its own code.
fn script(operations: &[&str], own: &str) -> String {
    format!(
        "{COMMON_JS}var OPS = {};\n{own}",
        persisted::operations_json(CLIENT, operations)
    )
}

/// `/m/d/{code}`: the deputy's message form.
pub static DEPUTY_PAGE: LazyLock<Page> = LazyLock::new(|| {
    assemble(
        include_str!("pages/deputy.html"),
        Some(&script(DEPUTY_OPERATIONS, include_str!("pages/deputy.js"))),
    )
});

/// `/m/t` and `/m/t/{trackingCode}`: follow and rate.
pub static TRACK_PAGE: LazyLock<Page> = LazyLock::new(|| {
    assemble(
        include_str!("pages/track.html"),
        Some(&script(TRACK_OPERATIONS, include_str!("pages/track.js"))),
    )
});

static NOT_FOUND_PAGE: LazyLock<Page> =
    LazyLock::new(|| assemble(include_str!("pages/not_found.html"), None));

fn page(req: &Request, page: &Page, cache_control: &'static str) -> Response {
    let mut response = cached(
        req,
        page.html.as_bytes().to_vec(),
        "text/html; charset=utf-8",
        cache_control,
    );
    secure(&mut response, &page.csp);
    response
}

fn secure(response: &mut Response, csp: &str) {
    let headers = response.headers_mut();
    if let Ok(value) = csp.parse() {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::REFERRER_POLICY,
        "no-referrer".parse().expect("static"),
    );
}

fn not_found(message: &str) -> Response {
    let html = NOT_FOUND_PAGE
        .html
        .replace("{{MESSAGE}}", &xml_escape(message));
    let mut response = Response::builder()
        .status(StatusCode::NOT_FOUND)
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(html);
    secure(&mut response, &NOT_FOUND_PAGE.csp);
    response
}

#[handler]
pub async fn deputy_page(
    req: &Request,
    Path(code): Path<String>,
    state: Data<&AppState>,
) -> Response {
    match find_deputy(&state, &code).await {
        Ok(Some(deputy)) if deputy.active => page(req, &DEPUTY_PAGE, PAGE_CACHE),
        Ok(Some(_)) => not_found("该代表目前不接收留言"),
        Ok(None) => not_found("未找到该代表"),
        Err(response) => response,
    }
}

#[handler]
pub async fn track_page(
    req: &Request,
    Path(code): Path<String>,
    state: Data<&AppState>,
) -> Response {
    let client = super::graphql::client_of(req, state.settings.trust_proxy_headers);
    match queries::track(&state.ctx(&Actor::Anonymous, &client), &code, None).await {
        Ok(_) => page(req, &TRACK_PAGE, PAGE_CACHE),
        Err(AppError::NotFound(_) | AppError::BadUserInput { .. }) => {
            not_found("未找到该查询码对应的留言")
        }
        Err(error) => {
            tracing::error!(?error, "tracking lookup failed");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务器内部错误，请稍后再试 (internal error)\n",
            )
        }
    }
}

/// `/m/t`: type a tracking code in, or pick one saved on this device.
#[handler]
pub fn track_lookup_page(req: &Request) -> Response {
    page(req, &TRACK_PAGE, PAGE_CACHE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_assembled_and_small() {
        for page in [&*DEPUTY_PAGE, &*TRACK_PAGE, &*NOT_FOUND_PAGE] {
            assert!(!page.html.contains("/*STYLE*/"));
            assert!(!page.html.contains("/*SCRIPT*/"));
            assert!(page.html.len() < 50 * 1024, "{}", page.html.len());
            assert!(page.csp.contains("default-src 'none'"));
        }
    }

    #[test]
    fn each_page_embeds_the_manifest_operations_it_runs() {
        for (page, operations, source) in [
            (
                &*DEPUTY_PAGE,
                DEPUTY_OPERATIONS,
                include_str!("pages/deputy.js"),
            ),
            (
                &*TRACK_PAGE,
                TRACK_OPERATIONS,
                include_str!("pages/track.js"),
            ),
        ] {
            for name in operations {
                let op = persisted::operations_for_client(CLIENT)
                    .into_iter()
                    .find(|op| op.name == *name)
                    .unwrap_or_else(|| panic!("{name} is not in assets/operations/mobile/"));
                assert!(page.html.contains(&op.id), "{name}");
                // An upload goes by XMLHttpRequest (for its progress), not `S.gql`.
                assert!(
                    source.contains(&format!("S.gql('{name}'"))
                        || source.contains(&format!("OPS.{name}")),
                    "{name} is not run"
                );
            }
            // No inline document is left in the page's own code.
            assert!(!source.contains("query("), "an inline query");
            assert!(!source.contains("mutation("), "an inline mutation");
        }
    }

    #[test]
    fn the_script_hash_matches_the_inline_script() {
        let html = &DEPUTY_PAGE.html;
        let start = html.find("<script>").expect("script") + "<script>".len();
        let end = html.find("</script>").expect("end");
        assert!(DEPUTY_PAGE.csp.contains(&csp_hash(&html[start..end])));
    }
}
