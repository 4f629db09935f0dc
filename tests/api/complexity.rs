//! Query complexity is counted without overflow (found by the schemathesis run in
//! tests/fuzz): page sizes far beyond `MAX_PAGE_SIZE` in nested connections used to
//! overflow the `usize` product in the complexity estimate, which panics a debug build
//! (the connection dropped without an answer) and wraps around in a release build.
use serde_json::Value;

use crate::helpers::TestApp;

/// `/healthz` answers and GraphQL still runs.
async fn assert_alive(app: &TestApp) {
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let answer = app.gql("{ townships { totalCount } }").send().await;
    assert!(answer.data()["townships"]["totalCount"].as_i64() > Some(0));
}

fn assert_too_complex(body: &Value) {
    assert_eq!(
        body["errors"][0]["extensions"]["code"].as_str(),
        Some("QUERY_TOO_COMPLEX"),
        "{body}"
    );
    assert!(body["data"].is_null(), "{body}");
}

#[tokio::test]
async fn huge_page_sizes_in_nested_connections_are_too_complex_not_a_crash() {
    let app = TestApp::spawn_demo().await;
    // The fuzzer's request as it found it, and with an Int where it had `first: 0.0`.
    let found = r#"{ townships(first: 1373156051, after: "", last: null, before: null) { edges { node {
        stations(first: 8155, after: "", last: null, before: null) { edges { node {
          residentDeputies(first: 8155, after: "", last: null, before: null) { edges { node {
            archive(year: 0) { activities(after: "", last: null, before: null, first: 0.0) { totalCount } }
        } } } } } } } } } }"#;
    let found_int = found.replace("first: 0.0", "first: 0");
    let by_last = r#"{ townships(last: 2642245) { edges { node {
        stations(last: 2642244) { edges { node {
          residentDeputies(first: 0) { edges { node { activities(first: 2642245) { totalCount } } } } } } } } } } }"#;
    let max = r#"{ townships(first: 2147483647) { edges { node {
        stations(first: 2147483647) { edges { node {
          residentDeputies(first: 2147483647) { edges { node {
            activities(first: 2147483647) { totalCount } pairings(first: 2147483647) { totalCount } } } } } } } } } } }"#;
    for query in [found, &found_int, by_last, max] {
        let answer = app.gql(query).send().await;
        assert!(
            answer.body["errors"]
                .as_array()
                .is_some_and(|e| !e.is_empty()),
            "{}",
            answer.body
        );
        if query != found {
            assert_too_complex(&answer.body);
        }
    }
    // Through `nodes`, whose estimate multiplies the number of ids by its children.
    let township = app
        .gql("{ townships(first: 1) { edges { node { id } } } }")
        .send()
        .await;
    let id = township.data()["townships"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let through_nodes = format!(
        r#"{{ nodes(ids: ["{id}", "{id}", "{id}"]) {{ ... on Township {{
            stations(first: 2147483647) {{ edges {{ node {{
              residentDeputies(first: 2147483647) {{ edges {{ node {{
                activities(first: 2147483647) {{ totalCount }} }} }} }} }} }} }} }} }} }}"#
    );
    let answer = app.gql(&through_nodes).send().await;
    assert_too_complex(&answer.body);
    assert_alive(&app).await;
}

#[tokio::test]
async fn nested_connections_within_the_bounds_still_answer() {
    let app = TestApp::spawn_demo().await;
    let answer = app
        .gql("{ townships(first: 3) { edges { node { stations(first: 5) { edges { node { residentDeputies(first: 5) { totalCount } } } } } } } }")
        .send()
        .await;
    let townships = answer.data()["townships"]["edges"].as_array().unwrap();
    assert_eq!(townships.len(), 3);
}
