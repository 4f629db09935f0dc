//! Attachments (随手拍), as a client sees them: uploads by the GraphQL multipart request
//! spec (reqwest's multipart form and curl), what is kept of a photo (no EXIF, read
//! back with an independent reader; orientation applied; a thumbnail), every refusal
//! (nothing stored), attaching to an item, who may fetch a file, and expiry.
use std::io::Cursor;
use std::time::Duration;

use entity::attachment;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};

use crate::fixtures::{assert_bad_input, assert_code, binhe, station_elsewhere, PASSWORD};
use crate::helpers::{Fixture, GqlResponse, TestApp};

const UPLOAD: &str = "mutation($file: Upload!, $p: AttachmentPurpose!) { uploadAttachment(file: $file, purpose: $p) { id url thumbnailUrl contentType size width height createdAt } }";

const SUBMIT: &str = "mutation($s: ID!, $a: [ID!]) { submitPetition(input: { title: \"路面坑洼\", content: \"滨河路有一处大坑，请修补。\", stationId: $s, submitterPhone: \"13812345678\", attachmentIds: $a }) { petition { id attachments { id url thumbnailUrl contentType width height } } } }";

/// A PNG of one colour.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb([30, 120, 200]));
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A JPEG whose EXIF says where it was taken (GPS), with what (Make) and how it is
/// turned (Orientation 6: rotate 90° clockwise to view), written with kamadak-exif.
pub(crate) fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
    use exif::experimental::Writer;
    use exif::{Field, In, Rational, Tag, Value as ExifValue};
    let image = image::RgbImage::from_fn(width, height, |x, _| image::Rgb([(x * 6) as u8, 90, 40]));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90)
        .encode_image(&image)
        .unwrap();
    let rational = |num| Rational { num, denom: 1 };
    let fields = [
        Field {
            tag: Tag::Orientation,
            ifd_num: In::PRIMARY,
            value: ExifValue::Short(vec![6]),
        },
        Field {
            tag: Tag::Make,
            ifd_num: In::PRIMARY,
            value: ExifValue::Ascii(vec![b"PhoneMaker".to_vec()]),
        },
        Field {
            tag: Tag::GPSLatitudeRef,
            ifd_num: In::PRIMARY,
            value: ExifValue::Ascii(vec![b"N".to_vec()]),
        },
        Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: ExifValue::Rational(vec![rational(37), rational(19), rational(48)]),
        },
        Field {
            tag: Tag::GPSLongitudeRef,
            ifd_num: In::PRIMARY,
            value: ExifValue::Ascii(vec![b"E".to_vec()]),
        },
        Field {
            tag: Tag::GPSLongitude,
            ifd_num: In::PRIMARY,
            value: ExifValue::Rational(vec![rational(113), rational(34), rational(12)]),
        },
    ];
    let mut writer = Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    // SOI, then an APP1 "Exif" segment, then the rest of the encoder's JPEG.
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&plain[2..]);
    out
}

/// The EXIF fields of a file, read with kamadak-exif (none: no EXIF at all).
pub(crate) fn exif_fields(bytes: &[u8]) -> Vec<exif::Tag> {
    match exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) {
        Ok(found) => found.fields().map(|f| f.tag).collect(),
        Err(_) => Vec::new(),
    }
}

pub(crate) async fn upload(
    app: &TestApp,
    token: Option<&str>,
    purpose: &str,
    bytes: Vec<u8>,
) -> GqlResponse {
    app.gql(UPLOAD)
        .vars(json!({ "p": purpose }))
        .bearer(token)
        .file("variables.file", bytes)
        .send()
        .await
}

async fn uploaded(app: &TestApp, token: Option<&str>, bytes: Vec<u8>) -> Value {
    upload(app, token, "PETITION", bytes).await.data()["uploadAttachment"].clone()
}

