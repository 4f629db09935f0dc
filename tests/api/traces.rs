//! OpenTelemetry traces, as a collector receives them: the real binary exports to an
//! OTLP/HTTP receiver this test runs (protobuf `ExportTraceServiceRequest`, decoded
//! with `opentelemetry-proto`), and flushes what it holds when it stops.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;
use poem::EndpointExt;
use prost::Message;
use serde_json::{json, Value};

use crate::helpers::DEMO_PASSWORD;
use crate::logs::{echoed_id, launch, post};
use crate::ws_client::Ws;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN_ID: &str = "00f067aa0ba902b7";

/// One export as received: its content type, path and body.
type Received = (String, String, Vec<u8>);

/// What the receiver got.
#[derive(Clone, Default)]
struct Exports(Arc<Mutex<Vec<Received>>>);

#[poem::handler]
async fn export(
    req: &poem::Request,
    body: Vec<u8>,
    poem::web::Data(exports): poem::web::Data<&Exports>,
) -> poem::Response {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    exports
        .0
        .lock()
        .unwrap()
        .push((content_type, req.uri().path().to_owned(), body));
    // An empty `ExportTraceServiceResponse`: everything accepted.
    poem::Response::builder()
        .content_type("application/x-protobuf")
        .body(Vec::<u8>::new())
}

/// A local OTLP/HTTP receiver on a free port.
async fn receiver() -> (SocketAddr, Exports) {
    use poem::listener::{Acceptor, Listener};
    let exports = Exports::default();
    let acceptor = poem::listener::TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let app = poem::Route::new()
        .at("/v1/traces", poem::post(export))
        .data(exports.clone());
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    (addr, exports)
}

/// SIGTERM (the graceful path that flushes the exporter); the exit status and stderr.
async fn stop(child: tokio::process::Child) -> (std::process::ExitStatus, String) {
    let pid = child.id().unwrap().to_string();
    let kill = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(kill.success());
    // The timeout only guards against a hang.
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("exits after SIGTERM")
        .unwrap();
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    let value = attributes.iter().find(|a| a.key == key)?.value.as_ref()?;
    match value.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        any_value::Value::BoolValue(b) => Some(b.to_string()),
        any_value::Value::DoubleValue(d) => Some(d.to_string()),
        _ => None,
    }
}

/// Every span exported, with its resource's `service.name`.
fn spans(exports: &Exports) -> Vec<(String, Span)> {
    let exports = exports.0.lock().unwrap();
    let mut spans = Vec::new();
    for (content_type, path, body) in exports.iter() {
        assert_eq!(content_type, "application/x-protobuf");
        assert_eq!(path, "/v1/traces");
        let request = ExportTraceServiceRequest::decode(body.as_slice()).expect("protobuf");
        for resource_spans in request.resource_spans {
            let service = resource_spans
                .resource
                .as_ref()
                .and_then(|r| attribute(&r.attributes, "service.name"))
                .unwrap_or_default();
            for scope_spans in resource_spans.scope_spans {
                for span in scope_spans.spans {
                    spans.push((service.clone(), span));
                }
            }
        }
    }
    spans
}

fn find<'s>(spans: &'s [(String, Span)], what: &str, test: impl Fn(&Span) -> bool) -> &'s Span {
    spans
        .iter()
        .map(|(_, span)| span)
        .find(|span| test(span))
        .unwrap_or_else(|| {
            let names: Vec<&str> = spans.iter().map(|(_, s)| s.name.as_str()).collect();
            panic!("no {what} among the exported spans {names:?}")
        })
}

/// `span` and the spans under it.
fn subtree<'s>(spans: &'s [(String, Span)], root: &'s Span) -> Vec<&'s Span> {
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i].span_id.clone();
        found.extend(
            spans
                .iter()
                .map(|(_, s)| s)
                .filter(|s| s.parent_span_id == parent && s.trace_id == root.trace_id),
        );
        i += 1;
    }
    found
}

