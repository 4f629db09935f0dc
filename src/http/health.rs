//! `/healthz`: the process is alive. `/readyz`: it can serve (database reachable,
//! and Redis when configured); 503 with a JSON reason otherwise.
use std::time::Duration;

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{handler, IntoResponse, Response};
use serde_json::json;

use crate::events::EventBus;
use crate::state::AppState;

#[handler]
pub fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

#[handler]
pub async fn readyz(state: Data<&AppState>) -> Response {
    let database =
        match tokio::time::timeout(std::time::Duration::from_secs(3), state.db.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: database ping failed");
                Err("database unreachable")
            }
            Err(_) => Err("database timed out"),
        };
    let events = match &state.bus {
        EventBus::InProcess => Ok(()),
        EventBus::Redis(bus) => redis_ready(&bus.client, state.settings.redis_timeout).await,
    };
    let mut body = json!({
        "status": if database.is_ok() && events.is_ok() { "ready" } else { "unavailable" },
        "database": database.err().unwrap_or("ok"),
        "events": match &events { Ok(()) => format!("ok ({})", state.bus.describe()), Err(e) => e.clone() },
    });
    if let Some(guard) = &state.redis_guard {
        // Rate limits and replay claims: shared through Redis while the circuit is
        // closed, per process while it is open; how many calls went without Redis.
        let status = guard.status();
        body["redisCircuit"] = json!({
            "state": status.circuit.as_str(),
            "fallbacks": status.fallbacks,
        });
    }
    let status = if database.is_ok() && events.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Json(body).with_status(status).into_response()
}

/// Whether Redis answers a `PING` on a connection of its own within `timeout` (for
/// connecting, and again for the answer). The shared connection is not used: it
/// retries a refused connection for longer than `timeout`, so a Redis that is down
/// would look merely slow. Says which: "redis timeout" (it accepts the connection
/// but does not answer: hung, frozen, overloaded) or "redis unreachable".
async fn redis_ready(client: &redis::Client, timeout: Duration) -> Result<(), String> {
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout));
    let timed_out = || format!("redis timeout: no answer within {} ms", timeout.as_millis());
    let check = async {
        let mut connection = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
    };
    // A bound of our own besides redis's two (connecting, then the answer).
    match tokio::time::timeout(timeout * 2, check).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if e.is_timeout() => Err(timed_out()),
        Ok(Err(e)) if e.is_connection_refusal() => {
            Err("redis unreachable: connection refused".into())
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: Redis failed");
            Err(format!("redis unreachable: {}", e.category()))
        }
        Err(_) => Err(timed_out()),
    }
}
