//! Open311 GeoReport v2 (`/open311/v2/`): two unmodified clients from PyPI (civicbot
//! in JSON, georeport in XML, `tests/open311/drive.py`) list, file with a key and read
//! back; every error path answers the spec's `[{code, description}]` with a stable
//! code (never a 500); nothing personal is public; keys are issued and revoked by
//! admins only.
use entity::{outbox_event, petition, petition_event};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};

use crate::helpers::{Fixture, TestApp};

const BASE: &str = "/open311/v2";

async fn demo() -> TestApp {
    TestApp::builder()
        .fixture(Fixture::Demo)
        .env("OPEN311_JURISDICTION_ID", "heshun.gov.cn")
        .spawn()
        .await
}

/// The id of the demo's 滨河 station.
async fn binhe(app: &TestApp) -> Value {
    app.gql(r#"{ stations(name: "滨河") { edges { node { id } } } }"#)
        .send()
        .await
        .data()["stations"]["edges"][0]["node"]["id"]
        .clone()
}

/// An admin issues a key for 滨河: (the key, its id).
async fn issue_key(app: &TestApp) -> (String, Value) {
    let admin = app.token("admin").await;
    let station = binhe(app).await;
    let issued = app
        .gql("mutation($s: ID!) { issueOpen311Key(name: \"和顺随手拍\", stationId: $s) { key open311Key { id name keyPrefix station { code } revokedAt } } }")
        .vars(json!({ "s": station }))
        .bearer(Some(&admin))
        .send()
        .await;
    let data = issued.data()["issueOpen311Key"].clone();
    let key = data["key"].as_str().expect("key").to_owned();
    assert_eq!(key.len(), 64);
    assert_eq!(data["open311Key"]["keyPrefix"], key[..8]);
    assert_eq!(data["open311Key"]["station"]["code"], "binhe");
    assert!(data["open311Key"]["revokedAt"].is_null());
    (key, data["open311Key"]["id"].clone())
}

async fn get(app: &TestApp, path: &str) -> (u16, String, String) {
    let r = app.client.get(app.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, r.text().await.unwrap())
}

async fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = app
        .client
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A JSON error answer: its status and the one error's code.
fn json_error(status: u16, body: &str) -> (u16, i64, String) {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    (
        status,
        v[0]["code"].as_i64().unwrap_or_default(),
        v[0]["description"].as_str().unwrap_or_default().to_owned(),
    )
}

fn python() -> Option<std::path::PathBuf> {
    let venv =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/open311/.venv/bin/python");
    if venv.exists() {
        return Some(venv);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI must create tests/open311/.venv (see .ci/run)");
    }
    crate::skips::skipped(
        "open311_clients_from_pypi_list_file_with_a_key_and_read_back",
        "python3 -m venv tests/open311/.venv && tests/open311/.venv/bin/pip install -r tests/open311/requirements.txt",
    );
    None
}

#[tokio::test]
async fn open311_clients_from_pypi_list_file_with_a_key_and_read_back() {
    let Some(python) = python() else { return };
    let app = demo().await;
    let (key, _) = issue_key(&app).await;
    let before = petition::Entity::find().count(&app.db).await.unwrap();
    let events_before = outbox_event::Entity::find().count(&app.db).await.unwrap();

    let output = tokio::process::Command::new(python)
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/open311/drive.py"))
        .args([app.url(BASE).as_str(), key.as_str(), "heshun.gov.cn"])
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap_or(json!({}));
    assert!(
        output.status.success() && report["ok"] == true,
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // One item, through the same intake as every channel: at the key's station, in
    // the chosen category, with its history and its event; the wrong key filed nothing.
    assert_eq!(
        petition::Entity::find().count(&app.db).await.unwrap(),
        before + 1
    );
    let id: i64 = report["service_request_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let item = petition::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.channel, entity::Channel::App);
    // The place as filed, exactly (1e-7 degree), with the address the client typed.
    assert_eq!(
        (item.latitude_e7, item.longitude_e7),
        (Some(373_296_800), Some(1_135_684_200))
    );
    assert_eq!(
        item.location_address.as_deref(),
        Some("和顺县滨河社区滨河路12号")
    );
    // Open data's GeoJSON: the same rounded point, [long, lat].
    let (status, _, body) = get(&app, "/open-data/items.geojson").await;
    assert_eq!(status, 200, "{body}");
    let geojson: Value = serde_json::from_str(&body).unwrap();
    let feature = geojson["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["id"] == json!(id))
        .expect("the filed item is in open data")
        .clone();
    assert_eq!(
        feature["geometry"],
        json!({ "type": "Point", "coordinates": [113.57, 37.33] })
    );
    assert!(!body.contains("滨河路12号") && !body.contains("37.32968"));
    assert_eq!(item.submitter_name.as_deref(), Some("张 三"));
    assert_eq!(item.submitter_phone.as_deref(), Some("13900000777"));
    assert!(item.category_id.is_some());
    let history = petition_event::Entity::find()
        .filter(petition_event::Column::PetitionId.eq(id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(history.actor_role.as_deref(), Some("open311"));
    let events = outbox_event::Entity::find().count(&app.db).await.unwrap();
    assert!(
        events > events_before,
        "the submission's event is in the outbox"
    );

    // The station's staff see it in their ledger, like any other item.
    let staff = app.token("staff").await;
    let ledger = app
        .gql("query($s: ID!) { stationLedger(stationId: $s, filter: { states: [SUBMITTED] }, first: 100) { edges { node { trackingCode } } } }")
        .vars(json!({ "s": binhe(&app).await }))
        .bearer(Some(&staff))
        .send()
        .await;
    let found = ledger.data()["stationLedger"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["node"]["trackingCode"] == item.tracking_code.as_str());
    assert!(found, "{:?}", ledger.data());
}

#[tokio::test]
async fn services_and_definitions_in_json_and_xml() {
    let app = demo().await;
    let (status, content_type, body) = get(&app, &format!("{BASE}/services.json")).await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/json; charset=utf-8")
    );
    let services: Value = serde_json::from_str(&body).unwrap();
    let first = &services[0];
    let code = first["service_code"].as_str().unwrap().to_owned();
    for field in [
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ] {
        assert!(first.get(field).is_some(), "{field} in {first}");
    }
    assert_eq!(first["type"], "realtime");

    let (status, content_type, xml) = get(&app, &format!("{BASE}/services.xml")).await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/xml; charset=utf-8")
    );
    assert!(
        xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><services><service><service_code>"
        ),
        "{xml}"
    );

    let (status, _, body) = get(
        &app,
        &format!("{BASE}/services/{code}.json?jurisdiction_id=heshun.gov.cn"),
    )
    .await;
    assert_eq!(status, 200);
    let definition: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        definition,
        json!({ "service_code": code, "attributes": [] })
    );
    let (_, _, xml) = get(&app, &format!("{BASE}/services/{code}.xml")).await;
    assert!(xml.contains("<service_definition><service_code>"), "{xml}");
}

#[tokio::test]
async fn every_error_is_the_specs_list_with_a_stable_code() {
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("OPEN311_JURISDICTION_ID", "heshun.gov.cn")
        .env("OPEN311_SUBMISSIONS_PER_KEY", "1")
        .spawn()
        .await;
    let (key, key_id) = issue_key(&app).await;
    let (_, _, body) = get(&app, &format!("{BASE}/services.json")).await;
    let services: Value = serde_json::from_str(&body).unwrap();
    let code = services[0]["service_code"].as_str().unwrap();
    let key = key.as_str();
    let text = "路灯坏了三天，晚上很危险";

    let gets = [
        (format!("{BASE}/services.json?jurisdiction_id=elsewhere"), 404, "jurisdiction_id"),
        (format!("{BASE}/services/no-such-service.json"), 404, "service_code"),
        (format!("{BASE}/requests.json?start_date=yesterday"), 400, "start_date"),
        (format!("{BASE}/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z"), 400, "90 days"),
        (format!("{BASE}/requests.json?start_date=2026-02-01&end_date=2026-01-01"), 400, "before"),
        (format!("{BASE}/requests.json?start_date=2026-01-01T10Z"), 400, "start_date"),
        (format!("{BASE}/requests.json?status=pending"), 400, "status"),
        (format!("{BASE}/requests.json?service_request_id=1,x"), 400, "service_request_id"),
        (format!("{BASE}/requests/999999999.json"), 404, "service_request_id"),
        (format!("{BASE}/requests/not-a-number.json"), 404, "service_request_id"),
        (format!("{BASE}/nothing.json"), 404, "Open311"),
        (format!("{BASE}/services.yaml"), 404, "Open311"),
    ];
    for (path, status, mentions) in gets {
        let (got, content_type, body) = get(&app, &path).await;
        assert_eq!(content_type, "application/json; charset=utf-8", "{path}");
        let (got, code, description) = json_error(got, &body);
        assert_eq!((got, code), (status, i64::from(status)), "{path}: {body}");
        assert!(description.contains(mentions), "{path}: {description}");
    }
    // The same errors in XML.
    let (status, content_type, xml) = get(
        &app,
        &format!("{BASE}/services.xml?jurisdiction_id=elsewhere"),
    )
    .await;
    assert_eq!(
        (status, content_type.as_str()),
        (404, "text/xml; charset=utf-8")
    );
    assert!(
        xml.contains("<errors><error><code>404</code><description>jurisdiction_id"),
        "{xml}"
    );

    let long_address = "路".repeat(201);
    /// (form fields, expected status, the field the error names).
    type Post<'a> = (&'a [(&'a str, &'a str)], u16, &'a str);
    let posts: [Post; 10] = [
        (
            &[
                ("api_key", key),
                ("service_code", code),
                ("description", text),
                ("lat", "37.3"),
            ],
            400,
            "long",
        ),
        (
            &[
                ("api_key", key),
                ("service_code", code),
                ("description", text),
                ("lat", "north"),
                ("long", "113.5"),
            ],
            400,
            "lat",
        ),
        (
            &[
                ("api_key", key),
                ("service_code", code),
                ("description", text),
                ("lat", "37.3"),
                ("long", "181"),
            ],
            400,
            "long",
        ),
        (
            &[
                ("api_key", key),
                ("service_code", code),
                ("description", text),
                ("lat", "37.3"),
                ("long", "113.5"),
                ("address_string", long_address.as_str()),
            ],
            400,
            "address_string",
        ),
        (
            &[("service_code", code), ("description", text)],
            403,
            "api_key",
        ),
        (
            &[
                ("api_key", "0123"),
                ("service_code", code),
                ("description", text),
            ],
            403,
            "api_key",
        ),
        (
            &[
                ("api_key", key),
                ("service_code", "no-such-service"),
                ("description", text),
            ],
            400,
            "service_code",
        ),
        (
            &[("api_key", key), ("description", text)],
            400,
            "service_code",
        ),
        (
            &[
                ("api_key", key),
                ("service_code", code),
                ("description", "短"),
            ],
            400,
            "description",
        ),
        (
            &[
                ("api_key", key),
                ("service_code", code),
                ("description", text),
                ("jurisdiction_id", "elsewhere"),
            ],
            404,
            "jurisdiction_id",
        ),
    ];
    for (form, status, mentions) in posts {
        let (got, body) = post(&app, &format!("{BASE}/requests.json"), form).await;
        let (got, code, description) = json_error(got, &body);
        assert_eq!((got, code), (status, i64::from(status)), "{form:?}: {body}");
        assert!(description.contains(mentions), "{form:?}: {description}");
    }
    let (status, body) = post(
        &app,
        &format!("{BASE}/requests.xml"),
        &[("api_key", "wrong"), ("service_code", code)],
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.contains("<errors><error><code>403</code>"), "{body}");

    // A phone that is not one is refused as any channel refuses it.
    let (status, body) = post(
        &app,
        &format!("{BASE}/requests.json"),
        &[
            ("api_key", key),
            ("service_code", code),
            ("description", text),
            ("phone", "12"),
        ],
    )
    .await;
    assert_eq!(json_error(status, &body).0, 400, "{body}");

    // One request an hour for this key: the second is 429 with Retry-After.
    let (status, body) = post(
        &app,
        &format!("{BASE}/requests.json"),
        &[
            ("api_key", key),
            ("service_code", code),
            ("description", text),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let r = app
        .client
        .post(app.url(&format!("{BASE}/requests.json")))
        .form(&[
            ("api_key", key),
            ("service_code", code),
            ("description", text),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let body = r.text().await.unwrap();
    assert_eq!(json_error(429, &body).1, 429, "{body}");

    // A revoked key files nothing.
    let admin = app.token("admin").await;
    let revoked = app
        .gql("mutation($id: ID!) { revokeOpen311Key(id: $id) { revokedAt } }")
        .vars(json!({ "id": key_id }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert!(revoked.data()["revokeOpen311Key"]["revokedAt"].is_string());
    let (status, body) = post(
        &app,
        &format!("{BASE}/requests.json"),
        &[
            ("api_key", key),
            ("service_code", code),
            ("description", text),
        ],
    )
    .await;
    assert_eq!(json_error(status, &body).1, 403, "{body}");
}

#[tokio::test]
async fn requests_show_the_public_only_newest_first_within_ninety_days() {
    let app = demo().await;
    let (key, _) = issue_key(&app).await;
    let (_, _, body) = get(&app, &format!("{BASE}/services.json")).await;
    let services: Value = serde_json::from_str(&body).unwrap();
    let code = services[0]["service_code"].as_str().unwrap();
    let key = key.as_str();
    let secret_text = "我家门口的井盖丢了，位置在滨河路十八号对面";
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (status, body) = post(
            &app,
            &format!("{BASE}/requests.json"),
            &[
                ("api_key", key),
                ("service_code", code),
                ("description", secret_text),
                ("first_name", "李四"),
                ("phone", "13900000888"),
                ("email", "li@example.org"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert!(answer[0]["service_notice"].is_string());
        ids.push(answer[0]["service_request_id"].as_str().unwrap().to_owned());
    }

    // The default window: the last 90 days, newest first (the demo's 2025 items are older).
    let (status, _, body) = get(&app, &format!("{BASE}/requests.json")).await;
    assert_eq!(status, 200);
    let listed: Value = serde_json::from_str(&body).unwrap();
    let listed_ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed_ids, vec![ids[1].as_str(), ids[0].as_str()]);
    let first = &listed[0];
    assert_eq!(first["status"], "open");
    assert_eq!(first["service_code"], code);
    assert_eq!(first["agency_responsible"], "滨河社区人大代表联络站");
    assert!(first["requested_datetime"]
        .as_str()
        .unwrap()
        .ends_with("+08:00"));
    for private in [
        secret_text,
        "李四",
        "13900000888",
        "li@example.org",
        "十八号",
    ] {
        assert!(!body.contains(private), "{private} is public: {body}");
    }

    // Filters: by status, by service, by ids (which override the rest).
    let (_, _, closed) = get(&app, &format!("{BASE}/requests.json?status=closed")).await;
    assert_eq!(closed, "[]");
    let (_, _, other) = get(&app, &format!("{BASE}/requests.json?service_code=no-such")).await;
    assert_eq!(other, "[]");
    let (_, _, old) = get(
        &app,
        &format!(
            "{BASE}/requests.json?service_request_id=1,{}&status=closed",
            ids[0]
        ),
    )
    .await;
    let old: Value = serde_json::from_str(&old).unwrap();
    assert_eq!(old.as_array().unwrap().len(), 2, "{old}");
    // A 2025 window holds the demo's items, at most 500 of them.
    let (status, _, year) = get(
        &app,
        &format!("{BASE}/requests.json?start_date=2025-06-01&end_date=2025-08-29"),
    )
    .await;
    assert_eq!(status, 200);
    let year: Value = serde_json::from_str(&year).unwrap();
    let n = year.as_array().unwrap().len();
    assert!(n > 0 && n <= 500, "{n}");
    let stored = petition::Entity::find()
        .order_by_desc(petition::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    for item in &stored {
        if let Some(phone) = &item.submitter_phone {
            assert!(!year.to_string().contains(phone.as_str()));
        }
    }
}

#[tokio::test]
async fn only_admins_issue_list_and_revoke_keys() {
    let app = demo().await;
    let (_, key_id) = issue_key(&app).await;
    let admin = app.token("admin").await;
    let listed = app
        .gql("{ open311Keys { id name keyPrefix } }")
        .bearer(Some(&admin))
        .send()
        .await;
    assert_eq!(listed.data()["open311Keys"][0]["id"], key_id);
    let station = binhe(&app).await;
    for login in ["staff", "supervisor", "citizen"] {
        let token = app.token(login).await;
        let r = app
            .gql("mutation($s: ID!) { issueOpen311Key(name: \"x\", stationId: $s) { key } }")
            .vars(json!({ "s": station }))
            .bearer(Some(&token))
            .send()
            .await;
        assert_eq!(r.error_code(), Some("FORBIDDEN"), "{login}");
    }
    // A name too long, a station that is not one.
    let long = "名".repeat(65);
    let r = app
        .gql("mutation($n: String!, $s: ID!) { issueOpen311Key(name: $n, stationId: $s) { key } }")
        .vars(json!({ "n": long, "s": station }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"));
    // What is stored is the hash, never the key.
    let stored = entity::open311_key::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(stored
        .iter()
        .all(|k| k.key_hash.len() == 64 && k.key_prefix.len() == 8));
}

#[tokio::test]
async fn the_key_comes_from_the_form_and_concurrent_filings_share_the_limit_atomically() {
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("OPEN311_JURISDICTION_ID", "heshun.gov.cn")
        .env("OPEN311_SUBMISSIONS_PER_KEY", "2")
        .spawn()
        .await;
    let (key, _) = issue_key(&app).await;
    let (_, _, body) = get(&app, &format!("{BASE}/services.json")).await;
    let services: Value = serde_json::from_str(&body).unwrap();
    let code = services[0]["service_code"].as_str().unwrap().to_owned();
    let text = "路灯坏了三天，晚上很危险";

    // A key in the query string is not read (it would sit in proxies' logs).
    let (status, body) = post(
        &app,
        &format!("{BASE}/requests.json?api_key={key}"),
        &[("service_code", code.as_str()), ("description", text)],
    )
    .await;
    assert_eq!(json_error(status, &body).1, 403, "{body}");

    // Six filings at once with a limit of two: exactly two get through.
    let path = format!("{BASE}/requests.json");
    let form = [
        ("api_key", key.as_str()),
        ("service_code", code.as_str()),
        ("description", text),
    ];
    let filings = (0..6).map(|_| post(&app, &path, &form));
    let answers = futures_util::future::join_all(filings).await;
    let mut statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 200, 429, 429, 429, 429], "{answers:?}");

    // Dates to the minute are W3C date-times too.
    let (status, _, body) = get(
        &app,
        &format!(
            "{BASE}/requests.json?start_date=2025-03-01T10:00Z&end_date=2025-05-01T10:00%2B08:00"
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
