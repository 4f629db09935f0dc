//! HTTP surface: GraphQL over HTTP and WebSocket, GraphiQL, health and readiness.
mod cors;
mod graphiql;
pub mod graphql;
mod health;
mod media;
mod metrics;
mod mobile;
pub mod qr;
mod wechat;
pub mod ws;

use poem::middleware::{CatchPanic, SizeLimit, Tracing};
use poem::{get, EndpointExt, IntoEndpoint, Route};

use crate::app::AppState;
use crate::graphql::AppSchema;

/// Largest request body accepted on `/graphql`.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub fn routes(state: AppState, schema: AppSchema) -> impl IntoEndpoint {
    let production = state.settings.production;
    let cross_origin = cors::CrossOrigin::new(
        &state.settings.cors_allowed_origins,
        state.settings.cors_max_age,
        &state.settings.public_base_url,
    );
    let mut route = Route::new()
        .at(
            "/graphql",
            get(graphql::get_graphql)
                .post(graphql::post_graphql.with(SizeLimit::new(MAX_BODY_BYTES))),
        )
        .at("/graphql/ws", get(ws::graphql_ws))
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .at("/deputies/:code/qr.png", get(qr::qr_png))
        .at("/deputies/:code/qr.svg", get(qr::qr_svg))
        .at("/deputies/:code/card.svg", get(qr::card_svg_handler))
        .at("/m/d/:code", get(mobile::deputy_page))
        .at("/m/t", get(mobile::track_lookup_page))
        .at("/m/t/:code", get(mobile::track_page))
        .at(
            "/wechat/callback",
            get(wechat::verify).post(wechat::receive),
        );
    if state.settings.metrics_bind_addr.is_none() {
        route = route.at("/metrics", get(metrics::metrics));
    }
    if !production {
        route = route
            .at("/", get(graphiql::page))
            .at("/graphiql/:file", get(graphiql::asset));
    }
    route
        .data(state)
        .data(schema)
        .with(CatchPanic::new().with_handler(panicked))
        .with(cross_origin)
        .with(Tracing)
}

/// A bug that panics in a handler still answers: a coded, generic error (logged with
/// its message), never a dropped connection or the panic's text.
fn panicked(err: Box<dyn std::any::Any + Send + 'static>) -> poem::Response {
    let message = err
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %message, "request handler panicked");
    poem::Response::builder()
        .status(poem::http::StatusCode::INTERNAL_SERVER_ERROR)
        .content_type("application/json")
        .body(
            r#"{"errors":[{"message":"Internal server error","extensions":{"code":"INTERNAL"}}]}"#,
        )
}

/// `/metrics` alone, for `METRICS_BIND_ADDR`.
pub fn metrics_routes(state: AppState) -> impl IntoEndpoint {
    Route::new()
        .at("/metrics", get(metrics::metrics))
        .data(state)
        .with(CatchPanic::new().with_handler(panicked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_answers_a_coded_internal_error_without_its_text() {
        let response = panicked(Box::new("index out of bounds: secret detail"));
        assert_eq!(
            response.status(),
            poem::http::StatusCode::INTERNAL_SERVER_ERROR
        );
        let body = response.into_body().into_string().await.unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        assert_eq!(json["errors"][0]["extensions"]["code"], "INTERNAL");
        assert!(!body.contains("secret"), "{body}");
    }
}
