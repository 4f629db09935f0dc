//! `/healthz`: the process is alive. `/readyz`: it can serve (database reachable,
//! and Redis when configured); 503 with a JSON reason otherwise.
use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{handler, IntoResponse, Response};
use serde_json::json;

use crate::app::AppState;

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
    let events = state.bus.check().await;
    let body = json!({
        "status": if database.is_ok() && events.is_ok() { "ready" } else { "unavailable" },
        "database": database.err().unwrap_or("ok"),
        "events": match &events { Ok(()) => format!("ok ({})", state.bus.describe()), Err(e) => e.clone() },
    });
    let status = if database.is_ok() && events.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Json(body).with_status(status).into_response()
}
