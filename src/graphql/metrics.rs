//! Prometheus metrics of the process: GraphQL operations by name and outcome code with
//! their latency, WebSocket connections and the operations running on them. One set
//! per process, as Prometheus scrapes processes (the prometheus crate's own default
//! registry works the same way); what belongs to an app's database or Redis is read
//! when `/metrics` is scraped (`http::metrics`).
use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextRequest,
};
use async_graphql::parser::types::ExecutableDocument;

use super::response_order::chosen_operation;
use async_graphql::{Request, Response, ServerResult, Variables};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};

/// Operation names are chosen by clients: past this many distinct ones, the rest are
/// counted as `other`, so that a client cannot grow the metrics without bound.
pub const MAX_OPERATION_NAMES: usize = 200;
/// Longer operation names count as "other": a label is printed in every series of a scrape.
pub const MAX_OPERATION_NAME_LEN: usize = 64;

pub struct Metrics {
    pub registry: Registry,
    operations: IntCounterVec,
    latency: HistogramVec,
    websocket_connections: IntGauge,
    websocket_operations: IntGauge,
    timeouts: IntCounterVec,
    names: Mutex<HashSet<String>>,
}

/// What became of an operation that ran past `REQUEST_TIMEOUT_MS`.
#[derive(Clone, Copy, Debug)]
pub enum TimeoutOutcome {
    /// Stopped and answered TIMEOUT: it had begun no write.
    Stopped,
    /// It had begun a write, so it was answered when the write ended.
    WaitedForWrite,
}

impl TimeoutOutcome {
    fn label(self) -> &'static str {
        match self {
            TimeoutOutcome::Stopped => "stopped",
            TimeoutOutcome::WaitedForWrite => "waited_for_write",
        }
    }
}

/// Counts an operation that ran past its timeout.
pub fn timed_out(outcome: TimeoutOutcome) {
    if let Some(metrics) = metrics() {
        metrics.timeouts.with_label_values(&[outcome.label()]).inc();
    }
}

static METRICS: LazyLock<Option<Metrics>> = LazyLock::new(|| match Metrics::new() {
    Ok(metrics) => Some(metrics),
    Err(error) => {
        tracing::error!(%error, "metrics unavailable");
        None
    }
});

/// The process's metrics (`None` only if they could not be registered, which is a bug).
pub fn metrics() -> Option<&'static Metrics> {
    METRICS.as_ref()
}

impl Metrics {
    fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let operations = IntCounterVec::new(
            Opts::new(
                "smart_npc_graphql_operations_total",
                "GraphQL operations (HTTP, and queries and mutations over WebSocket) by operation name and outcome code (OK, or the first error's extensions.code)",
            ),
            &["operation", "code"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "smart_npc_graphql_operation_duration_seconds",
                "Time to answer a GraphQL operation, parsing to response",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0,
            ]),
            &["operation"],
        )?;
        let websocket_connections = IntGauge::new(
            "smart_npc_websocket_connections",
            "Open connections on /graphql/ws",
        )?;
        let websocket_operations = IntGauge::new(
            "smart_npc_websocket_active_operations",
            "Operations running on /graphql/ws connections: active subscriptions, and queries or mutations in flight",
        )?;
        let timeouts = IntCounterVec::new(
            Opts::new(
                "smart_npc_graphql_timeouts_total",
                "GraphQL operations that ran past REQUEST_TIMEOUT_MS, by outcome: stopped (answered TIMEOUT, nothing written) or waited_for_write (a write had begun: answered when it ended)",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(timeouts.clone()))?;
        registry.register(Box::new(operations.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(websocket_connections.clone()))?;
        registry.register(Box::new(websocket_operations.clone()))?;
        Ok(Metrics {
            registry,
            operations,
            latency,
            websocket_connections,
            websocket_operations,
            timeouts,
            names: Mutex::default(),
        })
    }

    fn observe(&self, operation: &str, code: &str, elapsed: Duration) {
        let operation = self.bounded(operation);
        self.operations.with_label_values(&[&operation, code]).inc();
        self.latency
            .with_label_values(&[&operation])
            .observe(elapsed.as_secs_f64());
    }

    fn bounded(&self, operation: &str) -> String {
        let Ok(mut names) = self.names.lock() else {
            return "other".into();
        };
        if operation.len() > MAX_OPERATION_NAME_LEN {
            return "other".into();
        }
        if names.contains(operation) {
            return operation.to_owned();
        }
        if names.len() >= MAX_OPERATION_NAMES {
            return "other".into();
        }
        names.insert(operation.to_owned());
        operation.to_owned()
    }
}

