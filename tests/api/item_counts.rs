//! `totalCount` of the station ledger and the supervisors' list is added up from the
//! item tally (`petition_tally`, kept by a trigger), not counted over the items: it
//! must equal what counting the items gives under every filter and place, and the
//! tally must stay equal to a count of the items whatever writes them (the workflow:
//! `statistics_rollup::random_histories…`; bulk copies: `query_plans`).
use serde_json::{json, Value};
use smart_npc::service::petitions::tally;

use crate::helpers::{Fixture, Recorder, TestApp};

/// The filters compared: with no date, the tally answers; the same filter with a date
/// that excludes nothing makes the service count the items instead.
fn filters(category: &str) -> Vec<Value> {
    vec![
        json!({}),
        json!({ "states": ["CLOSED"] }),
        json!({ "states": ["FORWARDED", "ACCEPTED"] }),
        json!({ "states": ["ACCEPTED", "FORWARDED", "ACCEPTED"] }),
        json!({ "categoryId": category }),
        json!({ "urgency": "URGENT" }),
        json!({ "overdue": true }),
        json!({ "overdue": false, "states": ["CLOSED", "RESOLVED"] }),
        json!({ "states": ["CLOSED"], "categoryId": category, "urgency": "NORMAL", "overdue": false }),
    ]
}

fn counted_instead(filter: &Value) -> Value {
    let mut filter = filter.clone();
    filter["from"] = json!("2000-01-01");
    filter
}

async fn total(app: &TestApp, token: &str, query: &str, vars: Value) -> u64 {
    let r = app.gql(query).bearer(Some(token)).vars(vars).send().await;
    let data = r.data();
    let list = data.as_object().unwrap().values().next().unwrap();
    list["totalCount"]
        .as_u64()
        .unwrap_or_else(|| panic!("{data}"))
}

/// (county list, one township's list, a station's ledger) for `filter`, by `token`.
async fn totals(app: &TestApp, token: &str, ids: &Ids, filter: &Value) -> [u64; 3] {
    [
        total(
            app,
            token,
            "query($f: PetitionFilterInput) { petitions(filter: $f) { totalCount } }",
            json!({ "f": filter }),
        )
        .await,
        total(
            app,
            token,
            "query($t: ID, $f: PetitionFilterInput) { petitions(townshipId: $t, filter: $f) { totalCount } }",
            json!({ "t": ids.township, "f": filter }),
        )
        .await,
        total(
            app,
            token,
            "query($s: ID!, $f: PetitionFilterInput) { stationLedger(stationId: $s, filter: $f) { totalCount } }",
            json!({ "s": ids.station, "f": filter }),
        )
        .await,
    ]
}

struct Ids {
    township: String,
    station: String,
    category: String,
}

async fn ids(app: &TestApp, token: &str) -> Ids {
    let r = app
        .gql("{ stations(first: 100) { nodes { id code township { id } } } categories { id } }")
        .bearer(Some(token))
        .send()
        .await;
    let data = r.data();
    let binhe = data["stations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "binhe")
        .expect("the demo's 滨河 station")
        .clone();
    Ids {
        township: binhe["township"]["id"].as_str().unwrap().to_owned(),
        station: binhe["id"].as_str().unwrap().to_owned(),
        category: data["categories"][0]["id"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test]
async fn total_count_from_the_tally_equals_a_count_of_the_items_under_every_filter() {
    let recorded = Recorder::default();
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .record_statements(recorded.clone())
        .spawn()
        .await;
    let token = app.token("supervisor").await;
    let ids = ids(&app, &token).await;
    let mut nonzero = 0;
    for filter in filters(&ids.category) {
        recorded.lock().unwrap().clear();
        let tallied = totals(&app, &token, &ids, &filter).await;
        let statements: Vec<String> = recorded
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.sql.clone())
            .collect();
        assert!(
            statements.iter().any(|s| s.contains("petition_tally")),
            "{filter}: {statements:#?}"
        );
        assert!(
            !statements
                .iter()
                .any(|s| s.contains("COUNT") && s.contains("FROM \"petition\"")),
            "{filter}: the items were counted: {statements:#?}"
        );
        let counted = totals(&app, &token, &ids, &counted_instead(&filter)).await;
        assert_eq!(tallied, counted, "{filter}");
        nonzero += tallied.iter().filter(|n| **n > 0).count();
    }
    // The comparison means something only if the filters find items in each place.
    assert!(nonzero >= 15, "{nonzero}");
}

/// `smart-npc statistics verify` finds a tally that differs from the items, and
/// `rebuild` recounts it.
#[tokio::test]
async fn verify_finds_a_wrong_tally_and_rebuild_recounts_it() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn_demo().await;
    assert_eq!(tally::verify(&app.db).await.unwrap(), vec![]);
    app.db
        .execute_unprepared(
            "UPDATE petition_tally SET items = items + 2 \
             WHERE station_id = (SELECT MIN(station_id) FROM petition_tally WHERE station_id > 0)",
        )
        .await
        .unwrap();
    let differences = tally::verify(&app.db).await.unwrap();
    assert!(!differences.is_empty());
    assert!(differences
        .iter()
        .all(|(_, kept, counted)| kept - counted == 2));
    assert!(tally::rebuild(&app.db).await.unwrap() > 10);
    assert_eq!(tally::verify(&app.db).await.unwrap(), vec![]);
}
