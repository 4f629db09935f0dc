//! Idempotent creation (issue 12, item 2): a retry with the same key answers the
//! first result and creates nothing; another payload under the key is CONFLICT;
//! keys are per actor; header and argument forms; concurrent duplicates; progress
//! notes; invalid keys.
use entity::{petition, petition_event};
use futures_util::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};

use crate::fixtures::assert_code;
use crate::helpers::{GqlResponse, TestApp};

const SUBMIT: &str = "mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { trackingCode followSecret petition { id } } }";
const STEP_FIELDS: &str = "{ id version timeline { action note } }";

async fn items(app: &TestApp) -> u64 {
    petition::Entity::find().count(&app.db).await.unwrap()
}

async fn binhe(app: &TestApp) -> Value {
    let r = app
        .gql("{ stations(first: 100) { nodes { id code } } }")
        .send()
        .await;
    r.data()["stations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "binhe")
        .unwrap()["id"]
        .clone()
}

fn input(station: &Value, title: &str) -> Value {
    json!({
        "title": title,
        "content": "滨河小区南门雨后积水严重，老人出行困难。",
        "stationId": station,
        "submitterPhone": "13912345678",
    })
}

async fn submit_with_header(
    app: &TestApp,
    token: Option<&str>,
    key: &str,
    input: Value,
) -> GqlResponse {
    app.gql(SUBMIT)
        .vars(json!({ "i": input }))
        .bearer(token)
        .header("idempotency-key", key)
        .send()
        .await
}

fn answer(r: &GqlResponse) -> (Value, Value, Value) {
    let p = &r.data()["submitPetition"];
    (
        p["petition"]["id"].clone(),
        p["trackingCode"].clone(),
        p["followSecret"].clone(),
    )
}

#[tokio::test]
async fn a_retried_submission_answers_the_first_item_and_creates_nothing() {
    let app = TestApp::spawn_demo().await;
    let station = binhe(&app).await;
    let citizen = app.token("citizen").await;
    let before = items(&app).await;
    let key = "0b6f1c1e-2f0a-4a39-9c1d-5f5e7d0c2a11";
    let first =
        submit_with_header(&app, Some(&citizen), key, input(&station, "小区门口积水")).await;
    let retry =
        submit_with_header(&app, Some(&citizen), key, input(&station, "小区门口积水")).await;
    assert_eq!(answer(&first), answer(&retry));
    assert_eq!(items(&app).await, before + 1);

    // Anonymous: the follow secret (shown once) is answered again too.
    let anon_key = "anon-retry-1";
    let first = submit_with_header(&app, None, anon_key, input(&station, "匿名留言积水")).await;
    let retry = submit_with_header(&app, None, anon_key, input(&station, "匿名留言积水")).await;
    assert!(answer(&first).2.is_string(), "{}", first.body);
    assert_eq!(answer(&first), answer(&retry));
    assert_eq!(items(&app).await, before + 2);
}

#[tokio::test]
async fn the_same_key_with_another_payload_is_a_conflict_and_creates_nothing() {
    let app = TestApp::spawn_demo().await;
    let station = binhe(&app).await;
    let citizen = app.token("citizen").await;
    let key = "reused-key";
    submit_with_header(&app, Some(&citizen), key, input(&station, "小区门口积水"))
        .await
        .data();
    let before = items(&app).await;
    let other = submit_with_header(&app, Some(&citizen), key, input(&station, "另一件事情")).await;
    assert_code(&other, "CONFLICT");
    assert!(
        other.error_message().contains("idempotency key"),
        "{}",
        other.body
    );
    assert_eq!(items(&app).await, before);
}

#[tokio::test]
async fn keys_belong_to_their_actor() {
    let app = TestApp::spawn_demo().await;
    let station = binhe(&app).await;
    let citizen = app.token("citizen").await;
    let deputy = app.token("deputy").await;
    let before = items(&app).await;
    let key = "shared-by-chance";
    let a = submit_with_header(&app, Some(&citizen), key, input(&station, "小区门口积水")).await;
    let b = submit_with_header(&app, Some(&deputy), key, input(&station, "小区门口积水")).await;
    let c = submit_with_header(&app, None, key, input(&station, "小区门口积水")).await;
    let ids = [answer(&a).0, answer(&b).0, answer(&c).0];
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[0], ids[2]);
    assert_ne!(ids[1], ids[2]);
    assert_eq!(items(&app).await, before + 3);
}

