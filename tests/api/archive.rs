//! The printable duty archive (`/deputies/{id}/archive/{year}`): printed to an A4 PDF
//! by headless Chromium (`tests/browser/archive_pdf.mjs`) and read back by pypdf
//! (`tests/xlsx/pdf_text.py`), against `Deputy.archive(year)` over GraphQL; refused
//! to those `Deputy.archive` refuses.
use std::path::Path;

use serde_json::{json, Value};

use crate::browser::{browser_ready, node_script};
use crate::helpers::TestApp;

/// The demo deputy's global id and its archive as GraphQL answers it.
async fn deputy_and_archive(app: &TestApp, token: &str) -> (String, Value) {
    let r = app
        .gql("{ me { deputy { id name code archive(year: 2025) { activityCount opinionItemsCollected suggestionsMade storiesPublished compliance { compliantMonths throughMonth months { fullyCompliant } } activities(first: 3) { nodes { title } } } } } }")
        .bearer(Some(token))
        .send()
        .await;
    let deputy = r.data()["me"]["deputy"].clone();
    (deputy["id"].as_str().expect("id").to_owned(), deputy)
}

async fn pdf_pages(python: &Path, pdf: &Path) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xlsx/pdf_text.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .arg(pdf)
        .output()
        .await
        .expect("pypdf runs");
    assert!(
        output.status.success(),
        "pypdf: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: Value = serde_json::from_slice(&output.stdout).expect("JSON from pdf_text.py");
    read["pages"].as_array().expect("pages").clone()
}

#[tokio::test]
async fn the_archive_prints_to_a4_with_the_year_that_graphql_reports() {
    let test = "the_archive_prints_to_a4_with_the_year_that_graphql_reports";
    if !browser_ready(test) {
        return;
    }
    let Some(python) = crate::exports::python(test) else {
        return;
    };
    let app = TestApp::spawn_demo().await;
    let token = app.token("deputy").await;
    let (id, archive) = deputy_and_archive(&app, &token).await;
    let a = &archive["archive"];
    let dir = tempfile::tempdir().expect("temp dir");
    let pdf = dir.path().join("archive.pdf");
    let path = format!("/deputies/{id}/archive/2025");
    let printed = node_script(
        "archive_pdf.mjs",
        &[&app.base, &path, &token, pdf.to_str().unwrap()],
    )
    .await;
    assert_eq!(printed["status"], 200, "{printed}");

    let pages = pdf_pages(&python, &pdf).await;
    let total = pages.len();
    assert!(
        total >= 2,
        "a year of duty takes more than one page: {total}"
    );
    // Every row of the year's lists is a line; a page holds at most about 50 of them.
    let rows = [
        "activityCount",
        "opinionItemsCollected",
        "suggestionsMade",
        "storiesPublished",
    ]
    .iter()
    .map(|k| a[k].as_u64().unwrap())
    .sum::<u64>() as usize;
    assert!(total <= 2 + rows / 15, "{total} pages for {rows} rows");
    for (i, page) in pages.iter().enumerate() {
        let (w, h) = (
            page["width"].as_f64().unwrap(),
            page["height"].as_f64().unwrap(),
        );
        assert!(
            (w - 595.0).abs() < 2.0 && (h - 842.0).abs() < 2.0,
            "A4 portrait: {w}x{h}"
        );
        let footer = format!("第{}页/共{total}页", i + 1);
        assert!(
            squash(page["text"].as_str().unwrap()).contains(&footer),
            "page {}: {}",
            i + 1,
            page["text"]
        );
    }
    let text = squash(
        &pages
            .iter()
            .map(|p| p["text"].as_str().unwrap())
            .collect::<String>(),
    );
    let name = archive["name"].as_str().unwrap();
    assert!(text.contains(&format!("{name}2025年度履职档案")), "{text}");
    assert!(text.contains(archive["code"].as_str().unwrap()));
    for heading in [
        "基本情况",
        "八个一",
        "履职活动",
        "收集的社情民意",
        "意见建议",
        "履职故事",
    ] {
        assert!(text.contains(heading), "{heading} missing");
    }
    for (figure, key) in [
        ("履职活动{}次", "activityCount"),
        ("收集社情民意{}件", "opinionItemsCollected"),
        ("提出意见建议{}件", "suggestionsMade"),
        ("发表履职故事{}篇", "storiesPublished"),
    ] {
        let expected = figure.replace("{}", &a[key].to_string());
        assert!(text.contains(&expected), "{expected}: {text}");
    }
    let months = &a["compliance"];
    let compliant = format!("{}/{}", months["compliantMonths"], months["throughMonth"]);
    assert!(text.contains(&compliant));
    for m in 1..=12 {
        assert!(text.contains(&format!("{m}月")), "month {m}");
    }
    for activity in a["activities"]["nodes"].as_array().unwrap() {
        let title = squash(activity["title"].as_str().unwrap());
        assert!(text.contains(&title), "activity {title}");
    }
}

