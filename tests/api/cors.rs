//! CORS_ALLOWED_ORIGINS: preflights and cross-origin calls from listed origins are
//! answered with credentials, methods, headers and max-age; other origins are refused,
//! the WebSocket upgrade included; without the setting nothing changes.
use reqwest::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE, ORIGIN,
};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::TestApp;

const DASHBOARD: &str = "http://dashboard.example:3000";

async fn with_origins(origins: &str) -> TestApp {
    TestApp::builder()
        .env("CORS_ALLOWED_ORIGINS", origins)
        .env("CORS_MAX_AGE_SECS", "900")
        .spawn()
        .await
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header(ORIGIN, origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "content-type, authorization",
        )
        .send()
        .await
        .unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &reqwest::header::HeaderName) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn post_from(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .post(app.url("/graphql"))
        .header(ORIGIN, origin)
        .bearer_auth("not-a-token-but-a-header-to-allow")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_listed_origin_gets_its_preflight_and_its_answers() {
    let app = with_origins(&format!("{DASHBOARD}, https://other.example")).await;
    let response = preflight(&app, DASHBOARD).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, &ACCESS_CONTROL_ALLOW_ORIGIN), DASHBOARD);
    assert_eq!(header(&response, &ACCESS_CONTROL_ALLOW_CREDENTIALS), "true");
    assert_eq!(header(&response, &ACCESS_CONTROL_MAX_AGE), "900");
    let methods = header(&response, &ACCESS_CONTROL_ALLOW_METHODS).to_ascii_uppercase();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    let headers = header(&response, &ACCESS_CONTROL_ALLOW_HEADERS).to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );

    // The call itself: answered, readable by the page (and the bad token still 401s).
    let response = app
        .client
        .post(app.url("/graphql"))
        .header(ORIGIN, DASHBOARD)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, &ACCESS_CONTROL_ALLOW_ORIGIN), DASHBOARD);
    assert_eq!(header(&response, &ACCESS_CONTROL_ALLOW_CREDENTIALS), "true");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["__typename"], "QueryRoot");
    let response = post_from(&app, DASHBOARD).await;
    assert_eq!(response.status(), 401);
    assert_eq!(header(&response, &ACCESS_CONTROL_ALLOW_ORIGIN), DASHBOARD);
}

#[tokio::test]
async fn other_origins_are_refused_and_own_pages_still_work() {
    let app = with_origins(DASHBOARD).await;
    let response = preflight(&app, "https://evil.example").await;
    assert_eq!(response.status(), 403);
    assert_eq!(header(&response, &ACCESS_CONTROL_ALLOW_ORIGIN), "");
    let response = post_from(&app, "http://dashboard.example:3001").await;
    assert_eq!(response.status(), 403);
    assert_eq!(header(&response, &ACCESS_CONTROL_ALLOW_ORIGIN), "");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // GraphiQL at `/` and the citizen pages post with their own origin.
    let response = app
        .client
        .post(app.url("/graphql"))
        .header(ORIGIN, &app.base)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Clients that are not browsers send no Origin.
    let r = app.gql("{ __typename }").send().await;
    assert_eq!(r.data()["__typename"], "QueryRoot");
}

#[tokio::test]
async fn without_the_setting_no_cors_is_offered() {
    let app = TestApp::spawn().await;
    let response = preflight(&app, DASHBOARD).await;
    assert_eq!(response.status(), 405);
    assert_eq!(header(&response, &ACCESS_CONTROL_ALLOW_ORIGIN), "");
    let response = post_from(&app, DASHBOARD).await;
    assert_eq!(header(&response, &ACCESS_CONTROL_ALLOW_ORIGIN), "");
}

async fn upgrade(app: &TestApp, origin: Option<&str>) -> Result<(), u16> {
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("Origin", origin.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => Ok(()),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(other) => panic!("{other}"),
    }
}

#[tokio::test]
async fn websocket_origins_are_checked_against_the_same_list() {
    let app = with_origins(DASHBOARD).await;
    assert_eq!(upgrade(&app, Some(DASHBOARD)).await, Ok(()));
    assert_eq!(upgrade(&app, Some(&app.base)).await, Ok(()));
    assert_eq!(upgrade(&app, Some("https://evil.example")).await, Err(403));
    // A client that is not a browser sends no Origin: allowed, as it can be anything.
    assert_eq!(upgrade(&app, None).await, Ok(()));

    // Without the setting the list is empty: every foreign origin is refused, own
    // pages and non-browser clients are not.
    let unset = TestApp::spawn().await;
    assert_eq!(
        upgrade(&unset, Some("https://evil.example")).await,
        Err(403)
    );
    assert_eq!(upgrade(&unset, Some(&unset.base)).await, Ok(()));
    assert_eq!(upgrade(&unset, None).await, Ok(()));
}

/// Serves `tests/browser/dashboard.html` on a port of its own: another origin.
async fn serve_dashboard() -> String {
    use poem::listener::{Acceptor, Listener};
    #[poem::handler]
    fn page() -> poem::web::Html<&'static str> {
        poem::web::Html(include_str!("../browser/dashboard.html"))
    }
    let acceptor = poem::listener::TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(poem::Route::new().at("/", page)));
    format!("http://{addr}")
}

/// Done-when of issue 17: a dashboard page served from another port calls the gateway
/// in Chromium (preflighted sign-in and bearer query, then the WebSocket); a page from
/// an origin not listed is refused both.
#[tokio::test]
async fn a_dashboard_on_another_port_calls_the_gateway_in_chromium() {
    if !crate::browser::browser_ready("a_dashboard_on_another_port_calls_the_gateway_in_chromium") {
        return;
    }
    let dashboard = serve_dashboard().await;
    let stranger = serve_dashboard().await;
    let app = TestApp::builder()
        .fixture(crate::helpers::Fixture::Demo)
        .env("CORS_ALLOWED_ORIGINS", &dashboard)
        .spawn()
        .await;
    let seen =
        crate::browser::node_script("cross_origin.mjs", &[&format!("{dashboard}/"), &app.base])
            .await;
    assert_eq!(seen["signedIn"], true, "{seen}");
    assert_eq!(seen["me"], "supervisor", "{seen}");
    assert!(seen["stations"].as_u64().unwrap_or(0) > 0, "{seen}");
    assert_eq!(seen["websocket"], "connection_ack", "{seen}");

    let seen = crate::browser::node_script(
        "cross_origin.mjs",
        &[&format!("{stranger}/"), &app.base, "refused"],
    )
    .await;
    assert!(seen["fetchError"].is_string(), "{seen}");
    assert_eq!(seen["websocket"], "refused", "{seen}");
}