/// GET with an optional bearer token: status, content type and bytes.
/// The URL's path is asked of the test's server (`PUBLIC_BASE_URL` names port 0 here).
pub(crate) async fn fetch(app: &TestApp, url: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
    let path = reqwest::Url::parse(url).unwrap().path().to_owned();
    assert!(path.starts_with("/files/"), "{url}");
    let mut request = app.client.get(app.url(&path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

pub(crate) async fn stored_rows(app: &TestApp) -> u64 {
    attachment::Entity::find().count(&app.db).await.unwrap()
}

/// Objects in the test's store (`STORAGE_URL`), originals and thumbnails.
pub(crate) fn stored_objects(app: &TestApp) -> usize {
    ["blobs", "thumbs"]
        .iter()
        .map(|folder| std::fs::read_dir(app.storage_dir.join(folder)).map_or(0, |d| d.count()))
        .sum()
}

#[tokio::test]
async fn a_photo_is_stored_without_exif_turned_upright_with_a_thumbnail() {
    let app = TestApp::spawn_demo().await;
    let citizen = app.token("citizen").await;
    let original = jpeg_with_gps(64, 32);
    // The test's own photo does carry what must go.
    let before = exif_fields(&original);
    assert!(before.contains(&exif::Tag::GPSLatitude), "{before:?}");
    assert!(before.contains(&exif::Tag::Make), "{before:?}");

    let a = uploaded(&app, Some(&citizen), original).await;
    assert_eq!(a["contentType"], "image/jpeg");
    // Orientation 6 applied: the 64×32 sensor image is 32 wide, 64 tall.
    assert_eq!(
        (a["width"].as_i64(), a["height"].as_i64()),
        (Some(32), Some(64)),
        "{a}"
    );
    let (status, content_type, bytes) =
        fetch(&app, a["url"].as_str().unwrap(), Some(&citizen)).await;
    assert_eq!((status, content_type.as_str()), (200, "image/jpeg"));
    assert_eq!(a["size"].as_u64(), Some(bytes.len() as u64));
    assert_eq!(exif_fields(&bytes), Vec::<exif::Tag>::new(), "no EXIF left");
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (32, 64));

    let (status, content_type, thumb) =
        fetch(&app, a["thumbnailUrl"].as_str().unwrap(), Some(&citizen)).await;
    assert_eq!((status, content_type.as_str()), (200, "image/jpeg"));
    let thumb = image::load_from_memory(&thumb).unwrap();
    assert!(thumb.width() <= 320 && thumb.height() <= 320);
}

#[tokio::test]
async fn curl_uploads_by_the_multipart_spec() {
    let app = TestApp::spawn_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("photo.png");
    std::fs::write(&photo, png(50, 40)).unwrap();
    let operations = json!({ "query": UPLOAD, "variables": { "file": null, "p": "PETITION" } });
    let output = tokio::process::Command::new("curl")
        .args(["-sS", "--fail-with-body", &app.url("/graphql")])
        .arg("-F")
        .arg(format!("operations={operations}"))
        .arg("-F")
        .arg(r#"map={"0":["variables.file"]}"#)
        .arg("-F")
        .arg(format!("0=@{}", photo.display()))
        .output()
        .await
        .expect("curl runs");
    let body: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    assert!(
        output.status.success(),
        "{body} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let a = &body["data"]["uploadAttachment"];
    assert_eq!(a["contentType"], "image/jpeg", "{body}");
    assert_eq!(
        (a["width"].as_i64(), a["height"].as_i64()),
        (Some(50), Some(40))
    );
}

/// A PNG whose header claims 60 000 × 60 000 pixels (its IHDR rewritten, CRC fixed):
/// a few hundred bytes that would decode to gigabytes.
fn bomb() -> Vec<u8> {
    let mut bytes = png(1, 1);
    // Signature (8), length (4), "IHDR" (4), then width and height.
    bytes[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32fast::hash(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

#[tokio::test]
async fn each_refusal_is_bad_user_input_and_stores_nothing() {
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("UPLOAD_MAX_FILE_BYTES", "200000")
        .env("UPLOAD_MAX_FILES_PER_REQUEST", "2")
        .env("UPLOAD_MAX_REQUEST_BYTES", "500000")
        .spawn()
        .await;
    let citizen = app.token("citizen").await;
    let jpeg = jpeg_with_gps(16, 16);
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic\0\0\0\x08free".to_vec();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "wrong type",
            b"just some text, not a photo".to_vec(),
            "JPEG",
        ),
        ("HEIC", heic, "HEIC"),
        ("truncated", jpeg[..jpeg.len() - 40].to_vec(), "truncated"),
        ("bomb", bomb(), "too large in pixels"),
        (
            "polyglot",
            [jpeg.clone(), b"<script>alert(1)</script>\xFF\xD9".to_vec()].concat(),
            "another format",
        ),
        ("oversize", vec![0xFF; 200_001], "at most 200000 bytes"),
    ];
    for (what, bytes, says) in cases {
        let r = upload(&app, Some(&citizen), "PETITION", bytes).await;
        assert_code(&r, "BAD_USER_INPUT");
        assert!(r.error_message().contains(says), "{what}: {}", r.body);
    }
    // Too many files in one request, and a body over the request's bound.
    let r = app
        .gql("mutation($a: Upload!, $b: Upload!, $c: Upload!) { a: uploadAttachment(file: $a, purpose: PETITION) { id } b: uploadAttachment(file: $b, purpose: PETITION) { id } c: uploadAttachment(file: $c, purpose: PETITION) { id } }")
        .bearer(Some(&citizen))
        .file("variables.a", png(4, 4))
        .file("variables.b", png(4, 4))
        .file("variables.c", png(4, 4))
        .send()
        .await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_code(&r, "BAD_USER_INPUT");
    assert!(r.error_message().contains("at most 2 files"), "{}", r.body);
    // Refused by its Content-Length, before a byte of the body is read.
    let form = reqwest::multipart::Form::new()
        .text(
            "operations",
            json!({ "query": UPLOAD, "variables": { "p": "PETITION", "file": null } }).to_string(),
        )
        .text("map", r#"{"0":["variables.file"]}"#)
        .part(
            "0",
            reqwest::multipart::Part::bytes(vec![0xFF; 600_000]).file_name("big.jpg"),
        );
    let response = app
        .client
        .post(app.url("/graphql"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    assert_eq!(stored_rows(&app).await, 0);
    assert_eq!(stored_objects(&app), 0);
}

#[tokio::test]
async fn a_file_cannot_be_forged_into_the_variables_of_a_json_request() {
    let app = TestApp::spawn_demo().await;
    for file in ["#__graphql_file__:0", "#__graphql_file__:x"] {
        let r = app
            .gql(UPLOAD)
            .vars(json!({ "p": "PETITION", "file": file }))
            .send()
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert_code(&r, "BAD_REQUEST");
    }
    // Nor into the document, however it is spelled: GraphQL's escapes make the marker
    // only once parsed, and a fragment or a variable default hides it as well.
    for document in [
        r##"mutation { uploadAttachment(file: "\u0023__graphql_file__:x", purpose: PETITION) { id } }"##,
        r##"mutation { ...F } fragment F on MutationRoot { uploadAttachment(file: "#__graphql_file__:0", purpose: PETITION) { id } }"##,
        r##"mutation($f: Upload! = "\u0023__graphql_file__:x") { uploadAttachment(file: $f, purpose: PETITION) { id } }"##,
    ] {
        let r = app.gql(document).send().await;
        assert_eq!(r.status, 400, "{document}: {}", r.body);
        assert_code(&r, "BAD_REQUEST");
    }
    // Any other string where a file goes is the client's mistake (found by the fuzzer:
    // it was INTERNAL).
    let r = app
        .gql(r#"mutation { uploadAttachment(file: "", purpose: PETITION) { id } }"#)
        .send()
        .await;
    assert_code(&r, "BAD_USER_INPUT");
}

#[tokio::test]
async fn the_same_file_is_stored_once() {
    let app = TestApp::spawn_demo().await;
    let citizen = app.token("citizen").await;
    let a = uploaded(&app, Some(&citizen), png(30, 30)).await;
    let b = uploaded(&app, None, png(30, 30)).await;
    assert_ne!(a["id"], b["id"]);
    assert_eq!(stored_rows(&app).await, 2);
    assert_eq!(stored_objects(&app), 2, "one original and one thumbnail");
}

/// Signs up a second citizen; their token.
pub(crate) async fn another_citizen(app: &TestApp) -> String {
    let r = app
        .gql("mutation($pw: String!) { registerCitizen(phone: \"13900001111\", displayName: \"邻居\", password: $pw) { accessToken } }")
        .vars(json!({ "pw": PASSWORD }))
        .send()
        .await;
    r.data()["registerCitizen"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Staff of a station in another township; their token.
pub(crate) async fn staff_elsewhere(app: &TestApp) -> String {
    let admin = app.token("admin").await;
    let (station, _) = station_elsewhere(app).await;
    let r = app
        .gql("mutation($s: ID!, $pw: String!) { createAccount(input: { login: \"staff2\", displayName: \"别站工作人员\", password: $pw, roles: [{ role: STATION_STAFF, stationId: $s }] }) { id } }")
        .vars(json!({ "s": station, "pw": PASSWORD }))
        .bearer(Some(&admin))
        .send()
        .await;
    r.data();
    app.sign_in("staff2", PASSWORD).await.data()["signIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_attached_file_is_seen_by_exactly_those_who_see_the_item() {
    let app = TestApp::spawn_demo().await;
    let (citizen, staff, handler) = (
        app.token("citizen").await,
        app.token("staff").await,
        app.token("handler").await,
    );
    let (station, _) = binhe(&app).await;
    let photo = uploaded(&app, Some(&citizen), jpeg_with_gps(20, 20)).await;
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    let document = uploaded(&app, Some(&citizen), pdf.to_vec()).await;
    assert_eq!(document["thumbnailUrl"], Value::Null);
    let r = app
        .gql(SUBMIT)
        .vars(json!({ "s": station, "a": [photo["id"], document["id"]] }))
        .bearer(Some(&citizen))
        .send()
        .await;
    let attachments = r.data()["submitPetition"]["petition"]["attachments"].clone();
    assert_eq!(attachments[0]["id"], photo["id"]);
    assert_eq!(attachments[1]["contentType"], "application/pdf");
    let item = r.data()["submitPetition"]["petition"]["id"].clone();

    // The station sees the photo in the item, and may fetch it.
    let r = app
        .gql("query($id: ID!) { node(id: $id) { ... on Petition { attachments { url } } } }")
        .vars(json!({ "id": item }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_eq!(r.data()["node"]["attachments"][0]["url"], photo["url"]);
    let url = photo["url"].as_str().unwrap();
    for (who, token) in [("submitter", &citizen), ("station", &staff)] {
        assert_eq!(fetch(&app, url, Some(token)).await.0, 200, "{who}");
    }
    let (status, content_type, _) =
        fetch(&app, document["url"].as_str().unwrap(), Some(&staff)).await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    let others = [
        ("another citizen", Some(another_citizen(&app).await)),
        ("another station", Some(staff_elsewhere(&app).await)),
        ("another department", Some(handler)),
        ("anonymous", None),
    ];
    for (who, token) in &others {
        for url in [url, photo["thumbnailUrl"].as_str().unwrap()] {
            let (status, _, body) = fetch(&app, url, token.as_deref()).await;
            assert_eq!(status, 404, "{who}: {}", String::from_utf8_lossy(&body));
        }
    }
}

#[tokio::test]
async fn only_ones_own_fresh_unused_uploads_of_the_purpose_attach() {
    let app = TestApp::spawn_demo().await;
    let (citizen, staff) = (app.token("citizen").await, app.token("staff").await);
    let (station, _) = binhe(&app).await;
    let mine = uploaded(&app, Some(&citizen), png(10, 10)).await;
    let anonymous = uploaded(&app, None, png(11, 11)).await;
    let other = another_citizen(&app).await;
    let theirs = uploaded(&app, Some(&other), png(12, 12)).await;
    let result = upload(&app, Some(&staff), "RESULT", png(13, 13))
        .await
        .data()["uploadAttachment"]
        .clone();
    let submit = |token: Option<String>, ids: Value| {
        let app = &app;
        let station = station.clone();
        async move {
            app.gql(SUBMIT)
                .vars(json!({ "s": station, "a": ids }))
                .bearer(token.as_deref())
                .send()
                .await
        }
    };
    // Someone else's, an anonymous one, another purpose, an unknown id: refused, and
    // the item is not created with the good one either.
    for ids in [
        json!([mine["id"], theirs["id"]]),
        json!([mine["id"], anonymous["id"]]),
        json!(["no-such-upload"]),
    ] {
        let r = submit(Some(citizen.clone()), ids.clone()).await;
        assert_bad_input(&r, "attachmentIds");
    }
    assert_bad_input(
        &submit(Some(staff.clone()), json!([result["id"]])).await,
        "attachmentIds",
    );
    let ten: Vec<String> = (0..10).map(|i| format!("id{i}")).collect();
    assert_bad_input(
        &submit(Some(citizen.clone()), json!(ten)).await,
        "attachmentIds",
    );
    // The anonymous uploader's own, then the citizen's own; used once only.
    submit(None, json!([anonymous["id"]])).await.data();
    submit(Some(citizen.clone()), json!([mine["id"]]))
        .await
        .data();
    assert_bad_input(
        &submit(Some(citizen.clone()), json!([mine["id"]])).await,
        "attachmentIds",
    );
}

#[tokio::test]
async fn anonymous_uploads_are_bounded_per_address() {
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("ANONYMOUS_UPLOADS_PER_ADDRESS", "2")
        .spawn()
        .await;
    for _ in 0..2 {
        uploaded(&app, None, png(5, 5)).await;
    }
    assert_code(
        &upload(&app, None, "PETITION", png(5, 5)).await,
        "RATE_LIMITED",
    );
    // Anonymous callers upload for an item only.
    assert_code(
        &upload(&app, None, "RESULT", png(5, 5)).await,
        "UNAUTHENTICATED",
    );
}

#[tokio::test]
async fn an_upload_left_unattached_for_a_day_is_removed() {
    let clock = smart_npc::clock::Clock::system();
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .clock(clock.clone())
        .spawn()
        .await;
    let citizen = app.token("citizen").await;
    let (station, _) = binhe(&app).await;
    let kept = uploaded(&app, Some(&citizen), png(20, 10)).await;
    let left = uploaded(&app, Some(&citizen), png(10, 20)).await;
    app.gql(SUBMIT)
        .vars(json!({ "s": station, "a": [kept["id"]] }))
        .bearer(Some(&citizen))
        .send()
        .await
        .data();
    clock.advance(Duration::from_secs(25 * 3600));
    // Tokens signed before the jump have expired: sign in again.
    let (citizen, admin) = (app.token("citizen").await, app.token("admin").await);
    let cycle = "mutation { runSupervisionCycle { expiredUploads } }";
    let r = app.gql(cycle).bearer(Some(&admin)).send().await;
    assert_eq!(r.data()["runSupervisionCycle"]["expiredUploads"], 1);
    assert_eq!(stored_rows(&app).await, 1);
    assert_eq!(stored_objects(&app), 2, "the attached photo's objects stay");
    assert_eq!(
        fetch(&app, left["url"].as_str().unwrap(), Some(&citizen))
            .await
            .0,
        404
    );
    assert_eq!(
        fetch(&app, kept["url"].as_str().unwrap(), Some(&citizen))
            .await
            .0,
        200
    );
    let r = app
        .gql(SUBMIT)
        .vars(json!({ "s": station, "a": [left["id"]] }))
        .bearer(Some(&citizen))
        .send()
        .await;
    assert_bad_input(&r, "attachmentIds");
}

/// moto's standalone server (`tests/s3/.venv`, see .ci/run) on a free port, with a
/// bucket; dropped with the returned child. Moto answers S3's REST protocol as AWS
/// does (SigV4-signed requests from `object_store`).
pub(crate) async fn moto() -> Option<(tokio::process::Child, String)> {
    let server =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3/.venv/bin/moto_server");
    if !server.exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI must create tests/s3/.venv with moto (see .ci/run)");
        }
        crate::skips::skipped(
            "an_s3_compatible_store_keeps_and_removes_the_files",
            "python3 -m venv tests/s3/.venv && tests/s3/.venv/bin/pip install -r tests/s3/requirements.txt",
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("moto_server starts");
    let endpoint = format!("http://127.0.0.1:{port}");
    // Waiting for the server to listen (it takes a second or two to import).
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while client.get(format!("{endpoint}/")).send().await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "moto_server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created = client
        .put(format!("{endpoint}/attachments"))
        .send()
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "bucket: {}",
        created.status()
    );
    Some((child, endpoint))
}

#[tokio::test]
async fn an_s3_compatible_store_keeps_and_removes_the_files() {
    let Some((_moto, endpoint)) = moto().await else {
        return;
    };
    let clock = smart_npc::clock::Clock::system();
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .clock(clock.clone())
        .env("STORAGE_URL", "s3://attachments/smart-npc")
        .env("S3_ENDPOINT", &endpoint)
        .env("S3_ACCESS_KEY_ID", "test-key")
        .env("S3_SECRET_ACCESS_KEY", "test-secret")
        .spawn()
        .await;
    let citizen = app.token("citizen").await;
    let a = uploaded(&app, Some(&citizen), jpeg_with_gps(24, 12)).await;
    let (status, _, bytes) = fetch(&app, a["url"].as_str().unwrap(), Some(&citizen)).await;
    assert_eq!(status, 200);
    assert_eq!(exif_fields(&bytes), Vec::<exif::Tag>::new());
    // The object is in the bucket, under its hash and the prefix (read with a signed
    // request of our own: the bucket is private).
    use object_store::ObjectStore;
    let bucket = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name("attachments")
        .with_region("us-east-1")
        .with_endpoint(&endpoint)
        .with_allow_http(true)
        .with_access_key_id("test-key")
        .with_secret_access_key("test-secret")
        .build()
        .unwrap();
    let sha = smart_npc::domain::attachment::sha256_hex(&bytes);
    let object = object_store::path::Path::from(format!("smart-npc/blobs/{sha}"));
    let stored = bucket.get(&object).await.unwrap().bytes().await.unwrap();
    assert_eq!(stored.to_vec(), bytes);
    // Left unattached for a day: removed from the bucket too.
    clock.advance(Duration::from_secs(25 * 3600));
    let admin = app.token("admin").await;
    let r = app
        .gql("mutation { runSupervisionCycle { expiredUploads } }")
        .bearer(Some(&admin))
        .send()
        .await;
    assert_eq!(r.data()["runSupervisionCycle"]["expiredUploads"], 1);
    assert!(matches!(
        bucket.head(&object).await,
        Err(object_store::Error::NotFound { .. })
    ));
}