/// With `OTEL_EXPORTER_OTLP_ENDPOINT` set: the HTTP request's span continues the caller's
/// trace (`traceparent`), the GraphQL operation's span is its child, named by the
/// operation with its type, and the database statements it ran are inside it; a write
/// has its transaction's span; a WebSocket operation has a span of its own; the spans
/// buffered at SIGTERM reach the collector; no secret and no query string is exported.
#[tokio::test]
async fn spans_reach_an_otlp_receiver_and_continue_the_callers_trace() {
    let (collector, exports) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://{collector}");
    let (child, base, client) = launch(
        dir.path(),
        &[
            ("AUTO_SEED_DEMO", "true"),
            // Traces do not depend on the log's filter.
            ("RUST_LOG", "warn"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_SERVICE_NAME", "npc-trace-test"),
        ],
    )
    .await;
    let url = format!("{base}/graphql");
    let sign_in = post(
        &client,
        &url,
        Some("trace-signin"),
        None,
        json!({
            "query": "mutation SignIn($l: String!, $p: String!) { signIn(login: $l, password: $p) { accessToken } }",
            "variables": { "l": "+86 139-0000-0001", "p": DEMO_PASSWORD },
        }),
    )
    .await;
    let body: Value = sign_in.json().await.unwrap();
    let token = body["data"]["signIn"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();

    let me = client
        .post(&url)
        .header("X-Request-Id", "trace-me")
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN_ID}-01"))
        .bearer_auth(&token)
        .json(&json!({ "query": "query WhoAmI { me { id login } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(echoed_id(&me), "trace-me");
    let me: Value = me.json().await.unwrap();
    assert!(me["data"]["me"]["id"].is_string(), "{me}");
    let health = client
        .get(format!("{base}/healthz?probe=zz9q"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let addr: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let mut ws = Ws::open_with_headers(
        addr,
        "graphql-transport-ws",
        &[("X-Request-Id", "trace-ws")],
    )
    .await;
    ws.init(Some(&token)).await;
    ws.subscribe("w1", "query WsWho { me { id } }", json!({}))
        .await;
    assert!(ws.next_data("w1").await["me"]["id"].is_string());
    assert_eq!(ws.json().await["type"], "complete");
    ws.close().await;
    drop(client);

    let (status, stderr) = stop(child).await;
    assert!(status.success(), "{status}: {stderr}");
    let spans = spans(&exports);

    // The HTTP request's span: the caller's trace, the caller's span as parent.
    let http = find(&spans, "POST /graphql span for trace-me", |s| {
        attribute(&s.attributes, "request_id").as_deref() == Some("trace-me")
    });
    assert_eq!(http.name, "POST /graphql");
    assert_eq!(hex::encode(&http.trace_id), TRACE_ID);
    assert_eq!(hex::encode(&http.parent_span_id), CALLER_SPAN_ID);
    assert_eq!(http.kind, SpanKind::Server as i32);
    assert_eq!(
        attribute(&http.attributes, "http.request.method").as_deref(),
        Some("POST")
    );
    assert_eq!(
        attribute(&http.attributes, "http.route").as_deref(),
        Some("/graphql")
    );
    assert_eq!(
        attribute(&http.attributes, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(
        attribute(&http.attributes, "operation").as_deref(),
        Some("WhoAmI")
    );

    // The operation's span, its child.
    let graphql = find(&spans, "query WhoAmI span", |s| s.name == "query WhoAmI");
    assert_eq!(graphql.parent_span_id, http.span_id);
    assert_eq!(hex::encode(&graphql.trace_id), TRACE_ID);
    assert_eq!(
        attribute(&graphql.attributes, "graphql.operation.name").as_deref(),
        Some("WhoAmI")
    );
    assert_eq!(
        attribute(&graphql.attributes, "graphql.operation.type").as_deref(),
        Some("query")
    );
    // The statements its resolvers ran are inside it.
    let statements: Vec<String> = subtree(&spans, graphql)
        .iter()
        .flat_map(|s| &s.events)
        .filter_map(|event| attribute(&event.attributes, "db.statement"))
        .collect();
    assert!(!statements.is_empty(), "no database statement under WhoAmI");
    assert!(
        statements.iter().any(|sql| sql.contains("SELECT")),
        "{statements:?}"
    );

    // A write: its transaction's span under the mutation's.
    let http_sign_in = find(&spans, "the sign-in request's span", |s| {
        attribute(&s.attributes, "request_id").as_deref() == Some("trace-signin")
    });
    let mutation = find(&spans, "mutation SignIn span", |s| {
        s.name == "mutation SignIn"
    });
    assert_eq!(mutation.parent_span_id, http_sign_in.span_id);
    assert_ne!(
        hex::encode(&mutation.trace_id),
        TRACE_ID,
        "a trace of its own"
    );
    assert!(
        subtree(&spans, mutation)
            .iter()
            .any(|s| s.name == "db.transaction" && s.kind == SpanKind::Client as i32),
        "no db.transaction span under SignIn"
    );

    // The WebSocket operation: its own span, under the connection's, the operation's
    // span inside it.
    let operation = find(&spans, "ws_operation span w1", |s| {
        s.name == "ws_operation"
            && attribute(&s.attributes, "operation_id").as_deref() == Some("w1")
    });
    assert_eq!(
        attribute(&operation.attributes, "request_id").as_deref(),
        Some("trace-ws")
    );
    let connection = find(&spans, "websocket span", |s| {
        s.span_id == operation.parent_span_id
    });
    assert_eq!(connection.name, "websocket");
    let ws_query = find(&spans, "query WsWho span", |s| s.name == "query WsWho");
    assert_eq!(ws_query.parent_span_id, operation.span_id);

    // The route, never the query string.
    find(&spans, "GET /healthz span", |s| s.name == "GET /healthz");
    let by_service: HashMap<&str, usize> = spans.iter().fold(HashMap::new(), |mut m, (s, _)| {
        *m.entry(s.as_str()).or_default() += 1;
        m
    });
    assert_eq!(
        by_service.keys().copied().collect::<Vec<_>>(),
        ["npc-trace-test"]
    );

    let exported: Vec<u8> = exports
        .0
        .lock()
        .unwrap()
        .iter()
        .flat_map(|(_, _, body)| body.clone())
        .collect();
    for secret in [
        token.as_str(),
        DEMO_PASSWORD,
        "13900000001",
        "139-0000-0001",
        "zz9q",
    ] {
        assert!(
            !exported
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "{secret} was exported"
        );
    }
}

/// Without `OTEL_EXPORTER_OTLP_ENDPOINT` nothing is exported: not even to the traces
/// endpoint the OpenTelemetry SDK would read from its own variable, and a request's
/// `traceparent` changes nothing.
#[tokio::test]
async fn nothing_is_exported_without_the_setting() {
    let (collector, exports) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let trap = format!("http://{collector}/v1/traces");
    let (child, base, client) = launch(
        dir.path(),
        &[
            ("AUTO_SEED_DEMO", "false"),
            ("LOG_FORMAT", "json"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &trap),
        ],
    )
    .await;
    let response = client
        .post(format!("{base}/graphql"))
        .header("X-Request-Id", "untraced-1")
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN_ID}-01"))
        .json(&json!({ "query": "query Plain { __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    drop(client);
    let (status, stderr) = stop(child).await;
    assert!(status.success(), "{status}: {stderr}");
    assert!(exports.0.lock().unwrap().is_empty(), "spans were exported");
    // The request's span holds its log fields only.
    let access: Value = stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| {
            line["target"] == "smart_npc::access" && line["span"]["request_id"] == "untraced-1"
        })
        .unwrap_or_else(|| panic!("no access line: {stderr}"));
    assert!(access["span"].get("http.route").is_none(), "{access}");
    assert!(access["span"].get("otel.name").is_none(), "{access}");
}
