//! Open data (`/open-data/`): the figures are the GraphQL `statistics` answers, the
//! items come a page at a time with nothing personal in them, everything is
//! cacheable (ETag, 304), and periods are bounded.
use chrono::{TimeZone, Utc};
use entity::petition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::helpers::{Fixture, TestApp};

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.unwrap()
}

async fn json_of(app: &TestApp, path: &str) -> Value {
    let r = get(app, path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

async fn graphql_statistics(app: &TestApp, from: &str, to: &str, station: Option<&Value>) -> Value {
    app.gql("query($f: Date!, $t: Date!, $s: ID) { statistics(from: $f, to: $t, stationId: $s) { itemsCollected itemsCompleted completionRate completedOnTime onTimeRate rated satisfactionRate averageHandlingHours overdueCount urgentCompleted suggestionsMade suggestionsAdopted } }")
        .vars(json!({ "f": from, "t": to, "s": station }))
        .send()
        .await
        .data()["statistics"]
        .clone()
}

/// The open data row's figures under the GraphQL field names.
fn as_graphql(row: &Value) -> Value {
    json!({
        "itemsCollected": row["items_collected"],
        "itemsCompleted": row["items_completed"],
        "completionRate": row["completion_rate"],
        "completedOnTime": row["completed_on_time"],
        "onTimeRate": row["on_time_rate"],
        "rated": row["rated"],
        "satisfactionRate": row["satisfaction_rate"],
        "averageHandlingHours": row["average_handling_hours"],
        "overdueCount": row["overdue_count"],
        "urgentCompleted": row["urgent_completed"],
        "suggestionsMade": row["suggestions_made"],
        "suggestionsAdopted": row["suggestions_adopted"],
    })
}

#[tokio::test]
async fn the_figures_are_the_graphql_statistics_by_month_and_scope() {
    let app = TestApp::builder().fixture(Fixture::Demo).spawn().await;
    let body = json_of(
        &app,
        "/open-data/statistics.json?from=2025-01-01&to=2025-12-31",
    )
    .await;
    let rows = body["statistics"].as_array().unwrap();
    assert_eq!(rows.len(), 12);
    let mut collected = 0;
    for row in rows {
        let (from, to) = (row["from"].as_str().unwrap(), row["to"].as_str().unwrap());
        assert_eq!(
            as_graphql(row),
            graphql_statistics(&app, from, to, None).await,
            "{from}"
        );
        collected += row["items_collected"].as_i64().unwrap();
    }
    assert!(collected > 1000, "{collected}");
    assert_eq!(rows[1]["period"], "2025-02");
    assert_eq!(rows[1]["to"], "2025-02-28");

    // A station's year, as one row.
    let station = app
        .gql(r#"{ stations(name: "滨河") { edges { node { id } } } }"#)
        .send()
        .await
        .data()["stations"]["edges"][0]["node"]["id"]
        .clone();
    let year = json_of(
        &app,
        "/open-data/statistics.json?from=2025-01-01&to=2025-12-31&grain=year&station=binhe",
    )
    .await;
    let row = &year["statistics"][0];
    assert_eq!(
        (row["period"].as_str(), row["station"].as_str()),
        (Some("2025"), Some("binhe"))
    );
    assert_eq!(
        as_graphql(row),
        graphql_statistics(&app, "2025-01-01", "2025-12-31", Some(&station)).await
    );

    // The CSV holds the same rows under the dictionary's header.
    let csv = get(
        &app,
        "/open-data/statistics.csv?from=2025-01-01&to=2025-12-31",
    )
    .await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let dictionary = json_of(&app, "/open-data/dictionary.json").await;
    let names: Vec<String> = dictionary["datasets"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), names.join(","));
    let csv_collected: i64 = lines
        .map(|line| line.split(',').nth(6).unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(csv_collected, collected);
    let first = rows[0].as_object().unwrap();
    assert_eq!(first.keys().cloned().collect::<Vec<_>>(), names);
}

#[tokio::test]
async fn items_are_anonymous_and_paged_through_a_county_year() {
    let app = TestApp::builder().fixture(Fixture::Demo).spawn().await;
    let dictionary = json_of(&app, "/open-data/dictionary.json").await;
    let fields: Vec<&str> = dictionary["datasets"][1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();

    let mut path = "/open-data/items.json?from=2025-01-01&to=2025-12-31&limit=400".to_owned();
    let (mut items, mut pages, mut bodies) = (Vec::new(), 0, String::new());
    loop {
        let r = get(&app, &path).await;
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        bodies.push_str(&text);
        let page: Value = serde_json::from_str(&text).unwrap();
        items.extend(page["items"].as_array().unwrap().clone());
        pages += 1;
        match page["next"].as_str() {
            Some(next) => path = next.to_owned(),
            None => break,
        }
        assert!(pages < 10);
    }
    let start = Utc.with_ymd_and_hms(2024, 12, 31, 16, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(2025, 12, 31, 16, 0, 0).unwrap();
    let stored = petition::Entity::find()
        .filter(petition::Column::CollectedAt.gte(start))
        .filter(petition::Column::CollectedAt.lt(end))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(items.len(), stored.len());
    assert_eq!(pages, stored.len().div_ceil(400));
    let mut ids: Vec<i64> = items.iter().map(|i| i["id"].as_i64().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), items.len(), "no item twice across pages");
    for item in &items {
        let keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, fields, "only the dictionary's fields");
        assert_eq!(
            item["collected_on"].as_str().unwrap().len(),
            10,
            "a day, never an hour"
        );
    }
    // Nothing a citizen wrote or gave: phones, names, titles, texts, results.
    for p in &stored {
        let private = [
            p.submitter_phone.clone(),
            p.submitter_name.clone().filter(|n| n.chars().count() >= 3),
            Some(p.title.clone()).filter(|t| t.chars().count() >= 8),
            Some(p.content.clone()).filter(|t| t.chars().count() >= 8),
            p.result.clone().filter(|t| t.chars().count() >= 8),
            Some(p.tracking_code.clone()),
        ];
        for text in private.into_iter().flatten() {
            assert!(!bodies.contains(&text), "{text} is in the open data");
        }
    }

    // CSV: the next page in the Link header; GeoJSON: features with the same fields.
    let csv = get(
        &app,
        "/open-data/items.csv?from=2025-01-01&to=2025-12-31&limit=100",
    )
    .await;
    let link = csv.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.ends_with("&limit=100>; rel=\"next\"") && link.contains("after="),
        "{link}"
    );
    assert_eq!(csv.text().await.unwrap().lines().count(), 101);
    let geo = get(
        &app,
        "/open-data/items.geojson?from=2025-01-01&to=2025-12-31&limit=50",
    )
    .await;
    assert_eq!(
        geo.headers()["content-type"],
        "application/geo+json; charset=utf-8"
    );
    let geo: Value = geo.json().await.unwrap();
    assert_eq!(geo["type"], "FeatureCollection");
    assert_eq!(geo["features"].as_array().unwrap().len(), 50);
    assert_eq!(geo["features"][0]["properties"]["id"], items[0]["id"]);
}

#[tokio::test]
async fn answers_are_cacheable_and_periods_bounded() {
    let app = TestApp::builder().fixture(Fixture::Demo).spawn().await;
    let path = "/open-data/statistics.json?from=2025-01-01&to=2025-03-31";
    let first = get(&app, path).await;
    assert_eq!(first.headers()["cache-control"], "public, max-age=300");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url(path))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert!(again.text().await.unwrap().is_empty());
    let other = app
        .client
        .get(app.url(path))
        .header("If-None-Match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);

    for (path, status, code) in [
        (
            "/open-data/items.json?from=2024-01-01&to=2025-12-31",
            400,
            "BAD_USER_INPUT",
        ),
        (
            "/open-data/statistics.json?from=2010-01-01&to=2025-12-31",
            400,
            "BAD_USER_INPUT",
        ),
        (
            "/open-data/statistics.json?from=2025-02-01&to=2025-01-01",
            400,
            "BAD_USER_INPUT",
        ),
        (
            "/open-data/statistics.json?from=January",
            400,
            "BAD_USER_INPUT",
        ),
        (
            "/open-data/statistics.json?grain=week",
            400,
            "BAD_USER_INPUT",
        ),
        (
            "/open-data/statistics.json?township=nowhere",
            404,
            "NOT_FOUND",
        ),
        ("/open-data/items.json?limit=lots", 400, "BAD_USER_INPUT"),
        ("/open-data/people.csv", 404, "NOT_FOUND"),
    ] {
        let r = get(&app, path).await;
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(r.headers()["cache-control"], "no-store");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{path}");
    }
    // A year of months, and ten years by year, are fine.
    assert_eq!(
        get(
            &app,
            "/open-data/statistics.csv?from=2016-01-01&to=2025-12-31&grain=year"
        )
        .await
        .status(),
        200
    );
}
