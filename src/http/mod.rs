//! HTTP surface: GraphQL over HTTP and WebSocket, GraphiQL, health and readiness.
mod archive;
mod cors;
pub mod dashboard;
mod embedded;
mod exports;
mod files;
mod graphiql;
pub mod graphql;
mod health;
mod media;
mod metrics;
mod mobile;
mod multipart;
mod open311;
mod open_data;
pub mod qr;
mod request_log;
mod templates;
mod wechat;
mod write_outcome;
pub mod ws;

use poem::middleware::CatchPanic;
use poem::{get, EndpointExt, IntoEndpoint, Route};

use crate::graphql::persisted::PersistedQueries;
use crate::graphql::AppSchema;
use crate::limits::replay::ReplayGuard;
use crate::links::route;
use crate::state::AppState;

/// Largest request body accepted on `/graphql`.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The shared state and what only HTTP handlers use: WebSocket bookkeeping and the
/// WeChat callback's replay claims. Handlers that need nothing of the latter take
/// [`AppState`]; both are in the routes' data. Cheap to clone.
#[derive(Clone)]
pub struct HttpState {
    pub app: AppState,
    /// Subscriptions on `/graphql/ws`, shared by identical operations.
    pub ws_operations: ws::operation::SharedOperations,
    /// `/graphql/ws` connections per address, and the context data their operations share.
    pub ws: ws::Sockets,
    /// `/wechat/callback`'s claimed `(timestamp, nonce)` pairs (Redis when configured).
    pub wechat_replay: ReplayGuard,
    /// Documents known by hash (APQ, shared through Redis) and the manifest mode.
    pub persisted: PersistedQueries,
}

impl HttpState {
    pub fn new(app: AppState) -> Self {
        let window = app.settings.wechat.as_ref().map_or(
            std::time::Duration::from_secs(crate::config::DEFAULT_WECHAT_WINDOW_SECS),
            |w| w.timestamp_window,
        );
        HttpState {
            ws_operations: ws::operation::SharedOperations::default(),
            ws: ws::Sockets::new(app.live.settings()),
            wechat_replay: ReplayGuard::new(
                app.redis_guard.clone(),
                &app.settings.redis_prefix,
                window,
            ),
            persisted: PersistedQueries::new(
                &app.settings.persisted_queries,
                app.redis_guard.clone(),
                &app.settings.redis_prefix,
            ),
            app,
        }
    }
}

/// An HTTP handler may read everything shared as well (`state.db`, `state.live`, ...).
impl std::ops::Deref for HttpState {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.app
    }
}

pub fn routes(state: HttpState, schema: AppSchema) -> impl IntoEndpoint {
    let production = state.settings.production;
    let access = state.settings.access_log;
    let traced = state.settings.traces.is_some();
    let cross_origin = cors::CrossOrigin::new(
        &state.settings.cors_allowed_origins,
        state.settings.cors_max_age,
        &state.settings.public_base_url,
    );
    let mut route = Route::new()
        .at(
            "/graphql",
            get(graphql::get_graphql).post(graphql::body_limit(
                graphql::post_graphql,
                MAX_BODY_BYTES,
                state.settings.uploads.max_request_bytes,
            )),
        )
        .at(route::FILE, get(files::file))
        .at(route::FILE_THUMBNAIL, get(files::thumbnail))
        .at("/graphql/ws", get(ws::graphql_ws))
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .at(route::DEPUTY_QR_PNG, get(qr::qr_png))
        .at(route::DEPUTY_QR_SVG, get(qr::qr_svg))
        .at(route::DEPUTY_CARD_SVG, get(qr::card_svg_handler))
        .at(route::DEPUTY_ARCHIVE, get(archive::page))
        .at(route::DEPUTY_MESSAGE_PAGE, get(mobile::deputy_page))
        .at(route::TRACK_LOOKUP_PAGE, get(mobile::track_lookup_page))
        .at(route::TRACK_PAGE, get(mobile::track_page))
        .at(
            "/wechat/callback",
            get(wechat::verify).post(wechat::receive),
        )
        .at("/import/templates/:file", get(templates::download))
        .at(
            "/open311/v2/:file",
            get(open311::list).post(open311::create),
        )
        .at("/open311/v2/services/:file", get(open311::definition))
        .at("/open311/v2/requests/:file", get(open311::request))
        .at("/open-data/:file", get(open_data::serve))
        .at("/exports/:file", get(exports::download));
    if state.settings.metrics_bind_addr.is_none() {
        route = route.at("/metrics", get(metrics::metrics));
    }
    if state.settings.dashboard_enabled {
        route = route
            .at("/dashboard", get(dashboard::page))
            .at("/dashboard/:file", get(dashboard::asset));
    }
    if !production {
        route = route
            .at("/", get(graphiql::page))
            .at("/graphiql/:file", get(graphiql::asset));
    }
    route
        .data(state.app.clone())
        .data(state)
        .data(schema)
        .with(CatchPanic::new().with_handler(panicked))
        .with(cross_origin)
        .with(request_log::RequestLog { access, traced })
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

/// `/metrics` alone, for `METRICS_BIND_ADDR`: with a request id and an access line as
/// on the main port.
pub fn metrics_routes(state: AppState) -> impl IntoEndpoint {
    let access = state.settings.access_log;
    let traced = state.settings.traces.is_some();
    Route::new()
        .at("/metrics", get(metrics::metrics))
        .data(state)
        .with(CatchPanic::new().with_handler(panicked))
        .with(request_log::RequestLog { access, traced })
}

/// `METRICS_BIND_ADDR`: `/metrics` on a listener of its own (an internal address the
/// scraper reaches, apart from the public port). It lives as long as the process.
pub async fn serve_metrics(
    addr: std::net::SocketAddr,
    state: crate::state::AppState,
) -> Result<(), String> {
    use poem::listener::Listener;
    let acceptor = poem::listener::TcpListener::bind(addr)
        .into_acceptor()
        .await
        .map_err(|e| format!("cannot listen on METRICS_BIND_ADDR {addr}: {e}"))?;
    tracing::info!(%addr, "metrics at /metrics");
    tokio::spawn(async move {
        if let Err(error) = poem::Server::new_with_acceptor(acceptor)
            .run(metrics_routes(state))
            .await
        {
            tracing::error!(%error, "metrics listener stopped");
        }
    });
    Ok(())
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
