//! Attachments beyond the citizen's item (issue 16): a department's result documents on
//! the step they belong to, a story's cover and gallery, an activity's photos (in the
//! duty archive and on its printed page). Each path is run against the local store and
//! against an S3-compatible one (moto): who may fetch each file and who may not, a
//! published story's images for anyone (and cacheable), someone else's upload or one
//! of another purpose refused with nothing attached, and the daily purge leaving every
//! attached file (and an object shared by the same bytes) alone.
use std::time::Duration;

use entity::{activity, attachment, story};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use smart_npc::clock::Clock;

use crate::attachments::{
    another_citizen, fetch, moto, png, staff_elsewhere, stored_objects, stored_rows, upload,
};
use crate::fixtures::assert_bad_input;
use crate::helpers::{Fixture, TestApp};
use crate::petitions::World;

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

const TIMELINE: &str = "fragment T on Petition { id version state timeline { action attachments { id url thumbnailUrl contentType } } }";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Store {
    Local,
    S3,
}

/// The demo app on the store asked for (with moto running for S3; `None` when moto is
/// not installed outside CI, which `moto` reports as a skip).
async fn spawn(
    store: Store,
    clock: Option<Clock>,
) -> Option<(TestApp, Option<tokio::process::Child>)> {
    let mut builder = TestApp::builder().fixture(Fixture::Demo);
    if let Some(clock) = clock {
        builder = builder.clock(clock);
    }
    match store {
        Store::Local => Some((builder.spawn().await, None)),
        Store::S3 => {
            let (child, endpoint) = moto().await?;
            let app = builder
                .env("STORAGE_URL", "s3://attachments/targets")
                .env("S3_ENDPOINT", &endpoint)
                .env("S3_ACCESS_KEY_ID", "test-key")
                .env("S3_SECRET_ACCESS_KEY", "test-secret")
                .spawn()
                .await;
            Some((app, Some(child)))
        }
    }
}

async fn uploaded(app: &TestApp, token: Option<&str>, purpose: &str, bytes: Vec<u8>) -> Value {
    upload(app, token, purpose, bytes).await.data()["uploadAttachment"].clone()
}

fn url(a: &Value) -> &str {
    a["url"].as_str().expect("url")
}

/// The status of GET `url` for each (who, token): what is expected of each.
async fn statuses(app: &TestApp, url: &str, who: &[(&str, Option<&String>, u16)]) {
    for (name, token, expected) in who {
        let (status, _, body) = fetch(app, url, token.map(String::as_str)).await;
        assert_eq!(
            status,
            *expected,
            "{name} fetching {url}: {}",
            String::from_utf8_lossy(&body)
        );
        if status == 404 {
            let body: Value = serde_json::from_slice(&body).expect("a JSON error");
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "NOT_FOUND",
                "{name}"
            );
        }
    }
}

// ------------------------------------------------------------------ results

