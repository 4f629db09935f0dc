//! Places (issue 16): an item's location (WGS-84 kept, GCJ-02 converted), stations'
//! coordinates, the nearest stations to a point, and items on a map. Expected
//! distances are computed by hand from the haversine formula on R = 6 371 008.8 m
//! (one degree of a great circle: R·π/180 = 111 195.08 m).
use chrono::Utc;
use entity::{petition, station, township, StationKind, TownshipKind};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::{json, Value};

use crate::helpers::{Fixture, GqlResponse, TestApp};
use crate::petitions::World;

const SUBMIT: &str = "mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { trackingCode followSecret petition { id location { latitude longitude accuracy address } } } }";
const NODE_LOCATION: &str =
    "query($id: ID!) { node(id: $id) { ... on Petition { location { latitude longitude accuracy address } } } }";
const TRACK: &str = "query($c: String!, $s: String) { trackPetition(trackingCode: $c, followSecret: $s) { status { state } petition { location { latitude longitude } } } }";
const NEAREST: &str = "query($lat: Float!, $lon: Float!, $cs: CoordinateSystem, $first: Int) { nearestStations(latitude: $lat, longitude: $lon, coordinateSystem: $cs, first: $first) { distanceMeters station { code location { latitude longitude } } } }";
const MAP: &str = "query($s: Float!, $w: Float!, $n: Float!, $e: Float!, $first: Int) { itemsOnMap(south: $s, west: $w, north: $n, east: $e, first: $first) { mode truncated cellSizeDegrees points { trackingCode location { latitude longitude } } cells { count centre { latitude longitude } } } }";

fn near(value: &Value, expected: f64, tolerance: f64) -> bool {
    value
        .as_f64()
        .is_some_and(|v| (v - expected).abs() <= tolerance)
}

fn item_input(world: &World, location: Value) -> Value {
    json!({
        "title": "村口道路塌陷",
        "content": "村口道路塌陷一处，车辆通行危险，请尽快修复。",
        "stationId": world.binhe,
        "submitterPhone": "13912345678",
        "location": location,
    })
}

#[tokio::test]
async fn a_gcj02_location_is_kept_as_wgs84_and_shown_only_with_the_item() {
    let world = World::on(TestApp::spawn_demo().await).await;
    let app = &world.app;
    // Beijing railway station, a published pair: GCJ-02 (39.90245, 116.42703) is
    // WGS-84 (39.90105, 116.42079), each to ±1e-5°.
    let r = app
        .gql(SUBMIT)
        .vars(json!({ "i": item_input(&world, json!({
            "latitude": 39.90245, "longitude": 116.42703, "coordinateSystem": "GCJ02",
            "accuracy": 15.2, "address": "  北京站东街  ",
        })) }))
        .send()
        .await;
    let payload = r.data()["submitPetition"].clone();
    let location = &payload["petition"]["location"];
    assert!(near(&location["latitude"], 39.90105, 1.5e-5), "{location}");
    assert!(
        near(&location["longitude"], 116.42079, 1.5e-5),
        "{location}"
    );
    assert_eq!(location["accuracy"], 16, "rounded up to the metre");
    assert_eq!(location["address"], "北京站东街");

    // The station's staff see it exactly (as stored: whole 1e-7 degrees).
    let id = payload["petition"]["id"].clone();
    let as_staff = app
        .gql(NODE_LOCATION)
        .vars(json!({ "id": id }))
        .bearer(Some(&world.staff))
        .send()
        .await;
    assert_eq!(as_staff.data()["node"]["location"], *location);
    // A handler of an unrelated department does not see the item, nor its place.
    let as_handler = app
        .gql(NODE_LOCATION)
        .vars(json!({ "id": id }))
        .bearer(Some(&world.handler))
        .send()
        .await;
    assert_eq!(as_handler.body["data"]["node"], Value::Null);
    // The tracking code alone shows the status, never the item or its place.
    let code = payload["trackingCode"].clone();
    let status_only = app.gql(TRACK).vars(json!({ "c": code })).send().await;
    assert_eq!(status_only.data()["trackPetition"]["petition"], Value::Null);
    assert_eq!(
        status_only.data()["trackPetition"]["status"]["state"],
        "SUBMITTED"
    );
    // The anonymous submitter, with the follow secret, sees it.
    let with_secret = app
        .gql(TRACK)
        .vars(json!({ "c": code, "s": payload["followSecret"] }))
        .send()
        .await;
    assert_eq!(
        with_secret.data()["trackPetition"]["petition"]["location"]["latitude"],
        location["latitude"]
    );

    // WGS-84 (the default) is kept to the 1e-7 degree.
    let r = app
        .gql(SUBMIT)
        .vars(json!({ "i": item_input(&world, json!({ "latitude": 37.3301234, "longitude": 113.5712345 })) }))
        .send()
        .await;
    let location = &r.data()["submitPetition"]["petition"]["location"];
    assert_eq!(
        *location,
        json!({ "latitude": 37.3301234, "longitude": 113.5712345, "accuracy": null, "address": null })
    );
    // Without a location, none.
    let mut plain = item_input(&world, Value::Null);
    plain.as_object_mut().unwrap().remove("location");
    let r = app.gql(SUBMIT).vars(json!({ "i": plain })).send().await;
    assert_eq!(
        r.data()["submitPetition"]["petition"]["location"],
        Value::Null
    );
}

