//! Hostile input (issue 11): what a stranger sends is bounded before the engine works
//! on it, answers a coded error, stores nothing, and leaves the server responsive.
use sea_orm::TransactionTrait;
use serde_json::{json, Value};

use crate::helpers::{TestApp, DEMO_PASSWORD};
use crate::ws_client::Ws;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

async fn post(app: &TestApp, accept: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = app.client.post(app.url("/graphql")).json(&body);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// `/healthz` answers and the server still runs GraphQL.
async fn assert_alive(app: &TestApp) {
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let answer = app.gql("{ townships { totalCount } }").send().await;
    assert!(answer.data()["townships"]["totalCount"].as_i64() > Some(0));
}

fn nested_literal(levels: usize) -> String {
    format!(
        "{{nope(x:{}1{})}}",
        "{a:".repeat(levels),
        "}".repeat(levels)
    )
}

/// `levels` fragments, each spreading the next `fan` times.
fn fragment_fan_out(levels: usize, fan: usize) -> String {
    let mut query = String::from("query { ...F0 }\n");
    for level in 0..levels {
        let spreads = format!("...F{} ", level + 1).repeat(fan);
        query.push_str(&format!("fragment F{level} on QueryRoot {{ {spreads} }}\n"));
    }
    query.push_str(&format!(
        "fragment F{levels} on QueryRoot {{ __typename }}\n"
    ));
    query
}

#[tokio::test]
async fn deeply_nested_literals_are_refused_before_parsing() {
    let app = TestApp::spawn_demo().await;
    for levels in [1_187, 1_250, 20_000] {
        let (status, body) = post(&app, None, json!({ "query": nested_literal(levels) })).await;
        assert_eq!(status, 400, "{levels} levels: {body}");
        assert_eq!(code(&body), Some("QUERY_TOO_DEEP"), "{body}");
        assert!(body.get("data").is_none(), "{body}");
    }
    // Between the engine's recursion bound (32) and the text's (64): the same code.
    let selections = format!("{{ {}x{} }}", "a { ".repeat(40), " }".repeat(40));
    let (_, body) = post(&app, None, json!({ "query": selections })).await;
    assert_eq!(code(&body), Some("QUERY_TOO_DEEP"), "{body}");
    let directives = "@include(if: true) ".repeat(9);
    let (_, body) = post(
        &app,
        None,
        json!({ "query": format!("{{ __typename {directives} }}") }),
    )
    .await;
    assert_eq!(code(&body), Some("GRAPHQL_VALIDATION_FAILED"), "{body}");
    // The same in a variable's default value and in a GET.
    let deep_default = format!(
        "query($x: Int = {}1{}) {{ __typename }}",
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let (status, body) = post(&app, None, json!({ "query": deep_default })).await;
    assert_eq!((status, code(&body)), (400, Some("QUERY_TOO_DEEP")));
    let get = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", nested_literal(1_250))])
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 400);
    let body: Value = get.json().await.unwrap();
    assert_eq!(code(&body), Some("QUERY_TOO_DEEP"));
    // 100 of them at once: the process survives and answers.
    let requests = (0..100).map(|_| post(&app, None, json!({ "query": nested_literal(1_250) })));
    for (status, body) in futures_util::future::join_all(requests).await {
        assert_eq!((status, code(&body)), (400, Some("QUERY_TOO_DEEP")));
    }
    assert_alive(&app).await;
}

#[tokio::test]
async fn fragment_fan_out_is_refused_before_validation() {
    let app = TestApp::spawn_demo().await;
    for levels in [7, 12, 40] {
        let (status, body) =
            post(&app, None, json!({ "query": fragment_fan_out(levels, 10) })).await;
        assert_eq!(code(&body), Some("QUERY_TOO_COMPLEX"), "{levels}: {body}");
        // A request error (no data): 200 as application/json, 400 as graphql-response.
        assert_eq!(status, 200);
        let (status, _) = post(
            &app,
            Some(GRAPHQL_RESPONSE),
            json!({ "query": fragment_fan_out(levels, 10) }),
        )
        .await;
        assert_eq!(status, 400);
    }
    // Small fan-outs are fine, and so is a real client's introspection query.
    let (_, body) = post(&app, None, json!({ "query": fragment_fan_out(2, 3) })).await;
    assert_eq!(body["data"]["__typename"], "QueryRoot", "{body}");
    let introspection = include_str!("introspection.graphql");
    let (_, body) = post(&app, None, json!({ "query": introspection })).await;
    assert!(body["data"]["__schema"]["types"].is_array(), "{body}");

    // Aliases count after expansion too, and cycles are refused.
    let aliases: String = (0..30).map(|i| format!("a{i}: __typename ")).collect();
    let query = format!("{{ ...A ...A ...A ...A }} fragment A on QueryRoot {{ {aliases} }}");
    let (_, body) = post(&app, None, json!({ "query": query })).await;
    assert_eq!(code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
    let cycle =
        "{ ...A } fragment A on QueryRoot { __typename ...B } fragment B on QueryRoot { ...A }";
    let (_, body) = post(&app, None, json!({ "query": cycle })).await;
    assert_eq!(code(&body), Some("GRAPHQL_VALIDATION_FAILED"), "{body}");

    let requests = (0..100).map(|_| post(&app, None, json!({ "query": fragment_fan_out(12, 10) })));
    for (_, body) in futures_util::future::join_all(requests).await {
        assert_eq!(code(&body), Some("QUERY_TOO_COMPLEX"));
    }
    assert_alive(&app).await;
}

#[tokio::test]
async fn the_budget_holds_over_websocket_too() {
    let app = TestApp::spawn_demo().await;
    let mut ws = Ws::transport(app.addr).await;
    ws.init(None).await;
    for (id, query) in [
        ("deep", nested_literal(1_250)),
        ("fan", fragment_fan_out(12, 10)),
        (
            "nul",
            r#"{ stations(name: "\u0000") { totalCount } }"#.to_owned(),
        ),
    ] {
        ws.subscribe(id, &query, json!({})).await;
    }
    ws.send(json!({ "type": "subscribe", "id": "name", "payload": {
        "query": "query A { __typename } query B { __typename }", "operationName": "C" } }))
        .await;
    let mut codes = Vec::new();
    while codes.len() < 4 {
        let message = ws.json().await;
        let errors = match message["type"].as_str() {
            Some("error") => &message["payload"],
            Some("next") => &message["payload"]["errors"],
            _ => continue,
        };
        codes.push((
            message["id"].as_str().unwrap().to_owned(),
            errors[0]["extensions"]["code"]
                .as_str()
                .unwrap_or("(none)")
                .to_owned(),
        ));
    }
    codes.sort();
    assert_eq!(
        codes,
        [
            ("deep".to_owned(), "QUERY_TOO_DEEP".to_owned()),
            ("fan".to_owned(), "QUERY_TOO_COMPLEX".to_owned()),
            ("name".to_owned(), "OPERATION_RESOLUTION_FAILURE".to_owned()),
            ("nul".to_owned(), "BAD_USER_INPUT".to_owned()),
        ]
    );
    assert_alive(&app).await;
}

#[tokio::test]
async fn control_characters_are_refused_naming_the_field() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let station = app
        .gql("{ stations(first: 1) { edges { node { id } } } }")
        .send()
        .await
        .data()["stations"]["edges"][0]["node"]["id"]
        .clone();
    let before = app
        .gql("{ stations { totalCount } petitions { totalCount } }")
        .bearer(Some(&admin))
        .send()
        .await
        .data()
        .clone();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            r#"{ stations(name: "\u0000") { totalCount } }"#,
            json!({}),
            "name",
        ),
        (
            "query($n: String) { stations(name: $n) { totalCount } }",
            json!({ "n": "a\u{0}b" }),
            "$n",
        ),
        (
            "mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { trackingCode } }",
            json!({ "i": { "title": "路灯\u{0}不亮", "content": "滨河路路灯不亮，请维修。", "submitterPhone": "13812345678", "stationId": station } }),
            "$i.title",
        ),
        (
            "mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { trackingCode } }",
            json!({ "i": { "title": "路灯不亮", "content": "escape \u{1b}[2J", "submitterPhone": "13812345678", "stationId": station } }),
            "$i.content",
        ),
        (
            r#"mutation { registerCitizen(phone: "13912345678", displayName: "张\u0007三", password: "Long-enough-1") { accessToken } }"#,
            json!({}),
            "displayName",
        ),
        (
            r#"mutation { createCampaign(name: "x\u0000", startsOn: "2025-01-01") { id } }"#,
            json!({}),
            "name",
        ),
    ];
    for (query, variables, field) in cases {
        let answer = app
            .gql(query)
            .vars(variables)
            .bearer(Some(&admin))
            .send()
            .await;
        assert_eq!(
            answer.error_code(),
            Some("BAD_USER_INPUT"),
            "{query}: {:?}",
            answer.body
        );
        assert!(
            answer.error_message().contains(&format!("`{field}`")),
            "{query}: {}",
            answer.error_message()
        );
    }
    // Multi-line text with tabs and CRLF is fine.
    let fine = app
        .gql("mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { trackingCode } }")
        .vars(json!({ "i": { "title": "路灯不亮", "content": "第一行\r\n第二行\t完", "submitterPhone": "13812345678", "stationId": station } }))
        .send()
        .await;
    assert!(fine.data()["submitPetition"]["trackingCode"].is_string());
    let after = app
        .gql("{ stations { totalCount } petitions { totalCount } }")
        .bearer(Some(&admin))
        .send()
        .await
        .data()
        .clone();
    assert_eq!(after["stations"], before["stations"]);
    assert_eq!(
        after["petitions"]["totalCount"].as_i64().unwrap(),
        before["petitions"]["totalCount"].as_i64().unwrap() + 1,
        "only the clean submission is stored"
    );
}

