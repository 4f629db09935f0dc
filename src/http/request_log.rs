//! A request id and an access line per HTTP request.
//!
//! Every request runs inside a `request` span carrying its id (the caller's
//! `X-Request-Id` when it is sane, else a new one), to which the GraphQL handler adds
//! the operation name and the actor's account id: every line the request logs carries
//! them, so an operator can follow one request through the log. The id goes back in
//! the `X-Request-Id` response header. The access line is one short line (method, path
//! without its query string, status, milliseconds): a query string may hold a GraphQL
//! document with its variables, and poem's `Tracing` wrote about 340 bytes per request.
//!
//! With traces on (`OTEL_EXPORTER_OTLP_ENDPOINT`), the same span is the request's
//! server span: named `METHOD route` (the route pattern, never the path's values or the
//! query string), with the status, and the child of the caller's span when the request
//! carries a W3C `traceparent`. The WebSocket handler reads the id from the request's
//! extensions ([`RequestId`]) for its connection's and operations' spans.
use std::time::Instant;

use opentelemetry::propagation::Extractor;
use poem::http::{HeaderMap, HeaderValue};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use rand::Rng;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::config::AccessLog;
use crate::links::route;

/// The request's id, in the request's extensions for the handlers.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub const REQUEST_ID: &str = "x-request-id";

/// The longest `X-Request-Id` taken from a caller.
const MAX_ID_LEN: usize = 128;

/// The caller's id when it is one a log line can carry as it is: 1 to 128 characters
/// of `A-Z a-z 0-9 . _ : -` (no spaces, quotes or control characters to forge lines with).
pub fn valid_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// A new id: 128 random bits in hex.
fn generate_request_id() -> String {
    format!("{:032x}", rand::thread_rng().gen::<u128>())
}

/// The path as the log shows it: a tracking code in `/m/t/<code>` lets whoever holds it
/// follow a citizen's message, so it stays out of the log.
fn logged_path(path: &str) -> &str {
    if path.starts_with("/m/t/") {
        "/m/t/:code"
    } else {
        path
    }
}

/// The routes served, for the span's `http.route`: a path of none of them (a 404) is
/// `unknown`, so that made-up paths never become span names.
const ROUTES: &[&str] = &[
    "/",
    "/graphql",
    "/graphql/ws",
    "/graphiql/:file",
    "/dashboard",
    "/dashboard/:file",
    "/healthz",
    "/readyz",
    "/metrics",
    "/wechat/callback",
    "/import/templates/:file",
    "/open311/v2/:file",
    "/open311/v2/services/:file",
    "/open311/v2/requests/:file",
    "/open-data/:file",
    "/exports/:file",
    route::FILE,
    route::FILE_THUMBNAIL,
    route::DEPUTY_ARCHIVE,
    route::DEPUTY_QR_PNG,
    route::DEPUTY_QR_SVG,
    route::DEPUTY_CARD_SVG,
    route::DEPUTY_MESSAGE_PAGE,
    route::TRACK_LOOKUP_PAGE,
    route::TRACK_PAGE,
];

/// The route pattern `path` matches (`/deputies/:code/qr.png`), or `unknown`.
fn route_of(path: &str) -> &'static str {
    let segments: Vec<&str> = path.split('/').collect();
    ROUTES
        .iter()
        .find(|pattern| {
            let pattern: Vec<&str> = pattern.split('/').collect();
            pattern.len() == segments.len()
                && pattern
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| p == s || (p.starts_with(':') && !s.is_empty()))
        })
        .copied()
        .unwrap_or("unknown")
}

/// Whether this request's access line is written.
pub fn access_logged(access: AccessLog, always: bool) -> bool {
    match access {
        AccessLog::On => true,
        AccessLog::Off => false,
        AccessLog::Sampled(rate) => always || rand::random::<f64>() < rate,
    }
}

/// The request's headers, as OpenTelemetry's propagator reads them (`traceparent`,
/// `tracestate`).
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

pub struct RequestLog {
    pub access: AccessLog,
    /// Traces are exported: the span gets its server attributes and its caller's parent.
    pub traced: bool,
}

impl<E: Endpoint> Middleware<E> for RequestLog {
    type Output = RequestLogEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RequestLogEndpoint {
            inner,
            access: self.access,
            traced: self.traced,
        }
    }
}

pub struct RequestLogEndpoint<E> {
    inner: E,
    access: AccessLog,
    traced: bool,
}

