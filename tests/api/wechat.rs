//! The WeChat official-account endpoint, driven by the real `wechatpy` package playing
//! the WeChat server (safe mode, retries, tampering), plus what it stored.
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};

use crate::helpers::{Fixture, TestApp};

const TOKEN: &str = "heshunToken2025";
// A 43-character EncodingAESKey and an app id, as the official account's settings hold them.
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APP_ID: &str = "wx5823bf96d3bd56c7";

fn python() -> Option<std::path::PathBuf> {
    let venv =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wechat/.venv/bin/python");
    if venv.exists() {
        return Some(venv);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI must create tests/wechat/.venv with wechatpy (see .ci/run)");
    }
    eprintln!("skipped: python3 -m venv tests/wechat/.venv && tests/wechat/.venv/bin/pip install -r tests/wechat/requirements.txt");
    None
}

async fn wechat_app() -> TestApp {
    TestApp::builder()
        .fixture(Fixture::Demo)
        .env("WECHAT_TOKEN", TOKEN)
        .env("WECHAT_APP_ID", APP_ID)
        .env("WECHAT_ENCODING_AES_KEY", AES_KEY)
        .env("WECHAT_DEFAULT_STATION", "binhe")
        .spawn()
        .await
}

#[tokio::test]
async fn wechatpy_follows_a_deputy_sends_in_safe_mode_and_the_item_lands_in_the_ledger() {
    let Some(python) = python() else { return };
    let app = wechat_app().await;
    let deputy_token = app.token("deputy").await;
    let me = app
        .gql("{ me { deputy { code name } } }")
        .bearer(Some(&deputy_token))
        .send()
        .await;
    let deputy = me.data()["me"]["deputy"].clone();
    let before = entity::petition::Entity::find()
        .count(&app.db)
        .await
        .unwrap();

    let output = tokio::process::Command::new(python)
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wechat/drive.py"))
        .args([
            app.base.as_str(),
            TOKEN,
            AES_KEY,
            APP_ID,
            deputy["code"].as_str().unwrap(),
            deputy["name"].as_str().unwrap(),
        ])
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

    // Two messages became two items: the retry, the tampered and the undecryptable
    // deliveries stored nothing.
    let after = entity::petition::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(after, before + 2);
    let wechat_items = entity::petition::Entity::find()
        .filter(entity::petition::Column::Channel.eq(entity::Channel::Wechat))
        .filter(entity::petition::Column::TrackingCode.is_in([
            report["trackingCode"].as_str().unwrap(),
            report["plainTrackingCode"].as_str().unwrap(),
        ]))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(wechat_items, 2);

    // The safe-mode item is addressed to the scanned deputy and sits in their station's ledger.
    let staff = app.token("staff").await;
    let binhe = app
        .gql(r#"{ stations(name: "滨河") { edges { node { id } } } }"#)
        .send()
        .await
        .data()["stations"]["edges"][0]["node"]["id"]
        .clone();
    let ledger = app
        .gql("query($s: ID!) { stationLedger(stationId: $s, filter: { states: [SUBMITTED] }, first: 100) { edges { node { trackingCode channel deputy { code } } } } }")
        .vars(json!({ "s": binhe }))
        .bearer(Some(&staff))
        .send()
        .await;
    let edges = ledger.data()["stationLedger"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    let item = edges
        .iter()
        .find(|e| e["node"]["trackingCode"] == report["trackingCode"])
        .expect("in the ledger");
    assert_eq!(item["node"]["channel"], "WECHAT");
    assert_eq!(item["node"]["deputy"]["code"], deputy["code"]);
}

#[tokio::test]
async fn the_endpoint_is_off_without_configuration() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(app.url("/wechat/callback?signature=x&timestamp=1&nonce=2&echostr=3"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .client
        .post(app.url("/wechat/callback"))
        .body("<xml/>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn unsigned_or_malformed_posts_store_nothing() {
    let app = wechat_app().await;
    let before = entity::wechat_delivery::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    let text = "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>路灯坏了很久了</Content><MsgId>1</MsgId></xml>";
    let r = app
        .client
        .post(app.url("/wechat/callback?signature=bad&timestamp=1&nonce=2"))
        .body(text)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .client
        .post(app.url("/wechat/callback?encrypt_type=aes&msg_signature=x&timestamp=1&nonce=2"))
        .body("not xml")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        entity::wechat_delivery::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        before
    );
}