#[tokio::test]
async fn dates_outside_the_supported_years_are_refused() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let count = || async {
        app.gql("{ campaigns { totalCount } }")
            .bearer(Some(&admin))
            .send()
            .await
            .data()["campaigns"]["totalCount"]
            .as_i64()
            .unwrap()
    };
    let before = count().await;
    for (query, variables) in [
        (
            r#"{ statistics(from: "-4713-11-24", to: "2025-12-31") { itemsCollected } }"#,
            json!({}),
        ),
        (
            "query($f: Date!, $t: Date!) { statistics(from: $f, to: $t) { itemsCollected } }",
            json!({ "f": "2025-01-01", "t": "9999-12-31" }),
        ),
        (
            r#"mutation { createCampaign(name: "三月活动", startsOn: "3000-01-01") { id } }"#,
            json!({}),
        ),
        (
            r#"mutation { createCampaign(name: "三月活动", startsOn: "1899-12-31") { id } }"#,
            json!({}),
        ),
    ] {
        let answer = app
            .gql(query)
            .vars(variables)
            .bearer(Some(&admin))
            .send()
            .await;
        let code = answer.error_code();
        assert!(
            matches!(code, Some("BAD_USER_INPUT" | "GRAPHQL_VALIDATION_FAILED")),
            "{query}: {:?}",
            answer.body
        );
        assert!(
            answer.error_message().contains("1900"),
            "{query}: {}",
            answer.error_message()
        );
    }
    assert_eq!(count().await, before, "nothing created");
    let supervisor = app.token("supervisor").await;
    let urge = app
        .gql(r#"mutation($id: ID!) { urgePetition(id: $id, note: "请加快", deadline: "0001-01-01T00:00:00Z") { id } }"#)
        .vars(json!({ "id": "UGV0aXRpb246MQ" }))
        .bearer(Some(&supervisor))
        .send()
        .await;
    assert_eq!(urge.error_code(), Some("BAD_USER_INPUT"), "{:?}", urge.body);
    assert!(urge.error_message().contains("1900"), "{:?}", urge.body);
}

