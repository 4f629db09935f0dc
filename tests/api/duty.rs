//! Duty work of deputies: activities, "eight ones" (八个一) compliance and its roll-ups,
//! the performance archive (履职档案) and the showcase (代表风采) stories. Numbers are
//! computed by hand from fixtures built through the API on top of the demo seed
//! (accounts, townships, stations); past years keep "no future date" out of the way.
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{json, Value};
use smart_npc::domain::calendar::{day_start, local_date};
use smart_npc::domain::node_id::{NodeId, NodeKind};

use crate::fixtures::{
    assert_bad_input, assert_code, binhe, station_elsewhere, township, unknown, PASSWORD,
};
use crate::helpers::{GqlResponse, TestApp};

// ------------------------------------------------------------------ helpers

/// Today in Heshun (China Standard Time).
fn today_in_china() -> NaiveDate {
    local_date(Utc::now())
}

async fn create_station(app: &TestApp, admin: &str, code: &str, township: &Value) -> Value {
    let r = app
        .gql("mutation($i: CreateStationInput!) { createStation(input: $i) { id } }")
        .vars(json!({ "i": { "code": code, "name": format!("测试站{code}"), "kind": "SERVICE_POINT", "townshipId": township } }))
        .bearer(Some(admin))
        .send()
        .await;
    r.data()["createStation"]["id"].clone()
}

/// A county, first-term, grassroots deputy (with `extra` attributes).
async fn create_deputy(app: &TestApp, admin: &str, name: &str, extra: Value) -> Value {
    let mut input =
        json!({ "name": name, "gender": "MALE", "level": "COUNTY", "termStatus": "FIRST_TERM" });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    let r = app
        .gql("mutation($i: DeputyDetailsInput!) { createDeputy(input: $i) { id } }")
        .vars(json!({ "i": input }))
        .bearer(Some(admin))
        .send()
        .await;
    r.data()["createDeputy"]["id"].clone()
}

async fn assign(app: &TestApp, token: &str, deputy: &Value, station: &Value, since: &str) {
    app.gql("mutation($d: ID!, $s: ID!, $since: Date) { assignResidentDeputy(deputyId: $d, stationId: $s, since: $since) { id } }")
        .vars(json!({ "d": deputy, "s": station, "since": since }))
        .bearer(Some(token))
        .send()
        .await
        .data();
}

