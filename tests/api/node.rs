//! Global ids and `node(id:)` / `nodes(ids:)`.
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn every_node_kind_round_trips_through_node() {
    let app = TestApp::spawn_demo().await;
    let r = app
        .gql(r#"{
          townships(first: 1) { edges { node { id __typename } } }
          stations(name: "滨河") { edges { node { id __typename grids(first: 1) { edges { node { id __typename } } } } } }
          deputies(first: 1) { edges { node { id __typename } } }
          departments(first: 1) { edges { node { id __typename } } }
        }"#)
        .send()
        .await;
    let d = r.data();
    let station = &d["stations"]["edges"][0]["node"];
    let samples = [
        &d["townships"]["edges"][0]["node"],
        station,
        &station["grids"]["edges"][0]["node"],
        &d["deputies"]["edges"][0]["node"],
        &d["departments"]["edges"][0]["node"],
    ];
    let mut ids = Vec::new();
    for sample in samples {
        let found = app
            .gql("query($id: ID!) { node(id: $id) { id __typename } }")
            .vars(json!({ "id": sample["id"] }))
            .send()
            .await;
        assert_eq!(found.data()["node"]["id"], sample["id"]);
        assert_eq!(found.data()["node"]["__typename"], sample["__typename"]);
        ids.push(sample["id"].clone());
    }
    let mut unique = ids.clone();
    unique.sort_by_key(|v| v.to_string());
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "ids are globally unique");

    // nodes: the order asked, duplicates allowed, null for a well-formed unknown id.
    let unknown = "U3RhdGlvbjo5OTk5OTk"; // Station:999999
    let mut asked = ids.clone();
    asked.push(json!(unknown));
    asked.push(ids[0].clone());
    let many = app
        .gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }")
        .vars(json!({ "ids": asked }))
        .send()
        .await;
    let nodes = many.data()["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), asked.len());
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(&nodes[i]["id"], id);
    }
    assert!(nodes[ids.len()].is_null());
    assert_eq!(nodes[ids.len() + 1]["id"], ids[0]);
}

#[tokio::test]
async fn node_ids_are_opaque_and_malformed_ids_are_bad_input() {
    let app = TestApp::spawn_demo().await;
    let r = app
        .gql("{ stations(first: 1) { edges { node { id } } } }")
        .send()
        .await;
    let id = r.data()["stations"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        !id.contains("Station") && !id.chars().all(|c| c.is_ascii_digit()),
        "{id}"
    );

    for bad in ["", "12", "not-base64!!", "U3RhdGlvbg", "Tm9wZToxMg"] {
        let r = app
            .gql("query($id: ID!) { node(id: $id) { id } }")
            .vars(json!({ "id": bad }))
            .send()
            .await;
        assert_eq!(r.error_code(), Some("BAD_USER_INPUT"), "{bad}: {}", r.body);
    }
    // An id of the wrong kind where a Township id is expected.
    let r = app
        .gql("query($t: ID!) { stations(townshipId: $t) { totalCount } }")
        .vars(json!({ "t": id }))
        .send()
        .await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(r.body["errors"][0]["extensions"]["field"], "townshipId");
}

#[tokio::test]
async fn nodes_is_bounded() {
    let app = TestApp::spawn_demo().await;
    let ids: Vec<String> = (0..101).map(|_| "U3RhdGlvbjox".to_owned()).collect();
    let r = app
        .gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }")
        .vars(json!({ "ids": ids }))
        .send()
        .await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"), "{}", r.body);
}
