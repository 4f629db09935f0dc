//! Persisted queries on the wire, as Apollo's persisted-queries link speaks them: a
//! hash alone (POST body, GET `extensions` parameter, WebSocket `subscribe` payload),
//! `PERSISTED_QUERY_NOT_FOUND`, then hash and document; registrations shared by
//! replicas through Redis; Redis down; `PERSISTED_QUERIES=manifest` and `off`; and the
//! manifest itself (every operation valid against today's schema, ids unique).
use std::collections::HashSet;

use reqwest::header::{ACCEPT, CACHE_CONTROL};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{require_redis, Fixture, TestApp};
use crate::ws_client::Ws;

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn extension(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// POSTs `body` to `{base}/graphql` as JSON: (status, cache-control, body).
async fn post(base: &str, body: Value) -> (u16, Option<String>, Value) {
    post_accepting(base, body, "application/json").await
}

async fn post_accepting(base: &str, body: Value, accept: &str) -> (u16, Option<String>, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .header(ACCEPT, accept)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get(CACHE_CONTROL)
        .map(|v| v.to_str().unwrap().to_owned());
    (status, cache, response.json().await.unwrap())
}

/// GETs `/graphql` with these URL parameters (values JSON-encoded where Apollo's link
/// encodes them).
async fn get(base: &str, params: &[(&str, String)]) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{base}/graphql"))
        .header(ACCEPT, "application/json")
        .query(params)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

fn assert_not_found(status: u16, body: &Value) {
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["errors"][0]["message"], "PersistedQueryNotFound",
        "{body}"
    );
    assert_eq!(code(body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    assert!(body.get("data").is_none(), "{body}");
}

const STATIONS: &str =
    "query ApqStations($n: Int!) { stations(first: $n) { nodes { code name } } }";

#[tokio::test]
async fn a_hash_unknown_then_registered_with_its_query_then_found_over_post() {
    let app = TestApp::spawn_demo().await;
    let hash = sha256(STATIONS);
    let hash_only = json!({ "operationName": "ApqStations", "variables": { "n": 2 }, "extensions": extension(&hash) });

    // Unknown: Apollo Server's answer, under either media type, never cached.
    let (status, cache, body) = post(&app.base, hash_only.clone()).await;
    assert_not_found(status, &body);
    assert_eq!(cache.as_deref(), Some("private, no-cache, must-revalidate"));
    let (status, _, body) = post_accepting(
        &app.base,
        hash_only.clone(),
        "application/graphql-response+json",
    )
    .await;
    assert_not_found(status, &body);

    // The client sends hash and query: checked, run and registered.
    let mut full = hash_only.clone();
    full["query"] = json!(STATIONS);
    let (status, _, registered) = post(&app.base, full).await;
    assert_eq!(status, 200, "{registered}");
    let stations = registered["data"]["stations"]["nodes"].clone();
    assert_eq!(stations.as_array().map(Vec::len), Some(2), "{registered}");

    // Now the hash alone runs it, with other variables too.
    let (status, _, body) = post(&app.base, hash_only).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["stations"]["nodes"], stations, "{body}");
    let one = json!({ "variables": { "n": 1 }, "extensions": extension(&hash.to_uppercase()) });
    let (_, _, body) = post(&app.base, one).await;
    assert_eq!(body["data"]["stations"]["nodes"][0], stations[0], "{body}");
}

#[tokio::test]
async fn get_carries_the_hash_in_the_extensions_parameter_and_mutations_stay_post_only() {
    let app = TestApp::spawn_demo().await;
    let query = "query ApqGetCategories { categories { name } }";
    let params = |with_query: bool| {
        let mut params = vec![
            ("operationName", "ApqGetCategories".to_owned()),
            ("variables", "{}".to_owned()),
            ("extensions", extension(&sha256(query)).to_string()),
        ];
        if with_query {
            params.push(("query", query.to_owned()));
        }
        params
    };
    let (status, body) = get(&app.base, &params(false)).await;
    assert_not_found(status, &body);
    // A GET with the query registers it, as Apollo Server does for queries.
    let (status, body) = get(&app.base, &params(true)).await;
    assert_eq!(status, 200, "{body}");
    let categories = body["data"]["categories"].clone();
    assert!(
        categories.as_array().is_some_and(|c| !c.is_empty()),
        "{body}"
    );
    let (status, body) = get(&app.base, &params(false)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["categories"], categories);

    // A mutation registered over POST is still a mutation when a GET names its hash.
    let mutation = "mutation ApqSignOut { signOut }";
    let mut full = json!({ "query": mutation, "extensions": extension(&sha256(mutation)) });
    let _ = post(&app.base, full.clone()).await;
    full.as_object_mut().unwrap().remove("query");
    let (status, body) = get(
        &app.base,
        &[("extensions", extension(&sha256(mutation)).to_string())],
    )
    .await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(code(&body), "METHOD_NOT_ALLOWED", "{body}");
}

#[tokio::test]
async fn a_wrong_hash_an_unsupported_version_or_a_malformed_extension_is_bad_user_input() {
    let app = TestApp::spawn_demo().await;
    let cases = [
        json!({ "query": "{ __typename }", "extensions": extension(&sha256("{ other }")) }),
        json!({ "query": "{ __typename }", "extensions": { "persistedQuery": { "version": 2, "sha256Hash": sha256("{ __typename }") } } }),
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "not-a-hash" } } }),
        json!({ "extensions": { "persistedQuery": "yes" } }),
    ];
    for case in cases {
        let (status, _, body) = post(&app.base, case.clone()).await;
        assert_eq!(status, 400, "{case} -> {body}");
        assert_eq!(code(&body), "BAD_USER_INPUT", "{case} -> {body}");
        assert!(body.get("data").is_none(), "{body}");
    }
    // A document over the request budget is answered as always, and never registered.
    let deep = format!("{}{}", "{ a ".repeat(80), "}".repeat(80));
    let (_, _, body) = post(
        &app.base,
        json!({ "query": deep, "extensions": extension(&sha256(&deep)) }),
    )
    .await;
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");
    let (status, _, body) = post(
        &app.base,
        json!({ "extensions": extension(&sha256(&deep)) }),
    )
    .await;
    assert_not_found(status, &body);
}