#[tokio::test]
async fn the_input_field_works_like_the_header() {
    let app = TestApp::spawn_demo().await;
    let station = binhe(&app).await;
    let citizen = app.token("citizen").await;
    let before = items(&app).await;
    let mut with_key = input(&station, "小区门口积水");
    with_key["idempotencyKey"] = json!("field-key.1");
    let send = || {
        app.gql(SUBMIT)
            .vars(json!({ "i": with_key.clone() }))
            .bearer(Some(&citizen))
            .send()
    };
    let first = send().await;
    let retry = send().await;
    assert_eq!(answer(&first), answer(&retry));
    // The header with the same key is the same request.
    let header = submit_with_header(
        &app,
        Some(&citizen),
        "field-key.1",
        input(&station, "小区门口积水"),
    )
    .await;
    assert_eq!(answer(&first), answer(&header));
    assert_eq!(items(&app).await, before + 1);
    // Header and field disagreeing is refused.
    let both = app
        .gql(SUBMIT)
        .vars(json!({ "i": with_key.clone() }))
        .bearer(Some(&citizen))
        .header("idempotency-key", "another-key")
        .send()
        .await;
    assert_code(&both, "BAD_USER_INPUT");
    assert_eq!(items(&app).await, before + 1);
}

#[tokio::test]
async fn concurrent_duplicates_create_one_item_and_all_get_its_answer() {
    let app = TestApp::spawn_demo().await;
    let station = binhe(&app).await;
    let citizen = app.token("citizen").await;
    let before = items(&app).await;
    let input = input(&station, "小区门口积水");
    let answers = join_all(
        (0..8).map(|_| submit_with_header(&app, Some(&citizen), "concurrent-key", input.clone())),
    )
    .await;
    let first = answer(&answers[0]);
    for r in &answers {
        assert_eq!(answer(r), first);
    }
    assert_eq!(items(&app).await, before + 1);
}

