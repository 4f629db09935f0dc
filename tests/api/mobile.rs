//! Deputy QR codes (`/deputies/{code}/qr.png|qr.svg|card.svg`) and the citizen's mobile
//! pages (`/m/d/{code}`, `/m/t/{trackingCode}`), down to a real headless Chromium.

use serde_json::{json, Value};

use crate::browser::{browser_ready, node_script};
use crate::helpers::TestApp;

const PUBLIC_BASE: &str = "https://npc.heshun.example";
const PAGE_LIMIT: usize = 50 * 1024;

async fn demo_app() -> TestApp {
    TestApp::builder()
        .fixture(crate::helpers::Fixture::Demo)
        .env("PUBLIC_BASE_URL", PUBLIC_BASE)
        .spawn()
        .await
}

/// The demo `deputy` account's deputy: a resident deputy of the 滨河 station.
async fn binhe_deputy(app: &TestApp) -> Value {
    let token = app.token("deputy").await;
    let r = app
        .gql("{ me { deputy { code name qrCodeUrl messagePageUrl stations { nodes { id code name } } } } }")
        .bearer(Some(&token))
        .send()
        .await;
    let deputy = r.data()["me"]["deputy"].clone();
    assert_eq!(deputy["stations"]["nodes"][0]["code"], "binhe", "{deputy}");
    deputy
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .send()
        .await
        .expect("request sent")
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Decodes a PNG (any bit depth) to 8-bit greyscale and reads the QR code in it.
fn read_qr_png(bytes: &[u8]) -> String {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("a valid PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let frame = reader.next_frame(&mut buf).expect("a frame");
    let (w, h) = (frame.width as usize, frame.height as usize);
    let channels = frame.color_type.samples();
    let stride = frame.line_size;
    assert!(
        w >= 21 * 2 && w == h,
        "a square of at least 2px per module: {w}x{h}"
    );
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * stride + x * channels]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().expect("the QR code decodes").1
}

/// Reads back the QR code an SVG of ours draws: a white square of N modules (the code
/// and a 4-module quiet zone), then a path of `M{x} {y}h{run}v1h-{run}z` runs.
fn read_qr_svg(svg: &str) -> String {
    let (before, after) = svg
        .split_once("<path fill=\"#000\" d=\"")
        .expect("the module path");
    // The white square under the path spans the code and its quiet zone.
    let side = before
        .rsplit("<rect width=\"")
        .next()
        .and_then(|r| r.split('"').next())
        .and_then(|n| n.parse::<usize>().ok())
        .expect("the background square");
    let size = side - 8;
    let path = after.split('"').next().expect("the path's end");
    let mut dark = vec![false; size * size];
    for run in path.split('M').filter(|r| !r.is_empty()) {
        let (xy, rest) = run.split_once('h').expect("run");
        let (x, y) = xy.split_once(' ').expect("x y");
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        let len: usize = rest.split('v').next().unwrap().parse().unwrap();
        for dx in 0..len {
            dark[(y - 4) * size + x - 4 + dx] = true;
        }
    }
    let grid = rqrr::SimpleGrid::from_func(size, |x, y| dark[y * size + x]);
    rqrr::Grid::new(grid)
        .decode()
        .expect("the SVG's QR code decodes")
        .1
}

#[tokio::test]
async fn the_deputy_type_links_the_qr_code_and_the_message_page() {
    let app = demo_app().await;
    let deputy = binhe_deputy(&app).await;
    let code = deputy["code"].as_str().unwrap();
    assert_eq!(
        deputy["messagePageUrl"],
        format!("{PUBLIC_BASE}/m/d/{code}")
    );
    assert_eq!(
        deputy["qrCodeUrl"],
        format!("{PUBLIC_BASE}/deputies/{code}/qr.png")
    );
    // Anyone may read them, as the code itself.
    let r = app
        .gql("query($c: String!) { deputyByCode(code: $c) { qrCodeUrl messagePageUrl } }")
        .vars(json!({ "c": code.to_lowercase() }))
        .send()
        .await;
    assert_eq!(
        r.data()["deputyByCode"]["messagePageUrl"],
        deputy["messagePageUrl"]
    );
}

#[tokio::test]
async fn the_png_is_a_qr_code_of_the_message_page() {
    let app = demo_app().await;
    let deputy = binhe_deputy(&app).await;
    let code = deputy["code"].as_str().unwrap();
    let response = get(&app, &format!("/deputies/{code}/qr.png")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "image/png");
    assert!(header(&response, "cache-control").contains("max-age="));
    let etag = header(&response, "etag").to_owned();
    assert!(etag.starts_with('"'), "{etag}");
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(bytes.len() > 300, "{} bytes", bytes.len());
    assert_eq!(read_qr_png(&bytes), format!("{PUBLIC_BASE}/m/d/{code}"));

    // The code is stable: a client holding the image revalidates for nothing.
    let again = app
        .client
        .get(app.url(&format!("/deputies/{code}/qr.png")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // Codes are case-insensitive when typed; the image carries the canonical one.
    let lower = get(&app, &format!("/deputies/{}/qr.png", code.to_lowercase())).await;
    assert_eq!(lower.status(), 200);
    assert_eq!(header(&lower, "etag"), etag);
}

#[tokio::test]
async fn the_svg_draws_the_same_code() {
    let app = demo_app().await;
    let deputy = binhe_deputy(&app).await;
    let code = deputy["code"].as_str().unwrap();
    let response = get(&app, &format!("/deputies/{code}/qr.svg")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "image/svg+xml");
    assert!(header(&response, "cache-control").contains("max-age="));
    let svg = response.text().await.unwrap();
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    let url = format!("{PUBLIC_BASE}/m/d/{code}");
    assert!(svg.contains(&format!("<title>{url}</title>")));
    assert_eq!(read_qr_svg(&svg), url);
}

#[tokio::test]
async fn the_printable_card_names_the_deputy_and_station() {
    let app = demo_app().await;
    let deputy = binhe_deputy(&app).await;
    let code = deputy["code"].as_str().unwrap();
    let response = get(&app, &format!("/deputies/{code}/card.svg")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "image/svg+xml");
    let card = response.text().await.unwrap();
    assert!(card.starts_with("<svg"), "{card}");
    assert!(card.contains("height=\"148.4mm\""), "printable size");
    assert!(card.contains(deputy["name"].as_str().unwrap()), "{card}");
    let station = deputy["stations"]["nodes"][0]["name"].as_str().unwrap();
    assert!(card.contains(&format!("驻站：{station}")), "{card}");
    assert!(card.contains("人大代表"), "the level: {card}");
    assert!(card.contains("给代表留言"));
    assert!(card.contains(code));
    assert_eq!(read_qr_svg(&card), format!("{PUBLIC_BASE}/m/d/{code}"));
}

#[tokio::test]
async fn unknown_or_malformed_codes_are_404_not_500() {
    let app = demo_app().await;
    for code in [
        "ZZZZZZZZ",
        "23456789",
        "bad",
        "0000000O",
        &"A".repeat(300),
        "%E4%BB%A3",
    ] {
        for file in ["qr.png", "qr.svg", "card.svg"] {
            let response = get(&app, &format!("/deputies/{code}/{file}")).await;
            assert_eq!(response.status(), 404, "{code}/{file}");
            assert!(header(&response, "content-type").starts_with("text/plain"));
            assert!(response.text().await.unwrap().contains("未找到该代表"));
        }
        let page = get(&app, &format!("/m/d/{code}")).await;
        assert_eq!(page.status(), 404, "/m/d/{code}");
        assert!(header(&page, "content-type").starts_with("text/html"));
        let html = page.text().await.unwrap();
        assert!(html.contains("未找到该代表") && html.contains("lang=\"zh-CN\""));
    }
    for code in ["HS2222222222", "HSXX", "nonsense"] {
        let page = get(&app, &format!("/m/t/{code}")).await;
        assert_eq!(page.status(), 404, "/m/t/{code}");
        assert!(page.text().await.unwrap().contains("未找到该查询码"));
    }
}

/// What the issue asks of the pages: small, self-contained, accessible basics, and
/// a strict Content-Security-Policy that allows nothing from elsewhere.
fn check_page(path: &str, html: &str, csp: &str) {
    assert!(html.len() < PAGE_LIMIT, "{path}: {} bytes", html.len());
    assert!(html.starts_with("<!DOCTYPE html>"), "{path}");
    assert!(html.contains("<html lang=\"zh-CN\">"), "{path}");
    assert!(html.contains("name=\"viewport\""), "{path}");
    for external in ["http://", "https://", "//cdn", "src=\"//"] {
        assert!(!html.contains(external), "{path} refers to {external}");
    }
    for tag in ["<script src", "<link", "@import", "url(", "<iframe", "<img"] {
        assert!(!html.contains(tag), "{path} loads {tag}");
    }
    assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
    assert!(csp.contains("connect-src 'self'"), "{path}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
    // Every control has a label: pointing at its id, or around it (the radio choices).
    for tag in html
        .split("<input")
        .skip(1)
        .chain(html.split("<textarea").skip(1))
        .chain(html.split("<select").skip(1))
    {
        let tag = tag.split('>').next().unwrap_or("");
        if tag.contains("type=\"radio\"") {
            continue;
        }
        let id = tag
            .split("id=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_else(|| panic!("{path}: a control without an id: {tag}"));
        assert!(
            html.contains(&format!("<label for=\"{id}\"")),
            "{path}: #{id} has no label"
        );
    }
    let radios = html
        .matches("<label class=\"choice\"><input type=\"radio\"")
        .count();
    assert_eq!(
        radios,
        html.matches("type=\"radio\"").count(),
        "{path}: radios sit in labels"
    );
}

#[tokio::test]
async fn the_pages_are_small_self_contained_and_accessible() {
    let app = demo_app().await;
    let deputy = binhe_deputy(&app).await;
    let code = deputy["code"].as_str().unwrap();
    let submitted = app
        .gql("mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { trackingCode followSecret } }")
        .vars(json!({ "i": {
            "title": "路灯不亮", "content": "小区东门路灯坏了两周。", "channel": "QR_CODE",
            "deputyCode": code, "submitterPhone": "13900001234"
        } }))
        .send()
        .await;
    let tracking = submitted.data()["submitPetition"]["trackingCode"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut sizes = Vec::new();
    for path in [
        format!("/m/d/{code}"),
        format!("/m/t/{tracking}"),
        "/m/t".to_owned(),
    ] {
        let response = get(&app, &path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "content-type"),
            "text/html; charset=utf-8"
        );
        assert_eq!(header(&response, "referrer-policy"), "no-referrer");
        let csp = header(&response, "content-security-policy").to_owned();
        let html = response.text().await.unwrap();
        check_page(&path, &html, &csp);
        sizes.push(format!("{path}: {} bytes", html.len()));
    }
    eprintln!("page sizes: {}", sizes.join(", "));
    let form = get(&app, &format!("/m/d/{code}"))
        .await
        .text()
        .await
        .unwrap();
    for needed in [
        "submitPetition",
        "QR_CODE",
        "deputyByCode",
        "categories",
        "localStorage",
        "errors",
    ] {
        assert!(form.contains(needed), "the form page uses {needed}");
    }
    let follow = get(&app, &format!("/m/t/{tracking}"))
        .await
        .text()
        .await
        .unwrap();
    for needed in [
        "trackPetition",
        "ratePetition",
        "满意",
        "基本满意",
        "不满意",
    ] {
        assert!(follow.contains(needed), "the follow page has {needed}");
    }
}

// ------------------------------------------------------------------ headless Chromium

/// A workflow step, sent once.
async fn staff_step(
    app: &TestApp,
    token: &str,
    query: &str,
    vars: Value,
) -> crate::helpers::GqlResponse {
    app.gql(query).vars(vars).bearer(Some(token)).send().await
}

/// Done-when of issue #7: a citizen submits through /m/d/{code} in a real browser, and
/// the item is found by its tracking code in the deputy's station ledger; then, on
/// another device, the citizen types the follow secret in and rates the result.
///
/// The pages send their operations by hash (persisted queries): the first request is
/// answered `PERSISTED_QUERY_NOT_FOUND` here (as by a server that does not know the
/// hash yet), and the page sends that one again with its text.
#[tokio::test]
async fn mobile_pages_in_headless_chromium() {
    if !browser_ready("mobile_pages_in_headless_chromium") {
        return;
    }
    let app = TestApp::spawn_demo().await;
    let sent = citizen_round_trip(&app, &app.base, "miss-first").await;
    assert_eq!(
        sent[0],
        json!({ "name": "DeputyPage", "hash": true, "text": false })
    );
    assert_eq!(
        sent[1],
        json!({ "name": "DeputyPage", "hash": true, "text": true })
    );
    assert!(
        sent[2..]
            .iter()
            .all(|r| r["hash"] == true && r["text"] == false),
        "{sent:?}"
    );
}

/// The same pages against a gateway that runs only its manifest's operations
/// (`PERSISTED_QUERIES=manifest`): they work, by hash alone. The station's own steps
/// go to a replica on the same database in the default mode.
#[tokio::test]
async fn mobile_pages_in_headless_chromium_with_manifest_only() {
    if !browser_ready("mobile_pages_in_headless_chromium_with_manifest_only") {
        return;
    }
    let (app, strict) =
        crate::live::pair("mobile-manifest", &[("PERSISTED_QUERIES", "manifest")]).await;
    let refused = app
        .client
        .post(format!("{}/graphql", strict.base))
        .json(&json!({ "query": "{ categories { name } }" }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_ALLOWED",
        "{refused}"
    );
    let sent = citizen_round_trip(&app, &strict.base, "").await;
    let names: std::collections::HashSet<&str> =
        sent.iter().filter_map(|r| r["name"].as_str()).collect();
    for name in [
        "DeputyPage",
        "SubmitPetition",
        "TrackPetition",
        "RatePetition",
    ] {
        assert!(names.contains(name), "{name} not sent: {sent:?}");
    }
    assert!(
        sent.iter().all(|r| r["hash"] == true && r["text"] == false),
        "{sent:?}"
    );
}

/// A citizen submits on `pages` (the gateway whose pages the browser opens), station
/// staff act on `app`, the citizen rates on `pages`. Returns the GraphQL requests the
/// pages sent.
async fn citizen_round_trip(app: &TestApp, pages: &str, mode: &str) -> Vec<Value> {
    let deputy = binhe_deputy(app).await;
    let code = deputy["code"].as_str().unwrap();
    let station_id = deputy["stations"]["nodes"][0]["id"].as_str().unwrap();

    let submitted = node_script("submit.mjs", &[pages, code, mode]).await;
    let tracking = submitted["trackingCode"].as_str().expect("a tracking code");
    let secret = submitted["followSecret"].as_str().expect("a follow secret");
    assert_eq!(submitted["deputyName"], deputy["name"]);
    assert!(!submitted["state"].as_str().unwrap().is_empty());

    // Station staff find it by tracking code, addressed to the deputy, in their ledger.
    let staff = app.token("staff").await;
    let r = app
        .gql("query($c: String!) { trackPetition(trackingCode: $c) { status { state channel } petition { id version content channel submitterName deputy { code } station { id code } } } }")
        .vars(json!({ "c": tracking }))
        .bearer(Some(&staff))
        .send()
        .await;
    let tracked = &r.data()["trackPetition"];
    assert_eq!(tracked["status"]["state"], "SUBMITTED");
    assert_eq!(tracked["status"]["channel"], "QR_CODE");
    let item = &tracked["petition"];
    assert_eq!(item["content"], submitted["content"], "{tracked}");
    assert_eq!(item["submitterName"], "测试居民");
    assert_eq!(item["deputy"]["code"], code);
    assert_eq!(item["station"]["code"], "binhe");
    assert_eq!(item["station"]["id"], station_id);
    let r = app
        .gql("query($s: ID!) { stationLedger(stationId: $s, filter: { states: [SUBMITTED] }, first: 100) { nodes { trackingCode } } }")
        .vars(json!({ "s": station_id }))
        .bearer(Some(&staff))
        .send()
        .await;
    let ledger: Vec<&str> = r.data()["stationLedger"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["trackingCode"].as_str())
        .collect();
    assert!(ledger.contains(&tracking), "{tracking} not in {ledger:?}");

    // The station registers it and resolves it on the spot...
    let id = item["id"].as_str().unwrap();
    let categories = app.gql("{ categories { id } }").send().await;
    let category = categories.data()["categories"][0]["id"].clone();
    let r = staff_step(
        app,
        &staff,
        "mutation($id: ID!, $v: Int, $c: ID!) { registerPetition(id: $id, version: $v, categoryId: $c, urgency: NORMAL, handlingLevel: STATION) { version } }",
        json!({ "id": id, "v": item["version"], "c": category }),
    )
    .await;
    let version = r.data()["registerPetition"]["version"].clone();
    let result = "已联系物业更换东门路灯，当晚恢复照明。";
    let r = staff_step(
        app,
        &staff,
        "mutation($id: ID!, $v: Int, $r: String!) { resolvePetitionOnSpot(id: $id, version: $v, result: $r) { state } }",
        json!({ "id": id, "v": version, "r": result }),
    )
    .await;
    assert_eq!(r.data()["resolvePetitionOnSpot"]["state"], "RESOLVED");

    // ... and the citizen, on a fresh browser, types the secret in and rates it.
    let rated = node_script("rate.mjs", &[pages, tracking, secret]).await;
    assert_eq!(rated["result"], result);
    assert!(rated["rated"].as_str().unwrap().contains("满意"), "{rated}");
    let r = app
        .gql("query($c: String!, $s: String) { trackPetition(trackingCode: $c, followSecret: $s) { status { state satisfaction } } }")
        .vars(json!({ "c": tracking, "s": secret }))
        .send()
        .await;
    assert_eq!(
        r.data()["trackPetition"]["status"]["satisfaction"],
        "SATISFIED"
    );
    let mut sent = submitted["graphql"].as_array().cloned().unwrap_or_default();
    sent.extend(rated["graphql"].as_array().cloned().unwrap_or_default());
    sent
}

/// The photo button (issue 16): a citizen chooses real photos on `/m/d/{code}` in
/// headless Chromium (one upload dropped and retried, one photo removed), submits,
/// and the station's staff find the item with its 3 files, which they may open and
/// another citizen may not; more than 9 chosen, the page keeps 9 and says so, and it
/// never uploads more than 2 at a time.
#[tokio::test]
async fn photos_in_headless_chromium() {
    if !browser_ready("photos_in_headless_chromium") {
        return;
    }
    let app = TestApp::spawn_demo().await;
    let deputy = binhe_deputy(&app).await;
    let code = deputy["code"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for i in 0..11u32 {
        let (name, bytes) = if i == 0 {
            (
                "photo0.jpg".to_owned(),
                crate::attachments::jpeg_with_gps(48, 24),
            )
        } else {
            (format!("photo{i}.png"), crate::attachments::png(20 + i, 16))
        };
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        files.push(path.to_string_lossy().into_owned());
    }
    let mut args = vec![app.base.as_str(), code];
    args.extend(files.iter().map(String::as_str));
    let result = node_script("photos.mjs", &args).await;

    assert_eq!(result["kept"], 9, "{result}");
    let note = result["note"].as_str().unwrap_or_default();
    assert!(note.contains("最多可添加9张"), "{note}");
    let max = result["maxInFlight"].as_u64().unwrap();
    assert!((1..=2).contains(&max), "{result}");

    let tracking = result["trackingCode"].as_str().expect("a tracking code");
    let staff = app.token("staff").await;
    let r = app
        .gql("query($c: String!) { trackPetition(trackingCode: $c) { petition { attachments { url contentType width height } } } }")
        .vars(json!({ "c": tracking }))
        .bearer(Some(&staff))
        .send()
        .await;
    let files = r.data()["trackPetition"]["petition"]["attachments"]
        .as_array()
        .expect("attachments")
        .clone();
    assert_eq!(files.len(), 3, "{files:?}");
    let other = crate::attachments::another_citizen(&app).await;
    for file in &files {
        let url = file["url"].as_str().unwrap();
        let (status, _, bytes) = crate::attachments::fetch(&app, url, Some(&staff)).await;
        assert_eq!(status, 200, "{url}");
        assert!(image::load_from_memory(&bytes).is_ok());
        assert_eq!(
            crate::attachments::fetch(&app, url, Some(&other)).await.0,
            404
        );
    }
    // The JPEG taken with GPS is kept without its EXIF.
    let jpeg = files
        .iter()
        .find(|f| f["contentType"] == "image/jpeg")
        .expect("the JPEG");
    let (_, _, bytes) =
        crate::attachments::fetch(&app, jpeg["url"].as_str().unwrap(), Some(&staff)).await;
    assert!(crate::attachments::exif_fields(&bytes).is_empty());
}
