//! GraphiQL at `/` works without internet: every file it needs is served by the binary.
use crate::helpers::TestApp;

#[tokio::test]
async fn graphiql_files_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        !page.contains("unpkg") && !page.contains("https://"),
        "{page}"
    );
    for file in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "start.js",
    ] {
        assert!(page.contains(&format!("/graphiql/{file}")), "{file}");
        let response = app
            .client
            .get(app.url(&format!("/graphiql/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{file}");
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            kind.starts_with(if file.ends_with(".css") {
                "text/css"
            } else {
                "text/javascript"
            }),
            "{kind}"
        );
    }
    let missing = app
        .client
        .get(app.url("/graphiql/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn graphiql_and_its_files_are_off_in_production() {
    let app = TestApp::builder()
        .env("SMART_NPC_PRODUCTION", "true")
        .env("TOKEN_SECRET", "0123456789abcdef0123456789abcdef")
        .spawn()
        .await;
    for path in ["/", "/graphiql/graphiql.min.js"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

/// Done-when of issue 17: GraphiQL answers a query in headless Chromium with no
/// network beyond the gateway (every other request is refused and fails the test).
#[tokio::test]
async fn graphiql_runs_a_query_in_chromium_without_internet() {
    if !crate::browser::browser_ready("graphiql_runs_a_query_in_chromium_without_internet") {
        return;
    }
    let app = TestApp::spawn_demo().await;
    let seen = crate::browser::node_script("graphiql.mjs", &[&app.base]).await;
    let text = seen["response"].as_str().expect("the response pane's text");
    let response: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(response["data"]["z"], "QueryRoot", "{text}");
    assert!(
        response["data"]["a"]["totalCount"].as_u64().unwrap() > 0,
        "{text}"
    );
    assert!(
        text.find("\"z\"") < text.find("\"a\""),
        "in the query's order: {text}"
    );
}