#[tokio::test]
async fn a_retried_progress_note_is_added_once() {
    let app = TestApp::spawn_demo().await;
    let staff = app.token("staff").await;
    let handler = app.token("handler").await;
    let citizen = app.token("citizen").await;
    let station = binhe(&app).await;
    let ids = app
        .gql("{ departments(first: 100) { nodes { id code } } categories { id code } }")
        .bearer(Some(&staff))
        .send()
        .await;
    let find = |list: &str, code: &str| {
        let nodes = &ids.data()[list];
        nodes
            .get("nodes")
            .unwrap_or(nodes)
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == code)
            .unwrap()["id"]
            .clone()
    };
    let (jiaotong, roads) = (
        find("departments", "jiaotong"),
        find("categories", "roads_transport"),
    );
    let item =
        submit_with_header(&app, Some(&citizen), "item-1", input(&station, "路灯不亮")).await;
    let id = answer(&item).0;
    let step = |token: &str, q: String, vars: Value| {
        let token = token.to_owned();
        let app = &app;
        async move {
            let r = app.gql(&q).vars(vars).bearer(Some(&token)).send().await;
            r.data();
            r
        }
    };
    step(&staff, format!("mutation($id: ID!, $c: ID!) {{ registerPetition(id: $id, categoryId: $c, urgency: NORMAL, handlingLevel: COUNTY) {STEP_FIELDS} }}"), json!({ "id": id, "c": roads })).await;
    step(&staff, format!("mutation($id: ID!, $d: ID!) {{ forwardPetition(id: $id, leadDepartmentId: $d) {STEP_FIELDS} }}"), json!({ "id": id, "d": jiaotong })).await;
    step(
        &handler,
        format!("mutation($id: ID!) {{ acceptPetition(id: $id) {STEP_FIELDS} }}"),
        json!({ "id": id }),
    )
    .await;

    let progress = format!("mutation($id: ID!, $k: String) {{ addPetitionProgress(id: $id, note: \"已派人查看\", idempotencyKey: $k) {STEP_FIELDS} }}");
    let notes = || async {
        petition_event::Entity::find()
            .filter(petition_event::Column::Action.eq("add_progress"))
            .count(&app.db)
            .await
            .unwrap()
    };
    let before = notes().await;
    let vars = json!({ "id": id, "k": "note-1" });
    let first = step(&handler, progress.clone(), vars.clone()).await;
    let retry = step(&handler, progress.clone(), vars.clone()).await;
    assert_eq!(notes().await, before + 1);
    assert_eq!(
        first.data()["addPetitionProgress"]["id"],
        retry.data()["addPetitionProgress"]["id"]
    );
    // Concurrent duplicates of another note: one more entry.
    let vars = json!({ "id": id, "k": "note-2" });
    let all = join_all((0..8).map(|_| step(&handler, progress.clone(), vars.clone()))).await;
    assert_eq!(all.len(), 8);
    assert_eq!(notes().await, before + 2);
}

#[tokio::test]
async fn invalid_keys_are_bad_input_and_create_nothing() {
    let app = TestApp::spawn_demo().await;
    let station = binhe(&app).await;
    let citizen = app.token("citizen").await;
    let before = items(&app).await;
    for key in ["has space", "键", &"x".repeat(129)] {
        let r =
            submit_with_header(&app, Some(&citizen), key, input(&station, "小区门口积水")).await;
        assert_code(&r, "BAD_USER_INPUT");
        let mut with_key = input(&station, "小区门口积水");
        with_key["idempotencyKey"] = json!(key);
        let r = app
            .gql(SUBMIT)
            .vars(json!({ "i": with_key }))
            .bearer(Some(&citizen))
            .send()
            .await;
        assert_code(&r, "BAD_USER_INPUT");
    }
    let mut empty = input(&station, "小区门口积水");
    empty["idempotencyKey"] = json!("");
    let r = app
        .gql(SUBMIT)
        .vars(json!({ "i": empty }))
        .bearer(Some(&citizen))
        .send()
        .await;
    assert_code(&r, "BAD_USER_INPUT");
    // The header applies to one mutation field: two are refused.
    let two = app
        .gql("mutation { a: runSupervisionCycle { escalated } b: runSupervisionCycle { escalated } }")
        .bearer(Some(&citizen))
        .header("idempotency-key", "two-fields")
        .send()
        .await;
    assert_code(&two, "BAD_REQUEST");
    assert_eq!(items(&app).await, before);
}