/// Text without whitespace: pypdf's spacing and line breaks are its own.
fn squash(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[tokio::test]
async fn the_archive_is_for_the_readers_of_deputy_archive() {
    let app = TestApp::spawn_demo().await;
    let deputy = app.token("deputy").await;
    let (id, _) = deputy_and_archive(&app, &deputy).await;
    let get = |path: String, token: Option<String>| {
        let mut request = app.client.get(app.url(&path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            let body = response.text().await.unwrap();
            (status, content_type.unwrap_or_default(), body)
        }
    };
    let path = format!("/deputies/{id}/archive/2025");
    for login in ["deputy", "staff", "supervisor", "admin"] {
        let (status, content_type, body) = get(path.clone(), Some(app.token(login).await)).await;
        assert_eq!(
            (status, content_type.as_str()),
            (200, "text/html; charset=utf-8"),
            "{login}: {body}"
        );
        assert!(
            body.contains("@page") && !body.contains("<script"),
            "{login}"
        );
    }
    let code = |body: &str| {
        serde_json::from_str::<Value>(body).unwrap()["errors"][0]["extensions"]["code"].clone()
    };
    let (status, _, body) = get(path.clone(), None).await;
    assert_eq!((status, code(&body)), (401, json!("UNAUTHENTICATED")));
    for login in ["citizen", "handler"] {
        let (status, _, body) = get(path.clone(), Some(app.token(login).await)).await;
        assert_eq!((status, code(&body)), (403, json!("FORBIDDEN")), "{login}");
    }
    let staff = Some(app.token("staff").await);
    let missing = crate::fixtures::unknown(smart_npc::domain::node_id::NodeKind::Deputy);
    let (status, _, body) = get(format!("/deputies/{missing}/archive/2025"), staff.clone()).await;
    assert_eq!((status, code(&body)), (404, json!("NOT_FOUND")));
    for (path, field) in [
        (format!("/deputies/{id}/archive/1999"), "year"),
        (format!("/deputies/{id}/archive/twenty"), "year"),
        ("/deputies/binhe/archive/2025".to_owned(), "id"),
    ] {
        let (status, _, body) = get(path.clone(), staff.clone()).await;
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{path}");
    }
}

#[tokio::test]
async fn a_deputy_resident_at_two_stations_has_one_archive_naming_both() {
    let app = TestApp::spawn_demo().await;
    let deputy = app.token("deputy").await;
    let (id, before) = deputy_and_archive(&app, &deputy).await;
    let admin = app.token("admin").await;
    let stations = app
        .gql("query($id: ID!) { node(id: $id) { ... on Deputy { stations(first: 5) { nodes { id name } } } } stations(first: 5) { nodes { id name } } }")
        .vars(json!({ "id": id }))
        .bearer(Some(&admin))
        .send()
        .await;
    let first = stations.data()["node"]["stations"]["nodes"][0].clone();
    let second = stations.data()["stations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] != first["id"])
        .expect("another station")
        .clone();
    let assigned = app
        .gql("mutation($d: ID!, $s: ID!) { assignResidentDeputy(deputyId: $d, stationId: $s, since: \"2025-02-01\") { id } }")
        .vars(json!({ "d": id, "s": second["id"] }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_eq!(
        assigned.data()["assignResidentDeputy"]["id"],
        second["id"],
        "{}",
        assigned.body
    );

    // The year's figures do not double with the second station.
    let (_, after) = deputy_and_archive(&app, &deputy).await;
    assert_eq!(after["archive"], before["archive"]);
    // The printed page names both stations, once each, for the deputy, the staff
    // of the first station alike.
    let path = format!("/deputies/{id}/archive/2025");
    for login in ["deputy", "staff", "admin"] {
        let token = app.token(login).await;
        let response = app
            .client
            .get(app.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{login}");
        let body = response.text().await.unwrap();
        let (a, b) = (
            first["name"].as_str().unwrap(),
            second["name"].as_str().unwrap(),
        );
        let listed = [format!("<dd>{a}、{b}</dd>"), format!("<dd>{b}、{a}</dd>")];
        assert!(
            listed.iter().any(|l| body.contains(l.as_str())),
            "{login}: {listed:?} in {body}"
        );
    }
}

#[tokio::test]
async fn the_archive_reads_the_app_clock_for_the_months_so_far() {
    use chrono::TimeZone;
    let clock = smart_npc::clock::Clock::system();
    clock.set(chrono::Utc.with_ymd_and_hms(2025, 6, 15, 4, 0, 0).unwrap());
    let app = TestApp::builder()
        .fixture(crate::helpers::Fixture::Demo)
        .clock(clock)
        .spawn()
        .await;
    let deputy = app.token("deputy").await;
    let r = app
        .gql("{ me { deputy { archive(year: 2025) { compliance { throughMonth months { fullyCompliant } } } yearCompliance(year: 2025) { throughMonth } } } }")
        .bearer(Some(&deputy))
        .send()
        .await;
    let d = &r.data()["me"]["deputy"];
    assert_eq!(
        d["archive"]["compliance"]["throughMonth"],
        json!(6),
        "{}",
        r.body
    );
    assert_eq!(
        d["archive"]["compliance"]["months"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );
    assert_eq!(d["yearCompliance"]["throughMonth"], json!(6));
}