#[tokio::test]
async fn each_batch_entry_is_resolved_on_its_own() {
    let app = TestApp::spawn_demo().await;
    let known = "query ApqBatchKnown { categories { name } }";
    let _ = post(
        &app.base,
        json!({ "query": known, "extensions": extension(&sha256(known)) }),
    )
    .await;
    let batch = json!([
        { "extensions": extension(&sha256("query ApqBatchUnknown { __typename }")) },
        { "extensions": extension(&sha256(known)) },
        { "query": "{ __typename }" },
    ]);
    let (status, _, body) = post(&app.base, batch).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(code(&body[0]), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    assert!(body[1]["data"]["categories"].is_array(), "{body}");
    assert_eq!(body[2]["data"]["__typename"], "QueryRoot", "{body}");
}

#[tokio::test]
async fn hash_only_requests_are_counted_by_operation_name_and_answered_in_query_order() {
    let app = TestApp::spawn_demo().await;
    let query = "query ApqMetricsOrder { z: __typename categories { name } a: __typename }";
    let hash = sha256(query);
    let (_, _, body) = post(
        &app.base,
        json!({ "query": query, "extensions": extension(&hash) }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    for _ in 0..2 {
        let response = reqwest::Client::new()
            .post(app.url("/graphql"))
            .json(&json!({ "extensions": extension(&hash) }))
            .send()
            .await
            .unwrap();
        let text = response.text().await.unwrap();
        let (z, c, a) = (
            text.find("\"z\"").unwrap(),
            text.find("\"categories\"").unwrap(),
            text.find("\"a\"").unwrap(),
        );
        assert!(z < c && c < a, "{text}");
    }
    let scrape = crate::metrics::scrape(&app.client, &app.url("/metrics")).await;
    let counted = crate::metrics::value(
        &scrape,
        "smart_npc_graphql_operations_total",
        &[("operation", "ApqMetricsOrder"), ("code", "OK")],
    );
    assert_eq!(counted, 3.0, "one registration and two hash-only requests");
}

#[tokio::test]
async fn a_websocket_subscribe_payload_may_name_its_document_by_hash() {
    let app = TestApp::spawn_demo().await;
    let query = "query ApqOverWs { categories { name } }";
    let hash = sha256(query);
    let mut ws = Ws::transport(app.addr).await;
    ws.init(None).await;
    ws.send(
        json!({ "id": "1", "type": "subscribe", "payload": { "extensions": extension(&hash) } }),
    )
    .await;
    let message = ws.json().await;
    assert_eq!(message["type"], "error", "{message}");
    assert_eq!(message["id"], "1");
    assert_eq!(
        message["payload"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );
    assert_eq!(message["payload"][0]["message"], "PersistedQueryNotFound");

    ws.send(json!({ "id": "2", "type": "subscribe", "payload": { "query": query, "extensions": extension(&hash) } }))
        .await;
    let categories = ws.next_data("2").await["categories"].clone();
    assert!(categories.as_array().is_some_and(|c| !c.is_empty()));
    assert_eq!(ws.json().await["type"], "complete");

    ws.send(
        json!({ "id": "3", "type": "subscribe", "payload": { "extensions": extension(&hash) } }),
    )
    .await;
    assert_eq!(ws.next_data("3").await["categories"], categories);
    assert_eq!(ws.json().await["type"], "complete");
    ws.close().await;
}

#[tokio::test]
async fn with_redis_down_registration_and_lookup_go_on_in_process() {
    // A port nothing listens on: every Redis call fails at once and the guard opens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("REDIS_URL", &format!("redis://127.0.0.1:{port}"))
        .spawn()
        .await;
    let query = "query ApqRedisDown { categories { name } }";
    let hash = sha256(query);
    let (status, _, body) = post(&app.base, json!({ "extensions": extension(&hash) })).await;
    assert_not_found(status, &body);
    let (status, _, body) = post(
        &app.base,
        json!({ "query": query, "extensions": extension(&hash) }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["categories"].is_array(), "{body}");
    let (status, _, body) = post(&app.base, json!({ "extensions": extension(&hash) })).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["categories"].is_array(), "{body}");
}

#[tokio::test]
async fn a_document_registered_on_one_replica_is_found_by_hash_on_another() {
    let Some(redis_url) =
        require_redis("a_document_registered_on_one_replica_is_found_by_hash_on_another")
    else {
        return;
    };
    let (a, b) = crate::live::pair("apq", &[("PERSISTED_QUERIES_TTL_SECS", "120")]).await;
    let query = format!(
        "query ApqReplicas {{ categories {{ name }} n{}: __typename }}",
        std::process::id()
    );
    let hash = sha256(&query);
    // Registered on the replica (whose TTL is set), found on the other.
    let (status, _, body) = post(&a.base, json!({ "extensions": extension(&hash) })).await;
    assert_not_found(status, &body);
    let (status, _, registered) = post(
        &b.base,
        json!({ "query": query, "extensions": extension(&hash) }),
    )
    .await;
    assert_eq!(status, 200, "{registered}");
    // The document lives under this test's prefix, with a TTL; removed at the end.
    let client = redis::Client::open(redis_url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("smartnpc-live-{}-apq:apq:{hash}", std::process::id());
    let ttl = |mut connection: redis::aio::MultiplexedConnection| {
        let key = key.clone();
        async move {
            redis::cmd("TTL")
                .arg(&key)
                .query_async::<i64>(&mut connection)
                .await
                .unwrap()
        }
    };
    // Registered by the replica whose TTL is 120 s.
    let registered_ttl = ttl(connection.clone()).await;
    assert!((1..=120).contains(&registered_ttl), "TTL {registered_ttl}");
    // Near the end of its life...
    let _: bool = redis::cmd("EXPIRE")
        .arg(&key)
        .arg(30)
        .query_async(&mut connection)
        .await
        .unwrap();
    let (status, _, body) = post(&a.base, json!({ "extensions": extension(&hash) })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], registered["data"]);
    // ...a document in use lives on: the lookup gave it a whole TTL again (the looking
    // replica's own, the default day).
    let left = ttl(connection.clone()).await;
    assert!(left > 30, "TTL {left}");
    let _: i64 = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut connection)
        .await
        .unwrap();
}

/// A document that is not in the manifest.
const NOT_IN_MANIFEST: &str = "{ categories { name } }";

#[tokio::test]
async fn manifest_mode_runs_manifest_operations_only_on_every_transport() {
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("PERSISTED_QUERIES", "manifest")
        .spawn()
        .await;
    let deputy_page = smart_npc::graphql::persisted::operations_for_client("mobile")
        .into_iter()
        .find(|op| op.name == "DeputyPage")
        .expect("DeputyPage in the manifest");
    let vars = json!({ "code": "no-such-deputy" });

    // By hash alone, and by its exact text: it runs.
    let (status, _, body) = post(
        &app.base,
        json!({ "variables": vars, "extensions": extension(&deputy_page.id) }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["categories"].is_array(), "{body}");
    let (_, _, body) = post(
        &app.base,
        json!({ "query": deputy_page.text, "variables": vars }),
    )
    .await;
    assert!(body["data"]["categories"].is_array(), "{body}");

    // Anything else is refused with a stable code: POST, a registration attempt, GET,
    // a batch entry, a WebSocket subscribe.
    for refused in [
        json!({ "query": NOT_IN_MANIFEST }),
        json!({ "query": NOT_IN_MANIFEST, "extensions": extension(&sha256(NOT_IN_MANIFEST)) }),
    ] {
        let (status, _, body) = post(&app.base, refused).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(code(&body), "PERSISTED_QUERY_NOT_ALLOWED", "{body}");
    }
    let (status, body) = get(&app.base, &[("query", NOT_IN_MANIFEST.to_owned())]).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_ALLOWED", "{body}");
    let (_, _, body) = post(
        &app.base,
        json!([{ "query": NOT_IN_MANIFEST }, { "extensions": extension(&deputy_page.id), "variables": vars }]),
    )
    .await;
    assert_eq!(code(&body[0]), "PERSISTED_QUERY_NOT_ALLOWED", "{body}");
    assert!(body[1]["data"]["categories"].is_array(), "{body}");
    // An unknown hash is only unknown (a client then sends the text, refused above).
    let (status, _, body) = post(
        &app.base,
        json!({ "extensions": extension(&sha256(NOT_IN_MANIFEST)) }),
    )
    .await;
    assert_not_found(status, &body);

    let mut ws = Ws::transport(app.addr).await;
    ws.init(None).await;
    ws.subscribe(
        "1",
        "subscription { showcaseStories { cursor } }",
        json!({}),
    )
    .await;
    let message = ws.json().await;
    assert_eq!(message["type"], "error", "{message}");
    assert_eq!(
        message["payload"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_ALLOWED"
    );
    ws.send(json!({ "id": "2", "type": "subscribe", "payload": { "variables": vars, "extensions": extension(&deputy_page.id) } }))
        .await;
    let message = ws.json().await;
    assert_eq!(message["type"], "next", "{message}");
    assert!(
        message["payload"]["data"]["categories"].is_array(),
        "{message}"
    );
    ws.close().await;
}

#[tokio::test]
async fn off_mode_answers_not_supported_and_runs_plain_documents() {
    let app = TestApp::builder()
        .env("PERSISTED_QUERIES", "off")
        .spawn()
        .await;
    let query = "{ __typename }";
    for body in [
        json!({ "extensions": extension(&sha256(query)) }),
        json!({ "query": query, "extensions": extension(&sha256(query)) }),
    ] {
        let (status, cache, body) = post(&app.base, body).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(code(&body), "PERSISTED_QUERY_NOT_SUPPORTED", "{body}");
        assert_eq!(body["errors"][0]["message"], "PersistedQueryNotSupported");
        assert_eq!(cache.as_deref(), Some("private, no-cache, must-revalidate"));
    }
    let (_, _, body) = post(&app.base, json!({ "query": query })).await;
    assert_eq!(body["data"]["__typename"], "QueryRoot", "{body}");
}

/// The errors of running `text` up to validation (nothing is resolved: introspection
/// only), with the codes the schema gives request failures.
async fn validation_errors(schema: &smart_npc::graphql::AppSchema, text: &str) -> Vec<String> {
    let response = schema
        .execute(async_graphql::Request::new(text).only_introspection())
        .await;
    response
        .errors
        .iter()
        .filter(|e| {
            let code = e
                .extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .map(|c| c.to_string())
                .unwrap_or_default();
            [
                "GRAPHQL_PARSE_FAILED",
                "GRAPHQL_VALIDATION_FAILED",
                "QUERY_TOO_DEEP",
                "QUERY_TOO_COMPLEX",
            ]
            .iter()
            .any(|c| code.contains(c))
        })
        .map(|e| e.message.clone())
        .collect()
}

#[tokio::test]
async fn every_manifest_operation_is_valid_against_the_schema_and_ids_are_unique() {
    let app = TestApp::spawn().await;
    let schema = smart_npc::graphql::build_schema(app.state.app.clone());
    let manifest = smart_npc::graphql::persisted::manifest();
    assert!(manifest.len() >= 4, "{manifest:?}");
    let mut ids = HashSet::new();
    for op in manifest {
        assert!(
            ids.insert(op.id.as_str()),
            "two operations have the id {}",
            op.id
        );
        assert_eq!(op.id, sha256(op.text));
        // One named operation per file, named like the file.
        let document = async_graphql::parser::parse_query(op.text)
            .unwrap_or_else(|e| panic!("{}/{}: {e}", op.client, op.name));
        let names: Vec<String> = document
            .operations
            .iter()
            .map(|(name, _)| name.map(|n| n.to_string()).unwrap_or_default())
            .collect();
        assert_eq!(names, [op.name], "{}/{}.graphql", op.client, op.name);
        let errors = validation_errors(&schema, op.text).await;
        assert!(errors.is_empty(), "{}/{}: {errors:?}", op.client, op.name);
    }
    // The check can fail: a field the schema does not have is a validation error.
    let broken = "query Broken { categories { noSuchField } }";
    assert!(!validation_errors(&schema, broken).await.is_empty());
}

#[tokio::test]
async fn the_cli_prints_the_manifest_for_app_builders() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_smart-npc"))
        .arg("persisted-queries")
        .env_clear()
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["format"], "apollo-persisted-query-manifest");
    let operations = printed["operations"].as_array().unwrap();
    let manifest = smart_npc::graphql::persisted::manifest();
    assert_eq!(operations.len(), manifest.len());
    for (printed, op) in operations.iter().zip(manifest) {
        assert_eq!(printed["id"], op.id);
        assert_eq!(printed["name"], op.name);
        assert_eq!(printed["client"], op.client);
        assert_eq!(printed["body"], op.text);
        assert_eq!(sha256(printed["body"].as_str().unwrap()), op.id);
    }
    let submit = operations
        .iter()
        .find(|o| o["name"] == "SubmitPetition")
        .unwrap();
    assert_eq!(submit["type"], "mutation");
}

/// An unmodified Apollo Client with its persisted-queries link (hashed queries over GET)
/// against the gateway: a miss, the registration it then sends, and a hit.
#[tokio::test]
async fn apollo_clients_persisted_queries_link_works_unmodified() {
    if !crate::browser::browser_ready("apollo_clients_persisted_queries_link_works_unmodified") {
        return;
    }
    let app = TestApp::spawn_demo().await;
    let seen = crate::browser::node_script("apollo_apq.mjs", &[&app.base]).await;
    let runs = seen["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert!(
        runs[0]["categories"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "{seen}"
    );
    assert_eq!(runs[0], runs[1]);
    let requests = seen["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 3, "{seen}");
    assert_eq!(
        requests[0],
        json!({ "method": "GET", "hash": true, "text": false })
    );
    assert_eq!(requests[1]["text"], true, "{seen}");
    assert_eq!(
        requests[2],
        json!({ "method": "GET", "hash": true, "text": false })
    );
}

/// What is registered stays small and holds no secret: a sign-in with its password
/// written into the document runs but is never kept, and neither is a document over
/// 16 KiB (each would be kept in memory and in Redis for a day otherwise).
#[tokio::test]
async fn credentials_and_large_documents_run_but_are_not_registered() {
    let app = TestApp::spawn_demo().await;
    let sign_in = r#"mutation ApqSignIn { signIn(login: "staff-heshun-01", password: "wrong password") { accessToken } }"#;
    let padded = format!(
        "# {}\nquery ApqPadded {{ categories {{ id }} }}",
        "x".repeat(16 * 1024)
    );
    let small = "query ApqSmall { categories { id } }";
    for (query, runs) in [(sign_in, false), (padded.as_str(), true), (small, true)] {
        let hash = sha256(query);
        let (status, _, body) = post(
            &app.base,
            json!({ "query": query, "extensions": extension(&hash) }),
        )
        .await;
        // It ran like any document sent in full (the sign-in is refused as a sign-in).
        if runs {
            assert_eq!(status, 200, "{body}");
            assert!(body["data"]["categories"].is_array(), "{body}");
        } else {
            assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
        }
        let (status, _, body) = post(&app.base, json!({ "extensions": extension(&hash) })).await;
        if query == small {
            // The control: a small, plain document is found by its hash.
            assert_eq!(status, 200, "{body}");
            assert!(body["data"]["categories"].is_array(), "{body}");
        } else {
            assert_not_found(status, &body);
        }
    }
}
