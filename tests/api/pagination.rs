//! Cursor connections: walking forwards and backwards, bounds and bad cursors.
use serde_json::{json, Value};

use crate::helpers::TestApp;

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
  stations(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { code } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

async fn page(app: &TestApp, vars: Value) -> Value {
    let r = app.gql(PAGE).vars(vars).send().await;
    r.data()["stations"].clone()
}

fn codes(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn forward_and_backward_walks_see_every_station_once() {
    let app = TestApp::spawn_demo().await;
    let mut forward = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let p = page(&app, json!({ "first": 10, "after": after })).await;
        assert_eq!(p["totalCount"], 72);
        assert_eq!(p["pageInfo"]["hasPreviousPage"], json!(after.is_some()));
        forward.extend(codes(&p));
        pages += 1;
        if p["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = p["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        assert!(pages < 20, "pagination must terminate");
    }
    assert_eq!(pages, 8);
    assert_eq!(forward.len(), 72);

    let mut backward = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let p = page(&app, json!({ "last": 10, "before": before })).await;
        assert_eq!(p["pageInfo"]["hasNextPage"], json!(before.is_some()));
        let mut chunk = codes(&p);
        chunk.extend(backward);
        backward = chunk;
        if p["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        before = p["pageInfo"]["startCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(backward, forward, "both directions give the same order");
    let mut unique = forward.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 72, "no station twice");
}

#[tokio::test]
async fn cursors_of_edges_continue_exactly_after_them() {
    let app = TestApp::spawn_demo().await;
    let first = page(&app, json!({ "first": 5 })).await;
    let third_cursor = first["edges"][2]["cursor"].as_str().unwrap().to_owned();
    let next = page(&app, json!({ "first": 2, "after": third_cursor })).await;
    assert_eq!(codes(&next), codes(&first)[3..5].to_vec());
    let prev = page(&app, json!({ "last": 2, "before": third_cursor })).await;
    assert_eq!(codes(&prev), codes(&first)[0..2].to_vec());
    assert_eq!(prev["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(prev["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn page_size_is_capped_and_bad_arguments_are_bad_input() {
    let app = TestApp::spawn_demo().await;
    let at_cap = page(&app, json!({ "first": 100 })).await;
    assert_eq!(codes(&at_cap).len(), 72);
    for vars in [
        json!({ "first": 101 }),
        json!({ "last": 1000 }),
        json!({ "first": -1 }),
        json!({ "first": 1, "last": 1 }),
        json!({ "after": "garbage" }),
        json!({ "before": "U3RhdGlvbjox" }),
    ] {
        let r = app.gql(PAGE).vars(vars.clone()).send().await;
        assert_eq!(r.error_code(), Some("BAD_USER_INPUT"), "{vars}: {}", r.body);
        assert!(r.body["data"].is_null() || r.body["data"]["stations"].is_null());
    }
    // Nested connections are capped too.
    let r = app
        .gql("{ townships(first: 1) { edges { node { stations(first: 500) { totalCount } } } } }")
        .send()
        .await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn page_size_cap_follows_the_setting() {
    let app = TestApp::builder()
        .fixture(crate::helpers::Fixture::Demo)
        .env("MAX_PAGE_SIZE", "5")
        .spawn()
        .await;
    let r = app.gql(PAGE).vars(json!({ "first": 6 })).send().await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"));
    let p = page(&app, json!({})).await;
    assert_eq!(codes(&p).len(), 5, "the default page shrinks to the cap");
}

// ------------------------------------------------------------------ relations

const TOWNSHIP_STATIONS: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
  townships(first: 30) { pageInfo { hasNextPage } nodes { code
    stations(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges { cursor node { code } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  } }
}";

/// Each township's page of stations, by township code.
async fn township_pages(app: &TestApp, vars: Value) -> Vec<(String, Value)> {
    let r = app.gql(TOWNSHIP_STATIONS).vars(vars).send().await;
    assert_eq!(
        r.data()["townships"]["pageInfo"]["hasNextPage"],
        false,
        "every township"
    );
    r.data()["townships"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["code"].as_str().unwrap().to_owned(),
                t["stations"].clone(),
            )
        })
        .collect()
}

/// A relation paged in SQL for many parents at once gives every parent the page it
/// would get alone: walking forwards with `first`/`after` and backwards with
/// `last`/`before` (the same cursor for every parent, so each walk pages each
/// township by its own rows) sees each township's stations once, in order, with
/// Relay's page info and the total.
#[tokio::test]
async fn relation_pages_walk_each_parent_both_ways() {
    let app = TestApp::spawn_demo().await;
    let everything = township_pages(&app, json!({ "first": 50 })).await;
    assert!(everything.len() > 3, "the demo has townships");
    let mut checked = 0;
    for (code, all) in &everything {
        let all_codes = codes(all);
        assert_eq!(all["totalCount"], json!(all_codes.len()), "{code}");
        assert_eq!(all["pageInfo"]["hasNextPage"], false, "{code}");
        if all_codes.len() < 3 {
            continue;
        }
        checked += 1;
        // Forward, two at a time, from this township's own cursors.
        let mut walked = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let pages = township_pages(&app, json!({ "first": 2, "after": after })).await;
            let page = &pages.iter().find(|(c, _)| c == code).unwrap().1;
            assert_eq!(page["totalCount"], json!(all_codes.len()), "{code}");
            assert_eq!(
                page["pageInfo"]["hasPreviousPage"],
                json!(after.is_some()),
                "{code}"
            );
            walked.extend(codes(page));
            if page["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        }
        assert_eq!(walked, all_codes, "{code}: forward");
        // Backward, two at a time.
        let mut walked = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let pages = township_pages(&app, json!({ "last": 2, "before": before })).await;
            let page = &pages.iter().find(|(c, _)| c == code).unwrap().1;
            assert_eq!(
                page["pageInfo"]["hasNextPage"],
                json!(before.is_some()),
                "{code}"
            );
            let mut chunk = codes(page);
            chunk.extend(walked);
            walked = chunk;
            if page["pageInfo"]["hasPreviousPage"] == false {
                break;
            }
            before = page["pageInfo"]["startCursor"].as_str().map(str::to_owned);
        }
        assert_eq!(walked, all_codes, "{code}: backward");
    }
    assert!(checked > 0, "some township has three stations or more");
}
