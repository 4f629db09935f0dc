//! Notifications (issue 15): in-app notices derived from the outbox once per event,
//! recipient and channel; `notifications`, `unreadNotificationCount`,
//! `markNotificationsRead`, `myNotifications`; template messages to the WeChat
//! follower who sent an item, through a local fake of the WeChat API; the admins'
//! view of deliveries and their retry.
use std::time::Duration;

use entity::notification_delivery as delivery;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};

use crate::fake_wechat::{FakeWechat, Mode, APP_SECRET, TEMPLATE_ID};
use crate::helpers::{Fixture, TestApp};
use crate::petitions::{World, ACCEPT, COMPLETE};
use crate::wechat::{post_plain, text_xml, tracking_code, Signed, AES_KEY, APP_ID, TOKEN};
use crate::ws_client::Ws;

const INBOX: &str = "query($u: Boolean) { notifications(first: 20, unreadOnly: $u) { totalCount nodes { id kind title body petitionId read } } unreadNotificationCount }";
const MARK: &str = "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { unreadCount } }";
const PUBLIC_BASE: &str = "https://npc.example.cn";

/// Waits (bounded) until `check` holds for the app's delivery rows.
pub(crate) async fn rows_until(
    app: &TestApp,
    check: impl Fn(&[delivery::Model]) -> bool,
) -> Vec<delivery::Model> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let rows = delivery::Entity::find()
            .order_by_asc(delivery::Column::Id)
            .all(&app.db)
            .await
            .unwrap();
        if check(&rows) {
            return rows;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited in vain; rows: {rows:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (bounded) until the notifier has derived every event committed so far.
pub(crate) async fn derived(app: &TestApp) {
    let latest = entity::outbox_event::Entity::find()
        .order_by_desc(entity::outbox_event::Column::Seq)
        .one(&app.db)
        .await
        .unwrap()
        .map_or(0, |e| e.seq);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let position = entity::notifier_position::Entity::find()
            .one(&app.db)
            .await
            .unwrap()
            .map_or(0, |p| p.seq);
        if position >= latest {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the notifier stayed at {position} < {latest}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn inbox(world: &World, token: &str, unread_only: bool) -> Value {
    let r = world
        .app
        .gql(INBOX)
        .vars(json!({ "u": unread_only }))
        .bearer(Some(token))
        .send()
        .await;
    r.data().clone()
}

#[tokio::test]
async fn a_handler_hears_of_an_item_forwarded_to_their_department_live_and_reads_it() {
    let world = World::on(
        TestApp::builder()
            .fixture(Fixture::Demo)
            .env("NOTIFY_POLL_MS", "20")
            .spawn()
            .await,
    )
    .await;
    // A handler of another department is not told: the item is not theirs to see.
    let other = world.handler_of("notify-zhujian", "zhujian").await;
    let mut ws = Ws::transport(world.app.addr).await;
    ws.init(Some(&world.handler)).await;
    ws.subscribe(
        "n",
        "subscription { myNotifications { id kind title petitionId read } }",
        json!({}),
    )
    .await;
    ws.registered().await;

    let item = world.forwarded().await;
    let live = ws.next_data("n").await["myNotifications"].clone();
    assert_eq!(live["kind"], "forwarded_to_department", "{live}");
    assert_eq!(live["petitionId"], item["id"]);
    assert_eq!(live["read"], false);

    let mine = inbox(&world, &world.handler, true).await;
    assert_eq!(mine["unreadNotificationCount"], 1, "{mine}");
    let notice = &mine["notifications"]["nodes"][0];
    assert_eq!(notice["id"], live["id"]);
    assert!(
        notice["body"].as_str().unwrap().contains("滨河路路灯不亮"),
        "{notice}"
    );
    let theirs = inbox(&world, &other, false).await;
    assert_eq!(theirs["notifications"]["totalCount"], 0, "{theirs}");

    // Someone else's notice cannot be marked: all or nothing, a clear code.
    let refused = world
        .app
        .gql(MARK)
        .vars(json!({ "ids": [live["id"]] }))
        .bearer(Some(&other))
        .send()
        .await;
    assert_eq!(
        refused.error_code(),
        Some("BAD_USER_INPUT"),
        "{}",
        refused.body
    );
    let marked = world
        .ok(Some(&world.handler), MARK, json!({ "ids": [live["id"]] }))
        .await;
    assert_eq!(marked["unreadCount"], 0);
    let after = inbox(&world, &world.handler, false).await;
    assert_eq!(after["notifications"]["nodes"][0]["read"], true, "{after}");
    assert_eq!(
        inbox(&world, &world.handler, true).await["notifications"]["totalCount"],
        0
    );
    // Not an admin's to read either: a notice is its account's alone.
    let node = world
        .ok(
            Some(&world.admin),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": live["id"] }),
        )
        .await;
    assert_eq!(node, Value::Null);
}

#[tokio::test]
async fn the_citizen_station_deputy_and_supervisors_are_told_their_part() {
    let world = World::on(
        TestApp::builder()
            .fixture(Fixture::Demo)
            .env("NOTIFY_POLL_MS", "20")
            .spawn()
            .await,
    )
    .await;
    let item = world.accepted().await;
    let item = world
        .step(
            &world.handler,
            COMPLETE,
            &item,
            json!({ "r": "已更换损坏路灯" }),
        )
        .await;
    let r = world.rate(Some(&world.citizen), &item, "UNSATISFIED").await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    let pid = crate::petitions::num(&item["id"]);
    let rows = rows_until(&world.app, |rows| {
        rows.iter()
            .any(|r| r.petition_id == Some(pid) && r.kind == "rated_unsatisfied")
    })
    .await;
    let kinds_of = |token_account: i64| -> Vec<String> {
        rows.iter()
            .filter(|r| r.petition_id == Some(pid) && r.account_id == Some(token_account))
            .map(|r| r.kind.clone())
            .collect()
    };
    assert_eq!(
        kinds_of(world.account_id(&world.citizen).await),
        [
            "registered",
            "forwarded",
            "accepted",
            "completed",
            "reopened"
        ]
    );
    assert_eq!(
        kinds_of(world.account_id(&world.staff).await),
        ["new_in_ledger"]
    );
    assert_eq!(
        kinds_of(world.account_id(&world.deputy).await),
        ["addressed", "result"]
    );
    assert_eq!(
        kinds_of(world.account_id(&world.handler).await),
        ["forwarded_to_department", "reopened"]
    );
    assert_eq!(
        kinds_of(world.account_id(&world.supervisor).await),
        ["rated_unsatisfied"]
    );
    // One row per event, recipient and channel, every in-app one delivered.
    assert!(rows
        .iter()
        .all(|r| r.channel == "in_app" && r.status == "sent"));
    // No WeChat row: the channel is not configured.
}

// ------------------------------------------------------------------ WeChat

async fn wechat_app(fake: &FakeWechat, clock: smart_npc::clock::Clock) -> World {
    wechat_app_with(fake, clock, &[]).await
}

/// [`wechat_app`] with `extra` settings.
async fn wechat_app_with(
    fake: &FakeWechat,
    clock: smart_npc::clock::Clock,
    extra: &[(&str, &str)],
) -> World {
    let mut builder = TestApp::builder()
        .fixture(Fixture::Demo)
        .clock(clock)
        .env("WECHAT_TOKEN", TOKEN)
        .env("WECHAT_APP_ID", APP_ID)
        .env("WECHAT_ENCODING_AES_KEY", AES_KEY)
        .env("WECHAT_DEFAULT_STATION", "binhe")
        .env("WECHAT_APP_SECRET", APP_SECRET)
        .env("WECHAT_TEMPLATE_ID", TEMPLATE_ID)
        .env("WECHAT_API_BASE", &fake.base)
        .env("PUBLIC_BASE_URL", PUBLIC_BASE)
        .env("NOTIFY_POLL_MS", "20");
    for (k, v) in extra {
        builder = builder.env(k, v);
    }
    World::on(builder.spawn().await).await
}

/// A replica of [`wechat_app`]'s app: the same WeChat settings and fake, the same
/// Redis channel (and Redis, when the tests have it).
async fn wechat_replica(world: &World, fake: &FakeWechat) -> crate::live::Replica {
    let prefix = world.app.state.settings.redis_prefix.clone();
    let mut env: Vec<(&str, &str)> = vec![
        ("WECHAT_TOKEN", TOKEN),
        ("WECHAT_APP_ID", APP_ID),
        ("WECHAT_ENCODING_AES_KEY", AES_KEY),
        ("WECHAT_APP_SECRET", APP_SECRET),
        ("WECHAT_TEMPLATE_ID", TEMPLATE_ID),
        ("WECHAT_API_BASE", &fake.base),
        ("PUBLIC_BASE_URL", PUBLIC_BASE),
        ("NOTIFY_POLL_MS", "20"),
        ("REDIS_CHANNEL_PREFIX", &prefix),
    ];
    let redis = crate::helpers::redis_url();
    if let Some(url) = &redis {
        env.push(("REDIS_URL", url));
    }
    crate::live::replica(&world.app.db, &env).await
}

/// The follower sends `text` over the official account; the reply's text.
async fn say(world: &World, open_id: &str, text: &str, msg_id: u64) -> String {
    let answer = post_plain(
        &world.app,
        &Signed::fresh(),
        &text_xml(open_id, text, msg_id),
    )
    .await;
    answer.content.unwrap_or_default()
}

/// The item's loop up to its result: registered, forwarded, accepted and completed
/// (four notices for its follower).
async fn through_completion(world: &World, item: &Value) {
    let item = world.register(item, "roads_transport", "NORMAL").await;
    let item = world.forward(&item, "jiaotong", &[]).await;
    let item = world.step(&world.handler, ACCEPT, &item, json!({})).await;
    world
        .step(
            &world.handler,
            COMPLETE,
            &item,
            json!({ "r": "已更换路灯" }),
        )
        .await;
}

/// A follower's message, as the station's staff see the item it became.
async fn wechat_item(world: &World, open_id: &str, msg_id: u64) -> (Value, String) {
    let reply = say(
        world,
        open_id,
        "滨河路北段路灯坏了很久,晚上看不见路",
        msg_id,
    )
    .await;
    let code = tracking_code(&Some(reply.clone())).unwrap_or_else(|| panic!("{reply}"));
    let found = world
        .ok(
            Some(&world.staff),
            "query($c: String!) { trackPetition(trackingCode: $c) { petition { id version } } }",
            json!({ "c": code }),
        )
        .await;
    (found["petition"].clone(), code)
}

fn field<'a>(message: &'a Value, name: &str) -> &'a str {
    message["data"][name]["value"].as_str().unwrap_or("")
}

/// Submit on WeChat → register → forward → accept → complete: the follower gets four
/// template messages in that order, each once, linking to the item's tracking page;
/// rating unsatisfied by text brings the fifth.
#[tokio::test]
async fn the_follower_receives_each_milestone_once_in_order() {
    let fake = FakeWechat::start().await;
    let world = wechat_app(&fake, smart_npc::clock::Clock::system()).await;
    let (item, code) = wechat_item(&world, "oLoopFollower01", 1).await;
    through_completion(&world, &item).await;

    let sent = fake.wait_delivered(4).await;
    let statuses: Vec<&str> = sent.iter().map(|m| field(m, "keyword2")).collect();
    assert_eq!(statuses, ["已登记", "已转办", "办理中", "已办结,待评价"]);
    for message in &sent {
        assert_eq!(message["touser"], "oLoopFollower01");
        assert_eq!(message["template_id"], TEMPLATE_ID);
        assert_eq!(message["url"], format!("{PUBLIC_BASE}/m/t/{code}"));
        assert_eq!(field(message, "keyword1"), code);
    }
    assert!(
        field(&sent[1], "remark").contains("县交通运输局")
            || field(&sent[1], "remark").contains("交通"),
        "{}",
        sent[1]
    );
    assert!(
        field(&sent[3], "remark").contains("已更换路灯"),
        "{}",
        sent[3]
    );

    let reply = say(&world, "oLoopFollower01", "评价 3", 2).await;
    assert!(reply.contains("感谢"), "{reply}");
    let sent = fake.wait_delivered(5).await;
    assert_eq!(field(&sent[4], "keyword2"), "重新办理");
    // Everything settled: nothing left to send, and nothing went twice.
    rows_until(&world.app, |rows| {
        rows.iter()
            .filter(|r| r.channel == "wechat")
            .all(|r| r.status == "sent")
    })
    .await;
    assert_eq!(fake.attempts().len(), 5, "{:?}", fake.attempts());
    assert_eq!(fake.tokens_issued(), 1, "one token, cached");
}

/// A token that expires mid-run is refreshed at once, and nothing is lost or doubled.
#[tokio::test]
async fn an_expired_token_is_refreshed_and_nothing_is_lost() {
    let fake = FakeWechat::start().await;
    let world = wechat_app(&fake, smart_npc::clock::Clock::system()).await;
    let (item, _) = wechat_item(&world, "oTokenFollower1", 1).await;
    let item = world.register(&item, "roads_transport", "NORMAL").await;
    fake.wait_delivered(1).await;
    fake.expire_tokens();
    world.forward(&item, "jiaotong", &[]).await;
    let sent = fake.wait_delivered(2).await;
    assert_eq!(field(&sent[1], "keyword2"), "已转办");
    assert_eq!(fake.tokens_issued(), 2);
    let attempts = fake.attempts();
    assert_eq!(
        attempts.len(),
        3,
        "one refused with the old token: {attempts:?}"
    );
    assert_eq!(attempts[1].0, attempts[0].0);
    assert_ne!(attempts[2].0, attempts[1].0);
    let rows = rows_until(&world.app, |rows| {
        rows.iter()
            .filter(|r| r.channel == "wechat")
            .all(|r| r.status == "sent")
    })
    .await;
    assert!(
        rows.iter()
            .filter(|r| r.channel == "wechat")
            .all(|r| r.attempts == 1),
        "a refresh is no failed attempt"
    );
}

/// WeChat down: the message waits (backoff on the app's clock) and goes out once it is
/// back, once.
#[tokio::test]
async fn a_message_waits_out_an_outage_and_goes_once() {
    let fake = FakeWechat::start().await;
    let clock = smart_npc::clock::Clock::system();
    let world = wechat_app(&fake, clock.clone()).await;
    let (item, _) = wechat_item(&world, "oOutageFollower", 1).await;
    fake.set(Mode::Down);
    world.register(&item, "roads_transport", "NORMAL").await;
    fake.wait_attempts(1).await;
    let pending = rows_until(&world.app, |rows| {
        rows.iter()
            .any(|r| r.channel == "wechat" && r.last_error.is_some())
    })
    .await;
    let row = pending.iter().find(|r| r.channel == "wechat").unwrap();
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 1));
    assert!(
        row.last_error.as_deref().unwrap().contains("503"),
        "{row:?}"
    );
    let listed = world
        .ok(Some(&world.admin), "{ notificationDeliveries(status: PENDING, first: 5) { nodes { channel attempts lastError } } }", json!({}))
        .await;
    assert_eq!(listed["nodes"][0]["channel"], "WECHAT", "{listed}");

    fake.set(Mode::Ok);
    clock.advance(Duration::from_secs(3600));
    let sent = fake.wait_delivered(1).await;
    assert_eq!(field(&sent[0], "keyword2"), "已登记");
    rows_until(&world.app, |rows| {
        rows.iter()
            .filter(|r| r.channel == "wechat")
            .all(|r| r.status == "sent")
    })
    .await;
    assert_eq!(fake.attempts().len(), 2, "one failed, one delivered");
}

