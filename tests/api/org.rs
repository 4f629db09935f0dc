//! The organisation read side against the seeded Heshun demo data.
use serde_json::json;

use crate::helpers::TestApp;

const COUNT_BY_KIND: &str = r#"{
  liaison: stations(kind: LIAISON_STATION) { totalCount }
  brand: stations(kind: LIAISON_STATION, brand: true) { totalCount }
  points: stations(kind: SERVICE_POINT) { totalCount }
  posts: stations(kind: SERVICE_POST) { totalCount }
  base: stations(kind: DEMONSTRATION_BASE) { totalCount edges { node { name feature } } }
  all: stations { totalCount }
  nonBrand: stations(brand: false) { totalCount }
}"#;

#[tokio::test]
async fn stations_count_as_in_the_report() {
    let app = TestApp::spawn_demo().await;
    let data = app.gql(COUNT_BY_KIND).send().await.data().clone();
    assert_eq!(data["liaison"]["totalCount"], 9);
    assert_eq!(data["brand"]["totalCount"], 9);
    assert_eq!(data["points"]["totalCount"], 25);
    assert_eq!(data["posts"]["totalCount"], 37);
    assert_eq!(data["base"]["totalCount"], 1);
    assert_eq!(data["all"]["totalCount"], 72);
    assert_eq!(data["nonBrand"]["totalCount"], 63);
    let base = &data["base"]["edges"][0]["node"];
    assert!(base["name"].as_str().unwrap().contains("百备村"), "{base}");
}