/// Creates an account with `roles` (and a deputy link) and signs it in.
async fn account(
    app: &TestApp,
    admin: &str,
    login: &str,
    roles: Value,
    deputy: Option<&Value>,
) -> String {
    app.gql("mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }")
        .vars(json!({ "i": { "login": login, "displayName": login, "password": PASSWORD, "roles": roles, "deputyId": deputy } }))
        .bearer(Some(admin))
        .send()
        .await
        .data();
    let signed = app.sign_in(login, PASSWORD).await;
    signed.data()["signIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

const LOG: &str = "mutation($i: LogActivityInput!) { logActivity(input: $i) { id kind title occurredOn isJoint citizensHeard notes campaign { name } participants { edges { node { id } } } stations { totalCount edges { node { id } } } } }";

async fn log_as(
    app: &TestApp,
    token: Option<&str>,
    kind: &str,
    on: &str,
    participants: &[&Value],
    stations: &[&Value],
) -> GqlResponse {
    app.gql(LOG)
        .vars(json!({ "i": { "kind": kind, "title": format!("{kind} {on}"), "occurredOn": on, "participantIds": participants, "stationIds": stations } }))
        .bearer(token)
        .send()
        .await
}

/// Logs an activity that must be accepted.
async fn log(app: &TestApp, token: &str, kind: &str, on: &str, participants: &[&Value]) {
    log_as(app, Some(token), kind, on, participants, &[])
        .await
        .data();
}

/// An opinion item of the deputy's (a suggestion, 意见建议) submitted at noon, Beijing
/// time, on `on`. The API has no mutation for these yet, so the row is written directly;
/// `adopted`: `None` not yet answered, `Some(true/false)` answered as adopted or not.
async fn suggestion(app: &TestApp, deputy: &Value, on: &str, adopted: Option<bool>) {
    let deputy_id = NodeId::decode(deputy.as_str().unwrap()).unwrap().id;
    let date = NaiveDate::parse_from_str(on, "%Y-%m-%d").unwrap();
    let at = day_start(date) + Duration::hours(12);
    entity::suggestion::ActiveModel {
        deputy_id: Set(deputy_id),
        department_id: Set(None),
        station_id: Set(None),
        title: Set(format!("关于{on}的建议")),
        content: Set("建议内容".into()),
        status: Set(if adopted.is_some() {
            entity::SuggestionStatus::Answered
        } else {
            entity::SuggestionStatus::Submitted
        }),
        adoption: Set(adopted.map(|a| {
            if a {
                entity::Adoption::Adopted
            } else {
                entity::Adoption::NotAdopted
            }
        })),
        answer: Set(None),
        submitted_at: Set(at),
        answered_at: Set(adopted.map(|_| at)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
}

const MONTH: &str = "query($d: ID!, $y: Int!, $m: Int!) { node(id: $d) { ... on Deputy { compliance(year: $y, month: $m) { year month items { item label required count met } missing residentHearings { required count met } fullyCompliant } } } }";
const YEAR: &str = "query($d: ID!, $y: Int!, $t: Int) { node(id: $d) { ... on Deputy { yearCompliance(year: $y, throughMonth: $t) { year throughMonth months { month fullyCompliant } yearlyItems { item required count met } missingYearly compliantMonths fullyCompliant } } } }";

async fn month_compliance(app: &TestApp, token: &str, deputy: &Value, y: i32, m: u32) -> Value {
    let r = app
        .gql(MONTH)
        .vars(json!({ "d": deputy, "y": y, "m": m }))
        .bearer(Some(token))
        .send()
        .await;
    r.data()["node"]["compliance"].clone()
}

async fn year_compliance(
    app: &TestApp,
    token: &str,
    deputy: &Value,
    y: i32,
    through: Option<u32>,
) -> Value {
    let r = app
        .gql(YEAR)
        .vars(json!({ "d": deputy, "y": y, "t": through }))
        .bearer(Some(token))
        .send()
        .await;
    r.data()["node"]["yearCompliance"].clone()
}

/// (item, count, met) of each item status, in order.
fn counts(items: &Value) -> Vec<(String, u64, bool)> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert_eq!(i["required"], 1, "{i}");
            (
                i["item"].as_str().unwrap().to_owned(),
                i["count"].as_u64().unwrap(),
                i["met"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn row(item: &str, count: u64, met: bool) -> (String, u64, bool) {
    (item.to_owned(), count, met)
}

const ROLLUP: &str = "query($s: ID, $t: ID, $y: Int!, $m: Int) { complianceRollup(stationId: $s, townshipId: $t, year: $y, month: $m) { deputies fullyCompliant share } }";

async fn rollup(app: &TestApp, token: &str, vars: Value) -> (u64, u64, f64) {
    let r = app.gql(ROLLUP).vars(vars).bearer(Some(token)).send().await;
    let d = &r.data()["complianceRollup"];
    (
        d["deputies"].as_u64().unwrap(),
        d["fullyCompliant"].as_u64().unwrap(),
        d["share"].as_f64().unwrap(),
    )
}

/// Everything a fully compliant March 2024 needs from activities (the opinion item
/// comes separately); two hearings for a resident deputy.
async fn full_march(app: &TestApp, admin: &str, deputies: &[&Value]) {
    for (kind, on) in [
        ("CITIZEN_RECEPTION", "2024-03-05"),
        ("HOUSEHOLD_VISIT", "2024-03-12"),
        ("STATION_ACTIVITY", "2024-03-19"),
        ("STUDY_TRAINING", "2024-03-26"),
    ] {
        log(app, admin, kind, on, deputies).await;
    }
}

const STORY_FIELDS: &str =
    "id title body coverUrl status returnReason publishedAt deputy { id } station { id } township { id }";

async fn story_op(app: &TestApp, token: Option<&str>, op: &str, vars: Value) -> GqlResponse {
    let query = match op {
        "create" => format!("mutation($d: ID!, $i: StoryFieldsInput!) {{ createStory(deputyId: $d, input: $i) {{ {STORY_FIELDS} }} }}"),
        "update" => format!("mutation($id: ID!, $i: StoryFieldsInput!) {{ updateStory(id: $id, input: $i) {{ {STORY_FIELDS} }} }}"),
        "return" => format!("mutation($id: ID!, $r: String!) {{ returnStory(id: $id, reason: $r) {{ {STORY_FIELDS} }} }}"),
        "submit" => format!("mutation($id: ID!) {{ submitStory(id: $id) {{ {STORY_FIELDS} }} }}"),
        "publish" => format!("mutation($id: ID!) {{ publishStory(id: $id) {{ {STORY_FIELDS} }} }}"),
        other => panic!("no story operation {other}"),
    };
    app.gql(&query).vars(vars).bearer(token).send().await
}

fn story_of(r: &GqlResponse) -> Value {
    r.data()
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone()
}

async fn draft(app: &TestApp, token: &str, deputy: &Value, title: &str) -> Value {
    let r = story_op(
        app,
        Some(token),
        "create",
        json!({ "d": deputy, "i": { "title": title, "body": format!("{title}的正文") } }),
    )
    .await;
    story_of(&r)["id"].clone()
}

async fn submitted(app: &TestApp, token: &str, deputy: &Value, title: &str) -> Value {
    let id = draft(app, token, deputy, title).await;
    story_op(app, Some(token), "submit", json!({ "id": id }))
        .await
        .data();
    id
}

/// Written, submitted and published by the admin.
async fn published(app: &TestApp, admin: &str, deputy: &Value, title: &str) -> Value {
    let id = submitted(app, admin, deputy, title).await;
    story_op(app, Some(admin), "publish", json!({ "id": id }))
        .await
        .data();
    id
}

const SHOWCASE: &str = "query($f: ShowcaseFilterInput, $first: Int, $after: String, $last: Int, $before: String) { showcase(filter: $f, first: $first, after: $after, last: $last, before: $before) { totalCount edges { cursor node { id title status township { id } station { id } } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

async fn showcase(app: &TestApp, vars: Value) -> Value {
    app.gql(SHOWCASE).vars(vars).send().await.data()["showcase"].clone()
}

fn node_ids(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect()
}

// ------------------------------------------------------------------ activities

#[tokio::test]
async fn deputies_log_activities_they_take_part_in() {
    let app = TestApp::spawn_demo().await;
    let deputy_token = app.token("deputy").await;
    let supervisor = app.token("supervisor").await;
    let admin = app.token("admin").await;
    let (binhe_id, _) = binhe(&app).await;
    let (other_station, _) = station_elsewhere(&app).await;
    let me = app
        .gql("{ me { deputy { id } } }")
        .bearer(Some(&deputy_token))
        .send()
        .await;
    let me = me.data()["me"]["deputy"]["id"].clone();
    let campaign = app
        .gql(r#"mutation { createCampaign(name: "百名代表入千户(测试)", startsOn: "2024-01-01") { id } }"#)
        .bearer(Some(&supervisor))
        .send()
        .await;
    let campaign = campaign.data()["createCampaign"]["id"].clone();

    let r = app
        .gql(LOG)
        .vars(json!({ "i": {
            "kind": "CITIZEN_RECEPTION", "title": "  选民接待日 ", "occurredOn": "2024-05-06",
            "stationIds": [binhe_id], "participantIds": [me], "campaignId": campaign,
            "citizensHeard": 12, "notes": "收集意见3条"
        } }))
        .bearer(Some(&deputy_token))
        .send()
        .await;
    let a = &r.data()["logActivity"];
    assert_eq!(a["kind"], "CITIZEN_RECEPTION");
    assert_eq!(a["title"], "选民接待日");
    assert_eq!(a["occurredOn"], "2024-05-06");
    assert_eq!(a["isJoint"], false);
    assert_eq!(a["citizensHeard"], 12);
    assert_eq!(a["notes"], "收集意见3条");
    assert_eq!(a["campaign"]["name"], "百名代表入千户(测试)");
    assert_eq!(node_ids(&a["participants"]), vec![me.clone()]);
    assert_eq!(node_ids(&a["stations"]), vec![binhe_id.clone()]);

    // Several stations make a joint activity (联合视察).
    let r = log_as(
        &app,
        Some(&deputy_token),
        "INSPECTION",
        "2024-05-07",
        &[&me],
        &[&binhe_id, &other_station],
    )
    .await;
    assert_eq!(r.data()["logActivity"]["isJoint"], true);
    assert_eq!(r.data()["logActivity"]["stations"]["totalCount"], 2);

    let listed = app
        .gql("query($d: ID!) { activities(filter: {deputyId: $d, from: \"2024-05-01\", to: \"2024-05-31\"}) { totalCount edges { node { kind } } } node(id: $d) { ... on Deputy { activities(year: 2024) { totalCount } } } }")
        .vars(json!({ "d": me }))
        .send()
        .await;
    let listed = listed.data();
    assert_eq!(listed["activities"]["totalCount"], 2);
    assert_eq!(
        listed["activities"]["edges"][0]["node"]["kind"], "CITIZEN_RECEPTION",
        "oldest first"
    );
    assert_eq!(listed["node"]["activities"]["totalCount"], 2);

    // Not for someone else alone.
    let someone = create_deputy(&app, &admin, "别的代表", json!({})).await;
    let r = log_as(
        &app,
        Some(&deputy_token),
        "STUDY_TRAINING",
        "2024-05-08",
        &[&someone],
        &[],
    )
    .await;
    assert_code(&r, "FORBIDDEN");
}

#[tokio::test]
async fn staff_log_activities_for_the_deputies_of_their_station_only() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let staff = app.token("staff").await;
    let (binhe_id, binhe_township) = binhe(&app).await;
    let (other_station, _) = station_elsewhere(&app).await;
    // Staff assign deputies of their station's township.
    let ours = create_deputy(
        &app,
        &admin,
        "滨河新代表",
        json!({ "townshipId": binhe_township }),
    )
    .await;
    let theirs = create_deputy(&app, &admin, "外站代表", json!({})).await;
    let nowhere = create_deputy(&app, &admin, "未驻站代表", json!({})).await;
    assign(&app, &staff, &ours, &binhe_id, "2024-01-01").await;
    assign(&app, &admin, &theirs, &other_station, "2024-01-01").await;

    let r = log_as(
        &app,
        Some(&staff),
        "STATION_ACTIVITY",
        "2024-04-02",
        &[&ours],
        &[&binhe_id],
    )
    .await;
    assert_eq!(
        node_ids(&r.data()["logActivity"]["participants"]),
        vec![ours.clone()]
    );
    for participants in [vec![&theirs], vec![&ours, &theirs], vec![&nowhere]] {
        let r = log_as(
            &app,
            Some(&staff),
            "STATION_ACTIVITY",
            "2024-04-03",
            &participants,
            &[&binhe_id],
        )
        .await;
        assert_code(&r, "FORBIDDEN");
    }
    // Other roles and anonymous callers: `permissions.rs`.

    // Once the deputy left the station, its staff no longer log for them.
    app.gql("mutation($d: ID!, $s: ID!) { endResidentAssignment(deputyId: $d, stationId: $s, until: \"2024-06-30\") { id } }")
        .vars(json!({ "d": ours, "s": binhe_id }))
        .bearer(Some(&staff))
        .send()
        .await
        .data();
    let r = log_as(
        &app,
        Some(&staff),
        "STATION_ACTIVITY",
        "2024-04-04",
        &[&ours],
        &[],
    )
    .await;
    assert_code(&r, "FORBIDDEN");

    let count = app
        .gql("query($a: ID!, $b: ID!, $c: ID!) { a: activities(filter: {deputyId: $a}) { totalCount } b: activities(filter: {deputyId: $b}) { totalCount } c: activities(filter: {deputyId: $c}) { totalCount } }")
        .vars(json!({ "a": ours, "b": theirs, "c": nowhere }))
        .send()
        .await;
    assert_eq!(count.data()["a"]["totalCount"], 1);
    assert_eq!(count.data()["b"]["totalCount"], 0);
    assert_eq!(count.data()["c"]["totalCount"], 0);
}

#[tokio::test]
async fn malformed_activities_are_bad_user_input_naming_the_field() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let (binhe_id, _) = binhe(&app).await;
    let deputy = create_deputy(&app, &admin, "校验代表", json!({})).await;
    let future = (today_in_china() + Duration::days(2)).to_string();
    let valid = json!({ "kind": "STUDY_TRAINING", "title": "培训", "occurredOn": "2024-04-01", "participantIds": [deputy], "stationIds": [binhe_id] });
    let cases: Vec<(&str, Value)> = vec![
        ("occurredOn", json!({ "occurredOn": future })),
        ("occurredOn", json!({ "occurredOn": "1999-12-31" })),
        ("title", json!({ "title": "   " })),
        ("title", json!({ "title": "题".repeat(201) })),
        ("notes", json!({ "notes": "注".repeat(5001) })),
        ("participantIds", json!({ "participantIds": [] })),
        (
            "participantIds",
            json!({ "participantIds": [unknown(NodeKind::Deputy)] }),
        ),
        (
            "participantIds",
            json!({ "participantIds": [deputy, unknown(NodeKind::Deputy)] }),
        ),
        ("participantIds", json!({ "participantIds": [binhe_id] })),
        (
            "stationIds",
            json!({ "stationIds": [unknown(NodeKind::Station)] }),
        ),
        ("stationIds", json!({ "stationIds": [deputy] })),
        (
            "campaignId",
            json!({ "campaignId": unknown(NodeKind::Campaign) }),
        ),
        ("citizensHeard", json!({ "citizensHeard": -1 })),
    ];
    for (field, patch) in cases {
        let mut input = valid.clone();
        for (k, v) in patch.as_object().unwrap() {
            input[k] = v.clone();
        }
        let r = app
            .gql(LOG)
            .vars(json!({ "i": input }))
            .bearer(Some(&admin))
            .send()
            .await;
        assert_bad_input(&r, field);
    }
    let count = app
        .gql("query($d: ID!) { activities(filter: {deputyId: $d}) { totalCount } }")
        .vars(json!({ "d": deputy }))
        .send()
        .await;
    assert_eq!(count.data()["activities"]["totalCount"], 0);
    // The valid input goes through.
    let r = app
        .gql(LOG)
        .vars(json!({ "i": valid }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_eq!(r.data()["logActivity"]["occurredOn"], "2024-04-01");
}

#[tokio::test]
async fn an_activity_dated_today_in_china_is_accepted() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let deputy = create_deputy(&app, &admin, "今日代表", json!({})).await;
    let today = today_in_china().to_string();
    let r = log_as(
        &app,
        Some(&admin),
        "CITIZEN_RECEPTION",
        &today,
        &[&deputy],
        &[],
    )
    .await;
    assert_eq!(r.data()["logActivity"]["occurredOn"], today);
}

// ------------------------------------------------------------------ compliance

#[tokio::test]
async fn monthly_items_count_the_activities_of_their_calendar_month() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let deputy = create_deputy(&app, &admin, "月度代表", json!({})).await;
    for (kind, on) in [
        ("CITIZEN_RECEPTION", "2024-01-31"),
        ("STATION_ACTIVITY", "2024-02-01"),
        ("HOUSEHOLD_VISIT", "2024-02-10"),
        ("STUDY_TRAINING", "2024-02-29"),
        ("STUDY_TRAINING", "2024-02-29"),
        ("CITIZEN_RECEPTION", "2024-03-01"),
        ("DIARY_ENTRY", "2024-02-15"),
    ] {
        log(&app, &admin, kind, on, &[&deputy]).await;
    }

    let january = month_compliance(&app, &admin, &deputy, 2024, 1).await;
    assert_eq!(january["year"], 2024);
    assert_eq!(january["month"], 1);
    assert_eq!(
        counts(&january["items"]),
        vec![
            row("RECEIVE_CITIZENS", 1, true),
            row("REPORT_OPINION", 0, false),
            row("STATION_ACTIVITY", 0, false),
            row("STUDY_TRAINING", 0, false),
        ]
    );
    assert_eq!(
        january["missing"],
        json!(["REPORT_OPINION", "STATION_ACTIVITY", "STUDY_TRAINING"])
    );
    assert_eq!(january["items"][0]["label"], "接待一次选民群众");
    assert!(
        january["residentHearings"].is_null(),
        "not a resident deputy"
    );
    assert_eq!(january["fullyCompliant"], false);

    // February 1 and 29 are February; a household visit is not a reception; a diary
    // entry is a yearly item.
    let february = month_compliance(&app, &admin, &deputy, 2024, 2).await;
    assert_eq!(
        counts(&february["items"]),
        vec![
            row("RECEIVE_CITIZENS", 0, false),
            row("REPORT_OPINION", 0, false),
            row("STATION_ACTIVITY", 1, true),
            row("STUDY_TRAINING", 2, true),
        ]
    );
    assert_eq!(
        february["missing"],
        json!(["RECEIVE_CITIZENS", "REPORT_OPINION"])
    );
    let march = month_compliance(&app, &admin, &deputy, 2024, 3).await;
    assert_eq!(
        counts(&march["items"]),
        vec![
            row("RECEIVE_CITIZENS", 1, true),
            row("REPORT_OPINION", 0, false),
            row("STATION_ACTIVITY", 0, false),
            row("STUDY_TRAINING", 0, false),
        ]
    );
    let april = month_compliance(&app, &admin, &deputy, 2024, 4).await;
    assert_eq!(
        april["missing"],
        json!([
            "RECEIVE_CITIZENS",
            "REPORT_OPINION",
            "STATION_ACTIVITY",
            "STUDY_TRAINING"
        ])
    );
}

#[tokio::test]
async fn an_opinion_item_in_the_month_completes_the_monthly_items() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let deputy = create_deputy(&app, &admin, "全勤代表", json!({})).await;
    for (kind, on) in [
        ("CITIZEN_RECEPTION", "2024-05-02"),
        ("STATION_ACTIVITY", "2024-05-09"),
        ("STUDY_TRAINING", "2024-05-31"),
    ] {
        log(&app, &admin, kind, on, &[&deputy]).await;
    }
    let before = month_compliance(&app, &admin, &deputy, 2024, 5).await;
    assert_eq!(before["missing"], json!(["REPORT_OPINION"]));
    assert_eq!(before["fullyCompliant"], false);
    // Suggested on June 1 (Beijing time): June's, not May's.
    suggestion(&app, &deputy, "2024-06-01", None).await;
    let still = month_compliance(&app, &admin, &deputy, 2024, 5).await;
    assert_eq!(still["missing"], json!(["REPORT_OPINION"]));
    suggestion(&app, &deputy, "2024-05-31", None).await;
    let after = month_compliance(&app, &admin, &deputy, 2024, 5).await;
    assert_eq!(
        counts(&after["items"]),
        vec![
            row("RECEIVE_CITIZENS", 1, true),
            row("REPORT_OPINION", 1, true),
            row("STATION_ACTIVITY", 1, true),
            row("STUDY_TRAINING", 1, true),
        ]
    );
    assert_eq!(after["missing"], json!([]));
    assert_eq!(after["fullyCompliant"], true);
}

#[tokio::test]
async fn yearly_items_count_january_through_the_month_asked() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let deputy = create_deputy(&app, &admin, "年度代表", json!({})).await;
    for (kind, on) in [
        ("DIARY_ENTRY", "2023-12-31"),
        ("LIVELIHOOD_PROJECT", "2024-06-15"),
        ("DIARY_ENTRY", "2024-12-31"),
        ("DUTY_REPORT", "2025-01-01"),
    ] {
        log(&app, &admin, kind, on, &[&deputy]).await;
    }

    let whole = year_compliance(&app, &admin, &deputy, 2024, Some(12)).await;
    assert_eq!(whole["year"], 2024);
    assert_eq!(whole["throughMonth"], 12);
    assert_eq!(
        counts(&whole["yearlyItems"]),
        vec![
            row("SENTIMENT_DIARY", 1, true),
            row("LIVELIHOOD_PROJECT", 1, true),
            row("DUTY_STORY", 0, false),
            row("DUTY_REPORT", 0, false),
        ]
    );
    assert_eq!(whole["missingYearly"], json!(["DUTY_STORY", "DUTY_REPORT"]));
    let months: Vec<u64> = whole["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["month"].as_u64().unwrap())
        .collect();
    assert_eq!(months, (1..=12).collect::<Vec<u64>>());
    assert_eq!(whole["compliantMonths"], 0);
    assert_eq!(whole["fullyCompliant"], false);

    // A past year defaults to all twelve months.
    let default = year_compliance(&app, &admin, &deputy, 2024, None).await;
    assert_eq!(default, whole);

    // Through November: the December 31 diary is not counted yet.
    let november = year_compliance(&app, &admin, &deputy, 2024, Some(11)).await;
    assert_eq!(november["throughMonth"], 11);
    assert_eq!(november["months"].as_array().unwrap().len(), 11);
    assert_eq!(
        counts(&november["yearlyItems"]),
        vec![
            row("SENTIMENT_DIARY", 0, false),
            row("LIVELIHOOD_PROJECT", 1, true),
            row("DUTY_STORY", 0, false),
            row("DUTY_REPORT", 0, false),
        ]
    );
    // The January 1 report belongs to the next year.
    let next = year_compliance(&app, &admin, &deputy, 2025, Some(1)).await;
    assert_eq!(
        counts(&next["yearlyItems"]),
        vec![
            row("SENTIMENT_DIARY", 0, false),
            row("LIVELIHOOD_PROJECT", 0, false),
            row("DUTY_STORY", 0, false),
            row("DUTY_REPORT", 1, true),
        ]
    );
    let previous = year_compliance(&app, &admin, &deputy, 2023, Some(12)).await;
    assert_eq!(
        previous["missingYearly"],
        json!(["LIVELIHOOD_PROJECT", "DUTY_STORY", "DUTY_REPORT"])
    );
}

#[tokio::test]
async fn resident_deputies_must_hear_citizens_twice_a_month() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let staff = app.token("staff").await;
    let (binhe_id, binhe_township) = binhe(&app).await;
    let resident = create_deputy(
        &app,
        &admin,
        "驻站代表",
        json!({ "townshipId": binhe_township }),
    )
    .await;
    let visitor = create_deputy(&app, &admin, "非驻站代表", json!({})).await;
    assign(&app, &staff, &resident, &binhe_id, "2024-01-01").await;

    // March: a reception and a household visit (two hearings) and everything else.
    full_march(&app, &admin, &[&resident, &visitor]).await;
    suggestion(&app, &resident, "2024-03-08", None).await;
    // April: one reception only as hearing, everything else met.
    for (kind, on) in [
        ("CITIZEN_RECEPTION", "2024-04-30"),
        ("STATION_ACTIVITY", "2024-04-01"),
        ("STUDY_TRAINING", "2024-04-15"),
    ] {
        log(&app, &staff, kind, on, &[&resident]).await;
    }
    suggestion(&app, &resident, "2024-04-20", None).await;
    // May: two household visits, nothing else.
    log(&app, &staff, "HOUSEHOLD_VISIT", "2024-05-01", &[&resident]).await;
    log(&app, &staff, "HOUSEHOLD_VISIT", "2024-05-31", &[&resident]).await;

    let march = month_compliance(&app, &admin, &resident, 2024, 3).await;
    assert_eq!(
        march["residentHearings"],
        json!({ "required": 2, "count": 2, "met": true })
    );
    assert_eq!(march["missing"], json!([]));
    assert_eq!(march["fullyCompliant"], true);

    let april = month_compliance(&app, &admin, &resident, 2024, 4).await;
    assert_eq!(
        april["residentHearings"],
        json!({ "required": 2, "count": 1, "met": false })
    );
    assert_eq!(april["missing"], json!([]), "every item met ...");
    assert_eq!(april["fullyCompliant"], false, "... but one hearing short");

    let may = month_compliance(&app, &admin, &resident, 2024, 5).await;
    assert_eq!(
        may["residentHearings"],
        json!({ "required": 2, "count": 2, "met": true })
    );
    assert_eq!(
        counts(&may["items"])[0],
        row("RECEIVE_CITIZENS", 0, false),
        "visits are hearings, not receptions"
    );
    let june = month_compliance(&app, &admin, &resident, 2024, 6).await;
    assert_eq!(
        june["residentHearings"],
        json!({ "required": 2, "count": 0, "met": false })
    );

    // Not a resident deputy: no hearings owed.
    let other = month_compliance(&app, &admin, &visitor, 2024, 3).await;
    assert!(other["residentHearings"].is_null());
    assert_eq!(other["missing"], json!(["REPORT_OPINION"]));

    let year = year_compliance(&app, &admin, &resident, 2024, Some(5)).await;
    let flags: Vec<bool> = year["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["fullyCompliant"].as_bool().unwrap())
        .collect();
    assert_eq!(flags, vec![false, false, true, false, false]);
    assert_eq!(year["compliantMonths"], 1);
}

#[tokio::test]
async fn resident_hearings_follow_the_dates_of_the_assignment() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let staff = app.token("staff").await;
    let (binhe_id, binhe_township) = binhe(&app).await;
    let binhe_deputy = json!({ "townshipId": binhe_township });
    let former = create_deputy(&app, &admin, "曾驻站代表", binhe_deputy.clone()).await;
    let later = create_deputy(&app, &admin, "后驻站代表", binhe_deputy).await;
    // Resident January-June 2024 only; the other from July 2024 on.
    assign(&app, &staff, &former, &binhe_id, "2024-01-01").await;
    app.gql("mutation($d: ID!, $s: ID!) { endResidentAssignment(deputyId: $d, stationId: $s, until: \"2024-06-30\") { id } }")
        .vars(json!({ "d": former, "s": binhe_id }))
        .bearer(Some(&staff))
        .send()
        .await
        .data();
    assign(&app, &staff, &later, &binhe_id, "2024-07-01").await;
    log(
        &app,
        &admin,
        "CITIZEN_RECEPTION",
        "2024-03-05",
        &[&former, &later],
    )
    .await;

    let march = month_compliance(&app, &admin, &former, 2024, 3).await;
    assert_eq!(
        march["residentHearings"],
        json!({ "required": 2, "count": 1, "met": false }),
        "resident in March 2024"
    );
    let september = month_compliance(&app, &admin, &former, 2024, 9).await;
    assert!(
        september["residentHearings"].is_null(),
        "no longer resident"
    );
    let before = month_compliance(&app, &admin, &later, 2024, 3).await;
    assert!(before["residentHearings"].is_null(), "not yet resident");
    let after = month_compliance(&app, &admin, &later, 2024, 9).await;
    assert_eq!(
        after["residentHearings"],
        json!({ "required": 2, "count": 0, "met": false })
    );
}

#[tokio::test]
async fn a_published_story_meets_duty_story_in_the_year_it_is_published() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let staff = app.token("staff").await;
    let (binhe_id, binhe_township) = binhe(&app).await;
    let deputy = create_deputy(
        &app,
        &admin,
        "故事代表",
        json!({ "townshipId": binhe_township }),
    )
    .await;
    assign(&app, &staff, &deputy, &binhe_id, "2024-01-01").await;
    let story = submitted(&app, &staff, &deputy, "调解邻里纠纷").await;

    let today = today_in_china();
    let (year, month) = (
        chrono::Datelike::year(&today),
        chrono::Datelike::month(&today),
    );
    let before = year_compliance(&app, &admin, &deputy, year, Some(month)).await;
    assert_eq!(
        counts(&before["yearlyItems"])[2],
        row("DUTY_STORY", 0, false),
        "a submitted story does not count"
    );

    let r = story_op(&app, Some(&staff), "publish", json!({ "id": story })).await;
    let published_at = story_of(&r)["publishedAt"].as_str().unwrap().to_owned();
    let published_on = local_date(
        DateTime::parse_from_rfc3339(&published_at)
            .unwrap()
            .with_timezone(&Utc),
    );
    let (year, month) = (
        chrono::Datelike::year(&published_on),
        chrono::Datelike::month(&published_on),
    );
    let after = year_compliance(&app, &admin, &deputy, year, Some(month)).await;
    assert_eq!(counts(&after["yearlyItems"])[2], row("DUTY_STORY", 1, true));
    assert!(!after["missingYearly"]
        .as_array()
        .unwrap()
        .contains(&json!("DUTY_STORY")));
    let earlier = year_compliance(&app, &admin, &deputy, year - 1, Some(12)).await;
    assert_eq!(
        counts(&earlier["yearlyItems"])[2],
        row("DUTY_STORY", 0, false)
    );
    let archive = app
        .gql("query($d: ID!, $y: Int!) { node(id: $d) { ... on Deputy { archive(year: $y) { storiesPublished } } } }")
        .vars(json!({ "d": deputy, "y": year }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_eq!(archive.data()["node"]["archive"]["storiesPublished"], 1);
}

#[tokio::test]
async fn compliance_is_for_the_deputy_their_staff_supervisors_and_admins() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let staff = app.token("staff").await;
    let (binhe_id, binhe_township) = binhe(&app).await;
    let (other_station, other_township) = station_elsewhere(&app).await;
    let deputy = create_deputy(
        &app,
        &admin,
        "被考核代表",
        json!({ "townshipId": binhe_township }),
    )
    .await;
    assign(&app, &staff, &deputy, &binhe_id, "2024-01-01").await;
    log(&app, &admin, "STUDY_TRAINING", "2024-03-03", &[&deputy]).await;

    let own = account(
        &app,
        &admin,
        "assessed.deputy",
        json!([{ "role": "DEPUTY" }]),
        Some(&deputy),
    )
    .await;
    let other_staff = account(
        &app,
        &admin,
        "other.staff",
        json!([{ "role": "STATION_STAFF", "stationId": other_station }]),
        None,
    )
    .await;
    let local_supervisor = account(
        &app,
        &admin,
        "binhe.supervisor",
        json!([{ "role": "SUPERVISOR", "townshipId": binhe_township }]),
        None,
    )
    .await;
    let far_supervisor = account(
        &app,
        &admin,
        "far.supervisor",
        json!([{ "role": "SUPERVISOR", "townshipId": other_township }]),
        None,
    )
    .await;
    let query = "query($d: ID!) { node(id: $d) { ... on Deputy { name compliance(year: 2024, month: 3) { items { count } } yearCompliance(year: 2024, throughMonth: 3) { throughMonth } archive(year: 2024) { activityCount } } } }";

    let mut allowed = vec![own, staff, local_supervisor, admin.clone()];
    allowed.push(app.token("supervisor").await);
    for token in &allowed {
        let r = app
            .gql(query)
            .vars(json!({ "d": deputy }))
            .bearer(Some(token))
            .send()
            .await;
        let node = &r.data()["node"];
        assert_eq!(node["compliance"]["items"][3]["count"], 1);
        assert_eq!(node["yearCompliance"]["throughMonth"], 3);
        assert_eq!(node["archive"]["activityCount"], 1);
    }
    let mut denied = vec![other_staff, far_supervisor];
    for login in ["citizen", "handler", "deputy"] {
        denied.push(app.token(login).await);
    }
    for token in &denied {
        let r = app
            .gql(query)
            .vars(json!({ "d": deputy }))
            .bearer(Some(token))
            .send()
            .await;
        let errors = r.body["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 3, "{}", r.body);
        assert!(
            errors
                .iter()
                .all(|e| e["extensions"]["code"] == "FORBIDDEN"),
            "{}",
            r.body
        );
    }
    let r = app.gql(query).vars(json!({ "d": deputy })).send().await;
    assert_code(&r, "UNAUTHENTICATED");
    // The rest of the deputy stays public.
    let r = app
        .gql("query($d: ID!) { node(id: $d) { ... on Deputy { name } } }")
        .vars(json!({ "d": deputy }))
        .send()
        .await;
    assert_eq!(r.data()["node"]["name"], "被考核代表");
}

#[tokio::test]
async fn compliance_refuses_months_and_years_out_of_range() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let deputy = create_deputy(&app, &admin, "范围代表", json!({})).await;
    for (y, m, field) in [
        (2024, 0, "month"),
        (2024, 13, "month"),
        (1999, 3, "year"),
        (2101, 3, "year"),
    ] {
        let r = app
            .gql(MONTH)
            .vars(json!({ "d": deputy, "y": y, "m": m }))
            .bearer(Some(&admin))
            .send()
            .await;
        assert_bad_input(&r, field);
    }
    for (y, t) in [(1999, 1), (2101, 12)] {
        let r = app
            .gql(YEAR)
            .vars(json!({ "d": deputy, "y": y, "t": t }))
            .bearer(Some(&admin))
            .send()
            .await;
        assert_bad_input(&r, "year");
    }
    for t in [0, 13] {
        let r = app
            .gql(YEAR)
            .vars(json!({ "d": deputy, "y": 2024, "t": t }))
            .bearer(Some(&admin))
            .send()
            .await;
        assert_eq!(r.error_code(), Some("BAD_USER_INPUT"), "{}", r.body);
    }
    let r = app
        .gql("query($d: ID!) { node(id: $d) { ... on Deputy { archive(year: 1999) { year } } } }")
        .vars(json!({ "d": deputy }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_bad_input(&r, "year");
}

#[tokio::test]
async fn an_out_of_range_through_month_names_the_through_month_field() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let deputy = create_deputy(&app, &admin, "范围代表", json!({})).await;
    for t in [0, 13] {
        let r = app
            .gql(YEAR)
            .vars(json!({ "d": deputy, "y": 2024, "t": t }))
            .bearer(Some(&admin))
            .send()
            .await;
        assert_bad_input(&r, "throughMonth");
    }
}

// ------------------------------------------------------------------ roll-ups

#[tokio::test]
async fn a_station_rollup_is_the_share_of_its_resident_deputies_fully_compliant() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let yixing = township(&app, "yixing").await;
    let station = create_station(&app, &admin, "rollup-st", &yixing).await;
    let compliant = create_deputy(&app, &admin, "达标代表", json!({})).await;
    let lacking = create_deputy(&app, &admin, "未达标代表", json!({})).await;
    for d in [&compliant, &lacking] {
        assign(&app, &admin, d, &station, "2024-01-01").await;
    }
    full_march(&app, &admin, &[&compliant, &lacking]).await;
    suggestion(&app, &compliant, "2024-03-15", None).await;

    let march = json!({ "s": station, "y": 2024, "m": 3 });
    assert_eq!(rollup(&app, &admin, march.clone()).await, (2, 1, 0.5));
    assert_eq!(
        rollup(&app, &admin, json!({ "s": station, "y": 2024, "m": 4 })).await,
        (2, 0, 0.0)
    );
    // The year: no one is compliant in every month with every yearly item.
    assert_eq!(
        rollup(&app, &admin, json!({ "s": station, "y": 2024 })).await,
        (2, 0, 0.0)
    );
    // A deputy who left the station no longer counts.
    app.gql("mutation($d: ID!, $s: ID!) { endResidentAssignment(deputyId: $d, stationId: $s, until: \"2024-12-31\") { id } }")
        .vars(json!({ "d": lacking, "s": station }))
        .bearer(Some(&admin))
        .send()
        .await
        .data();
    assert_eq!(rollup(&app, &admin, march).await, (1, 1, 1.0));
    // An empty station: nothing to share.
    let empty = create_station(&app, &admin, "empty-st", &yixing).await;
    assert_eq!(
        rollup(&app, &admin, json!({ "s": empty, "y": 2024, "m": 3 })).await,
        (0, 0, 0.0)
    );
}

#[tokio::test]
async fn a_township_rollup_counts_its_station_residents_and_home_deputies_once() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let supervisor = app.token("supervisor").await;
    let yixing = township(&app, "yixing").await;
    let liyang = township(&app, "liyang").await;
    let march = json!({ "t": yixing, "y": 2024, "m": 3 });
    let (deputies, compliant, _) = rollup(&app, &supervisor, march.clone()).await;

    let station = create_station(&app, &admin, "yixing-roll", &yixing).await;
    // Home township and a station there: counted once, compliant (two hearings).
    let both = create_deputy(
        &app,
        &admin,
        "本乡驻站代表",
        json!({ "townshipId": yixing }),
    )
    .await;
    assign(&app, &admin, &both, &station, "2024-01-01").await;
    // Home township only: compliant.
    let home = create_deputy(&app, &admin, "本乡代表", json!({ "townshipId": yixing })).await;
    // Home township only: not compliant (no opinion item).
    let idle = create_deputy(
        &app,
        &admin,
        "本乡未达标代表",
        json!({ "townshipId": yixing }),
    )
    .await;
    // Another township, no station: compliant but not counted here.
    let away = create_deputy(&app, &admin, "外乡代表", json!({ "townshipId": liyang })).await;
    full_march(&app, &admin, &[&both, &home, &idle, &away]).await;
    for d in [&both, &home, &away] {
        suggestion(&app, d, "2024-03-20", None).await;
    }

    let (after_deputies, after_compliant, share) = rollup(&app, &supervisor, march).await;
    assert_eq!(after_deputies, deputies + 3);
    assert_eq!(after_compliant, compliant + 2);
    assert!((share - after_compliant as f64 / after_deputies as f64).abs() < 1e-9);
    // The station alone: its one resident.
    assert_eq!(
        rollup(
            &app,
            &supervisor,
            json!({ "s": station, "y": 2024, "m": 3 })
        )
        .await,
        (1, 1, 1.0)
    );
}

#[tokio::test]
async fn a_rollup_needs_exactly_one_scope_and_a_viewer_entitled_to_it() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let staff = app.token("staff").await;
    let supervisor = app.token("supervisor").await;
    let (binhe_id, binhe_township) = binhe(&app).await;
    let (other_station, _) = station_elsewhere(&app).await;

    for (vars, field) in [
        (
            json!({ "s": binhe_id, "t": binhe_township, "y": 2024, "m": 3 }),
            "stationId",
        ),
        (json!({ "y": 2024, "m": 3 }), "stationId"),
        (
            json!({ "s": binhe_township, "y": 2024, "m": 3 }),
            "stationId",
        ),
        (json!({ "s": binhe_id, "y": 1999, "m": 3 }), "year"),
        (json!({ "s": binhe_id, "y": 2024, "m": 13 }), "month"),
    ] {
        let r = app.gql(ROLLUP).vars(vars).bearer(Some(&admin)).send().await;
        assert_bad_input(&r, field);
    }
    // Staff see their own station; supervisors and admins any scope.
    let station = json!({ "s": binhe_id, "y": 2024, "m": 3 });
    let township = json!({ "t": binhe_township, "y": 2024, "m": 3 });
    let elsewhere = json!({ "s": other_station, "y": 2024, "m": 3 });
    for (token, vars) in [
        (&staff, &station),
        (&supervisor, &station),
        (&supervisor, &township),
        (&admin, &township),
        (&admin, &elsewhere),
    ] {
        let r = app
            .gql(ROLLUP)
            .vars(vars.clone())
            .bearer(Some(token))
            .send()
            .await;
        assert!(r.data()["complianceRollup"]["deputies"].is_u64(), "{vars}");
    }
    for vars in [&elsewhere, &township] {
        let r = app
            .gql(ROLLUP)
            .vars(vars.clone())
            .bearer(Some(&staff))
            .send()
            .await;
        assert_code(&r, "FORBIDDEN");
    }
    // Other roles and anonymous callers: `permissions.rs`.
}

// ------------------------------------------------------------------ archive

#[tokio::test]
async fn the_archive_holds_one_year_of_activities_and_suggestions() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let deputy = create_deputy(&app, &admin, "档案代表", json!({})).await;
    for (kind, on) in [
        ("DIARY_ENTRY", "2023-12-31"),
        ("CITIZEN_RECEPTION", "2024-01-01"),
        ("STUDY_TRAINING", "2024-06-15"),
        ("STATION_ACTIVITY", "2024-12-31"),
        ("DUTY_REPORT", "2025-01-01"),
    ] {
        log(&app, &admin, kind, on, &[&deputy]).await;
    }
    suggestion(&app, &deputy, "2024-03-15", Some(true)).await;
    suggestion(&app, &deputy, "2024-04-01", Some(false)).await;
    suggestion(&app, &deputy, "2024-12-31", None).await;
    suggestion(&app, &deputy, "2025-01-01", Some(true)).await;

    let query = "query($d: ID!, $y: Int!, $first: Int, $after: String) { node(id: $d) { ... on Deputy { archive(year: $y) { year activityCount opinionItemsCollected suggestionsMade suggestionsAdopted storiesPublished compliance { year throughMonth } activities(first: $first, after: $after) { totalCount edges { node { kind occurredOn } } pageInfo { hasNextPage hasPreviousPage endCursor } } } } } }";
    let archive = |y: i32, first: i32, after: Option<String>| {
        let app = &app;
        let admin = &admin;
        let deputy = &deputy;
        async move {
            let r = app
                .gql(query)
                .vars(json!({ "d": deputy, "y": y, "first": first, "after": after }))
                .bearer(Some(admin))
                .send()
                .await;
            r.data()["node"]["archive"].clone()
        }
    };
    let dates = |a: &Value| -> Vec<String> {
        a["activities"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["occurredOn"].as_str().unwrap().to_owned())
            .collect()
    };

    let a = archive(2024, 10, None).await;
    assert_eq!(a["year"], 2024);
    assert_eq!(a["activityCount"], 3);
    assert_eq!(a["opinionItemsCollected"], 0);
    assert_eq!(a["suggestionsMade"], 3);
    assert_eq!(a["suggestionsAdopted"], 1);
    assert_eq!(a["storiesPublished"], 0);
    assert_eq!(a["compliance"], json!({ "year": 2024, "throughMonth": 12 }));
    assert_eq!(a["activities"]["totalCount"], 3);
    assert_eq!(dates(&a), vec!["2024-01-01", "2024-06-15", "2024-12-31"]);

    // The connection pages within the year.
    let page = archive(2024, 2, None).await;
    assert_eq!(dates(&page), vec!["2024-01-01", "2024-06-15"]);
    assert_eq!(page["activities"]["pageInfo"]["hasNextPage"], true);
    let cursor = page["activities"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let rest = archive(2024, 2, Some(cursor)).await;
    assert_eq!(dates(&rest), vec!["2024-12-31"]);
    assert_eq!(rest["activities"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(rest["activities"]["pageInfo"]["hasPreviousPage"], true);

    let a2023 = archive(2023, 10, None).await;
    assert_eq!(a2023["activityCount"], 1);
    assert_eq!(dates(&a2023), vec!["2023-12-31"]);
    assert_eq!(a2023["suggestionsMade"], 0);
    let a2025 = archive(2025, 10, None).await;
    assert_eq!(a2025["activityCount"], 1);
    assert_eq!(dates(&a2025), vec!["2025-01-01"]);
    assert_eq!(a2025["suggestionsMade"], 1);
    assert_eq!(a2025["suggestionsAdopted"], 1);

    let all = app
        .gql("query($d: ID!) { node(id: $d) { ... on Deputy { y: activities(year: 2024) { totalCount } all: activities { totalCount } } } }")
        .vars(json!({ "d": deputy }))
        .send()
        .await;
    assert_eq!(all.data()["node"]["y"]["totalCount"], 3);
    assert_eq!(all.data()["node"]["all"]["totalCount"], 5);
}

// ------------------------------------------------------------------ showcase

#[tokio::test]
async fn a_story_goes_from_draft_to_submitted_to_published() {
    let app = TestApp::spawn_demo().await;
    let deputy_token = app.token("deputy").await;
    let staff = app.token("staff").await;
    let (binhe_id, binhe_township) = binhe(&app).await;
    let me = app
        .gql("{ me { deputy { id } } }")
        .bearer(Some(&deputy_token))
        .send()
        .await;
    let me = me.data()["me"]["deputy"]["id"].clone();

    let r = story_op(
        &app,
        Some(&deputy_token),
        "create",
        json!({ "d": me, "i": { "title": " 守护一河清水 ", "body": "巡河记录……", "coverUrl": "https://example.cn/river.jpg" } }),
    )
    .await;
    let story = story_of(&r);
    assert_eq!(story["status"], "DRAFT");
    assert_eq!(story["title"], "守护一河清水");
    assert_eq!(story["coverUrl"], "https://example.cn/river.jpg");
    assert_eq!(story["deputy"]["id"], me);
    assert_eq!(story["station"]["id"], binhe_id);
    assert_eq!(story["township"]["id"], binhe_township);
    assert!(story["publishedAt"].is_null());
    let id = story["id"].clone();

    let r = story_op(&app, Some(&staff), "publish", json!({ "id": id })).await;
    assert_code(&r, "INVALID_TRANSITION");
    let r = story_op(&app, Some(&deputy_token), "submit", json!({ "id": id })).await;
    assert_eq!(story_of(&r)["status"], "SUBMITTED");
    let r = story_op(&app, Some(&deputy_token), "submit", json!({ "id": id })).await;
    assert_code(&r, "INVALID_TRANSITION");

    let queue = "{ storyReviewQueue(first: 100) { edges { node { id } } } }";
    let r = app.gql(queue).bearer(Some(&staff)).send().await;
    assert!(node_ids(&r.data()["storyReviewQueue"]).contains(&id));

    let r = story_op(&app, Some(&staff), "publish", json!({ "id": id })).await;
    let story = story_of(&r);
    assert_eq!(story["status"], "PUBLISHED");
    let published_at =
        DateTime::parse_from_rfc3339(story["publishedAt"].as_str().unwrap()).unwrap();
    assert!(
        (Utc::now() - published_at.with_timezone(&Utc))
            .num_seconds()
            .abs()
            < 300
    );

    for (op, vars) in [
        ("publish", json!({ "id": id })),
        ("submit", json!({ "id": id })),
        ("return", json!({ "id": id, "r": "再改改" })),
        (
            "update",
            json!({ "id": id, "i": { "title": "改标题", "body": "改正文" } }),
        ),
    ] {
        let token = if op == "update" || op == "submit" {
            &deputy_token
        } else {
            &staff
        };
        let r = story_op(&app, Some(token), op, vars).await;
        assert_code(&r, "INVALID_TRANSITION");
    }
    let r = app.gql(queue).bearer(Some(&staff)).send().await;
    assert!(!node_ids(&r.data()["storyReviewQueue"]).contains(&id));
    let feed = showcase(&app, json!({ "f": { "deputyId": me } })).await;
    assert_eq!(node_ids(&feed)[0], id);
    assert_eq!(feed["edges"][0]["node"]["title"], "守护一河清水");
    let stories = app
        .gql("query($d: ID!) { node(id: $d) { ... on Deputy { stories { edges { node { id } } } } } }")
        .vars(json!({ "d": me }))
        .send()
        .await;
    assert_eq!(node_ids(&stories.data()["node"]["stories"])[0], id);
}

#[tokio::test]
async fn a_returned_story_carries_a_reason_and_can_be_resubmitted() {
    let app = TestApp::spawn_demo().await;
    let deputy_token = app.token("deputy").await;
    let staff = app.token("staff").await;
    let me = app
        .gql("{ me { deputy { id } } }")
        .bearer(Some(&deputy_token))
        .send()
        .await;
    let me = me.data()["me"]["deputy"]["id"].clone();
    let id = submitted(&app, &deputy_token, &me, "走访困难户").await;

    for reason in ["", "   "] {
        let r = story_op(
            &app,
            Some(&staff),
            "return",
            json!({ "id": id, "r": reason }),
        )
        .await;
        assert_bad_input(&r, "reason");
    }
    let r = story_op(
        &app,
        Some(&staff),
        "return",
        json!({ "id": id, "r": "请补充走访照片" }),
    )
    .await;
    let story = story_of(&r);
    assert_eq!(story["status"], "RETURNED");
    assert_eq!(story["returnReason"], "请补充走访照片");
    let r = story_op(&app, Some(&staff), "publish", json!({ "id": id })).await;
    assert_code(&r, "INVALID_TRANSITION");
    let r = story_op(
        &app,
        Some(&staff),
        "return",
        json!({ "id": id, "r": "又退" }),
    )
    .await;
    assert_code(&r, "INVALID_TRANSITION");

    let r = story_op(
        &app,
        Some(&deputy_token),
        "update",
        json!({ "id": id, "i": { "title": "走访困难户(附照片)", "body": "补充了照片" } }),
    )
    .await;
    assert_eq!(story_of(&r)["title"], "走访困难户(附照片)");
    assert_eq!(story_of(&r)["status"], "RETURNED");
    let r = story_op(&app, Some(&deputy_token), "submit", json!({ "id": id })).await;
    let story = story_of(&r);
    assert_eq!(story["status"], "SUBMITTED");
    assert!(story["returnReason"].is_null());
    let r = story_op(&app, Some(&staff), "publish", json!({ "id": id })).await;
    assert_eq!(story_of(&r)["status"], "PUBLISHED");

    // A draft cannot be returned either.
    let fresh = draft(&app, &deputy_token, &me, "新草稿").await;
    let r = story_op(
        &app,
        Some(&staff),
        "return",
        json!({ "id": fresh, "r": "不行" }),
    )
    .await;
    assert_code(&r, "INVALID_TRANSITION");
}

#[tokio::test]
async fn malformed_stories_are_bad_user_input_naming_the_field() {
    let app = TestApp::spawn_demo().await;
    let deputy_token = app.token("deputy").await;
    let me = app
        .gql("{ me { deputy { id } } }")
        .bearer(Some(&deputy_token))
        .send()
        .await;
    let me = me.data()["me"]["deputy"]["id"].clone();
    for (input, field) in [
        (json!({ "title": " ", "body": "正文" }), "title"),
        (
            json!({ "title": "题".repeat(201), "body": "正文" }),
            "title",
        ),
        (json!({ "title": "标题", "body": "" }), "body"),
        (
            json!({ "title": "标题", "body": "正文", "coverUrl": "javascript:alert(1)" }),
            "coverUrl",
        ),
        (
            json!({ "title": "标题", "body": "正文", "coverUrl": "https://x.cn/a b.jpg" }),
            "coverUrl",
        ),
    ] {
        let r = story_op(
            &app,
            Some(&deputy_token),
            "create",
            json!({ "d": me, "i": input }),
        )
        .await;
        assert_bad_input(&r, field);
    }
    let admin = app.token("admin").await;
    let r = story_op(
        &app,
        Some(&admin),
        "create",
        json!({ "d": unknown(NodeKind::Deputy), "i": { "title": "标题", "body": "正文" } }),
    )
    .await;
    assert_bad_input(&r, "deputyId");
}

#[tokio::test]
async fn station_staff_supervisors_and_admins_publish_others_may_not() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let staff = app.token("staff").await;
    let supervisor = app.token("supervisor").await;
    let deputy_token = app.token("deputy").await;
    let (other_station, _) = station_elsewhere(&app).await;
    let other_staff = account(
        &app,
        &admin,
        "other.editor",
        json!([{ "role": "STATION_STAFF", "stationId": other_station }]),
        None,
    )
    .await;
    let me = app
        .gql("{ me { deputy { id } } }")
        .bearer(Some(&deputy_token))
        .send()
        .await;
    let me = me.data()["me"]["deputy"]["id"].clone();
    let stories = [
        submitted(&app, &deputy_token, &me, "故事一").await,
        submitted(&app, &deputy_token, &me, "故事二").await,
        submitted(&app, &deputy_token, &me, "故事三").await,
    ];

    // Staff of another station: to them an unpublished story elsewhere is as missing
    // as an unknown id (the demo roles and anonymous callers: `permissions.rs`).
    for op in ["publish", "return"] {
        let r = story_op(
            &app,
            Some(&other_staff),
            op,
            json!({ "id": stories[0], "r": "理由" }),
        )
        .await;
        assert_code(&r, "NOT_FOUND");
    }
    // Nor may they write about the deputy.
    let r = story_op(
        &app,
        Some(&other_staff),
        "create",
        json!({ "d": me, "i": { "title": "代写", "body": "代写" } }),
    )
    .await;
    assert_code(&r, "FORBIDDEN");

    for (token, story) in [
        (&staff, &stories[0]),
        (&supervisor, &stories[1]),
        (&admin, &stories[2]),
    ] {
        let r = story_op(&app, Some(token), "publish", json!({ "id": story })).await;
        assert_eq!(story_of(&r)["status"], "PUBLISHED");
    }
    let feed = showcase(&app, json!({ "f": { "deputyId": me }, "first": 3 })).await;
    assert_eq!(
        node_ids(&feed),
        vec![stories[2].clone(), stories[1].clone(), stories[0].clone()]
    );
}

#[tokio::test]
async fn unpublished_stories_are_invisible_to_the_public() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let staff = app.token("staff").await;
    let citizen = app.token("citizen").await;
    let deputy_token = app.token("deputy").await;
    let me = app
        .gql("{ me { deputy { id } } }")
        .bearer(Some(&deputy_token))
        .send()
        .await;
    let me = me.data()["me"]["deputy"]["id"].clone();
    let someone = create_deputy(&app, &admin, "旁人代表", json!({})).await;
    let someone_token = account(
        &app,
        &admin,
        "bystander.deputy",
        json!([{ "role": "DEPUTY" }]),
        Some(&someone),
    )
    .await;
    let id = draft(&app, &deputy_token, &me, "未发表的故事").await;
    let node = "query($id: ID!) { node(id: $id) { ... on Story { id status } } nodes(ids: [$id]) { ... on Story { id } } }";
    let fetch = |token: Option<String>| {
        let (app, id) = (&app, &id);
        async move {
            let r = app
                .gql(node)
                .vars(json!({ "id": id }))
                .bearer(token.as_deref())
                .send()
                .await;
            (r.data()["node"].clone(), r.data()["nodes"][0].clone())
        }
    };

    for status in ["DRAFT", "SUBMITTED"] {
        for token in [None, Some(citizen.clone()), Some(someone_token.clone())] {
            let (single, many) = fetch(token).await;
            assert!(single.is_null(), "{status}: {single}");
            assert!(many.is_null(), "{status}: {many}");
        }
        for token in [&deputy_token, &staff, &admin] {
            let (single, _) = fetch(Some(token.clone())).await;
            assert_eq!(single["status"], status);
        }
        let feed = showcase(&app, json!({ "f": { "deputyId": me } })).await;
        assert!(!node_ids(&feed).contains(&id));
        if status == "DRAFT" {
            story_op(&app, Some(&deputy_token), "submit", json!({ "id": id }))
                .await
                .data();
        }
    }
    story_op(&app, Some(&staff), "publish", json!({ "id": id }))
        .await
        .data();
    let (single, many) = fetch(None).await;
    assert_eq!(single["status"], "PUBLISHED");
    assert_eq!(many["id"], id);
    let feed = showcase(&app, json!({ "f": { "deputyId": me } })).await;
    assert!(node_ids(&feed).contains(&id));
}

#[tokio::test]
async fn the_showcase_is_newest_first_and_filters_by_township_station_and_deputy() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let yixing = township(&app, "yixing").await;
    let liyang = township(&app, "liyang").await;
    let s1 = create_station(&app, &admin, "show-yixing", &yixing).await;
    let s2 = create_station(&app, &admin, "show-liyang", &liyang).await;
    let d1 = create_deputy(&app, &admin, "风采代表一", json!({})).await;
    let d2 = create_deputy(&app, &admin, "风采代表二", json!({})).await;
    let d3 = create_deputy(&app, &admin, "风采代表三", json!({})).await;
    assign(&app, &admin, &d1, &s1, "2024-01-01").await;
    assign(&app, &admin, &d2, &s1, "2024-01-01").await;
    assign(&app, &admin, &d3, &s2, "2024-01-01").await;
    // Published in this order; a draft and a submitted story stay out of the feed.
    let a = published(&app, &admin, &d1, "甲").await;
    let b = published(&app, &admin, &d3, "乙").await;
    let c = published(&app, &admin, &d2, "丙").await;
    draft(&app, &admin, &d1, "草稿").await;
    submitted(&app, &admin, &d2, "待审").await;
    let d = published(&app, &admin, &d1, "丁").await;

    let all = showcase(&app, json!({ "first": 4 })).await;
    assert_eq!(
        node_ids(&all),
        vec![d.clone(), c.clone(), b.clone(), a.clone()]
    );
    let by_station = showcase(&app, json!({ "f": { "stationId": s1 } })).await;
    assert_eq!(by_station["totalCount"], 3);
    assert_eq!(node_ids(&by_station), vec![d.clone(), c.clone(), a.clone()]);
    let by_station = showcase(&app, json!({ "f": { "stationId": s2 } })).await;
    assert_eq!(node_ids(&by_station), vec![b.clone()]);
    let by_deputy = showcase(&app, json!({ "f": { "deputyId": d1 } })).await;
    assert_eq!(by_deputy["totalCount"], 2);
    assert_eq!(node_ids(&by_deputy), vec![d.clone(), a.clone()]);
    let by_both = showcase(&app, json!({ "f": { "stationId": s1, "deputyId": d3 } })).await;
    assert_eq!(by_both["totalCount"], 0);
    // The township feed may hold demo stories too; ours are the newest.
    let by_township = showcase(&app, json!({ "f": { "townshipId": yixing }, "first": 100 })).await;
    let ids = node_ids(&by_township);
    assert_eq!(ids[..3], [d.clone(), c.clone(), a.clone()]);
    assert!(!ids.contains(&b));
    assert!(by_township["edges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["node"]["township"]["id"] == yixing));
    let by_township = showcase(&app, json!({ "f": { "townshipId": liyang }, "first": 1 })).await;
    assert_eq!(node_ids(&by_township), vec![b.clone()]);

    let stories = app
        .gql("query($d: ID!) { node(id: $d) { ... on Deputy { stories { totalCount edges { node { id } } } } } }")
        .vars(json!({ "d": d1 }))
        .send()
        .await;
    assert_eq!(node_ids(&stories.data()["node"]["stories"]), vec![d, a]);
}

#[tokio::test]
async fn the_showcase_pages_forward_and_backward_over_the_same_order() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let yixing = township(&app, "yixing").await;
    let station = create_station(&app, &admin, "paging-st", &yixing).await;
    let deputy = create_deputy(&app, &admin, "翻页代表", json!({})).await;
    assign(&app, &admin, &deputy, &station, "2024-01-01").await;
    let mut created = Vec::new();
    for i in 1..=8 {
        created.push(published(&app, &admin, &deputy, &format!("第{i}篇")).await);
    }
    let newest_first: Vec<Value> = created.iter().rev().cloned().collect();
    let filter = json!({ "stationId": station });

    let mut forward = Vec::new();
    let mut after: Option<String> = None;
    let mut flags = Vec::new();
    loop {
        let page = showcase(&app, json!({ "f": filter, "first": 3, "after": after })).await;
        assert_eq!(page["totalCount"], 8);
        forward.extend(node_ids(&page));
        let info = &page["pageInfo"];
        flags.push((info["hasPreviousPage"] == true, info["hasNextPage"] == true));
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_owned);
        assert!(flags.len() < 10, "paging must end");
    }
    assert_eq!(forward, newest_first);
    assert_eq!(flags, vec![(false, true), (true, true), (true, false)]);

    let mut backward: Vec<Value> = Vec::new();
    let mut before: Option<String> = None;
    let mut flags = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let page = showcase(&app, json!({ "f": filter, "last": 3, "before": before })).await;
        assert_eq!(page["totalCount"], 8);
        let mut chunk = node_ids(&page);
        sizes.push(chunk.len());
        chunk.extend(backward);
        backward = chunk;
        let info = &page["pageInfo"];
        flags.push((info["hasPreviousPage"] == true, info["hasNextPage"] == true));
        if info["hasPreviousPage"] == false {
            break;
        }
        before = info["startCursor"].as_str().map(str::to_owned);
        assert!(flags.len() < 10, "paging must end");
    }
    assert_eq!(backward, newest_first);
    assert_eq!(sizes, vec![3, 3, 2]);
    assert_eq!(flags, vec![(true, false), (true, true), (false, true)]);
    let mut unique = backward.iter().map(Value::to_string).collect::<Vec<_>>();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 8, "no story twice");

    // A window between two cursors.
    let all = showcase(&app, json!({ "f": filter, "first": 8 })).await;
    let cursors: Vec<String> = all["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cursor"].as_str().unwrap().to_owned())
        .collect();
    let window = showcase(
        &app,
        json!({ "f": filter, "first": 10, "after": cursors[1], "before": cursors[5] }),
    )
    .await;
    assert_eq!(node_ids(&window), newest_first[2..5].to_vec());
}
