//! Accounts, sign-in, sessions, passwords and abuse limits.
use serde_json::{json, Value};

use crate::helpers::{Fixture, TestApp, DEMO_LOGINS, DEMO_PASSWORD};

const ME: &str = "{ me { login displayName roles { role station { name } department { name } township { name } } deputy { name } } }";
const REFRESH: &str =
    "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }";

async fn demo() -> TestApp {
    TestApp::spawn_demo().await
}

#[tokio::test]
async fn every_demo_role_signs_in_and_sees_itself() {
    let app = demo().await;
    let expected = [
        ("admin", "ADMIN"),
        ("supervisor", "SUPERVISOR"),
        ("staff", "STATION_STAFF"),
        ("handler", "DEPARTMENT_HANDLER"),
        ("deputy", "DEPUTY"),
        ("citizen", "CITIZEN"),
    ];
    assert_eq!(expected.len(), DEMO_LOGINS.len());
    for (login, role) in expected {
        let signed = app.sign_in(login, DEMO_PASSWORD).await;
        let payload = &signed.data()["signIn"];
        assert!(payload["refreshToken"].as_str().unwrap().len() >= 40);
        let token = payload["accessToken"].as_str().unwrap();
        let me = app.gql(ME).bearer(Some(token)).send().await;
        let me = &me.data()["me"];
        assert_eq!(me["login"], login);
        assert_eq!(me["roles"][0]["role"], role, "{me}");
        match role {
            "STATION_STAFF" => assert!(me["roles"][0]["station"]["name"]
                .as_str()
                .unwrap()
                .contains("滨河")),
            "DEPARTMENT_HANDLER" => {
                assert_eq!(me["roles"][0]["department"]["name"], "和顺县交通运输局")
            }
            "DEPUTY" => assert!(me["deputy"]["name"].is_string()),
            _ => {}
        }
    }
    // Phone numbers work as login names too.
    let by_phone = app.sign_in("+86 139-0000-0001", DEMO_PASSWORD).await;
    assert_eq!(by_phone.data()["signIn"]["account"]["login"], "citizen");
    let anonymous = app.gql(ME).send().await;
    assert_eq!(anonymous.error_code(), Some("UNAUTHENTICATED"));
    assert_eq!(anonymous.error_reason(), Some("SIGN_IN_REQUIRED"));
}