/// WeChat says the follower left (43004): FAILED at once with the reason, not retried;
/// an admin's retry sends it again.
#[tokio::test]
async fn an_unsubscribed_follower_is_not_retried_and_an_admin_may_retry() {
    let fake = FakeWechat::start().await;
    let clock = smart_npc::clock::Clock::system();
    let world = wechat_app(&fake, clock.clone()).await;
    let (item, _) = wechat_item(&world, "oLeftFollower01", 1).await;
    fake.set(Mode::Unsubscribed);
    world.register(&item, "roads_transport", "NORMAL").await;
    let rows = rows_until(&world.app, |rows| rows.iter().any(|r| r.status == "failed")).await;
    let failed = rows.iter().find(|r| r.status == "failed").unwrap();
    assert_eq!(failed.attempts, 1);
    assert!(failed.last_error.as_deref().unwrap().contains("43004"));
    let listed = world
        .ok(Some(&world.admin), "{ notificationDeliveries(status: FAILED, first: 5) { nodes { id status lastError } } }", json!({}))
        .await;
    let id = listed["nodes"][0]["id"].clone();
    assert_eq!(listed["nodes"][0]["status"], "FAILED", "{listed}");

    fake.set(Mode::Ok);
    let again = world
        .ok(
            Some(&world.admin),
            "mutation($id: ID!) { retryNotificationDelivery(id: $id) { status attempts } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(again, json!({ "status": "PENDING", "attempts": 0 }));
    fake.wait_delivered(1).await;
    rows_until(&world.app, |rows| {
        rows.iter().all(|r| r.status != "pending")
    })
    .await;
    let twice_again = world
        .app
        .gql("mutation($id: ID!) { retryNotificationDelivery(id: $id) { status } }")
        .vars(json!({ "id": id }))
        .bearer(Some(&world.admin))
        .send()
        .await;
    assert_eq!(
        twice_again.error_code(),
        Some("INVALID_TRANSITION"),
        "{}",
        twice_again.body
    );
    assert_eq!(fake.attempts().len(), 2);
}

/// `退订` stops template messages (nothing is even queued), `订阅` resumes them.
#[tokio::test]
async fn a_follower_opts_out_with_tuiding_and_back_in_with_dingyue() {
    let fake = FakeWechat::start().await;
    let world = wechat_app(&fake, smart_npc::clock::Clock::system()).await;
    let (item, _) = wechat_item(&world, "oOptOutFollowr", 1).await;
    let reply = say(&world, "oOptOutFollowr", "退订", 2).await;
    assert!(reply.contains("已退订"), "{reply}");
    let item = world.register(&item, "roads_transport", "NORMAL").await;
    derived(&world.app).await;
    let reply = say(&world, "oOptOutFollowr", "订阅", 3).await;
    assert!(reply.contains("已订阅"), "{reply}");
    world.forward(&item, "jiaotong", &[]).await;
    // In order per follower: had the registration been queued, it would come first.
    let sent = fake.wait_delivered(1).await;
    assert_eq!(field(&sent[0], "keyword2"), "已转办");
    let rows = rows_until(&world.app, |rows| {
        rows.iter()
            .filter(|r| r.channel == "wechat")
            .all(|r| r.status == "sent")
    })
    .await;
    assert_eq!(rows.iter().filter(|r| r.channel == "wechat").count(), 1);
}

/// Two replicas on one database (and Redis when configured) both run the notifier:
/// each notice is derived once and each template message sent once.
#[tokio::test]
async fn two_replicas_send_each_message_once() {
    let fake = FakeWechat::start().await;
    let world = wechat_app(&fake, smart_npc::clock::Clock::system()).await;
    let _replica = wechat_replica(&world, &fake).await;
    let (item, _) = wechat_item(&world, "oTwoReplicas01", 1).await;
    through_completion(&world, &item).await;
    let sent = fake.wait_delivered(4).await;
    let statuses: Vec<&str> = sent.iter().map(|m| field(m, "keyword2")).collect();
    assert_eq!(statuses, ["已登记", "已转办", "办理中", "已办结,待评价"]);
    let rows = rows_until(&world.app, |rows| {
        rows.iter().filter(|r| r.channel == "wechat").count() == 4
            && rows.iter().all(|r| r.status == "sent")
    })
    .await;
    assert_eq!(fake.attempts().len(), 4, "{:?}", fake.attempts());
    let wechat_rows: Vec<_> = rows
        .iter()
        .filter(|r| r.channel == "wechat")
        .map(|r| (r.event_seq, r.kind.as_str()))
        .collect();
    assert_eq!(wechat_rows.len(), 4, "{wechat_rows:?}");
    let in_app = delivery::Entity::find()
        .filter(delivery::Column::Channel.eq("in_app"))
        .all(&world.app.db)
        .await
        .unwrap();
    let mut keys: Vec<_> = in_app
        .iter()
        .map(|r| (r.event_seq, r.recipient.clone()))
        .collect();
    keys.sort();
    let all = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), all);
}

