//! Cross-origin access (`CORS_ALLOWED_ORIGINS`): pages served from the listed origins
//! (a supervision dashboard, a mobile web app) may call the gateway from a browser,
//! bearer token and all; preflights from them are answered, and a request that
//! carries any other foreign `Origin` is refused with 403, the WebSocket upgrade on
//! `/graphql/ws` included (browsers always send `Origin` there).
//!
//! Left alone: requests without `Origin` (curl, mobile apps, servers: not browsers,
//! so CORS means nothing to them) and same-origin requests (GraphiQL at `/`, the
//! citizen pages under `/m/`), which browsers also mark with `Origin`. Without the
//! setting no CORS headers are sent and HTTP requests are left to the browser's own
//! same-origin rule (no credential rides on cookies that a foreign page could borrow);
//! a WebSocket upgrade from a foreign origin is refused all the same, since browsers
//! do not guard WebSockets themselves.
use std::sync::Arc;
use std::time::Duration;

use poem::http::{header, Method, StatusCode};
use poem::middleware::{Cors, CorsEndpoint};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

/// Headers a cross-origin client may send (besides the CORS-safelisted ones).
const ALLOWED_HEADERS: [&str; 4] = ["authorization", "content-type", "accept", "idempotency-key"];

/// Headers a cross-origin client may read besides the safelisted ones.
const EXPOSED_HEADERS: [&str; 3] = ["retry-after", "allow", "www-authenticate"];

pub struct CrossOrigin {
    allowed: Vec<String>,
    max_age: Duration,
    /// The origin of `PUBLIC_BASE_URL`: our own pages, also behind a proxy that
    /// rewrites `Host`.
    public_origin: Option<String>,
}

impl CrossOrigin {
    pub fn new(allowed: &[String], max_age: Duration, public_base_url: &str) -> Self {
        CrossOrigin {
            allowed: allowed.to_vec(),
            max_age,
            public_origin: url::Url::parse(public_base_url)
                .ok()
                .map(|url| url.origin().ascii_serialization()),
        }
    }
}

impl<E: Endpoint> Middleware<E> for CrossOrigin {
    type Output = CrossOriginEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        let inner = Arc::new(ep);
        let cors = (!self.allowed.is_empty()).then(|| {
            Cors::new()
                .allow_origins(self.allowed.iter().map(String::as_str))
                .allow_credentials(true)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers(ALLOWED_HEADERS)
                .expose_headers(EXPOSED_HEADERS)
                .max_age(i32::try_from(self.max_age.as_secs()).unwrap_or(i32::MAX))
                .transform(inner.clone())
        });
        CrossOriginEndpoint {
            inner,
            cors,
            public_origin: self.public_origin.clone(),
        }
    }
}

pub struct CrossOriginEndpoint<E> {
    inner: Arc<E>,
    /// None without `CORS_ALLOWED_ORIGINS`.
    cors: Option<CorsEndpoint<Arc<E>>>,
    public_origin: Option<String>,
}

impl<E> CrossOriginEndpoint<E> {
    fn same_origin(&self, req: &Request, origin: &str) -> bool {
        if self.public_origin.as_deref() == Some(origin) {
            return true;
        }
        // `Origin` is `scheme://host[:port]`; the browser wrote `Host` for the same page,
        // and the page came over the same scheme as this request (behind a proxy that
        // ends TLS, `PUBLIC_BASE_URL` above says which origin is ours).
        let Some((scheme, authority)) = origin.split_once("://") else {
            return false;
        };
        scheme.eq_ignore_ascii_case(req.scheme().as_str())
            && req
                .headers()
                .get(header::HOST)
                .and_then(|host| host.to_str().ok())
                .is_some_and(|host| !host.is_empty() && host.eq_ignore_ascii_case(authority))
    }
}

impl<E: Endpoint> Endpoint for CrossOriginEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let foreign = match req.headers().get(header::ORIGIN).map(|o| o.to_str()) {
            None => false,
            Some(Ok(origin)) => !self.same_origin(&req, origin),
            // Not text: not an origin we list; let the CORS check refuse it.
            Some(Err(_)) => true,
        };
        match (&self.cors, foreign) {
            (_, false) => self.inner.call(req).await.map(IntoResponse::into_response),
            // Coded like every other refusal (browsers show a failed preflight's
            // status only; a non-browser client sending `Origin` reads the code).
            (Some(cors), true) => Ok(cors
                .call(req)
                .await
                .unwrap_or_else(|error| origin_refused(&error.to_string()))),
            // No list: browsers keep foreign pages from reading HTTP answers by
            // themselves, but not from opening a WebSocket, so the upgrade is refused
            // here (the list is empty, so every foreign origin is outside it).
            (None, true) if is_websocket_upgrade(&req) => {
                Ok(origin_refused("cross-origin WebSocket"))
            }
            (None, true) => self.inner.call(req).await.map(IntoResponse::into_response),
        }
    }
}

fn is_websocket_upgrade(req: &Request) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|u| u.to_str().ok())
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
}

fn origin_refused(what: &str) -> Response {
    Response::builder()
        .status(StatusCode::FORBIDDEN)
        .content_type("application/json")
        .body(
            serde_json::json!({ "errors": [{
                "message": format!("{what}: the Origin is not in CORS_ALLOWED_ORIGINS"),
                "extensions": { "code": "FORBIDDEN", "reason": "ORIGIN_NOT_ALLOWED" }
            }] })
            .to_string(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::{handler, EndpointExt};

    #[handler]
    fn hello() -> &'static str {
        "hello"
    }

    fn app(allowed: &[&str]) -> impl Endpoint<Output = Response> {
        let allowed: Vec<String> = allowed.iter().map(|o| o.to_string()).collect();
        hello.with(CrossOrigin::new(
            &allowed,
            Duration::from_secs(600),
            "https://npc.example.org",
        ))
    }

    async fn status(ep: &impl Endpoint<Output = Response>, origin: &str, host: &str) -> StatusCode {
        let req = Request::builder()
            .header(header::ORIGIN, origin)
            .header(header::HOST, host)
            .finish();
        match ep.call(req).await {
            Ok(response) => response.status(),
            Err(error) => error.status(),
        }
    }

    #[tokio::test]
    async fn own_pages_pass_and_strangers_are_refused_when_a_list_is_set() {
        let ep = app(&["https://dash.example.org"]);
        let host = "127.0.0.1:8000";
        assert_eq!(
            status(&ep, "https://dash.example.org", host).await,
            StatusCode::OK
        );
        assert_eq!(
            status(&ep, "http://127.0.0.1:8000", host).await,
            StatusCode::OK
        );
        assert_eq!(
            status(&ep, "https://npc.example.org", "backend:8000").await,
            StatusCode::OK
        );
        assert_eq!(
            status(&ep, "https://evil.example", host).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(&ep, "http://127.0.0.1:9", host).await,
            StatusCode::FORBIDDEN
        );
        // Same host, other scheme: another origin (this request came over plain HTTP).
        assert_eq!(
            status(&ep, "https://127.0.0.1:8000", host).await,
            StatusCode::FORBIDDEN
        );
    }

    #[tokio::test]
    async fn without_a_list_nothing_is_checked() {
        let ep = app(&[]);
        assert_eq!(
            status(&ep, "https://evil.example", "h").await,
            StatusCode::OK
        );
    }
}
