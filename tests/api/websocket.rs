//! `/graphql/ws` accepts both subprotocols and acknowledges `connection_init`.
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::TestApp;

async fn handshake(app: &TestApp, protocol: &str) -> (String, serde_json::Value) {
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("upgrade");
    let chosen = response.headers()["sec-websocket-protocol"]
        .to_str()
        .unwrap()
        .to_owned();
    socket
        .send(Message::text(r#"{"type":"connection_init","payload":{}}"#))
        .await
        .unwrap();
    let reply = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
        .await
        .expect("reply in time");
    let text = reply.unwrap().unwrap().into_text().unwrap().to_string();
    (chosen, serde_json::from_str(&text).unwrap())
}

#[tokio::test]
async fn both_subprotocols_are_accepted() {
    let app = TestApp::spawn().await;
    let (chosen, ack) = handshake(&app, "graphql-transport-ws").await;
    assert_eq!(chosen, "graphql-transport-ws");
    assert_eq!(ack["type"], "connection_ack");
    let (chosen, ack) = handshake(&app, "graphql-ws").await;
    assert_eq!(chosen, "graphql-ws");
    assert_eq!(ack["type"], "connection_ack");
}

async fn init_with(app: &TestApp, payload: serde_json::Value) -> Option<serde_json::Value> {
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("upgrade");
    let init = serde_json::json!({ "type": "connection_init", "payload": payload });
    socket.send(Message::text(init.to_string())).await.unwrap();
    match tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
        .await
        .expect("reply in time")
    {
        Some(Ok(Message::Text(text))) => Some(serde_json::from_str(&text).unwrap()),
        _ => None,
    }
}

#[tokio::test]
async fn connection_init_checks_the_token() {
    let app = TestApp::spawn_demo().await;
    let token = app.token("supervisor").await;
    let ack = init_with(&app, serde_json::json!({ "token": token })).await;
    assert_eq!(ack.unwrap()["type"], "connection_ack");
    let ack = init_with(
        &app,
        serde_json::json!({ "Authorization": format!("Bearer {token}") }),
    )
    .await;
    assert_eq!(ack.unwrap()["type"], "connection_ack");
    let refused = init_with(&app, serde_json::json!({ "token": "forged" })).await;
    assert!(
        refused.is_none_or(|m| m["type"] != "connection_ack"),
        "a bad token is not acknowledged"
    );
}

// ------------------------------------------------------------------ revocation
//
// A session that ends, or an account that loses a role, does not live on in a socket
// opened before: the socket closes with 4403 and the reason (on every replica), and
// nothing sent on it afterwards runs.

mod revocation {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use serde_json::{json, Value};

    use crate::helpers::{require_redis, TestApp};
    use crate::live::{first_deputy, pair, publish_story};
    use crate::ws_client::{Frame, Ws, WAIT};

    const PASSWORD: &str = "Revoked-Later-1";
    const CREATE_STORY: &str = "mutation($d: ID!, $t: String!) { createStory(deputyId: $d, input: { title: $t, body: \"正文\" }) { title } }";
    const LIVE: &str = "subscription { liveEvents(topics: [\"story\"]) { seq kind } }";
    const DISABLE: &str =
        "mutation($a: ID!) { setAccountDisabled(accountId: $a, disabled: true) { disabled } }";

    /// The demo app, its admin's token, a deputy (for stories) and a second admin who
    /// is also a citizen: the account whose access the tests take away.
    struct Setup {
        app: TestApp,
        admin: String,
        deputy: Value,
        ops_id: Value,
    }

    async fn setup() -> Setup {
        setup_on(TestApp::spawn_demo().await).await
    }

    async fn setup_on(app: TestApp) -> Setup {
        let admin = app.token("admin").await;
        let deputy = first_deputy(&app, &admin).await;
        let created = app
            .gql("mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }")
            .vars(json!({ "i": {
                "login": "ops", "displayName": "值班管理员", "password": PASSWORD,
                "roles": [{ "role": "ADMIN" }, { "role": "CITIZEN" }]
            } }))
            .bearer(Some(&admin))
            .send()
            .await;
        let ops_id = created.data()["createAccount"]["id"].clone();
        Setup {
            app,
            admin,
            deputy,
            ops_id,
        }
    }

    impl Setup {
        /// A fresh sign-in of the second admin.
        async fn ops_token(&self) -> String {
            self.app.sign_in("ops", PASSWORD).await.data()["signIn"]["accessToken"]
                .as_str()
                .expect("access token")
                .to_owned()
        }

        async fn stories_titled(&self, title: &str) -> u64 {
            entity::story::Entity::find()
                .filter(entity::story::Column::Title.eq(title))
                .count(&self.app.db)
                .await
                .unwrap()
        }

        /// Two sockets of `token`: one only follows story events, the other will try a
        /// write once access is gone.
        async fn sockets(&self, addr: std::net::SocketAddr, token: &str) -> (Ws, Ws) {
            (
                live_socket(addr, token, &self.deputy).await,
                live_socket(addr, token, &self.deputy).await,
            )
        }
    }

    /// A socket of `token` that follows story events and has run a mutation (so the
    /// rights it is about to lose were really there).
    async fn live_socket(addr: std::net::SocketAddr, token: &str, deputy: &Value) -> Ws {
        let mut ws = Ws::transport(addr).await;
        ws.init(Some(token)).await;
        ws.subscribe("events", LIVE, json!({})).await;
        ws.subscribe(
            "before",
            CREATE_STORY,
            json!({ "d": deputy, "t": "撤销之前" }),
        )
        .await;
        assert_eq!(
            ws.next_data("before").await["createStory"]["title"],
            "撤销之前"
        );
        assert_eq!(
            ws.json().await,
            json!({ "id": "before", "type": "complete" })
        );
        ws
    }

    /// Reads up to the close frame: nothing else may come first. The client sends
    /// nothing meanwhile, so only the server's own notice can close it. (WAIT is a hang
    /// guard only.)
    async fn close_of(ws: &mut Ws) -> (u16, String) {
        match ws.frame_within(WAIT).await.expect("the socket closes") {
            Frame::Closed(code, reason) => (code, reason),
            Frame::Json(message) => panic!("expected the close, got {message}"),
        }
    }

    /// Sends a mutation on a socket whose access was just taken away (the server may
    /// be closing it already), then reads up to the close frame; the mutation must not
    /// have run.
    async fn attempt_then_close(s: &Setup, ws: &mut Ws, title: &str) -> (u16, String) {
        let _ = ws
            .try_send(json!({
                "id": "after", "type": "subscribe",
                "payload": { "query": CREATE_STORY, "variables": { "d": s.deputy, "t": title } }
            }))
            .await;
        let closed = close_of(ws).await;
        assert_eq!(s.stories_titled(title).await, 0, "{title} was stored");
        closed
    }

    #[tokio::test]
    async fn sign_out_closes_the_sessions_sockets() {
        let s = setup().await;
        let token = s.ops_token().await;
        let (mut idle, mut writer) = s.sockets(s.app.addr, &token).await;
        // Another sign-in of the same account is not signed out.
        let other = s.ops_token().await;
        let mut other_ws = live_socket(s.app.addr, &other, &s.deputy).await;

        let out = s
            .app
            .gql("mutation { signOut }")
            .bearer(Some(&token))
            .send()
            .await;
        assert_eq!(out.data()["signOut"], true);
        // An event after the sign-out is not delivered: the close comes first.
        publish_story(&s.app.base, &s.admin, &s.deputy, "注销之后").await;
        let revoked = (4403, "Forbidden: session revoked".to_owned());
        assert_eq!(close_of(&mut idle).await, revoked);
        assert_eq!(
            attempt_then_close(&s, &mut writer, "注销后的写入").await,
            revoked
        );

        // The other sign-in's socket still receives and runs.
        let event = other_ws.next_data("events").await;
        assert_eq!(event["liveEvents"]["kind"], "story_published", "{event}");
        other_ws
            .subscribe("me", "{ me { login } }", json!({}))
            .await;
        assert_eq!(other_ws.next_data("me").await["me"]["login"], "ops");
    }

    #[tokio::test]
    async fn disabling_the_account_closes_its_sockets() {
        let s = setup().await;
        let token = s.ops_token().await;
        let (mut idle, mut writer) = s.sockets(s.app.addr, &token).await;
        let disabled = s
            .app
            .gql(DISABLE)
            .vars(json!({ "a": s.ops_id }))
            .bearer(Some(&s.admin))
            .send()
            .await;
        assert_eq!(disabled.data()["setAccountDisabled"]["disabled"], true);
        let closed = (4403, "Forbidden: account disabled".to_owned());
        assert_eq!(close_of(&mut idle).await, closed);
        assert_eq!(
            attempt_then_close(&s, &mut writer, "停用后的写入").await,
            closed
        );
    }

    #[tokio::test]
    async fn revoking_a_role_closes_the_sockets_and_a_new_one_has_the_rights_left() {
        let s = setup().await;
        let token = s.ops_token().await;
        let (mut idle, mut writer) = s.sockets(s.app.addr, &token).await;
        let revoked = s
            .app
            .gql("mutation($a: ID!) { revokeRole(accountId: $a, grant: { role: ADMIN }) { roles { role } } }")
            .vars(json!({ "a": s.ops_id }))
            .bearer(Some(&s.admin))
            .send()
            .await;
        assert_eq!(
            revoked.data()["revokeRole"]["roles"],
            json!([{ "role": "CITIZEN" }])
        );
        let closed = (4403, "Forbidden: role revoked".to_owned());
        assert_eq!(close_of(&mut idle).await, closed);
        assert_eq!(
            attempt_then_close(&s, &mut writer, "撤权后的写入").await,
            closed
        );

        // The session lives on with the citizen role: a new socket is accepted, and
        // refused what only an admin may do.
        let mut again = Ws::transport(s.app.addr).await;
        again.init(Some(&token)).await;
        again
            .subscribe(
                "m",
                CREATE_STORY,
                json!({ "d": s.deputy, "t": "公民身份的写入" }),
            )
            .await;
        let answer = again.json().await;
        assert_eq!(answer["type"], "next", "{answer}");
        assert_eq!(
            answer["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{answer}"
        );
        assert_eq!(s.stories_titled("公民身份的写入").await, 0);
    }

    #[tokio::test]
    async fn changing_the_password_closes_the_other_sign_ins_sockets() {
        let s = setup().await;
        let elsewhere = s.ops_token().await;
        let here = s.ops_token().await;
        let (mut idle, mut writer) = s.sockets(s.app.addr, &elsewhere).await;
        let mut here_ws = live_socket(s.app.addr, &here, &s.deputy).await;
        let changed = s
            .app
            .gql("mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }")
            .vars(json!({ "c": PASSWORD, "n": "Changed-Password-2" }))
            .bearer(Some(&here))
            .send()
            .await;
        assert_eq!(changed.data()["changePassword"], true);
        let closed = (4403, "Forbidden: password changed".to_owned());
        assert_eq!(close_of(&mut idle).await, closed);
        assert_eq!(
            attempt_then_close(&s, &mut writer, "改密后的写入").await,
            closed
        );
        // The sign-in that changed it keeps its socket.
        here_ws.subscribe("me", "{ me { login } }", json!({})).await;
        assert_eq!(here_ws.next_data("me").await["me"]["login"], "ops");
    }

    #[tokio::test]
    async fn every_operation_reads_the_session_again() {
        // Revoked behind the gateway's back (no notice reaches the socket): the next
        // operation finds out by itself, and neither a query nor a mutation runs.
        let s = setup().await;
        let token = s.ops_token().await;
        let (mut reader, mut writer) = s.sockets(s.app.addr, &token).await;
        let updated = entity::auth_session::Entity::update_many()
            .col_expr(
                entity::auth_session::Column::RevokedAt,
                sea_orm::sea_query::Expr::value(chrono::Utc::now()),
            )
            .filter(entity::auth_session::Column::RevokedAt.is_null())
            .exec(&s.app.db)
            .await
            .unwrap();
        assert!(updated.rows_affected > 0);
        reader
            .subscribe("me", "{ me { login phone } }", json!({}))
            .await;
        let revoked = (4403, "Forbidden: session revoked".to_owned());
        assert_eq!(close_of(&mut reader).await, revoked);
        assert_eq!(
            attempt_then_close(&s, &mut writer, "背后撤销后的写入").await,
            revoked
        );
    }

    #[tokio::test]
    async fn a_revocation_on_one_replica_closes_the_socket_on_another() {
        if require_redis("a_revocation_on_one_replica_closes_the_socket_on_another").is_none() {
            return;
        }
        let (a, b) = pair("revocation", &[]).await;
        let s = setup_on(a).await;
        let token = s.ops_token().await; // tokens are valid on every replica
        let (mut idle, mut writer) = s.sockets(b.addr, &token).await;
        let disabled = s
            .app
            .gql(DISABLE)
            .vars(json!({ "a": s.ops_id }))
            .bearer(Some(&s.admin))
            .send()
            .await;
        assert_eq!(disabled.data()["setAccountDisabled"]["disabled"], true);
        let closed = (4403, "Forbidden: account disabled".to_owned());
        assert_eq!(close_of(&mut idle).await, closed);
        assert_eq!(
            attempt_then_close(&s, &mut writer, "副本上的写入").await,
            closed
        );
    }
}

/// A peer that stops reading cannot hold its connection's loop (and with it any
/// mutation in progress): once a message waits longer than `WS_SEND_TIMEOUT_MS` for
/// the peer to take it, the server drops the connection.
#[tokio::test]
async fn a_peer_that_stops_reading_is_dropped() {
    let app = TestApp::builder()
        .fixture(crate::helpers::Fixture::Demo)
        .env("WS_SEND_TIMEOUT_MS", "200")
        .env("WS_KEEPALIVE_SECS", "1")
        .spawn()
        .await;
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::text(r#"{"type":"connection_init"}"#))
        .await
        .unwrap();
    // Queries with large answers, never reading them: the server's writes back up until
    // neither side's buffers take more, and its next write waits past WS_SEND_TIMEOUT_MS.
    // About 300 KB an answer: 30 aliased pages of every station. 100 of them is 30 MB of
    // answers, far beyond any socket buffer, for 100 short messages that fit in one.
    let query = format!(
        "{{ {} }}",
        (0..30)
            .map(|i| format!(
                "s{i}: stations(first: 100) {{ nodes {{ id name code kind address }} }}"
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for i in 0..100 {
        let message = serde_json::json!({ "id": format!("q{i}"), "type": "subscribe", "payload": { "query": query } });
        // A hang guard: the server may stop reading us before we are done.
        let sent = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            socket.send(Message::text(message.to_string())),
        )
        .await;
        if !matches!(sent, Ok(Ok(()))) {
            break;
        }
    }
    // Not reading, wait until the gateway lets go of the connection (its count of open
    // connections from this address drops to 0). However slow the machine, a peer that
    // stops reading must be dropped; the loop's bound is a hang guard.
    let mut dropped = false;
    for _ in 0..2400 {
        if app.state.ws.connections.open_from("127.0.0.1") == 0 {
            dropped = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(dropped, "the server kept a peer that stopped reading");
    // What the server sent before it let go is all there is: the stream ends.
    let ended = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stream went on after the server dropped the peer"
    );
}

/// The read buffer is small (`WS_BUFFER_BYTES`, 1 KiB by default, kept by every idle
/// connection); a message many times its size still arrives whole and runs.
#[tokio::test]
async fn a_message_larger_than_the_read_buffer_arrives_whole() {
    use crate::ws_client::Ws;
    use serde_json::json;
    let app = TestApp::spawn().await;
    let mut ws = Ws::transport(app.addr).await;
    ws.init(None).await;
    // 20 KB of comment before a query whose answer shows the end of the text was read.
    let query = format!("# {}\nquery {{ tail: __typename }}", "x".repeat(20_000));
    ws.send(json!({ "type": "subscribe", "id": "big", "payload": { "query": query } }))
        .await;
    let next = ws.json().await;
    assert_eq!(next["type"], "next", "{next}");
    assert_eq!(next["id"], "big");
    assert_eq!(next["payload"]["data"]["tail"], "QueryRoot", "{next}");
    assert_eq!(ws.json().await["type"], "complete");
}
