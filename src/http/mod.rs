//! HTTP surface: GraphQL over HTTP and WebSocket, GraphiQL, health and readiness.
pub mod graphql;
mod health;
mod media;
mod mobile;
pub mod qr;
mod wechat;
pub mod ws;

use poem::middleware::{SizeLimit, Tracing};
use poem::web::Html;
use poem::{get, handler, EndpointExt, IntoEndpoint, Route};

use crate::app::AppState;
use crate::graphql::AppSchema;

/// Largest request body accepted on `/graphql`.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub fn routes(state: AppState, schema: AppSchema) -> impl IntoEndpoint {
    let production = state.settings.production;
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
    if !production {
        route = route.at("/", get(graphiql));
    }
    route.data(state).data(schema).with(Tracing)
}

#[handler]
fn graphiql() -> Html<String> {
    Html(
        async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("智慧人大 Smart NPC GraphQL")
            .finish(),
    )
}