#[tokio::test]
async fn brand_stations_named_in_the_report_exist() {
    let app = TestApp::spawn_demo().await;
    let data = app
        .gql("{ stations(brand: true, first: 20) { edges { node { name brandName feature township { name } } } } }")
        .send()
        .await
        .data()
        .clone();
    let brands: Vec<(String, String)> = data["stations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            (
                n["township"]["name"].as_str().unwrap().to_owned(),
                n["brandName"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (township, brand) in [
        ("义兴镇", "三站合一"),
        ("平松乡", "代表直播"),
        ("城区", "幸福驿站"),
    ] {
        assert!(
            brands.contains(&(township.to_owned(), brand.to_owned())),
            "{township} {brand}: {brands:?}"
        );
    }
    assert!(data["stations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["node"]["feature"].is_string()));
}

#[tokio::test]
async fn binhe_community_has_eight_grids_and_resident_deputies() {
    let app = TestApp::spawn_demo().await;
    let data = app
        .gql(r#"{ stations(name: "滨河") { totalCount edges { node { brandName grids(first: 20) { totalCount edges { node { name station { name } } } } residentDeputies { totalCount } } } } }"#)
        .send()
        .await
        .data()
        .clone();
    assert_eq!(data["stations"]["totalCount"], 1);
    let station = &data["stations"]["edges"][0]["node"];
    assert_eq!(station["brandName"], "幸福驿站");
    assert_eq!(station["grids"]["totalCount"], 8);
    assert!(station["residentDeputies"]["totalCount"].as_u64().unwrap() >= 4);
}

#[tokio::test]
async fn stations_filter_by_township() {
    let app = TestApp::spawn_demo().await;
    let townships = app.gql("{ townships(first: 50) { totalCount edges { node { id name stations(first: 100) { totalCount } } } } }").send().await;
    let data = townships.data();
    assert_eq!(data["townships"]["totalCount"], 11);
    let mut sum = 0;
    for edge in data["townships"]["edges"].as_array().unwrap() {
        let node = &edge["node"];
        let filtered = app
            .gql("query($t: ID!) { stations(townshipId: $t, first: 100) { totalCount edges { node { township { id } } } } }")
            .vars(json!({ "t": node["id"] }))
            .send()
            .await;
        let filtered = filtered.data();
        assert_eq!(
            filtered["stations"]["totalCount"], node["stations"]["totalCount"],
            "{}",
            node["name"]
        );
        for e in filtered["stations"]["edges"].as_array().unwrap() {
            assert_eq!(e["node"]["township"]["id"], node["id"]);
        }
        sum += filtered["stations"]["totalCount"].as_u64().unwrap();
    }
    assert_eq!(sum, 72, "every station belongs to exactly one township");
}

#[tokio::test]
async fn deputies_filter_by_level_station_township_and_name() {
    let app = TestApp::spawn_demo().await;
    let levels = app
        .gql("{ n: deputies(filter: {level: NATIONAL}) { totalCount } p: deputies(filter: {level: PROVINCIAL}) { totalCount } m: deputies(filter: {level: MUNICIPAL}) { totalCount } c: deputies(filter: {level: COUNTY}) { totalCount } t: deputies(filter: {level: TOWNSHIP}) { totalCount } all: deputies { totalCount } }")
        .send()
        .await;
    let d = levels.data();
    let by_level: u64 = ["n", "p", "m", "c", "t"]
        .iter()
        .map(|k| d[k]["totalCount"].as_u64().unwrap())
        .sum();
    assert_eq!(by_level, d["all"]["totalCount"].as_u64().unwrap());
    for k in ["n", "p", "m", "c", "t"] {
        assert!(
            d[k]["totalCount"].as_u64().unwrap() > 0,
            "level {k} has deputies"
        );
    }

    // By station: exactly that station's resident deputies.
    let station = app
        .gql(r#"{ stations(kind: LIAISON_STATION, first: 1) { edges { node { id residentDeputies { totalCount edges { node { id code } } } } } } }"#)
        .send()
        .await;
    let node = station.data()["stations"]["edges"][0]["node"].clone();
    let by_station = app
        .gql("query($s: ID!) { deputies(filter: {stationId: $s}) { totalCount edges { node { id stations { edges { node { id } } } } } } }")
        .vars(json!({ "s": node["id"] }))
        .send()
        .await;
    let by_station = by_station.data();
    assert_eq!(
        by_station["deputies"]["totalCount"],
        node["residentDeputies"]["totalCount"]
    );
    for e in by_station["deputies"]["edges"].as_array().unwrap() {
        let stations = e["node"]["stations"]["edges"].as_array().unwrap();
        assert!(stations.iter().any(|s| s["node"]["id"] == node["id"]));
    }

    // By name: a fragment of one deputy's name finds them, and only matching names.
    let first = app
        .gql("{ deputies(first: 1) { edges { node { id name } } } }")
        .send()
        .await;
    let deputy = first.data()["deputies"]["edges"][0]["node"].clone();
    let name = deputy["name"].as_str().unwrap();
    let fragment: String = name.chars().skip(1).collect();
    let by_name = app
        .gql("query($n: String!) { deputies(filter: {name: $n}, first: 100) { edges { node { id name } } } }")
        .vars(json!({ "n": fragment }))
        .send()
        .await;
    let edges = by_name.data()["deputies"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert!(edges.iter().any(|e| e["node"]["id"] == deputy["id"]));
    assert!(edges
        .iter()
        .all(|e| e["node"]["name"].as_str().unwrap().contains(&fragment)));

    // Wildcards in the name are literal text.
    let wildcard = app
        .gql(r#"{ deputies(filter: {name: "%"}) { totalCount } }"#)
        .send()
        .await;
    assert_eq!(wildcard.data()["deputies"]["totalCount"], 0);
}

#[tokio::test]
async fn deputies_filter_by_township_includes_station_residents() {
    let app = TestApp::spawn_demo().await;
    let t = app
        .gql(r#"{ townships(first: 1) { edges { node { id } } } }"#)
        .send()
        .await;
    let township = t.data()["townships"]["edges"][0]["node"]["id"].clone();
    let r = app
        .gql("query($t: ID!) { deputies(filter: {townshipId: $t}, first: 100) { totalCount edges { node { township { id } stations { edges { node { township { id } } } } } } } }")
        .vars(json!({ "t": township }))
        .send()
        .await;
    let data = r.data();
    assert!(data["deputies"]["totalCount"].as_u64().unwrap() > 0);
    for e in data["deputies"]["edges"].as_array().unwrap() {
        let n = &e["node"];
        let home = n["township"]["id"] == township;
        let at_station = n["stations"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["node"]["township"]["id"] == township);
        assert!(home || at_station, "{n}");
    }
}

#[tokio::test]
async fn deputy_codes_are_unique_public_and_resolvable() {
    let app = TestApp::spawn_demo().await;
    let r = app
        .gql("{ deputies(first: 100) { edges { node { id code } } } }")
        .send()
        .await;
    let edges = r.data()["deputies"]["edges"].as_array().unwrap().clone();
    let mut codes: Vec<&str> = edges
        .iter()
        .map(|e| e["node"]["code"].as_str().unwrap())
        .collect();
    codes.sort_unstable();
    let before = codes.len();
    codes.dedup();
    assert_eq!(codes.len(), before, "codes are unique");
    let one = &edges[3]["node"];
    let found = app
        .gql("query($c: String!) { deputyByCode(code: $c) { id } }")
        .vars(json!({ "c": one["code"].as_str().unwrap().to_lowercase() }))
        .send()
        .await;
    assert_eq!(found.data()["deputyByCode"]["id"], one["id"]);
    let malformed = app
        .gql(r#"{ deputyByCode(code: "1") { id } }"#)
        .send()
        .await;
    assert_eq!(malformed.error_code(), Some("BAD_USER_INPUT"));
    let unknown = app
        .gql(r#"{ deputyByCode(code: "ZZZZZZZZ") { id } }"#)
        .send()
        .await;
    assert!(unknown.data()["deputyByCode"].is_null());
}

#[tokio::test]
async fn departments_filter_by_level() {
    let app = TestApp::spawn_demo().await;
    let r = app
        .gql("{ county: departments(level: COUNTY) { totalCount } township: departments(level: TOWNSHIP, first: 50) { totalCount edges { node { township { name } } } } all: departments { totalCount } }")
        .send()
        .await;
    let d = r.data();
    assert!(d["county"]["totalCount"].as_u64().unwrap() >= 15);
    assert_eq!(
        d["township"]["totalCount"], 11,
        "one government per township"
    );
    assert_eq!(
        d["county"]["totalCount"].as_u64().unwrap() + d["township"]["totalCount"].as_u64().unwrap(),
        d["all"]["totalCount"].as_u64().unwrap()
    );
    assert!(d["township"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["node"]["township"]["name"].is_string()));
}

#[tokio::test]
async fn an_empty_database_answers_empty_connections() {
    let app = TestApp::spawn().await;
    let r = app.gql("{ stations { totalCount edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }").send().await;
    let s = &r.data()["stations"];
    assert_eq!(s["totalCount"], 0);
    assert_eq!(s["edges"].as_array().unwrap().len(), 0);
    assert_eq!(s["pageInfo"]["hasNextPage"], false);
    assert!(s["pageInfo"]["startCursor"].is_null());
}