#[tokio::test]
async fn suggestions_activities_and_stories_are_created_once_per_key() {
    use entity::{activity, story, suggestion};
    let app = TestApp::spawn_demo().await;
    let deputy = app.token("deputy").await;
    let staff = app.token("staff").await;
    let me = app
        .gql("{ me { deputy { id } } departments(first: 1) { nodes { id } } }")
        .bearer(Some(&deputy))
        .send()
        .await;
    let deputy_id = me.data()["me"]["deputy"]["id"].clone();
    let department = me.data()["departments"]["nodes"][0]["id"].clone();

    let suggest = "mutation($d: ID!) { submitSuggestion(title: \"建议增设路灯\", content: \"建议在滨河路北段增设路灯十盏，方便夜间出行。\", departmentId: $d, idempotencyKey: \"s-1\") { id } }";
    let before = suggestion::Entity::find().count(&app.db).await.unwrap();
    let send = || {
        app.gql(suggest)
            .vars(json!({ "d": department }))
            .bearer(Some(&deputy))
            .send()
    };
    let (a, b) = (send().await, send().await);
    assert_eq!(
        a.data()["submitSuggestion"]["id"],
        b.data()["submitSuggestion"]["id"]
    );
    assert_eq!(
        suggestion::Entity::find().count(&app.db).await.unwrap(),
        before + 1
    );

    let log = "mutation($i: LogActivityInput!) { logActivity(input: $i) { id } }";
    let input = json!({ "kind": "CITIZEN_RECEPTION", "title": "接待选民", "occurredOn": "2026-11-20", "stationIds": [binhe(&app).await], "participantIds": [deputy_id], "citizensHeard": 3 });
    let before = activity::Entity::find().count(&app.db).await.unwrap();
    let send = || {
        app.gql(log)
            .vars(json!({ "i": input.clone() }))
            .bearer(Some(&deputy))
            .header("idempotency-key", "a-1")
            .send()
    };
    let (a, b) = (send().await, send().await);
    assert_eq!(a.data()["logActivity"]["id"], b.data()["logActivity"]["id"]);
    assert_eq!(
        activity::Entity::find().count(&app.db).await.unwrap(),
        before + 1
    );

    let create = "mutation($d: ID!) { createStory(deputyId: $d, input: { title: \"为民办实事\", body: \"代表走访滨河小区，推动路灯维修，群众夜间出行更安心。\" }, idempotencyKey: \"st-1\") { id } }";
    let before = story::Entity::find().count(&app.db).await.unwrap();
    let send = || {
        app.gql(create)
            .vars(json!({ "d": deputy_id }))
            .bearer(Some(&staff))
            .send()
    };
    let (a, b) = (send().await, send().await);
    assert_eq!(a.data()["createStory"]["id"], b.data()["createStory"]["id"]);
    assert_eq!(
        story::Entity::find().count(&app.db).await.unwrap(),
        before + 1
    );
}

#[tokio::test]
async fn a_retried_registration_signs_in_the_first_account_and_creates_nothing() {
    let app = TestApp::spawn_demo().await;
    let accounts = || async {
        entity::account::Entity::find()
            .count(&app.db)
            .await
            .unwrap()
    };
    let register = |password: &'static str, name: &'static str| {
        app.gql("mutation($p: String!, $n: String!) { registerCitizen(phone: \"13700001234\", displayName: $n, password: $p) { accessToken account { id login } } }")
            .vars(json!({ "p": password, "n": name }))
            .header("idempotency-key", "register-1")
            .send()
    };
    let before = accounts().await;
    let first = register("Long-enough-pass-1", "张三").await;
    let first_account = first.data()["registerCitizen"]["account"].clone();
    let again = register("Long-enough-pass-1", "张三").await;
    assert_eq!(again.data()["registerCitizen"]["account"], first_account);
    assert!(again.data()["registerCitizen"]["accessToken"].is_string());
    assert_eq!(accounts().await, before + 1, "one account for two requests");
    // Another payload under the key is a conflict; another password fails like a
    // wrong password. Neither creates anything.
    let other = register("Long-enough-pass-1", "李四").await;
    assert_code(&other, "CONFLICT");
    let wrong = register("Another-long-pass-2", "张三").await;
    assert_eq!(
        wrong.error_code(),
        Some("UNAUTHENTICATED"),
        "{:?}",
        wrong.body
    );
    assert_eq!(accounts().await, before + 1);
    // Without a key the phone number is simply taken.
    let plain = app
        .gql("mutation { registerCitizen(phone: \"13700001234\", displayName: \"张三\", password: \"Long-enough-pass-1\") { accessToken } }")
        .send()
        .await;
    assert_ne!(plain.error_code(), None);
    assert_eq!(accounts().await, before + 1);
}