/// Two replicas that need the access token at the same moment fetch it once between
/// them: one takes the refresh lock in Redis and fetches, the other waits for the
/// token it shares (the fake holds the token answer until both are sending).
#[tokio::test]
async fn replicas_that_need_the_token_together_fetch_it_once() {
    let test = "replicas_that_need_the_token_together_fetch_it_once";
    if crate::helpers::require_redis(test).is_none() {
        return;
    }
    let fake = FakeWechat::start().await;
    fake.close_token_gate();
    let world = wechat_app(&fake, smart_npc::clock::Clock::system()).await;
    let _replica = wechat_replica(&world, &fake).await;
    let (first, _) = wechat_item(&world, "oTokenTogether01", 1).await;
    let (second, _) = wechat_item(&world, "oTokenTogether02", 2).await;
    world.register(&first, "roads_transport", "NORMAL").await;
    world.register(&second, "roads_transport", "NORMAL").await;
    // A replica sends one message at a time: two claimed means both are sending, and
    // so both wait for the token.
    rows_until(&world.app, |rows| {
        rows.iter()
            .filter(|r| r.channel == "wechat" && r.claimed_until.is_some())
            .count()
            == 2
    })
    .await;
    fake.wait_token_requests(1).await;
    fake.open_token_gate();
    fake.wait_delivered(2).await;
    assert_eq!(
        fake.tokens_issued(),
        1,
        "each replica fetched its own token"
    );
}