#[tokio::test]
async fn bad_locations_are_bad_user_input_and_store_nothing() {
    let world = World::on(TestApp::spawn_demo().await).await;
    let app = &world.app;
    let before = petition::Entity::find().count(&app.db).await.unwrap();
    for (location, field) in [
        (
            json!({ "latitude": 90.5, "longitude": 113.5 }),
            "location.latitude",
        ),
        (
            json!({ "latitude": -91, "longitude": 113.5 }),
            "location.latitude",
        ),
        (
            json!({ "latitude": 37.3, "longitude": 180.01 }),
            "location.longitude",
        ),
        (
            json!({ "latitude": 37.3, "longitude": 113.5, "accuracy": -1 }),
            "location.accuracy",
        ),
        (
            json!({ "latitude": 37.3, "longitude": 113.5, "accuracy": 100001 }),
            "location.accuracy",
        ),
        (
            json!({ "latitude": 37.3, "longitude": 113.5, "address": "路".repeat(201) }),
            "location.address",
        ),
        // GCJ-02 exists only inside mainland China: Paris, Seoul and Hong Kong are not.
        (
            json!({ "latitude": 48.8566, "longitude": 2.3522, "coordinateSystem": "GCJ02" }),
            "location.coordinateSystem",
        ),
        (
            json!({ "latitude": 37.5665, "longitude": 126.978, "coordinateSystem": "GCJ02" }),
            "location.coordinateSystem",
        ),
        (
            json!({ "latitude": 22.3193, "longitude": 114.1694, "coordinateSystem": "GCJ02" }),
            "location.coordinateSystem",
        ),
    ] {
        let r = app
            .gql(SUBMIT)
            .vars(json!({ "i": item_input(&world, location.clone()) }))
            .send()
            .await;
        assert_eq!(
            r.error_code(),
            Some("BAD_USER_INPUT"),
            "{location}: {}",
            r.body
        );
        assert_eq!(
            r.body["errors"][0]["extensions"]["field"], field,
            "{location}"
        );
    }
    // JSON has no NaN or infinity: a number too large for a double is refused by the
    // request, never stored.
    let r = app
        .gql(r#"mutation($s: ID!) { submitPetition(input: {title: "道路塌陷", content: "村口道路塌陷一处请修复", stationId: $s, submitterPhone: "13912345678", location: {latitude: 1e999, longitude: 113}}) { trackingCode } }"#)
        .vars(json!({ "s": world.binhe }))
        .send()
        .await;
    assert!(r.body["errors"].is_array(), "{}", r.body);
    assert_eq!(r.body["data"]["submitPetition"], Value::Null, "{}", r.body);
    assert_eq!(
        petition::Entity::find().count(&app.db).await.unwrap(),
        before
    );
}

/// A township and stations at hand-picked places around (37, 113), one without
/// coordinates.
async fn stations_around(app: &TestApp) {
    let now = Utc::now();
    let t = township::ActiveModel {
        code: Set("t".into()),
        name: Set("测试乡".into()),
        kind: Set(TownshipKind::Township),
        sort_order: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    for (code, place) in [
        ("north", Some((37.01, 113.0))),
        ("east", Some((37.0, 113.01))),
        ("south", Some((36.98, 113.0))),
        ("beijing", Some((39.90105, 116.42079))),
        ("nowhere", None),
    ] {
        station::ActiveModel {
            code: Set(code.into()),
            name: Set(code.into()),
            kind: Set(StationKind::ServicePost),
            township_id: Set(t.id),
            is_brand: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            latitude_e7: Set(place.map(|(lat, _): (f64, f64)| (lat * 1e7).round() as i32)),
            longitude_e7: Set(place.map(|(_, lon): (f64, f64)| (lon * 1e7).round() as i32)),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn nearest_stations_are_ordered_by_great_circle_distance() {
    let app = TestApp::builder().fixture(Fixture::Empty).spawn().await;
    stations_around(&app).await;
    let nearest = |lat: f64, lon: f64, cs: &str, first: Option<i64>| {
        app.gql(NEAREST)
            .vars(json!({ "lat": lat, "lon": lon, "cs": cs, "first": first }))
            .send()
    };
    let r = nearest(37.0, 113.0, "WGS84", Some(10)).await;
    let found = r.data()["nearestStations"].as_array().unwrap().clone();
    let codes: Vec<&str> = found
        .iter()
        .map(|s| s["station"]["code"].as_str().unwrap())
        .collect();
    // The station without coordinates is not among them; Beijing (hundreds of
    // kilometres away) is found by widening the search.
    assert_eq!(codes, ["east", "north", "south", "beijing"]);
    // 0.01° east at 37°: 111 195.08 × 0.01 × cos 37° = 888.04 m; 0.01° north:
    // 1 111.95 m; 0.02° south: 2 223.90 m (rounded to the metre).
    assert_eq!(found[0]["distanceMeters"], 888.0);
    assert_eq!(found[1]["distanceMeters"], 1112.0);
    assert_eq!(found[2]["distanceMeters"], 2224.0);
    assert!(found[3]["distanceMeters"].as_f64().unwrap() > 400_000.0);
    assert_eq!(
        found[0]["station"]["location"],
        json!({ "latitude": 37.0, "longitude": 113.01 })
    );

    // `first` bounds the answer; the nearest come first.
    let r = nearest(37.0, 113.0, "WGS84", Some(2)).await;
    let two: Vec<&str> = r.data()["nearestStations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["station"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(two, ["east", "north"]);

    // Asked in GCJ-02 from Beijing station's published GCJ-02 point, the Beijing
    // station (at its WGS-84 point) is at a metre or two at most.
    let r = nearest(39.90245, 116.42703, "GCJ02", Some(1)).await;
    let first = &r.data()["nearestStations"][0];
    assert_eq!(first["station"]["code"], "beijing");
    assert!(first["distanceMeters"].as_f64().unwrap() <= 2.0, "{first}");

    for (lat, lon, cs, first, field) in [
        (37.0, 113.0, "WGS84", Some(0), "first"),
        (37.0, 113.0, "WGS84", Some(51), "first"),
        (95.0, 113.0, "WGS84", None, "latitude"),
        (37.0, -200.0, "WGS84", None, "longitude"),
        (48.85, 2.35, "GCJ02", None, "coordinateSystem"),
    ] {
        let r = nearest(lat, lon, cs, first).await;
        assert_eq!(r.error_code(), Some("BAD_USER_INPUT"), "{}", r.body);
        assert_eq!(r.body["errors"][0]["extensions"]["field"], field);
    }
}

#[tokio::test]
async fn the_demo_stations_lie_in_heshun_county() {
    let app = TestApp::spawn_demo().await;
    let r = app
        .gql("{ stations(first: 100) { totalCount nodes { code location { latitude longitude } } } }")
        .send()
        .await;
    let stations = r.data()["stations"]["nodes"].as_array().unwrap().clone();
    assert_eq!(stations.len(), 72);
    let mut places = std::collections::HashSet::new();
    for s in &stations {
        let (lat, lon) = (
            s["location"]["latitude"].as_f64().unwrap(),
            s["location"]["longitude"].as_f64().unwrap(),
        );
        // Heshun county lies within about 37.0–37.6 N, 113.2–114.0 E.
        assert!((37.0..=37.6).contains(&lat), "{s}");
        assert!((113.2..=114.0).contains(&lon), "{s}");
        assert!(
            places.insert(s["location"].to_string()),
            "two stations at one place: {s}"
        );
    }
    // From the county seat, the nearest station is the seat's own town's, within 5 km.
    let r = app
        .gql(NEAREST)
        .vars(json!({ "lat": 37.33, "lon": 113.57, "cs": "WGS84", "first": 3 }))
        .send()
        .await;
    let found = r.data()["nearestStations"].as_array().unwrap().clone();
    assert_eq!(found.len(), 3);
    assert!(
        found[0]["distanceMeters"].as_f64().unwrap() < 5_000.0,
        "{found:?}"
    );
    let distances: Vec<f64> = found
        .iter()
        .map(|s| s["distanceMeters"].as_f64().unwrap())
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
}

/// Submits an item at `(lat, lon)` addressed to 滨河 as the signed-in citizen; its
/// tracking code.
async fn item_at(world: &World, lat: f64, lon: f64) -> String {
    let r = world
        .app
        .gql(SUBMIT)
        .vars(json!({ "i": {
            "title": "路面破损",
            "content": "路面破损严重，雨天积水，请尽快修复。",
            "stationId": world.binhe,
            "location": { "latitude": lat, "longitude": lon },
        } }))
        .bearer(Some(&world.citizen))
        .send()
        .await;
    r.data()["submitPetition"]["trackingCode"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn map(
    app: &TestApp,
    token: Option<&str>,
    (s, w, n, e): (f64, f64, f64, f64),
    first: Option<i64>,
) -> GqlResponse {
    app.gql(MAP)
        .vars(json!({ "s": s, "w": w, "n": n, "e": e, "first": first }))
        .bearer(token)
        .send()
        .await
}

#[tokio::test]
async fn a_map_shows_points_to_those_who_may_see_them_and_counts_to_everyone_else() {
    let world = World::on(TestApp::spawn_demo().await).await;
    let app = &world.app;
    let a = item_at(&world, 37.331, 113.571).await;
    let b = item_at(&world, 37.335, 113.575).await;
    let c = item_at(&world, 37.45, 113.71).await;
    let close = (37.30, 113.55, 37.40, 113.65);

    // Zoomed in, 滨河's staff see their station's items, exactly.
    let r = map(app, Some(&world.staff), close, None).await;
    let staff = &r.data()["itemsOnMap"];
    assert_eq!(staff["mode"], "POINTS");
    assert_eq!(staff["truncated"], false);
    let codes: Vec<&str> = staff["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["trackingCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, [a.as_str(), b.as_str()], "c is outside the box");
    assert_eq!(
        staff["points"][0]["location"],
        json!({ "latitude": 37.331, "longitude": 113.571 })
    );
    // `first` bounds the points and says there were more.
    let r = map(app, Some(&world.staff), close, Some(1)).await;
    assert_eq!(
        r.data()["itemsOnMap"]["points"].as_array().unwrap().len(),
        1
    );
    assert_eq!(r.data()["itemsOnMap"]["truncated"], true);
    // A handler of an unrelated department sees no points at all.
    let r = map(app, Some(&world.handler), close, None).await;
    assert_eq!(r.data()["itemsOnMap"]["mode"], "POINTS");
    assert_eq!(r.data()["itemsOnMap"]["points"], json!([]));

    // A county supervisor sees the items but not the submitter's details: the place
    // rounded to 0.01°.
    let r = map(app, Some(&world.supervisor), close, None).await;
    let supervisor = &r.data()["itemsOnMap"];
    assert_eq!(supervisor["mode"], "POINTS");
    assert_eq!(
        supervisor["points"][0]["location"],
        json!({ "latitude": 37.33, "longitude": 113.57 })
    );

    // The public gets counts, in cells of at least 0.05°: 37.331 and 37.335 fall in
    // cell 37.30–37.35 (lat) × 113.55–113.60 (lon); with fewer than 5 items a cell is
    // drawn at its centre (37.325, 113.575), not at its items' centroid.
    let r = map(app, None, close, None).await;
    let public = &r.data()["itemsOnMap"];
    assert_eq!(public["mode"], "CELLS");
    assert_eq!(public["points"], json!([]));
    assert_eq!(public["cellSizeDegrees"], 0.05);
    let whole_cell =
        json!([{ "count": 2, "centre": { "latitude": 37.325, "longitude": 113.575 } }]);
    assert_eq!(public["cells"], whole_cell);
    // A box cut inside the cell, around a alone, counts the whole cell all the same:
    // narrowing boxes cannot pin an item down.
    let r = map(app, None, (37.3309, 113.5709, 37.3311, 113.5711), None).await;
    assert_eq!(r.data()["itemsOnMap"]["cells"], whole_cell);
    let r = map(app, None, (37.3401, 113.5801, 37.3402, 113.5802), None).await;
    assert_eq!(
        r.data()["itemsOnMap"]["cells"],
        whole_cell,
        "a box holding neither"
    );

    // Zoomed out (1°), even an admin gets counts, in 0.2° cells (the first step at
    // least 1/8 of the span), each drawn at its centre (fewer than 5 items): a and b
    // in 37.2–37.4 × 113.4–113.6: (37.3, 113.5); c alone in 37.4–37.6 × 113.6–113.8:
    // (37.5, 113.7).
    let wide = (37.0, 113.0, 38.0, 114.0);
    let r = map(app, Some(&world.admin), wide, None).await;
    let admin = &r.data()["itemsOnMap"];
    assert_eq!(admin["mode"], "CELLS");
    assert_eq!(admin["cellSizeDegrees"], 0.2);
    assert_eq!(
        admin["cells"],
        json!([
            { "count": 2, "centre": { "latitude": 37.3, "longitude": 113.5 } },
            { "count": 1, "centre": { "latitude": 37.5, "longitude": 113.7 } },
        ])
    );
    let _ = c;

    // A box wider than 5° is refused, and so is a reversed one.
    let r = map(app, None, (30.0, 110.0, 36.0, 114.0), None).await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"));
    let r = map(app, None, (37.4, 113.5, 37.3, 113.6), None).await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"));
    let r = map(app, Some(&world.staff), close, Some(501)).await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"));
}

/// A merged item stands in its target: it is off the map's points as it is off its
/// counts, and `truncated` counts only what is shown.
#[tokio::test]
async fn a_merged_item_is_off_the_map() {
    let world = &World::on(TestApp::spawn_demo().await).await;
    let app = &world.app;
    let target = item_at(world, 37.331, 113.571).await;
    let duplicate = item_at(world, 37.335, 113.575).await;
    let item = |code: String| async move {
        world
            .ok(
                Some(&world.staff),
                "query($c: String!) { trackPetition(trackingCode: $c) { petition { id version } } }",
                json!({ "c": code }),
            )
            .await["petition"]
            .clone()
    };
    let (target_item, duplicate_item) = (item(target.clone()).await, item(duplicate).await);
    let target_item = world
        .register(&target_item, "roads_transport", "NORMAL")
        .await;
    world
        .step(
            &world.staff,
            crate::petitions::MERGE,
            &duplicate_item,
            json!({ "into": target_item["id"] }),
        )
        .await;
    let close = (37.30, 113.55, 37.40, 113.65);
    let r = map(app, Some(&world.staff), close, Some(1)).await;
    let staff = &r.data()["itemsOnMap"];
    let codes: Vec<&str> = staff["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["trackingCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, [target.as_str()]);
    assert_eq!(staff["truncated"], false, "only the merged item was beyond");
    let r = map(app, None, close, None).await;
    assert_eq!(r.data()["itemsOnMap"]["cells"][0]["count"], 1);
}
