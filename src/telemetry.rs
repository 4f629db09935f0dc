//! OpenTelemetry traces: the exporter and the `tracing` layer that feeds it.
//!
//! Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set (`config::Traces`): then no exporter,
//! no background thread and no layer exist. When on, the spans the code already opens
//! for logging (`request` per HTTP request, `websocket` per connection, `ws_operation`
//! per WebSocket operation) and those opened for traces only (`graphql` per operation,
//! `db.transaction` per write transaction, target prefix [`TRACE_ONLY`]) are exported
//! over OTLP/HTTP (protobuf) by the SDK's batch processor, which works on a thread of
//! its own. sqlx's statement events (SQL with `$1` placeholders, never values) become
//! events of the span that ran them. An incoming W3C `traceparent` is honoured
//! (`http::request_log`), and sampling is parent-based with `OTEL_TRACES_SAMPLER_ARG`
//! for new traces.
//!
//! Spans carry what the logs carry and no more: method, route, status, request id,
//! GraphQL operation name and type, account id; never a query string, variables, a
//! token, a password or a phone number (SECURITY.md).
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing::level_filters::LevelFilter;
use tracing::Subscriber;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::config::Traces;

/// Targets of spans opened for traces only (`otel::graphql`, `otel::db`): the log
/// leaves them out, so a log line keeps showing the request's span (its id, operation
/// and account) rather than these.
pub const TRACE_ONLY: &str = "otel::";

/// How long shutdown waits for the last spans to reach the collector.
const FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The running exporter; [`Tracer::shutdown`] sends what is still buffered.
pub struct Tracer {
    provider: SdkTracerProvider,
}

impl Tracer {
    /// Builds the exporter for `traces` and the layer that hands it spans.
    pub fn start<S>(traces: &Traces) -> Result<(Tracer, impl Layer<S>), String>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(traces.traces_url())
            .build()
            .map_err(|e| format!("OTEL_EXPORTER_OTLP_ENDPOINT: cannot build the exporter: {e}"))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                traces.sample_ratio,
            ))))
            .with_resource(
                Resource::builder()
                    .with_service_name(traces.service_name.clone())
                    .build(),
            )
            .build();
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let tracer = provider.tracer("smart-npc");
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_threads(false)
            .with_filter(exported());
        Ok((Tracer { provider }, layer))
    }

    /// Exports the spans still buffered and stops the exporter's thread (graceful
    /// shutdown; bounded by [`FLUSH_TIMEOUT`]).
    pub fn shutdown(self) {
        if let Err(error) = self.provider.shutdown_with_timeout(FLUSH_TIMEOUT) {
            tracing::warn!(%error, "traces: the last spans may not have been exported");
        }
    }
}

/// What becomes part of a trace: spans and events at `info` and above (whatever
/// `RUST_LOG` says: it filters the log only), and sqlx's statement events, which are
/// `debug` so that the log leaves them out.
fn exported() -> Targets {
    Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("sqlx::query", LevelFilter::DEBUG)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn statements_are_exported_but_not_chatter_below_info() {
        let filter = exported();
        assert!(filter.would_enable("sqlx::query", &Level::DEBUG));
        assert!(filter.would_enable("smart_npc::http::request_log", &Level::INFO));
        assert!(filter.would_enable("otel::graphql", &Level::INFO));
        assert!(!filter.would_enable("smart_npc::events::relay", &Level::DEBUG));
        assert!(!filter.would_enable("hyper::proto", &Level::TRACE));
    }
}
