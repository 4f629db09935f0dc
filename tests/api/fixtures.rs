//! Helpers shared by the tests that build fixtures through the API on top of the demo
//! seed: error assertions, ids that name nothing, and the demo's places.
use serde_json::Value;
use smart_npc::domain::node_id::{NodeId, NodeKind};

use crate::helpers::{GqlResponse, TestApp};

/// The password of accounts the tests create.
pub const PASSWORD: &str = "Heshun-Test-Pass-7";

#[track_caller]
pub fn assert_code(r: &GqlResponse, code: &str) {
    assert_eq!(r.error_code(), Some(code), "{}", r.body);
}

#[track_caller]
pub fn assert_bad_input(r: &GqlResponse, field: &str) {
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"), "{}", r.body);
    assert_eq!(
        r.body["errors"][0]["extensions"]["field"].as_str(),
        Some(field),
        "{}",
        r.body
    );
}

/// A well-formed id of `kind` that names nothing.
pub fn unknown(kind: NodeKind) -> String {
    NodeId::new(kind, 987_654).encode()
}

pub async fn township(app: &TestApp, code: &str) -> Value {
    let r = app
        .gql("{ townships(first: 50) { edges { node { id code } } } }")
        .send()
        .await;
    r.data()["townships"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["code"] == code)
        .unwrap_or_else(|| panic!("township {code}"))["node"]["id"]
        .clone()
}

/// The demo staff's station (滨河) and its township.
pub async fn binhe(app: &TestApp) -> (Value, Value) {
    let staff = app.token("staff").await;
    let r = app
        .gql("{ me { roles { station { id code township { id } } } } }")
        .bearer(Some(&staff))
        .send()
        .await;
    let station = r.data()["me"]["roles"][0]["station"].clone();
    assert_eq!(station["code"], "binhe");
    (station["id"].clone(), station["township"]["id"].clone())
}

/// A demo station in another township than 滨河's, with that township.
pub async fn station_elsewhere(app: &TestApp) -> (Value, Value) {
    let (_, binhe_township) = binhe(app).await;
    let r = app
        .gql("{ stations(kind: LIAISON_STATION, first: 20) { edges { node { id township { id } } } } }")
        .send()
        .await;
    let node = r.data()["stations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["township"]["id"] != binhe_township)
        .expect("a station in another township")["node"]
        .clone();
    (node["id"].clone(), node["township"]["id"].clone())
}