/// With Redis gone, a replica goes on with the token it already has: a message that
/// failed before the outage is retried during it and goes out, and no token is
/// fetched again. (New events wait for Redis: the notifier follows the relay.)
#[tokio::test]
async fn with_redis_gone_the_token_in_hand_is_used() {
    let test = "with_redis_gone_the_token_in_hand_is_used";
    let Some(mut redis) = crate::redis_faults::OwnRedis::start(test).await else {
        return;
    };
    let fake = FakeWechat::start().await;
    let clock = smart_npc::clock::Clock::system();
    let url = redis.url();
    let world = wechat_app_with(&fake, clock.clone(), &[("REDIS_URL", &url)]).await;
    let (first, _) = wechat_item(&world, "oRedisGone01", 1).await;
    world.register(&first, "roads_transport", "NORMAL").await;
    fake.wait_delivered(1).await;
    assert_eq!(fake.tokens_issued(), 1);

    // The next message fails once (WeChat down) and waits out its backoff.
    fake.set(Mode::Down);
    let (second, _) = wechat_item(&world, "oRedisGone02", 2).await;
    world.register(&second, "roads_transport", "NORMAL").await;
    rows_until(&world.app, |rows| {
        rows.iter()
            .any(|r| r.channel == "wechat" && r.status == "pending" && r.attempts == 1)
    })
    .await;
    redis.kill();
    fake.set(Mode::Ok);
    clock.advance(Duration::from_secs(3600));
    let sent = fake.wait_delivered(2).await;
    assert_eq!(sent[1]["touser"], "oRedisGone02");
    assert_eq!(
        fake.tokens_issued(),
        1,
        "fetched again though it had a token"
    );
}