#[tokio::test]
async fn wrong_passwords_and_unknown_logins_look_the_same() {
    let app = demo().await;
    let wrong = app.sign_in("admin", "Wrong-password-1").await;
    let unknown = app.sign_in("nobody", "Wrong-password-1").await;
    for r in [&wrong, &unknown] {
        assert_eq!(r.error_code(), Some("UNAUTHENTICATED"), "{}", r.body);
        assert_eq!(r.error_reason(), Some("INVALID_CREDENTIALS"));
    }
    assert_eq!(wrong.error_message(), unknown.error_message());
    let malformed = app.sign_in("a", "x").await;
    assert_eq!(malformed.error_code(), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn repeated_failures_lock_the_account_with_retry_after() {
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("SIGNIN_FAILURES_PER_ACCOUNT", "3")
        .spawn()
        .await;
    for _ in 0..3 {
        let r = app.sign_in("staff", "Wrong-password-1").await;
        assert_eq!(r.error_reason(), Some("INVALID_CREDENTIALS"));
    }
    let locked = app.sign_in("staff", DEMO_PASSWORD).await;
    assert_eq!(locked.error_code(), Some("RATE_LIMITED"), "{}", locked.body);
    let retry = locked.body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // Other accounts are unaffected, and a success resets nothing it should not.
    assert!(app.sign_in("handler", DEMO_PASSWORD).await.body["errors"].is_null());
}

#[tokio::test]
async fn one_address_cannot_spray_many_accounts() {
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("SIGNIN_ATTEMPTS_PER_ADDRESS", "4")
        .spawn()
        .await;
    for login in ["admin", "staff", "handler", "deputy"] {
        let r = app.sign_in(login, "Wrong-password-1").await;
        assert_eq!(r.error_reason(), Some("INVALID_CREDENTIALS"));
    }
    let r = app.sign_in("citizen", DEMO_PASSWORD).await;
    assert_eq!(r.error_code(), Some("RATE_LIMITED"));
    assert!(
        r.body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            >= 1
    );
}

#[tokio::test]
async fn bad_and_expired_tokens_are_refused_with_401() {
    let clock = smart_npc::clock::Clock::system();
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        // Expiry is in whole seconds: a TTL of 3 s leaves the token valid for more than
        // 2 s, so the check right after sign-in cannot race the clock.
        .env("ACCESS_TOKEN_TTL_SECS", "3")
        .clock(clock.clone())
        .spawn()
        .await;
    let token = app.token("admin").await;
    assert!(app.gql(ME).bearer(Some(&token)).send().await.body["errors"].is_null());
    for (bad, reason) in [
        ("garbage", "TOKEN_INVALID"),
        ("v1.e30.AAAA", "TOKEN_INVALID"),
    ] {
        let r = app.gql(ME).bearer(Some(bad)).send().await;
        assert_eq!(r.status, 401);
        assert_eq!(r.error_code(), Some("UNAUTHENTICATED"));
        assert_eq!(r.error_reason(), Some(reason));
    }
    // A token signed by another deployment's key.
    let other = TestApp::builder().fixture(Fixture::Demo).spawn().await;
    let foreign = other.token("admin").await;
    assert_eq!(
        app.gql(ME)
            .bearer(Some(&foreign))
            .send()
            .await
            .error_reason(),
        Some("TOKEN_INVALID")
    );
    clock.advance(std::time::Duration::from_millis(3100));
    let expired = app.gql(ME).bearer(Some(&token)).send().await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.error_reason(), Some("TOKEN_EXPIRED"));
    // Public data does not need a token, but a bad one is still an error, not ignored.
    let public = app
        .gql("{ townships { totalCount } }")
        .bearer(Some(&token))
        .send()
        .await;
    assert_eq!(public.status, 401);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = demo().await;
    let signed = app.sign_in("deputy", DEMO_PASSWORD).await;
    let first_refresh = signed.data()["signIn"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let rotated = app
        .gql(REFRESH)
        .vars(json!({ "t": first_refresh }))
        .send()
        .await;
    let new_access = rotated.data()["refreshSession"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let new_refresh = rotated.data()["refreshSession"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_refresh, first_refresh);
    assert!(app.gql(ME).bearer(Some(&new_access)).send().await.body["errors"].is_null());

    // The old refresh token again: a replay. The whole sign-in dies.
    let replay = app
        .gql(REFRESH)
        .vars(json!({ "t": first_refresh }))
        .send()
        .await;
    assert_eq!(replay.error_code(), Some("UNAUTHENTICATED"));
    assert_eq!(replay.error_reason(), Some("REFRESH_TOKEN_REUSED"));
    let after = app.gql(ME).bearer(Some(&new_access)).send().await;
    assert_eq!(after.status, 401);
    assert_eq!(after.error_reason(), Some("SESSION_REVOKED"));
    let newest = app
        .gql(REFRESH)
        .vars(json!({ "t": new_refresh }))
        .send()
        .await;
    assert_eq!(newest.error_reason(), Some("SESSION_REVOKED"));
    let unknown = app
        .gql(REFRESH)
        .vars(json!({ "t": "not-a-token" }))
        .send()
        .await;
    assert_eq!(unknown.error_reason(), Some("TOKEN_INVALID"));

    // Another sign-in of the same account is untouched.
    let other = app.token("deputy").await;
    assert!(app.gql(ME).bearer(Some(&other)).send().await.body["errors"].is_null());
}

#[tokio::test]
async fn sign_out_revokes_the_session() {
    let app = demo().await;
    let signed = app.sign_in("citizen", DEMO_PASSWORD).await;
    let access = signed.data()["signIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = signed.data()["signIn"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = app
        .gql("mutation { signOut }")
        .bearer(Some(&access))
        .send()
        .await;
    assert_eq!(out.data()["signOut"], true);
    assert_eq!(
        app.gql(ME)
            .bearer(Some(&access))
            .send()
            .await
            .error_reason(),
        Some("SESSION_REVOKED")
    );
    assert_eq!(
        app.gql(REFRESH)
            .vars(json!({ "t": refresh }))
            .send()
            .await
            .error_reason(),
        Some("SESSION_REVOKED")
    );
    assert_eq!(
        app.gql("mutation { signOut }").send().await.error_code(),
        Some("UNAUTHENTICATED")
    );
}

#[tokio::test]
async fn changing_the_password_revokes_other_sessions() {
    let app = demo().await;
    let here = app.token("supervisor").await;
    let elsewhere = app.token("supervisor").await;
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";
    let wrong = app
        .gql(change)
        .vars(json!({ "c": "Not-the-password-1", "n": "A-new-password-9" }))
        .bearer(Some(&here))
        .send()
        .await;
    assert_eq!(wrong.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(
        wrong.body["errors"][0]["extensions"]["field"],
        "currentPassword"
    );
    for weak in ["short", "onlyletterslong", "supervisor-2025x"] {
        let r = app
            .gql(change)
            .vars(json!({ "c": DEMO_PASSWORD, "n": weak }))
            .bearer(Some(&here))
            .send()
            .await;
        assert_eq!(r.error_code(), Some("BAD_USER_INPUT"), "{weak}: {}", r.body);
        assert_eq!(r.body["errors"][0]["extensions"]["field"], "password");
    }
    let ok = app
        .gql(change)
        .vars(json!({ "c": DEMO_PASSWORD, "n": "A-new-password-9" }))
        .bearer(Some(&here))
        .send()
        .await;
    assert_eq!(ok.data()["changePassword"], true);
    assert!(
        app.gql(ME).bearer(Some(&here)).send().await.body["errors"].is_null(),
        "this session lives on"
    );
    assert_eq!(
        app.gql(ME)
            .bearer(Some(&elsewhere))
            .send()
            .await
            .error_reason(),
        Some("SESSION_REVOKED")
    );
    assert_eq!(
        app.sign_in("supervisor", DEMO_PASSWORD)
            .await
            .error_reason(),
        Some("INVALID_CREDENTIALS")
    );
    assert!(app.sign_in("supervisor", "A-new-password-9").await.body["errors"].is_null());
}

#[tokio::test]
async fn credential_operations_cannot_be_batched_or_aliased() {
    let app = demo().await;
    let sign_in = json!({ "query": format!("mutation {{ signIn(login: \"admin\", password: \"{DEMO_PASSWORD}\") {{ accessToken }} }}") });
    let batch = json!([sign_in, { "query": "{ __typename }" }]);
    let r = app
        .client
        .post(app.url("/graphql"))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let aliased = format!(
        "mutation {{ a: signIn(login: \"admin\", password: \"x1\") {{ accessToken }} b: signIn(login: \"admin\", password: \"{DEMO_PASSWORD}\") {{ accessToken }} }}"
    );
    let r = app.gql(&aliased).send().await;
    assert_eq!(r.error_code(), Some("BAD_REQUEST"), "{}", r.body);
    assert!(r.body.get("data").is_none() || r.body["data"].is_null());
}

#[tokio::test]
async fn admins_manage_accounts_and_roles() {
    let app = demo().await;
    let admin = app.token("admin").await;
    let station = app
        .gql(r#"{ stations(name: "义兴", kind: LIAISON_STATION) { edges { node { id name } } } }"#)
        .send()
        .await;
    let station_id = station.data()["stations"]["edges"][0]["node"]["id"].clone();
    let create = "mutation($i: CreateAccountInput!) { createAccount(input: $i) { id login phone roles { role station { id } } } }";
    let input = json!({ "login": "Yixing.Staff", "displayName": "义兴联络员", "phone": "138 0000 1234", "password": "Yixing-Station-1", "roles": [{ "role": "STATION_STAFF", "stationId": station_id }] });
    let created = app
        .gql(create)
        .vars(json!({ "i": input }))
        .bearer(Some(&admin))
        .send()
        .await;
    let account = created.data()["createAccount"].clone();
    assert_eq!(account["login"], "yixing.staff");
    assert_eq!(account["phone"], "13800001234");
    assert_eq!(account["roles"][0]["station"]["id"], station_id);

    let duplicate = app
        .gql(create)
        .vars(json!({ "i": input }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_eq!(duplicate.error_code(), Some("CONFLICT"));
    for (field, bad) in [
        (
            "roles",
            json!({ "login": "x.one", "displayName": "x", "password": "Good-password-1", "roles": [] }),
        ),
        (
            "stationId",
            json!({ "login": "x.two", "displayName": "x", "password": "Good-password-1", "roles": [{ "role": "STATION_STAFF" }] }),
        ),
        (
            "deputyId",
            json!({ "login": "x.three", "displayName": "x", "password": "Good-password-1", "roles": [{ "role": "DEPUTY" }] }),
        ),
        (
            "password",
            json!({ "login": "x.four", "displayName": "x", "password": "weak", "roles": [{ "role": "CITIZEN" }] }),
        ),
        (
            "phone",
            json!({ "login": "x.five", "displayName": "x", "phone": "12345", "password": "Good-password-1", "roles": [{ "role": "CITIZEN" }] }),
        ),
        (
            "stationId",
            json!({ "login": "x.six", "displayName": "x", "password": "Good-password-1", "roles": [{ "role": "STATION_STAFF", "stationId": "VG93bnNoaXA6MQ" }] }),
        ),
    ] {
        let r = app
            .gql(create)
            .vars(json!({ "i": bad }))
            .bearer(Some(&admin))
            .send()
            .await;
        assert_eq!(r.error_code(), Some("BAD_USER_INPUT"), "{bad}: {}", r.body);
        assert_eq!(
            r.body["errors"][0]["extensions"]["field"], field,
            "{}",
            r.body
        );
    }

    let staff = app.sign_in("yixing.staff", "Yixing-Station-1").await;
    let staff_token = staff.data()["signIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let grant = "mutation($a: ID!, $g: RoleGrantInput!) { grantRole(accountId: $a, grant: $g) { roles { role township { name } } } }";
    let township = app
        .gql("{ townships(first: 1) { edges { node { id name } } } }")
        .send()
        .await;
    let township = township.data()["townships"]["edges"][0]["node"].clone();
    let granted = app
        .gql(grant)
        .vars(json!({ "a": account["id"], "g": { "role": "SUPERVISOR", "townshipId": township["id"] } }))
        .bearer(Some(&admin))
        .send()
        .await;
    let roles = granted.data()["grantRole"]["roles"]
        .as_array()
        .unwrap()
        .clone();
    assert!(roles
        .iter()
        .any(|r| r["role"] == "SUPERVISOR" && r["township"]["name"] == township["name"]));
    let again = app.gql(grant).vars(json!({ "a": account["id"], "g": { "role": "SUPERVISOR", "townshipId": township["id"] } })).bearer(Some(&admin)).send().await;
    assert_eq!(again.error_code(), Some("CONFLICT"));
    let revoke = "mutation($a: ID!, $g: RoleGrantInput!) { revokeRole(accountId: $a, grant: $g) { roles { role } } }";
    let revoked = app.gql(revoke).vars(json!({ "a": account["id"], "g": { "role": "SUPERVISOR", "townshipId": township["id"] } })).bearer(Some(&admin)).send().await;
    assert_eq!(
        revoked.data()["revokeRole"]["roles"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let missing = app
        .gql(revoke)
        .vars(json!({ "a": account["id"], "g": { "role": "ADMIN" } }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_eq!(missing.error_code(), Some("NOT_FOUND"));

    // Disabling signs the account out everywhere.
    let disable = "mutation($a: ID!, $d: Boolean!) { setAccountDisabled(accountId: $a, disabled: $d) { disabled } }";
    let disabled = app
        .gql(disable)
        .vars(json!({ "a": account["id"], "d": true }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_eq!(disabled.data()["setAccountDisabled"]["disabled"], true);
    assert_eq!(
        app.gql(ME)
            .bearer(Some(&staff_token))
            .send()
            .await
            .error_reason(),
        Some("SESSION_REVOKED")
    );
    assert_eq!(
        app.sign_in("yixing.staff", "Yixing-Station-1")
            .await
            .error_reason(),
        Some("INVALID_CREDENTIALS")
    );

    // All of it is in the audit log, with who and from where.
    let log = app
        .gql("query($a: ID) { auditLog(accountId: $a, first: 50) { edges { node { action login clientIp account { login } detail createdAt } } } }")
        .vars(json!({ "a": account["id"] }))
        .bearer(Some(&admin))
        .send()
        .await;
    let actions: Vec<String> = log.data()["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap().to_owned())
        .collect();
    for expected in [
        "account_created",
        "sign_in",
        "role_granted",
        "role_revoked",
        "account_disabled",
        "sign_in_failed",
    ] {
        assert!(
            actions.contains(&expected.to_owned()),
            "{expected} in {actions:?}"
        );
    }
    let first = &log.data()["auditLog"]["edges"][0]["node"];
    assert_eq!(first["clientIp"], "127.0.0.1");
    assert_eq!(first["account"]["login"], "yixing.staff");
}

#[tokio::test]
async fn citizens_register_with_their_phone() {
    let app = demo().await;
    let register = "mutation($p: String!, $n: String!, $w: String!) { registerCitizen(phone: $p, displayName: $n, password: $w) { accessToken account { login roles { role } } } }";
    let r = app
        .gql(register)
        .vars(json!({ "p": "+86 137 1111 2222", "n": "李先生", "w": "Li-Xiansheng-88" }))
        .send()
        .await;
    let payload = &r.data()["registerCitizen"];
    assert_eq!(payload["account"]["login"], "13711112222");
    assert_eq!(payload["account"]["roles"][0]["role"], "CITIZEN");
    let me = app
        .gql(ME)
        .bearer(payload["accessToken"].as_str())
        .send()
        .await;
    assert_eq!(me.data()["me"]["displayName"], "李先生");
    let again = app
        .gql(register)
        .vars(json!({ "p": "13711112222", "n": "李先生", "w": "Li-Xiansheng-88" }))
        .send()
        .await;
    assert_eq!(again.error_code(), Some("CONFLICT"));
    for (phone, password, field) in [
        ("123", "Li-Xiansheng-88", "phone"),
        ("13711113333", "weak", "password"),
    ] {
        let r = app
            .gql(register)
            .vars(json!({ "p": phone, "n": "x", "w": password }))
            .send()
            .await;
        assert_eq!(r.error_code(), Some("BAD_USER_INPUT"));
        assert_eq!(r.body["errors"][0]["extensions"]["field"], field);
    }
}

#[tokio::test]
async fn registration_is_rate_limited_per_address() {
    let app = TestApp::builder()
        .fixture(Fixture::Demo)
        .env("ANONYMOUS_SUBMISSIONS_PER_ADDRESS", "2")
        .spawn()
        .await;
    let register = "mutation($p: String!) { registerCitizen(phone: $p, displayName: \"x\", password: \"Good-password-1\") { accessToken } }";
    for phone in ["13711110001", "13711110002"] {
        assert!(app
            .gql(register)
            .vars(json!({ "p": phone }))
            .send()
            .await
            .body["errors"]
            .is_null());
    }
    let third = app
        .gql(register)
        .vars(json!({ "p": "13711110003" }))
        .send()
        .await;
    assert_eq!(third.error_code(), Some("RATE_LIMITED"));
}

#[tokio::test]
async fn concurrent_sign_ins_all_complete_while_queries_are_served() {
    let app = demo().await;
    let sign_ins = (0..24).map(|i| {
        let login = DEMO_LOGINS[i % DEMO_LOGINS.len()];
        app.sign_in(login, DEMO_PASSWORD)
    });
    let query = async {
        let r = app.gql("{ stations { totalCount } }").send().await;
        r.data()["stations"]["totalCount"].clone()
    };
    let (results, count) = tokio::join!(futures_util::future::join_all(sign_ins), query);
    assert_eq!(count, Value::from(72));
    for r in results {
        assert!(r.body["errors"].is_null(), "{}", r.body);
    }
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    for (trust, expected) in [("false", "127.0.0.1"), ("true", "203.0.113.7")] {
        let app = TestApp::builder()
            .fixture(Fixture::Demo)
            .env("TRUST_PROXY_HEADERS", trust)
            .spawn()
            .await;
        let failed = app
            .gql("mutation { signIn(login: \"citizen\", password: \"Wrong-password-1\") { accessToken } }")
            .header("x-forwarded-for", "203.0.113.7, 10.0.0.1")
            .send()
            .await;
        assert_eq!(failed.error_reason(), Some("INVALID_CREDENTIALS"));
        let admin = app.token("admin").await;
        let log = app
            .gql("{ auditLog(action: \"sign_in_failed\", last: 1) { edges { node { clientIp login } } } }")
            .bearer(Some(&admin))
            .send()
            .await;
        assert_eq!(
            log.data()["auditLog"]["edges"][0]["node"]["clientIp"],
            expected,
            "trust={trust}"
        );
    }
}