/// Counts an open WebSocket connection while it lives.
pub struct ConnectionGauge(());

impl ConnectionGauge {
    pub fn open() -> Self {
        if let Some(m) = metrics() {
            m.websocket_connections.inc();
        }
        ConnectionGauge(())
    }
}

impl Drop for ConnectionGauge {
    fn drop(&mut self) {
        if let Some(m) = metrics() {
            m.websocket_connections.dec();
        }
    }
}

/// One connection's share of the running-operations gauge, kept in step by `sync`.
#[derive(Default)]
pub struct OperationsGauge {
    reported: i64,
}

impl OperationsGauge {
    pub fn sync(&mut self, running: usize) {
        let running = i64::try_from(running).unwrap_or(i64::MAX);
        if let Some(m) = metrics() {
            m.websocket_operations.add(running - self.reported);
        }
        self.reported = running;
    }
}

impl Drop for OperationsGauge {
    fn drop(&mut self) {
        self.sync(0);
    }
}

/// Counts and times every operation the schema executes.
pub struct OperationMetrics;

impl ExtensionFactory for OperationMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationMetricsExtension::default())
    }
}

#[derive(Default)]
struct OperationMetricsExtension {
    /// The request's `operationName`, as sent: only a key to look up in the document.
    requested: Mutex<Option<String>>,
    /// The label: the name of the operation the document really holds and the request
    /// runs ("anonymous" when unnamed); unset for a request that never got that far.
    name: Mutex<Option<String>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for OperationMetricsExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let response = next.run(ctx).await;
        if let Some(m) = metrics() {
            let name = self.name.lock().ok().and_then(|n| n.clone());
            let code = match response.errors.first() {
                None => "OK",
                Some(error) => match error.extensions.as_ref().and_then(|e| e.get("code")) {
                    Some(async_graphql::Value::String(code)) => code.as_str(),
                    _ => "ERROR",
                },
            };
            // A request that did not parse or named no operation of its document is
            // "invalid": a client's made-up `operationName` never becomes a label.
            m.observe(
                name.as_deref().unwrap_or("invalid"),
                code,
                started.elapsed(),
            );
        }
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if let Ok(mut requested) = self.requested.lock() {
            requested.clone_from(&request.operation_name);
        }
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let requested = self.requested.lock().ok().and_then(|r| r.clone());
        if let (Ok(mut name), Some((chosen, _))) = (
            self.name.lock(),
            chosen_operation(&document, requested.as_deref()),
        ) {
            // The HTTP request's span (`http::request_log`) names the operation too: a
            // name the document holds, so one a caller made up never reaches the log.
            if let Some(chosen) = chosen {
                tracing::Span::current().record("operation", chosen);
            }
            *name = Some(chosen.unwrap_or("anonymous").to_owned());
        }
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_chosen_operation_names_cannot_grow_the_metrics_without_bound() {
        let metrics = Metrics::new().expect("registers");
        for i in 0..MAX_OPERATION_NAMES + 5 {
            metrics.observe(&format!("Flood{i}"), "OK", Duration::from_millis(1));
        }
        metrics.observe("Flood0", "OK", Duration::from_millis(1));
        let families = metrics.registry.gather();
        let operations = families
            .iter()
            .find(|f| f.name() == "smart_npc_graphql_operations_total")
            .expect("the counter");
        let names: HashSet<&str> = operations
            .get_metric()
            .iter()
            .flat_map(|m| m.get_label())
            .filter(|l| l.name() == "operation")
            .map(|l| l.value())
            .collect();
        assert_eq!(names.len(), MAX_OPERATION_NAMES + 1);
        assert!(names.contains("other") && names.contains("Flood0"));
    }
}