// ------------------------------------------------------------------ reminders

/// The settings of a replica (and another, later).
pub(crate) type Env = Vec<(&'static str, String)>;

/// A demo app with `env` and a replica of it with the same settings, on the same
/// database (and Redis, when the tests have it), sharing a token secret; and the
/// settings both run with.
pub(crate) async fn with_replica(name: &str, mut env: Env) -> (World, crate::live::Replica, Env) {
    env.push((
        "REDIS_CHANNEL_PREFIX",
        format!("smartnpc-{name}-{}", std::process::id()),
    ));
    env.push(("TOKEN_SECRET", crate::live::TOKEN_SECRET.into()));
    if let Some(url) = crate::helpers::redis_url() {
        env.push(("REDIS_URL", url));
    }
    let mut builder = TestApp::builder().fixture(Fixture::Demo);
    for (k, v) in &env {
        builder = builder.env(k, v);
    }
    let world = World::on(builder.spawn().await).await;
    let replica = replica_of(&world.app.db, &env).await;
    (world, replica, env)
}

/// Another replica with `env` on `db`.
pub(crate) async fn replica_of(
    db: &sea_orm::DatabaseConnection,
    env: &[(&'static str, String)],
) -> crate::live::Replica {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    crate::live::replica(db, &env).await
}

/// Two replicas run the supervision cycle at once: a lead handler is warned once of
/// a deadline within 24 hours, each deputy reminded at most once of last month's
/// "eight ones", and a second round gives nothing again.
#[tokio::test]
async fn reminders_are_given_once_per_period_and_person_across_replicas() {
    let (world, replica, _) = with_replica(
        "reminders",
        vec![
            ("NOTIFY_POLL_MS", "20".into()),
            ("SMS_PROVIDER", "off".into()),
        ],
    )
    .await;
    let item = world.accepted().await;
    let pid = crate::petitions::num(&item["id"]);
    // The demo's accounts were opened before last month (the fixture was built now).
    opened_at(&world, chrono::Utc::now() - chrono::Duration::days(70)).await;
    let soon = chrono::Utc::now() + chrono::Duration::hours(12);
    entity::petition::Entity::update_many()
        .col_expr(
            entity::petition::Column::Deadline,
            sea_orm::sea_query::Expr::value(Some(soon)),
        )
        .filter(entity::petition::Column::Id.eq(pid))
        .exec(&world.app.db)
        .await
        .unwrap();

    const CYCLE: &str = "mutation { runSupervisionCycle { reminders } }";
    let on_replica = async {
        let r = reqwest::Client::new()
            .post(format!("{}/graphql", replica.base))
            .bearer_auth(&world.admin)
            .json(&json!({ "query": CYCLE }))
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        body["data"]["runSupervisionCycle"]["reminders"]
            .as_u64()
            .unwrap_or_else(|| panic!("{body}"))
    };
    let (here, there) = tokio::join!(world.ok(Some(&world.admin), CYCLE, json!({})), on_replica);
    let given = here["reminders"].as_u64().unwrap() + there;
    let again = world.ok(Some(&world.admin), CYCLE, json!({})).await;
    assert_eq!(again["reminders"], 0, "a second round reminded again");

    let handler = world.account_id(&world.handler).await;
    let reminders = entity::notification_reminder::Entity::find()
        .all(&world.app.db)
        .await
        .unwrap();
    let period = format!("{pid}@");
    let due: Vec<_> = reminders
        .iter()
        .filter(|r| r.kind == "due_soon" && r.period.starts_with(&period))
        .collect();
    assert_eq!(due.len(), 1, "{reminders:?}");
    assert_eq!(due[0].account_id, handler);
    let rows = rows_until(&world.app, |rows| {
        rows.iter()
            .filter(|r| r.kind == "due_soon" || r.kind == "duty_month")
            .count() as u64
            == given
    })
    .await;
    let warned: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == "due_soon" && r.petition_id == Some(pid))
        .collect();
    assert_eq!(warned.len(), 1);
    assert_eq!(
        (warned[0].account_id, warned[0].petition_id),
        (Some(handler), Some(pid))
    );
    assert!(warned[0].body.contains("到期"), "{}", warned[0].body);
    let mut deputies: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == "duty_month")
        .map(|r| r.account_id)
        .collect();
    let all = deputies.len();
    deputies.sort();
    deputies.dedup();
    assert_eq!(deputies.len(), all, "a deputy reminded twice");
    for row in rows.iter().filter(|r| r.kind == "duty_month") {
        assert!(row.body.contains("尚未完成"), "{}", row.body);
    }
}

/// Dates the opening of every account of `world` to `at`.
async fn opened_at(world: &World, at: chrono::DateTime<chrono::Utc>) {
    entity::account::Entity::update_many()
        .col_expr(
            entity::account::Column::CreatedAt,
            sea_orm::sea_query::Expr::value(at),
        )
        .exec(&world.app.db)
        .await
        .unwrap();
}

/// A deputy is reminded of a month only when their account existed in it: one opened
/// this month hears nothing of the last, one opened before does (on the app's clock).
#[tokio::test]
async fn a_deputy_is_not_reminded_of_a_month_before_their_account() {
    let clock = smart_npc::clock::Clock::system();
    let world = World::on(
        TestApp::builder()
            .fixture(Fixture::Demo)
            .clock(clock.clone())
            .env("SMS_PROVIDER", "off")
            .spawn()
            .await,
    )
    .await;
    let deputy = world.account_id(&world.deputy).await;
    opened_at(&world, clock.now() - chrono::Duration::days(70)).await;
    // Another deputy's account, opened now.
    let mine = world
        .ok(Some(&world.deputy), "{ me { deputy { id } } }", json!({}))
        .await;
    let deputies = world
        .ok(
            Some(&world.admin),
            "{ deputies(first: 2) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let other = deputies["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].clone())
        .find(|id| *id != mine["deputy"]["id"])
        .expect("a second deputy");
    let created = world
        .ok(
            Some(&world.admin),
            "mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }",
            json!({ "i": { "login": "newdeputy", "displayName": "新任代表",
                "password": "Newcomer-2026-pass", "deputyId": other,
                "roles": [{ "role": "DEPUTY" }] } }),
        )
        .await;
    let newcomer = crate::petitions::num(&created["id"]);
    world
        .ok(
            Some(&world.admin),
            "mutation { runSupervisionCycle { reminders } }",
            json!({}),
        )
        .await;
    let looked_at: Vec<i64> = entity::notification_reminder::Entity::find()
        .filter(entity::notification_reminder::Column::Kind.eq("duty_month"))
        .all(&world.app.db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.account_id)
        .collect();
    assert!(looked_at.contains(&deputy), "{looked_at:?}");
    assert!(!looked_at.contains(&newcomer), "{looked_at:?}");
}