async fn results_on_their_steps(store: Store) {
    let Some((app, _moto)) = spawn(store, None).await else {
        return;
    };
    let w = World::on(app).await;
    let assist = w.handler_of("shuili_handler", "shuili").await;
    let elsewhere = w.handler_of("renshe_handler", "renshe").await;
    let item = w.citizen_item().await;
    let item = w.register(&item, "roads_transport", "NORMAL").await;
    let item = w.forward(&item, "jiaotong", &["shuili"]).await;
    let item = w
        .step(&w.handler, crate::petitions::ACCEPT, &item, json!({}))
        .await;

    // The assisting department reports with a photo; the lead adds progress with a
    // document, then completes with both kinds.
    let photo = uploaded(&w.app, Some(&assist), "RESULT", png(40, 30)).await;
    let r = w
        .app
        .gql(&format!("mutation($id: ID!, $a: [ID!]) {{ reportAssistPart(id: $id, report: \"已排查\", attachmentIds: $a) {{ ...T }} }} {TIMELINE}"))
        .vars(json!({ "id": item["id"], "a": [photo["id"]] }))
        .bearer(Some(&assist))
        .send()
        .await;
    let timeline = r.data()["reportAssistPart"]["timeline"].clone();
    let last = timeline.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "report_assist");
    assert_eq!(last["attachments"][0]["id"], photo["id"]);

    let note = uploaded(&w.app, Some(&w.handler), "RESULT", PDF.to_vec()).await;
    let r = w
        .app
        .gql(&format!("mutation($id: ID!, $a: [ID!]) {{ addPetitionProgress(id: $id, note: \"已联系施工单位\", attachmentIds: $a) {{ ...T }} }} {TIMELINE}"))
        .vars(json!({ "id": item["id"], "a": [note["id"]] }))
        .bearer(Some(&w.handler))
        .send()
        .await;
    let timeline = r.data()["addPetitionProgress"]["timeline"].clone();
    let last = timeline.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["attachments"][0]["contentType"], "application/pdf");

    let result = uploaded(&w.app, Some(&w.handler), "RESULT", PDF.to_vec()).await;
    let picture = uploaded(&w.app, Some(&w.handler), "RESULT", png(30, 40)).await;
    let r = w
        .app
        .gql(&format!("mutation($id: ID!, $a: [ID!]) {{ completePetition(id: $id, result: \"已修复\", attachmentIds: $a) {{ ...T }} }} {TIMELINE}"))
        .vars(json!({ "id": item["id"], "a": [result["id"], picture["id"]] }))
        .bearer(Some(&w.handler))
        .send()
        .await;
    let done = r.data()["completePetition"].clone();
    assert_eq!(done["state"], "RESOLVED");
    let steps = done["timeline"].as_array().unwrap();
    let complete = steps.iter().find(|s| s["action"] == "complete").unwrap();
    let ids: Vec<&Value> = complete["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["id"])
        .collect();
    assert_eq!(ids, vec![&result["id"], &picture["id"]]);
    // Only the steps' own files: the item's attachments are the citizen's.
    let with_files = steps
        .iter()
        .filter(|s| !s["attachments"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(with_files, 3);

    // The submitter sees the result on the step, and may fetch it.
    let r = w
        .app
        .gql(&format!("query($id: ID!) {{ node(id: $id) {{ ...T ... on Petition {{ attachments {{ id }} }} }} }} {TIMELINE}"))
        .vars(json!({ "id": item["id"] }))
        .bearer(Some(&w.citizen))
        .send()
        .await;
    let seen = r.data()["node"].clone();
    assert_eq!(seen["attachments"], json!([]));
    let complete = seen["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["action"] == "complete")
        .unwrap()
        .clone();
    assert_eq!(complete["attachments"][1]["id"], picture["id"]);

    let other_citizen = another_citizen(&w.app).await;
    let other_station = staff_elsewhere(&w.app).await;
    for file in [url(&result), url(&picture), url(&photo), url(&note)] {
        statuses(
            &w.app,
            file,
            &[
                ("the submitter", Some(&w.citizen), 200),
                ("the station", Some(&w.staff), 200),
                ("the lead department", Some(&w.handler), 200),
                ("the assisting department", Some(&assist), 200),
                ("another department", Some(&elsewhere), 404),
                ("another station", Some(&other_station), 404),
                ("another citizen", Some(&other_citizen), 404),
                ("anonymous", None, 404),
            ],
        )
        .await;
    }
    let thumbnail = picture["thumbnailUrl"].as_str().unwrap();
    statuses(
        &w.app,
        thumbnail,
        &[
            ("the submitter", Some(&w.citizen), 200),
            ("another department", Some(&elsewhere), 404),
            ("anonymous", None, 404),
        ],
    )
    .await;
}

#[tokio::test]
async fn results_show_on_their_steps_for_the_items_readers_only_local() {
    results_on_their_steps(Store::Local).await;
}

#[tokio::test]
async fn results_show_on_their_steps_for_the_items_readers_only_s3() {
    results_on_their_steps(Store::S3).await;
}

// ------------------------------------------------------------------ refusals

async fn stories(app: &TestApp) -> u64 {
    story::Entity::find().count(&app.db).await.unwrap()
}

async fn activities(app: &TestApp) -> u64 {
    activity::Entity::find().count(&app.db).await.unwrap()
}

async fn attached(app: &TestApp) -> u64 {
    attachment::Entity::find()
        .filter(attachment::Column::AttachedAt.is_not_null())
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn someone_elses_upload_or_another_purpose_is_refused_and_nothing_is_attached() {
    let w = World::on(TestApp::spawn_demo().await).await;
    let item = w.accepted().await;
    let deputy = deputy_id(&w.app, &w.deputy).await;
    let theirs = uploaded(&w.app, Some(&w.staff), "RESULT", png(10, 10)).await;
    let wrong_purpose = uploaded(&w.app, Some(&w.handler), "PETITION", png(11, 11)).await;
    let mine = uploaded(&w.app, Some(&w.handler), "RESULT", png(12, 12)).await;
    let complete = "mutation($id: ID!, $a: [ID!]) { completePetition(id: $id, result: \"已办结\", attachmentIds: $a) { id state } }";
    for ids in [
        json!([mine["id"], theirs["id"]]),
        json!([wrong_purpose["id"]]),
        json!(["no-such-upload"]),
    ] {
        let r = w
            .app
            .gql(complete)
            .vars(json!({ "id": item["id"], "a": ids }))
            .bearer(Some(&w.handler))
            .send()
            .await;
        assert_bad_input(&r, "attachmentIds");
    }
    // The step did not happen either.
    assert_eq!(w.node(Some(&w.handler), &item).await["state"], "ACCEPTED");
    let ten: Vec<String> = (0..10).map(|i| format!("id{i}")).collect();
    let r = w
        .app
        .gql(complete)
        .vars(json!({ "id": item["id"], "a": ten }))
        .bearer(Some(&w.handler))
        .send()
        .await;
    assert_bad_input(&r, "attachmentIds");

    // Stories: images only, of purpose STORY, one's own.
    let pdf = uploaded(&w.app, Some(&w.deputy), "STORY", PDF.to_vec()).await;
    let activity_photo = uploaded(&w.app, Some(&w.deputy), "ACTIVITY", png(13, 13)).await;
    let staffs = uploaded(&w.app, Some(&w.staff), "STORY", png(14, 14)).await;
    let stories_before = stories(&w.app).await;
    for (field, input) in [
        ("coverId", json!({ "coverId": pdf["id"] })),
        ("coverId", json!({ "coverId": activity_photo["id"] })),
        ("galleryIds", json!({ "galleryIds": [staffs["id"]] })),
    ] {
        let mut input = input;
        input["title"] = json!("入户走访");
        input["body"] = json!("走访了十户群众。");
        let r = w
            .app
            .gql("mutation($d: ID!, $i: StoryFieldsInput!) { createStory(deputyId: $d, input: $i) { id } }")
            .vars(json!({ "d": deputy, "i": input }))
            .bearer(Some(&w.deputy))
            .send()
            .await;
        assert_bad_input(&r, field);
    }
    assert_eq!(stories(&w.app).await, stories_before);

    // Activities: the logger's own ACTIVITY uploads.
    let staffs_photo = uploaded(&w.app, Some(&w.staff), "ACTIVITY", png(15, 15)).await;
    let story_image = uploaded(&w.app, Some(&w.deputy), "STORY", png(16, 16)).await;
    let activities_before = activities(&w.app).await;
    for ids in [json!([staffs_photo["id"]]), json!([story_image["id"]])] {
        let r = w
            .app
            .gql(LOG)
            .vars(json!({ "i": activity_input(&deputy, ids) }))
            .bearer(Some(&w.deputy))
            .send()
            .await;
        assert_bad_input(&r, "attachmentIds");
    }
    assert_eq!(activities(&w.app).await, activities_before);
    assert_eq!(attached(&w.app).await, 0, "nothing was attached");
    // Still the uploader's own, and theirs only.
    statuses(
        &w.app,
        url(&theirs),
        &[
            ("uploader", Some(&w.staff), 200),
            ("handler", Some(&w.handler), 404),
        ],
    )
    .await;
}

// ------------------------------------------------------------------ stories

async fn deputy_id(app: &TestApp, token: &str) -> Value {
    let r = app
        .gql("{ me { deputy { id } } }")
        .bearer(Some(token))
        .send()
        .await;
    r.data()["me"]["deputy"]["id"].clone()
}

const STORY_FIELDS: &str = "id status cover { id url thumbnailUrl } gallery { id url }";

async fn story_images(store: Store) {
    let Some((app, _moto)) = spawn(store, None).await else {
        return;
    };
    let w = World::on(app).await;
    let deputy = deputy_id(&w.app, &w.deputy).await;
    let cover = uploaded(&w.app, Some(&w.deputy), "STORY", png(60, 40)).await;
    let first = uploaded(&w.app, Some(&w.deputy), "STORY", png(20, 20)).await;
    let second = uploaded(&w.app, Some(&w.deputy), "STORY", png(21, 21)).await;
    let r = w
        .app
        .gql(&format!("mutation($d: ID!, $i: StoryFieldsInput!) {{ createStory(deputyId: $d, input: $i) {{ {STORY_FIELDS} }} }}"))
        .vars(json!({ "d": deputy, "i": { "title": "入户走访", "body": "走访了十户群众。", "coverId": cover["id"], "galleryIds": [first["id"], second["id"]] } }))
        .bearer(Some(&w.deputy))
        .send()
        .await;
    let created = r.data()["createStory"].clone();
    assert_eq!(created["cover"]["id"], cover["id"]);
    assert_eq!(
        created["gallery"],
        json!([{ "id": first["id"], "url": first["url"] }, { "id": second["id"], "url": second["url"] }])
    );

    // An update names the gallery in full: the second comes off, a third goes on;
    // the cover, not named, stays.
    let third = uploaded(&w.app, Some(&w.deputy), "STORY", png(22, 22)).await;
    let r = w
        .app
        .gql(&format!("mutation($id: ID!, $i: StoryFieldsInput!) {{ updateStory(id: $id, input: $i) {{ {STORY_FIELDS} }} }}"))
        .vars(json!({ "id": created["id"], "i": { "title": "入户走访", "body": "走访了十二户群众。", "galleryIds": [first["id"], third["id"]] } }))
        .bearer(Some(&w.deputy))
        .send()
        .await;
    let updated = r.data()["updateStory"].clone();
    assert_eq!(updated["cover"]["id"], cover["id"]);
    let gallery: Vec<&Value> = updated["gallery"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["id"])
        .collect();
    assert_eq!(gallery, vec![&first["id"], &third["id"]]);

    // A draft's images: its author side and its editors only.
    let other_citizen = another_citizen(&w.app).await;
    let other_station = staff_elsewhere(&w.app).await;
    for file in [
        url(&cover),
        url(&third),
        cover["thumbnailUrl"].as_str().unwrap(),
    ] {
        statuses(
            &w.app,
            file,
            &[
                ("the deputy", Some(&w.deputy), 200),
                ("the station's editor", Some(&w.staff), 200),
                ("another station", Some(&other_station), 404),
                ("another citizen", Some(&other_citizen), 404),
                ("a department", Some(&w.handler), 404),
                ("anonymous", None, 404),
            ],
        )
        .await;
    }
    // The image taken off is its uploader's own again.
    statuses(
        &w.app,
        url(&second),
        &[
            ("the deputy", Some(&w.deputy), 200),
            ("the editor", Some(&w.staff), 404),
        ],
    )
    .await;

    // Published: anyone may have its images, and caches may keep them.
    let step = |name: &str| format!("mutation($id: ID!) {{ {name}(id: $id) {{ status }} }}");
    w.app
        .gql(&step("submitStory"))
        .vars(json!({ "id": created["id"] }))
        .bearer(Some(&w.deputy))
        .send()
        .await
        .data();
    let r = w
        .app
        .gql(&step("publishStory"))
        .vars(json!({ "id": created["id"] }))
        .bearer(Some(&w.staff))
        .send()
        .await;
    assert_eq!(r.data()["publishStory"]["status"], "PUBLISHED");
    for file in [
        url(&cover),
        url(&first),
        cover["thumbnailUrl"].as_str().unwrap(),
    ] {
        let path = reqwest::Url::parse(file).unwrap().path().to_owned();
        let response = w.app.client.get(w.app.url(&path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{file}");
        let cache = response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(cache.starts_with("public, max-age="), "{cache}");
        assert_eq!(response.headers()["content-type"], "image/jpeg");
    }
    // A file of the story's draft past: still private.
    statuses(&w.app, url(&second), &[("anonymous", None, 404)]).await;
    let r = w
        .app
        .gql("query($id: ID!) { node(id: $id) { ... on Story { cover { id } gallery { id } } } }")
        .vars(json!({ "id": created["id"] }))
        .send()
        .await;
    assert_eq!(r.data()["node"]["cover"]["id"], cover["id"]);
}

#[tokio::test]
async fn story_images_are_private_until_published_then_public_local() {
    story_images(Store::Local).await;
}

#[tokio::test]
async fn story_images_are_private_until_published_then_public_s3() {
    story_images(Store::S3).await;
}

// ------------------------------------------------------------------ activities

const LOG: &str = "mutation($i: LogActivityInput!) { logActivity(input: $i) { id photos { id url thumbnailUrl } } }";

fn activity_input(deputy: &Value, photos: Value) -> Value {
    json!({
        "kind": "CITIZEN_RECEPTION",
        "title": "选民接待日",
        "occurredOn": "2025-06-10",
        "participantIds": [deputy],
        "attachmentIds": photos,
    })
}

async fn activity_photos(store: Store) {
    let Some((app, _moto)) = spawn(store, None).await else {
        return;
    };
    let w = World::on(app).await;
    let deputy = deputy_id(&w.app, &w.deputy).await;
    let photos = [
        uploaded(&w.app, Some(&w.deputy), "ACTIVITY", png(64, 48)).await,
        uploaded(&w.app, Some(&w.deputy), "ACTIVITY", png(48, 64)).await,
    ];
    let ids: Vec<&Value> = photos.iter().map(|p| &p["id"]).collect();
    let r = w
        .app
        .gql(LOG)
        .vars(json!({ "i": activity_input(&deputy, json!(ids)) }))
        .bearer(Some(&w.deputy))
        .send()
        .await;
    let logged = r.data()["logActivity"].clone();
    let listed: Vec<&Value> = logged["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["id"])
        .collect();
    assert_eq!(listed, ids);

    // Staff log for a deputy of their station, with their own photos.
    let by_staff = uploaded(&w.app, Some(&w.staff), "ACTIVITY", png(30, 30)).await;
    let r = w
        .app
        .gql(LOG)
        .vars(json!({ "i": activity_input(&deputy, json!([by_staff["id"]])) }))
        .bearer(Some(&w.staff))
        .send()
        .await;
    assert_eq!(r.data()["logActivity"]["photos"][0]["id"], by_staff["id"]);

    let other_citizen = another_citizen(&w.app).await;
    let other_station = staff_elsewhere(&w.app).await;
    for file in [
        url(&photos[0]),
        photos[1]["thumbnailUrl"].as_str().unwrap(),
        url(&by_staff),
    ] {
        statuses(
            &w.app,
            file,
            &[
                ("the deputy", Some(&w.deputy), 200),
                ("the deputy's station", Some(&w.staff), 200),
                ("the township's supervisor", Some(&w.supervisor), 200),
                ("another station", Some(&other_station), 404),
                ("another citizen", Some(&other_citizen), 404),
                ("a department", Some(&w.handler), 404),
                ("anonymous", None, 404),
            ],
        )
        .await;
    }
    // The activity is public; its photos are not.
    let query = "query($id: ID!) { node(id: $id) { ... on Activity { title photos { id } } } }";
    for (who, token, expected) in [
        ("anonymous", None, 0),
        ("another station", Some(other_station.as_str()), 0),
        ("the station", Some(w.staff.as_str()), 2),
    ] {
        let r = w
            .app
            .gql(query)
            .vars(json!({ "id": logged["id"] }))
            .bearer(token)
            .send()
            .await;
        let node = &r.data()["node"];
        assert_eq!(node["title"], "选民接待日", "{who}");
        assert_eq!(node["photos"].as_array().unwrap().len(), expected, "{who}");
    }

    // The archive's activities carry them, in GraphQL and on the printed page.
    let r = w
        .app
        .gql("query($d: ID!) { node(id: $d) { ... on Deputy { archive(year: 2025) { activities(first: 100) { nodes { id photos { id } } } } } } }")
        .vars(json!({ "d": deputy }))
        .bearer(Some(&w.deputy))
        .send()
        .await;
    let nodes = r.data()["node"]["archive"]["activities"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let ours = nodes
        .iter()
        .find(|n| n["id"] == logged["id"])
        .expect("listed");
    assert_eq!(ours["photos"].as_array().unwrap().len(), 2);
    let deputy_path = deputy.as_str().unwrap();
    let page = w
        .app
        .client
        .get(w.app.url(&format!("/deputies/{deputy_path}/archive/2025")))
        .bearer_auth(&w.deputy)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("img-src data:"), "{csp}");
    let html = page.text().await.unwrap();
    let images = html.matches("<img src=\"data:image/jpeg;base64,").count();
    assert_eq!(images, 3, "three thumbnails printed");
}

#[tokio::test]
async fn activity_photos_are_for_the_activitys_people_and_in_the_archive_local() {
    activity_photos(Store::Local).await;
}

#[tokio::test]
async fn activity_photos_are_for_the_activitys_people_and_in_the_archive_s3() {
    activity_photos(Store::S3).await;
}

// ------------------------------------------------------------------ the purge

async fn purge_keeps_attached(store: Store) {
    let clock = Clock::system();
    let Some((app, _moto)) = spawn(store, Some(clock.clone())).await else {
        return;
    };
    let w = World::on(app).await;
    let deputy = deputy_id(&w.app, &w.deputy).await;
    let item = w.accepted().await;
    let result = uploaded(&w.app, Some(&w.handler), "RESULT", PDF.to_vec()).await;
    w.app
        .gql("mutation($id: ID!, $a: [ID!]) { completePetition(id: $id, result: \"已办结\", attachmentIds: $a) { id } }")
        .vars(json!({ "id": item["id"], "a": [result["id"]] }))
        .bearer(Some(&w.handler))
        .send()
        .await
        .data();
    let image = uploaded(&w.app, Some(&w.deputy), "STORY", png(33, 33)).await;
    w.app
        .gql("mutation($d: ID!, $i: StoryFieldsInput!) { createStory(deputyId: $d, input: $i) { id } }")
        .vars(json!({ "d": deputy, "i": { "title": "座谈", "body": "座谈会。", "coverId": image["id"] } }))
        .bearer(Some(&w.deputy))
        .send()
        .await
        .data();
    let photo = uploaded(&w.app, Some(&w.deputy), "ACTIVITY", png(34, 34)).await;
    w.app
        .gql(LOG)
        .vars(json!({ "i": activity_input(&deputy, json!([photo["id"]])) }))
        .bearer(Some(&w.deputy))
        .send()
        .await
        .data();
    // Left unattached: the same bytes as the activity's photo (one stored object).
    let left = uploaded(&w.app, Some(&w.deputy), "ACTIVITY", png(34, 34)).await;

    clock.advance(Duration::from_secs(25 * 3600));
    let (admin, handler, deputy_token) = (
        w.app.token("admin").await,
        w.app.token("handler").await,
        w.app.token("deputy").await,
    );
    let r = w
        .app
        .gql("mutation { runSupervisionCycle { expiredUploads } }")
        .bearer(Some(&admin))
        .send()
        .await;
    assert_eq!(r.data()["runSupervisionCycle"]["expiredUploads"], 1);
    assert_eq!(stored_rows(&w.app).await, 3);
    if store == Store::Local {
        // The PDF, and two images with their thumbnails.
        assert_eq!(stored_objects(&w.app), 5);
    }
    statuses(&w.app, url(&result), &[("handler", Some(&handler), 200)]).await;
    statuses(&w.app, url(&image), &[("deputy", Some(&deputy_token), 200)]).await;
    statuses(&w.app, url(&photo), &[("deputy", Some(&deputy_token), 200)]).await;
    statuses(
        &w.app,
        photo["thumbnailUrl"].as_str().unwrap(),
        &[("deputy", Some(&deputy_token), 200)],
    )
    .await;
    statuses(&w.app, url(&left), &[("deputy", Some(&deputy_token), 404)]).await;
}

#[tokio::test]
async fn the_purge_leaves_attached_files_of_every_kind_local() {
    purge_keeps_attached(Store::Local).await;
}

#[tokio::test]
async fn the_purge_leaves_attached_files_of_every_kind_s3() {
    purge_keeps_attached(Store::S3).await;
}

/// The thumbnail cannot be written (a file where its folder goes): the upload fails
/// and no row is written; once the store works again the same file uploads (the
/// original written first is found, not lost).
#[tokio::test]
async fn a_failed_thumbnail_stores_no_row_and_the_file_uploads_later() {
    let app = TestApp::spawn_demo().await;
    let citizen = app.token("citizen").await;
    std::fs::create_dir_all(&app.storage_dir).unwrap();
    std::fs::write(app.storage_dir.join("thumbs"), b"in the way").unwrap();
    let r = upload(&app, Some(&citizen), "PETITION", png(25, 25)).await;
    assert!(r.body.get("errors").is_some(), "{}", r.body);
    assert_eq!(stored_rows(&app).await, 0);
    std::fs::remove_file(app.storage_dir.join("thumbs")).unwrap();
    uploaded(&app, Some(&citizen), "PETITION", png(25, 25)).await;
    assert_eq!(stored_rows(&app).await, 1);
    // A PDF has no thumbnail: stored as before.
    uploaded(&app, Some(&citizen), "PETITION", PDF.to_vec()).await;
    assert_eq!(stored_rows(&app).await, 2);
}

/// An upload serves once: a photo attached to an activity cannot go on a second
/// activity, nor a result on a second step; and an upload older than a day attaches
/// nowhere. Each refusal is BAD_USER_INPUT on the field and changes nothing.
#[tokio::test]
async fn an_upload_attaches_once_and_only_within_a_day() {
    let clock = Clock::system();
    let w = World::on(
        TestApp::builder()
            .fixture(Fixture::Demo)
            .clock(clock.clone())
            .spawn()
            .await,
    )
    .await;
    let deputy = deputy_id(&w.app, &w.deputy).await;
    let photo = uploaded(&w.app, Some(&w.deputy), "ACTIVITY", png(20, 20)).await;
    let r = w
        .app
        .gql(LOG)
        .vars(json!({ "i": activity_input(&deputy, json!([photo["id"]])) }))
        .bearer(Some(&w.deputy))
        .send()
        .await;
    let first = r.data()["logActivity"].clone();
    let activities_before = activities(&w.app).await;
    let again = w
        .app
        .gql(LOG)
        .vars(json!({ "i": activity_input(&deputy, json!([photo["id"]])) }))
        .bearer(Some(&w.deputy))
        .send()
        .await;
    assert_bad_input(&again, "attachmentIds");
    assert_eq!(activities(&w.app).await, activities_before);
    assert_eq!(first["photos"].as_array().unwrap().len(), 1);

    let item = w.accepted().await;
    let result = uploaded(&w.app, Some(&w.handler), "RESULT", png(21, 21)).await;
    let progress = "mutation($id: ID!, $a: [ID!]) { addPetitionProgress(id: $id, note: \"正在施工\", attachmentIds: $a) { id version } }";
    let r = w
        .app
        .gql(progress)
        .vars(json!({ "id": item["id"], "a": [result["id"]] }))
        .bearer(Some(&w.handler))
        .send()
        .await;
    let version = r.data()["addPetitionProgress"]["version"].clone();
    let r = w
        .app
        .gql(progress)
        .vars(json!({ "id": item["id"], "a": [result["id"]] }))
        .bearer(Some(&w.handler))
        .send()
        .await;
    assert_bad_input(&r, "attachmentIds");
    assert_eq!(w.node(Some(&w.handler), &item).await["version"], version);

    // A day and an hour later, a fresh upload of the day before attaches nowhere.
    let stale = uploaded(&w.app, Some(&w.deputy), "ACTIVITY", png(22, 22)).await;
    clock.advance(std::time::Duration::from_secs(25 * 3600));
    let deputy_now = w.app.token("deputy").await;
    let before = activities(&w.app).await;
    let r = w
        .app
        .gql(LOG)
        .vars(json!({ "i": activity_input(&deputy, json!([stale["id"]])) }))
        .bearer(Some(&deputy_now))
        .send()
        .await;
    assert_bad_input(&r, "attachmentIds");
    assert_eq!(activities(&w.app).await, before);
}
