//! A request id and an access line per HTTP request.
//!
//! Every request runs inside a `request` span carrying its id (the caller's
//! `X-Request-Id` when it is sane, else a new one), to which the GraphQL handler adds
//! the operation name and the actor's account id: every line the request logs carries
//! them, so an operator can follow one request through the log. The id goes back in
//! the `X-Request-Id` response header. The access line is one short line (method, path
//! without its query string, status, milliseconds): a query string may hold a GraphQL
//! document with its variables, and poem's `Tracing` wrote about 340 bytes per request.
use std::time::Instant;

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use rand::Rng;
use tracing::Instrument;

use crate::config::AccessLog;

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

pub struct RequestLog {
    pub access: AccessLog,
}

impl<E: Endpoint> Middleware<E> for RequestLog {
    type Output = RequestLogEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RequestLogEndpoint {
            inner,
            access: self.access,
        }
    }
}

pub struct RequestLogEndpoint<E> {
    inner: E,
    access: AccessLog,
}

impl<E: Endpoint> Endpoint for RequestLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let id = req
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|id| valid_request_id(id))
            .map_or_else(generate_request_id, str::to_owned);
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            operation = tracing::field::Empty,
            account_id = tracing::field::Empty,
        );
        let method = req.method().clone();
        let path = logged_path(req.uri().path()).to_owned();
        let started = Instant::now();
        let mut response = match self.inner.call(req).instrument(span.clone()).await {
            Ok(output) => output.into_response(),
            Err(error) => error.into_response(),
        };
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        let status = response.status();
        let logged = match self.access {
            AccessLog::On => true,
            AccessLog::Off => false,
            AccessLog::Sampled(rate) => status.is_server_error() || rand::random::<f64>() < rate,
        };
        if logged {
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
    fn tracking_codes_stay_out_of_the_logged_path() {
        assert_eq!(logged_path("/m/t/ABCD-1234"), "/m/t/:code");
        assert_eq!(logged_path("/graphql"), "/graphql");
        assert_eq!(logged_path("/m/d/abc"), "/m/d/abc");
    }
}