/// More items falling due together than the cycle reads at a time (200): the lead
/// handler of each is warned of each, once, and a second cycle warns of none again.
#[tokio::test]
async fn every_item_falling_due_is_warned_of_however_many() {
    use entity::{petition, petition_department as part, DepartmentRole, ForwardStatus};
    use sea_orm::{QuerySelect, Set};

    let world = World::on(
        TestApp::builder()
            .fixture(Fixture::Demo)
            .env("SMS_PROVIDER", "off")
            .spawn()
            .await,
    )
    .await;
    // A handler of every department: the lead of every item.
    let roles: Vec<Value> = world
        .departments
        .values()
        .map(|d| json!({ "role": "DEPARTMENT_HANDLER", "departmentId": d }))
        .collect();
    let token = world.account("everylead", json!(roles), None).await;
    let handler = world.account_id(&token).await;
    const ITEMS: usize = 450;
    let items: Vec<i64> = part::Entity::find()
        .select_only()
        .column(part::Column::PetitionId)
        .filter(part::Column::Role.eq(DepartmentRole::Lead))
        .filter(part::Column::Status.ne(ForwardStatus::Returned))
        .order_by_asc(part::Column::PetitionId)
        .limit(ITEMS as u64)
        .into_tuple()
        .all(&world.app.db)
        .await
        .unwrap();
    assert_eq!(items.len(), ITEMS, "the demo has fewer items with a lead");
    petition::Entity::update_many()
        .set(petition::ActiveModel {
            state: Set(entity::PetitionState::Accepted),
            is_overdue: Set(false),
            deadline: Set(Some(chrono::Utc::now() + chrono::Duration::hours(12))),
            ..Default::default()
        })
        .filter(petition::Column::Id.is_in(items.clone()))
        .exec(&world.app.db)
        .await
        .unwrap();

    const CYCLE: &str = "mutation { runSupervisionCycle { reminders } }";
    world.ok(Some(&world.admin), CYCLE, json!({})).await;
    let again = world.ok(Some(&world.admin), CYCLE, json!({})).await;
    assert_eq!(again["reminders"], 0, "a second cycle warned again");
    let mut warned: Vec<i64> = entity::notification_reminder::Entity::find()
        .filter(entity::notification_reminder::Column::Kind.eq("due_soon"))
        .filter(entity::notification_reminder::Column::AccountId.eq(handler))
        .all(&world.app.db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.period.split('@').next().unwrap().parse().unwrap())
        .collect();
    warned.sort_unstable();
    let mut expected = items.clone();
    expected.dedup();
    assert_eq!(warned, expected);
}
