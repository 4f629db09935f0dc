//! GraphQL over WebSocket on `/graphql/ws` (`graphql-transport-ws` and the legacy
//! `graphql-ws`). The access token travels in the `connection_init` payload as
//! `{"token": "..."}` (or `{"Authorization": "Bearer ..."}`) and is checked before the
//! connection is acknowledged.
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::Data;
use async_graphql_poem::{GraphQLProtocol, GraphQLWebSocket};
use poem::web::websocket::WebSocket;
use poem::web::Data as PoemData;
use poem::{handler, IntoResponse, Request};

use crate::app::AppState;
use crate::auth::Actor;
use crate::graphql::{loaders, AppSchema};
use crate::http::graphql::client_of;
use crate::service::accounts;

fn token_of(payload: &serde_json::Value) -> Option<String> {
    let token = payload
        .get("token")
        .and_then(|t| t.as_str())
        .map(str::to_owned);
    token.or_else(|| {
        payload
            .get("Authorization")
            .or_else(|| payload.get("authorization"))
            .and_then(|a| a.as_str())
            .and_then(|a| a.strip_prefix("Bearer "))
            .map(str::to_owned)
    })
}

#[handler]
pub async fn graphql_ws(
    req: &Request,
    websocket: WebSocket,
    protocol: GraphQLProtocol,
    state: PoemData<&AppState>,
    schema: PoemData<&AppSchema>,
) -> impl IntoResponse {
    let state = state.clone();
    let schema = schema.clone();
    let client = client_of(req, state.settings.trust_proxy_headers);
    websocket
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            GraphQLWebSocket::new(stream, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let actor = match token_of(&payload) {
                        Some(token) => accounts::actor_for_token(&state.db, &state.auth, &token)
                            .await
                            .map_err(|e| async_graphql::Error::new(e.public_message()))?,
                        None => Actor::Anonymous,
                    };
                    let mut data = Data::default();
                    loaders::register_into(&mut data, &state.db, false);
                    data.insert(actor);
                    data.insert(client);
                    Ok(data)
                })
                .serve()
        })
}