#[tokio::test]
async fn request_errors_all_carry_codes() {
    let app = TestApp::spawn_demo().await;
    for accept in [None, Some(GRAPHQL_RESPONSE)] {
        // A subscription over HTTP.
        let (status, body) = post(
            &app,
            accept,
            json!({ "query": "subscription { petitionEvents { __typename } }" }),
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (400, Some("OPERATION_NOT_SUPPORTED")),
            "{body}"
        );
        // An unknown operation name, with one or several operations.
        for query in [
            "query A { __typename }",
            "{ __typename }",
            "query A { __typename } query B { __typename }",
        ] {
            let (status, body) = post(
                &app,
                accept,
                json!({ "query": query, "operationName": "Nope" }),
            )
            .await;
            assert_eq!(
                (status, code(&body)),
                (400, Some("OPERATION_RESOLUTION_FAILURE")),
                "{query}: {body}"
            );
        }
        // Several operations and no name.
        let (status, body) = post(
            &app,
            accept,
            json!({ "query": "query A { __typename } query B { __typename }" }),
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (400, Some("OPERATION_RESOLUTION_FAILURE")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn credential_operations_count_through_fragments_and_batches() {
    let app = TestApp::spawn_demo().await;
    let sign_in = r#"signIn(login: "admin", password: "wrong-password") { accessToken }"#;
    let queries = [
        format!("mutation {{ ... on MutationRoot {{ a: {sign_in} }} ... {{ b: {sign_in} }} }}"),
        format!("mutation {{ ...S ...S }} fragment S on MutationRoot {{ {sign_in} }}"),
        format!("mutation {{ a: {sign_in} ...S }} fragment S on MutationRoot {{ b: {sign_in} }}"),
        format!(
            "mutation {{ ...S }} fragment S on MutationRoot {{ ...T ... {{ a: {sign_in} }} }} fragment T on MutationRoot {{ {sign_in} }}"
        ),
    ];
    for query in &queries {
        let (_, body) = post(&app, None, json!({ "query": query })).await;
        assert_eq!(code(&body), Some("BAD_REQUEST"), "{query}: {body}");
    }
    // A batch whose entries hide a credential operation in a fragment.
    let fragment = format!("mutation {{ ...S }} fragment S on MutationRoot {{ {sign_in} }}");
    let (status, body) = post(
        &app,
        None,
        json!([{ "query": fragment }, { "query": fragment }]),
    )
    .await;
    assert_eq!((status, code(&body)), (400, Some("BAD_REQUEST")), "{body}");
    // None of them ran: the account is not locked and the right password still works.
    let ok = app.sign_in("admin", DEMO_PASSWORD).await;
    assert!(ok.data()["signIn"]["accessToken"].is_string());
    // One credential operation through a fragment is fine.
    let one = format!(
        "mutation {{ ...S }} fragment S on MutationRoot {{ signIn(login: \"admin\", password: \"{DEMO_PASSWORD}\") {{ accessToken }} }}"
    );
    let (_, body) = post(&app, None, json!({ "query": one })).await;
    assert!(body["data"]["signIn"]["accessToken"].is_string(), "{body}");
}

/// An operation still running past `REQUEST_TIMEOUT_MS` is stopped with TIMEOUT, over
/// HTTP and over WebSocket. What keeps it running is certain, not a guess at how fast
/// the machine is: the pool's only connection is held by the test, so the query waits
/// for it (the pool would wait a minute) until the 100 ms timeout stops it.
#[tokio::test]
async fn an_operation_past_the_timeout_is_stopped_with_a_code() {
    let app = TestApp::builder()
        .fixture(crate::helpers::Fixture::Demo)
        .env("REQUEST_TIMEOUT_MS", "100")
        .env("DATABASE_MAX_CONNECTIONS", "1")
        .env("DATABASE_ACQUIRE_TIMEOUT_MS", "60000")
        .spawn()
        .await;
    let query = "{ townships { totalCount } }";
    let holder = app.db.begin().await.expect("the only connection");
    let (status, body) = post(&app, None, json!({ "query": query })).await;
    assert_eq!((status, code(&body)), (503, Some("TIMEOUT")), "{body}");
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    // The same limit over WebSocket.
    let mut ws = Ws::transport(app.addr).await;
    ws.init(None).await;
    ws.subscribe("slow", query, json!({})).await;
    let answer = ws.json().await;
    assert_eq!(answer["type"], "next", "{answer}");
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "TIMEOUT",
        "{answer}"
    );
    holder.rollback().await.expect("release");
    // Once the connection is free the same query answers.
    let (status, body) = post(&app, None, json!({ "query": query })).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["townships"]["totalCount"].as_u64().unwrap() > 0);
}
