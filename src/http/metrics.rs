//! `GET /metrics`: Prometheus text format. The process's counters (`graphql::metrics`),
//! and what is read at scrape time: the outbox backlog and relay lag, the database
//! pool, the Redis circuit breaker. On the main port, or on `METRICS_BIND_ADDR` alone
//! when that is set (keep it off the public address in production).
use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, Response};
use prometheus::{Encoder, Gauge, IntCounter, IntGauge, Registry, TextEncoder};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use crate::state::AppState;

#[handler]
pub async fn metrics(state: Data<&AppState>) -> Response {
    let mut families = crate::graphql::metrics::metrics()
        .map(|m| m.registry.gather())
        .unwrap_or_default();
    match scraped(&state).await {
        Ok(registry) => families.extend(registry.gather()),
        Err(error) => tracing::warn!(%error, "metrics: some gauges could not be read"),
    }
    let mut body = Vec::new();
    if let Err(error) = TextEncoder::new().encode(&families, &mut body) {
        tracing::error!(%error, "metrics: cannot encode");
        return Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .finish();
    }
    Response::builder()
        .content_type(prometheus::TEXT_FORMAT)
        .body(body)
}

fn gauge(registry: &Registry, name: &str, help: &str, value: i64) -> Result<(), String> {
    let gauge = IntGauge::new(name, help).map_err(|e| e.to_string())?;
    gauge.set(value);
    registry
        .register(Box::new(gauge))
        .map_err(|e| e.to_string())
}

/// The gauges read now from this app's database, pool and Redis guard.
async fn scraped(state: &AppState) -> Result<Registry, String> {
    let registry = Registry::new();
    pool(&registry, &state.db)?;
    if let Some(guard) = &state.redis_guard {
        let status = guard.status();
        gauge(
            &registry,
            "smart_npc_redis_circuit_open",
            "1 while the Redis circuit breaker is open (rate limits and replay claims per process), 0 while closed",
            i64::from(status.circuit.as_str() != "closed"),
        )?;
        // A running total: a counter, so that `rate()` works on it.
        let fallbacks = IntCounter::new(
            "smart_npc_redis_fallbacks_total",
            "Calls that went on without Redis since the start",
        )
        .map_err(|e| e.to_string())?;
        fallbacks.inc_by(status.fallbacks);
        registry
            .register(Box::new(fallbacks))
            .map_err(|e| e.to_string())?;
    }
    outbox(&registry, &state.db)
        .await
        .map_err(|e| format!("outbox: {e}"))?;
    Ok(registry)
}

fn pool(registry: &Registry, db: &DatabaseConnection) -> Result<(), String> {
    let (size, idle) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::MySql => return Ok(()),
    };
    let idle = i64::try_from(idle).unwrap_or(i64::MAX);
    gauge(
        registry,
        "smart_npc_db_pool_connections",
        "Connections open in the request pool",
        i64::from(size),
    )?;
    gauge(
        registry,
        "smart_npc_db_pool_idle",
        "Idle connections in the request pool",
        idle,
    )?;
    gauge(
        registry,
        "smart_npc_db_pool_in_use",
        "Connections of the request pool in use",
        i64::from(size) - idle,
    )
}

async fn outbox(registry: &Registry, db: &DatabaseConnection) -> Result<(), String> {
    use entity::outbox_event::{Column, Entity};
    let unpublished = || Entity::find().filter(Column::PublishedAt.is_null());
    let backlog = unpublished().count(db).await.map_err(|e| e.to_string())?;
    let oldest = unpublished()
        .order_by_asc(Column::Seq)
        .one(db)
        .await
        .map_err(|e| e.to_string())?;
    gauge(
        registry,
        "smart_npc_outbox_backlog",
        "Events written to the outbox and not yet published by the relay",
        i64::try_from(backlog).unwrap_or(i64::MAX),
    )?;
    let lag = oldest.map_or(0.0, |event| {
        (chrono::Utc::now() - event.created_at)
            .num_milliseconds()
            .max(0) as f64
            / 1000.0
    });
    let gauge = Gauge::new(
        "smart_npc_outbox_relay_lag_seconds",
        "Age of the oldest event not yet published (0 when the outbox is drained)",
    )
    .map_err(|e| e.to_string())?;
    gauge.set(lag);
    registry
        .register(Box::new(gauge))
        .map_err(|e| e.to_string())
}