impl<E: Endpoint> Endpoint for RequestLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let id = req
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|id| valid_request_id(id))
            .map_or_else(generate_request_id, str::to_owned);
        // The server attributes are recorded only with traces on: a log line shows
        // the span's recorded fields, and the log has its access line for them.
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            operation = tracing::field::Empty,
            account_id = tracing::field::Empty,
            otel.name = tracing::field::Empty,
            otel.kind = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            http.request.method = tracing::field::Empty,
            http.route = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
        );
        let method = req.method().clone();
        let path = logged_path(req.uri().path()).to_owned();
        if self.traced {
            let route = route_of(req.uri().path());
            span.record("otel.name", format!("{method} {route}").as_str());
            span.record("otel.kind", "server");
            span.record("http.request.method", method.as_str());
            span.record("http.route", route);
            if req.headers().contains_key("traceparent") {
                let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
                    propagator.extract(&Headers(req.headers()))
                });
                // Refused only if the span were started already or traces were off.
                let _ = span.set_parent(parent);
            }
        }
        req.extensions_mut().insert(RequestId(id.clone()));
        let started = Instant::now();
        let mut response = match self.inner.call(req).instrument(span.clone()).await {
            Ok(output) => output.into_response(),
            Err(error) => error.into_response(),
        };
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        let status = response.status();
        if self.traced {
            span.record("http.response.status_code", status.as_u16());
            if status.is_server_error() {
                span.record("otel.status_code", "error");
            }
        }
        if access_logged(self.access, status.is_server_error()) {
            let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            span.in_scope(|| {
                tracing::info!(target: "smart_npc::access", %method, path, status = status.as_u16(), ms, "request");
            });
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_request_id_is_kept() {
        for id in [
            "test-123",
            "a",
            "0af7651916cd43dd8448eb211c80319c",
            "trace:1.2_3-4",
        ] {
            assert!(valid_request_id(id), "{id}");
        }
        assert!(valid_request_id(&"x".repeat(128)));
    }

    #[test]
    fn an_odd_request_id_is_replaced() {
        for id in [
            "",
            "has space",
            "quote\"",
            "line\nbreak",
            "semi;colon",
            "slash/",
            "中文",
            "{\"json\":1}",
        ] {
            assert!(!valid_request_id(id), "{id:?}");
        }
        assert!(!valid_request_id(&"x".repeat(129)));
    }

    #[test]
    fn generated_ids_are_sane_and_differ() {
        let (a, b) = (generate_request_id(), generate_request_id());
        assert!(valid_request_id(&a), "{a}");
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn a_span_names_the_route_not_the_values_in_the_path() {
        assert_eq!(route_of("/graphql"), "/graphql");
        assert_eq!(route_of("/m/t/ABCD-1234"), "/m/t/:code");
        assert_eq!(route_of("/m/t"), "/m/t");
        assert_eq!(
            route_of("/deputies/hs-001/qr.png"),
            "/deputies/:code/qr.png"
        );
        assert_eq!(route_of("/graphiql/app.js"), "/graphiql/:file");
        assert_eq!(route_of("/"), "/");
        for made_up in ["/admin", "/graphql/x", "/deputies//qr.png", "/m/t/a/b", ""] {
            assert_eq!(route_of(made_up), "unknown", "{made_up}");
        }
    }

    /// Every route the router serves (`src/http/mod.rs`) has its name here: a new route
    /// missing from [`ROUTES`] would be logged and traced as `unknown`.
    #[test]
    fn every_served_route_is_named() {
        let router = include_str!("mod.rs");
        let mut served = Vec::new();
        for (i, _) in router.match_indices(".at(") {
            let rest = router[i + 4..].trim_start();
            let end = rest.find([',', ')']).unwrap_or(rest.len());
            let target = rest[..end].trim();
            let path = match target.strip_prefix("route::") {
                Some(name) => match name {
                    "FILE" => route::FILE,
                    "FILE_THUMBNAIL" => route::FILE_THUMBNAIL,
                    "DEPUTY_QR_PNG" => route::DEPUTY_QR_PNG,
                    "DEPUTY_QR_SVG" => route::DEPUTY_QR_SVG,
                    "DEPUTY_CARD_SVG" => route::DEPUTY_CARD_SVG,
                    "DEPUTY_ARCHIVE" => route::DEPUTY_ARCHIVE,
                    "DEPUTY_MESSAGE_PAGE" => route::DEPUTY_MESSAGE_PAGE,
                    "TRACK_LOOKUP_PAGE" => route::TRACK_LOOKUP_PAGE,
                    "TRACK_PAGE" => route::TRACK_PAGE,
                    other => panic!("route::{other} is not known to this test"),
                },
                None => target.trim_matches('"'),
            };
            served.push(path.to_owned());
        }
        assert!(served.len() > 20, "{served:?}");
        for path in &served {
            assert!(
                ROUTES.contains(&path.as_str()),
                "{path} is missing from ROUTES"
            );
        }
        assert_eq!(
            route_of("/open311/v2/requests/12.json"),
            "/open311/v2/requests/:file"
        );
        assert_eq!(
            route_of("/deputies/ABCDEFGH/archive/2025"),
            route::DEPUTY_ARCHIVE
        );
    }

    #[test]
    fn tracking_codes_stay_out_of_the_logged_path() {
        assert_eq!(logged_path("/m/t/ABCD-1234"), "/m/t/:code");
        assert_eq!(logged_path("/graphql"), "/graphql");
        assert_eq!(logged_path("/m/d/abc"), "/m/d/abc");
    }
}
