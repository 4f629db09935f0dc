//! The allow/deny table: every role against every operation, through the API.
//! New operations join the table as they are added.
use serde_json::{json, Value};

use crate::helpers::{GqlResponse, TestApp, DEMO_LOGINS};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Anonymous,
    Citizen,
    Deputy,
    Staff,
    Handler,
    Supervisor,
    Admin,
}

const ROLES: &[Role] = &[
    Role::Anonymous,
    Role::Citizen,
    Role::Deputy,
    Role::Staff,
    Role::Handler,
    Role::Supervisor,
    Role::Admin,
];

fn login(role: Role) -> Option<&'static str> {
    Some(match role {
        Role::Anonymous => return None,
        Role::Citizen => "citizen",
        Role::Deputy => "deputy",
        Role::Staff => "staff",
        Role::Handler => "handler",
        Role::Supervisor => "supervisor",
        Role::Admin => "admin",
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Allow,
    Deny,
}

/// Ids the operations refer to.
struct Fixture {
    station: Value,
    admin_account: Value,
    deputy_code: Value,
}

struct Operation {
    name: &'static str,
    query: &'static str,
    vars: fn(&Fixture) -> Value,
    expect: fn(Role) -> Outcome,
    /// What "allowed" must look like beyond the absence of FORBIDDEN/UNAUTHENTICATED.
    check: fn(Role, &GqlResponse) -> Result<(), String>,
}

fn everyone(_: Role) -> Outcome {
    Outcome::Allow
}
fn signed_in(role: Role) -> Outcome {
    if role == Role::Anonymous {
        Outcome::Deny
    } else {
        Outcome::Allow
    }
}
fn admin_only(role: Role) -> Outcome {
    if role == Role::Admin {
        Outcome::Allow
    } else {
        Outcome::Deny
    }
}
fn no_check(_: Role, _: &GqlResponse) -> Result<(), String> {
    Ok(())
}
fn none(_: &Fixture) -> Value {
    json!({})
}
/// A well-formed account id that names no account.
const MISSING_ACCOUNT: &str = "QWNjb3VudDo5OTk5OTk"; // Account:999999

fn operations() -> Vec<Operation> {
    vec![
        Operation { name: "townships", query: "{ townships { totalCount } }", vars: none, expect: everyone, check: no_check },
        Operation { name: "stations", query: "{ stations(kind: SERVICE_POST) { totalCount } }", vars: none, expect: everyone, check: no_check },
        Operation { name: "deputies", query: "{ deputies(first: 1) { totalCount } }", vars: none, expect: everyone, check: no_check },
        Operation { name: "departments", query: "{ departments { totalCount } }", vars: none, expect: everyone, check: no_check },
        Operation {
            name: "node(station)",
            query: "query($id: ID!) { node(id: $id) { id } }",
            vars: |f| json!({ "id": f.station }),
            expect: everyone,
            check: |_, r| if r.body["data"]["node"]["id"].is_string() { Ok(()) } else { Err("station not visible".into()) },
        },
        Operation { name: "me", query: "{ me { login } }", vars: none, expect: signed_in, check: no_check },
        Operation { name: "accounts", query: "{ accounts { totalCount } }", vars: none, expect: admin_only, check: no_check },
        Operation { name: "auditLog", query: "{ auditLog(last: 5) { totalCount } }", vars: none, expect: admin_only, check: no_check },
        Operation {
            name: "createAccount",
            query: "mutation { createAccount(input: { login: \"!!\", displayName: \"x\", password: \"x\", roles: [{ role: CITIZEN }] }) { id } }",
            vars: none,
            expect: admin_only,
            check: |_, r| if r.error_code() == Some("BAD_USER_INPUT") { Ok(()) } else { Err(format!("expected validation after permission: {}", r.body)) },
        },
        Operation {
            name: "grantRole",
            query: "mutation($a: ID!) { grantRole(accountId: $a, grant: { role: CITIZEN }) { id } }",
            vars: |_| json!({ "a": MISSING_ACCOUNT }),
            expect: admin_only,
            check: |_, r| if r.error_code() == Some("NOT_FOUND") { Ok(()) } else { Err(r.body.to_string()) },
        },
        Operation {
            name: "revokeRole",
            query: "mutation($a: ID!) { revokeRole(accountId: $a, grant: { role: CITIZEN }) { id } }",
            vars: |_| json!({ "a": MISSING_ACCOUNT }),
            expect: admin_only,
            check: |_, r| if r.error_code() == Some("NOT_FOUND") { Ok(()) } else { Err(r.body.to_string()) },
        },
        Operation {
            name: "setAccountDisabled",
            query: "mutation($a: ID!) { setAccountDisabled(accountId: $a, disabled: true) { id } }",
            vars: |_| json!({ "a": MISSING_ACCOUNT }),
            expect: admin_only,
            check: |_, r| if r.error_code() == Some("NOT_FOUND") { Ok(()) } else { Err(r.body.to_string()) },
        },
        Operation {
            // node(id:) follows the accounts rule: only admins (or the owner) see an
            // account; others get null exactly as for a missing id.
            name: "node(admin account)",
            query: "query($id: ID!) { node(id: $id) { id } }",
            vars: |f| json!({ "id": f.admin_account }),
            expect: everyone,
            check: |role, r| {
                let visible = r.body["data"]["node"]["id"].is_string();
                if visible == (role == Role::Admin) { Ok(()) } else { Err(format!("visible={visible}")) }
            },
        },
        Operation {
            name: "Deputy.phone",
            query: "query($c: String!) { deputyByCode(code: $c) { phone } }",
            vars: |f| json!({ "c": f.deputy_code }),
            expect: everyone,
            check: |role, r| {
                let phone = r.body["data"]["deputyByCode"]["phone"].as_str().unwrap_or_default();
                let masked = phone.contains('*');
                let entitled = matches!(role, Role::Admin | Role::Supervisor | Role::Staff | Role::Deputy);
                if masked != entitled { Ok(()) } else { Err(format!("phone {phone:?}")) }
            },
        },
        // Last: it ends the session.
        Operation { name: "signOut", query: "mutation { signOut }", vars: none, expect: signed_in, check: no_check },
    ]
}

fn outcome(r: &GqlResponse) -> Outcome {
    match r.error_code() {
        Some("FORBIDDEN") | Some("UNAUTHENTICATED") => Outcome::Deny,
        _ => Outcome::Allow,
    }
}

#[tokio::test]
async fn every_role_against_every_operation() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let station = app
        .gql("{ stations(first: 1) { edges { node { id } } } }")
        .send()
        .await
        .data()["stations"]["edges"][0]["node"]["id"]
        .clone();
    let admin_account = app
        .gql("{ me { id } }")
        .bearer(Some(&admin))
        .send()
        .await
        .data()["me"]["id"]
        .clone();
    let deputy_code = app
        .gql("{ me { deputy { code } } }")
        .bearer(Some(&app.token("deputy").await))
        .send()
        .await
        .data()["me"]["deputy"]["code"]
        .clone();
    let fixture = Fixture {
        station,
        admin_account,
        deputy_code,
    };
    assert_eq!(DEMO_LOGINS.len() + 1, ROLES.len());

    let mut failures = Vec::new();
    let mut checked = 0;
    for role in ROLES {
        let token = match login(*role) {
            Some(login) => Some(app.token(login).await),
            None => None,
        };
        for op in operations() {
            let r = app
                .gql(op.query)
                .vars((op.vars)(&fixture))
                .bearer(token.as_deref())
                .send()
                .await;
            let got = outcome(&r);
            let want = (op.expect)(*role);
            checked += 1;
            if got != want {
                failures.push(format!(
                    "{role:?} × {}: expected {want:?}, got {got:?}: {}",
                    op.name, r.body
                ));
            } else if got == Outcome::Allow {
                if let Err(why) = (op.check)(*role, &r) {
                    failures.push(format!("{role:?} × {}: {why}", op.name));
                }
            }
        }
    }
    assert!(
        checked >= 7 * 15,
        "the table covers every role and operation"
    );
    assert!(
        failures.is_empty(),
        "authorization table mismatches:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn owners_see_their_own_account_through_node() {
    let app = TestApp::spawn_demo().await;
    for login in DEMO_LOGINS {
        let token = app.token(login).await;
        let me = app
            .gql("{ me { id } }")
            .bearer(Some(&token))
            .send()
            .await
            .data()["me"]["id"]
            .clone();
        let node = app
            .gql("query($id: ID!) { node(id: $id) { ... on Account { login } } }")
            .vars(json!({ "id": me }))
            .bearer(Some(&token))
            .send()
            .await;
        assert_eq!(node.data()["node"]["login"], *login);
    }
}
