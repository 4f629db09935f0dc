//! Every id a mutation names is checked against the actor's scope, not only the main
//! one. A record out of reach answers exactly as one that does not exist (same code,
//! same message, same field), so ids elsewhere cannot be probed; and nothing changes.
use serde_json::{json, Value};
use smart_npc::domain::node_id::NodeKind;

use crate::fixtures::{assert_code, binhe, station_elsewhere, unknown, PASSWORD};
use crate::helpers::{GqlResponse, TestApp};

const ASSIGN: &str =
    "mutation($d: ID!, $s: ID!) { assignResidentDeputy(deputyId: $d, stationId: $s) { id } }";
const DEPUTY_VIEW: &str = "query($id: ID!) { node(id: $id) { ... on Deputy { phone stations { totalCount edges { node { id } } } } } }";
const ARCHIVE: &str =
    "query($id: ID!) { node(id: $id) { ... on Deputy { archive(year: 2025) { year } } } }";
const SUBMIT: &str =
    "mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { petition { id } } }";
const REGISTER: &str = "mutation($id: ID!, $c: ID!) { registerPetition(id: $id, categoryId: $c, urgency: NORMAL, handlingLevel: TOWNSHIP) { id } }";
const MERGE: &str = "mutation($id: ID!, $into: ID!) { mergePetition(id: $id, intoId: $into) { id state mergedIntoId } }";
const ITEM: &str = "query($id: ID!) { node(id: $id) { ... on Petition { state version mergedIntoId leadDepartment { id } } } }";

/// Creates an account with `roles` (and a deputy link) and signs it in.
async fn account(app: &TestApp, login: &str, roles: Value, deputy: Option<&Value>) -> String {
    let admin = app.token("admin").await;
    app.gql("mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }")
        .vars(json!({ "i": { "login": login, "displayName": login, "password": PASSWORD, "roles": roles, "deputyId": deputy } }))
        .bearer(Some(&admin))
        .send()
        .await
        .data();
    app.sign_in(login, PASSWORD).await.data()["signIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn create_deputy(app: &TestApp, name: &str, township: &Value) -> Value {
    let admin = app.token("admin").await;
    let r = app
        .gql("mutation($i: DeputyDetailsInput!) { createDeputy(input: $i) { id } }")
        .vars(json!({ "i": { "name": name, "gender": "MALE", "level": "COUNTY", "termStatus": "FIRST_TERM", "townshipId": township, "phone": "13912345678" } }))
        .bearer(Some(&admin))
        .send()
        .await;
    r.data()["createDeputy"]["id"].clone()
}

async fn ok(app: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    app.gql(query)
        .vars(vars)
        .bearer(Some(token))
        .send()
        .await
        .data()
        .clone()
}

/// An item submitted through the app to `station` by the bearer of `token`.
async fn item_at(app: &TestApp, token: &str, station: &Value) -> Value {
    let input = json!({ "title": "路面坑洼", "content": "村口道路坑洼严重，雨天积水。", "stationId": station });
    ok(app, token, SUBMIT, json!({ "i": input })).await["submitPetition"]["petition"]["id"].clone()
}

/// Same code, message and field: the two answers cannot be told apart.
#[track_caller]
fn assert_same_answer(out_of_scope: &GqlResponse, missing: &GqlResponse, code: &str) {
    assert_eq!(
        out_of_scope.error_code(),
        Some(code),
        "{}",
        out_of_scope.body
    );
    assert_eq!(
        out_of_scope.body["errors"][0]["message"], missing.body["errors"][0]["message"],
        "out of scope: {}\nunknown: {}",
        out_of_scope.body, missing.body
    );
    assert_eq!(
        out_of_scope.body["errors"][0]["extensions"], missing.body["errors"][0]["extensions"],
        "out of scope: {}\nunknown: {}",
        out_of_scope.body, missing.body
    );
}

// ------------------------------------------------------------------ the findings

/// Finding: staff of a station assigned a deputy of another township to it, and then
/// saw that deputy's full phone number and archive.
#[tokio::test]
async fn station_staff_assign_only_deputies_of_their_stations_township() {
    let app = TestApp::spawn_demo().await;
    let staff = app.token("staff").await;
    let (binhe_id, binhe_township) = binhe(&app).await;
    let (_, elsewhere) = station_elsewhere(&app).await;
    let foreign = create_deputy(&app, "外乡代表", &elsewhere).await;
    let local = create_deputy(&app, "本乡代表", &binhe_township).await;

    let r = app
        .gql(ASSIGN)
        .vars(json!({ "d": foreign, "s": binhe_id }))
        .bearer(Some(&staff))
        .send()
        .await;
    let missing = app
        .gql(ASSIGN)
        .vars(json!({ "d": unknown(NodeKind::Deputy), "s": binhe_id }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_same_answer(&r, &missing, "BAD_USER_INPUT");
    assert_eq!(r.body["errors"][0]["extensions"]["field"], "deputyId");

    // Nothing changed, and the staff's view of the deputy stays the public one.
    let view = ok(&app, &staff, DEPUTY_VIEW, json!({ "id": foreign })).await;
    assert_eq!(view["node"]["stations"]["totalCount"], 0);
    assert_eq!(view["node"]["phone"], "139****5678");
    let archive = app
        .gql(ARCHIVE)
        .vars(json!({ "id": foreign }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_code(&archive, "FORBIDDEN");

    // A supervisor of the station's township reaches no further than its staff.
    let township_supervisor = account(
        &app,
        "binhe.township.supervisor",
        json!([{ "role": "SUPERVISOR", "townshipId": binhe_township }]),
        None,
    )
    .await;
    let r = app
        .gql(ASSIGN)
        .vars(json!({ "d": foreign, "s": binhe_id }))
        .bearer(Some(&township_supervisor))
        .send()
        .await;
    assert_same_answer(&r, &missing, "BAD_USER_INPUT");

    // Deputies of the station's township: the staff assign them, and then see them.
    ok(&app, &staff, ASSIGN, json!({ "d": local, "s": binhe_id })).await;
    let view = ok(&app, &staff, DEPUTY_VIEW, json!({ "id": local })).await;
    assert_eq!(view["node"]["phone"], "13912345678");

    // County-wide authority places any deputy anywhere.
    let supervisor = app.token("supervisor").await;
    ok(
        &app,
        &supervisor,
        ASSIGN,
        json!({ "d": foreign, "s": binhe_id }),
    )
    .await;
    let view = ok(&app, &staff, DEPUTY_VIEW, json!({ "id": foreign })).await;
    assert_eq!(
        view["node"]["stations"]["edges"][0]["node"]["id"], binhe_id,
        "{view}"
    );
}

/// Finding: staff merged their item into another station's item, and an unknown
/// target answered differently from an out-of-scope one.
#[tokio::test]
async fn a_merge_target_outside_the_actors_ledger_answers_as_unknown() {
    let app = TestApp::spawn_demo().await;
    let staff = app.token("staff").await;
    let citizen = app.token("citizen").await;
    let admin = app.token("admin").await;
    let (binhe_id, _) = binhe(&app).await;
    let (other_station, _) = station_elsewhere(&app).await;
    let ours = item_at(&app, &citizen, &binhe_id).await;
    let theirs = item_at(&app, &citizen, &other_station).await;
    // An item elsewhere that the staff member sees, as its submitter: still not theirs
    // to merge into.
    let own_elsewhere = item_at(&app, &staff, &other_station).await;
    let before = ok(&app, &admin, ITEM, json!({ "id": ours })).await;

    let missing = app
        .gql(MERGE)
        .vars(json!({ "id": ours, "into": unknown(NodeKind::Petition) }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_eq!(missing.body["errors"][0]["extensions"]["field"], "intoId");
    for target in [&theirs, &own_elsewhere] {
        let r = app
            .gql(MERGE)
            .vars(json!({ "id": ours, "into": target }))
            .bearer(Some(&staff))
            .send()
            .await;
        assert_same_answer(&r, &missing, "BAD_USER_INPUT");
    }
    assert_eq!(ok(&app, &admin, ITEM, json!({ "id": ours })).await, before);
    assert_eq!(before["node"]["state"], "SUBMITTED");

    // Within the station's own ledger the merge goes through.
    let duplicate = item_at(&app, &citizen, &binhe_id).await;
    let merged = ok(
        &app,
        &staff,
        MERGE,
        json!({ "id": duplicate, "into": ours }),
    )
    .await;
    assert_eq!(merged["mergePetition"]["state"], "MERGED");
    assert_eq!(merged["mergePetition"]["mergedIntoId"], ours);
}

// ------------------------------------------------------------------ the table

/// One mutation, one argument: an id out of the actor's reach against an unknown one.
struct Case {
    name: &'static str,
    token: String,
    mutation: &'static str,
    /// The mutation's variables with `id` as the argument under test.
    vars: Box<dyn Fn(&Value) -> Value>,
    out_of_scope: Value,
    unknown: Value,
    code: &'static str,
    /// Read (as admin) before and after: it must not change.
    probe: &'static str,
    probe_vars: Value,
}

/// Ids of the demo and of records made for the table.
struct World {
    app: TestApp,
    admin: String,
    staff: String,
    citizen: String,
    binhe: Value,
    binhe_township: Value,
    other_station: Value,
    other_township: Value,
    departments: Vec<Value>,
    category: Value,
}

impl World {
    async fn new() -> World {
        let app = TestApp::spawn_demo().await;
        let (admin, staff, citizen) = (
            app.token("admin").await,
            app.token("staff").await,
            app.token("citizen").await,
        );
        let (binhe, binhe_township) = binhe(&app).await;
        let (other_station, other_township) = station_elsewhere(&app).await;
        let r = app
            .gql("{ departments(first: 100) { nodes { id code level township { id } } } categories { id code } }")
            .send()
            .await;
        let departments = r.data()["departments"]["nodes"].as_array().unwrap().clone();
        let category = r.data()["categories"][0]["id"].clone();
        World {
            app,
            admin,
            staff,
            citizen,
            binhe,
            binhe_township,
            other_station,
            other_township,
            departments,
            category,
        }
    }

    /// A township department of `township`.
    fn township_department(&self, township: &Value) -> Value {
        self.departments
            .iter()
            .find(|d| d["level"] == "TOWNSHIP" && d["township"]["id"] == *township)
            .expect("a township department")["id"]
            .clone()
    }

    fn department(&self, code: &str) -> Value {
        self.departments
            .iter()
            .find(|d| d["code"] == code)
            .expect("department")["id"]
            .clone()
    }
}

async fn cases(w: &World) -> Vec<Case> {
    let app = &w.app;
    // A binhe item, registered, ready to be merged or forwarded.
    let item = item_at(app, &w.citizen, &w.binhe).await;
    ok(
        app,
        &w.staff,
        REGISTER,
        json!({ "id": item, "c": w.category }),
    )
    .await;
    let other_item = item_at(app, &w.citizen, &w.other_station).await;
    let foreign_deputy = create_deputy(app, "外乡代表", &w.other_township).await;
    let resident_elsewhere = create_deputy(app, "外站驻站代表", &w.other_township).await;
    ok(
        app,
        &w.admin,
        ASSIGN,
        json!({ "d": resident_elsewhere, "s": w.other_station }),
    )
    .await;
    let grid = |station: &Value, name: &str| {
        let (app, admin, station, name) = (app, w.admin.clone(), station.clone(), name.to_owned());
        async move {
            ok(
                app,
                &admin,
                "mutation($s: ID!, $n: String!) { createGrid(stationId: $s, name: $n) { id } }",
                json!({ "s": station, "n": name }),
            )
            .await["createGrid"]["id"]
                .clone()
        }
    };
    let binhe_grid = grid(&w.binhe, "范围测试网格").await;
    let foreign_grid = grid(&w.other_station, "外站网格").await;
    let township_supervisor = account(
        app,
        "scope.township.supervisor",
        json!([{ "role": "SUPERVISOR", "townshipId": w.binhe_township }]),
        None,
    )
    .await;
    let deputy = app.token("deputy").await;
    let handler = app.token("handler").await;
    // A suggestion to another department than the handler's.
    let suggestion = ok(
        app,
        &deputy,
        "mutation($d: ID!) { submitSuggestion(title: \"河道清淤\", content: \"建议汛前组织河道清淤工作。\", departmentId: $d) { id } }",
        json!({ "d": w.department("shuili") }),
    )
    .await["submitSuggestion"]["id"]
        .clone();
    // A draft story about a deputy of another station.
    let story = ok(
        app,
        &w.admin,
        "mutation($d: ID!) { createStory(deputyId: $d, input: { title: \"草稿\", body: \"未发表\" }) { id } }",
        json!({ "d": resident_elsewhere }),
    )
    .await["createStory"]["id"]
        .clone();

    let forward = "mutation($id: ID!, $lead: ID!, $assist: [ID!]) { forwardPetition(id: $id, leadDepartmentId: $lead, assistDepartmentIds: $assist) { id } }";
    let story_probe =
        "query($id: ID!) { node(id: $id) { ... on Story { status title body returnReason } } }";
    let jiaotong = w.department("jiaotong");
    let foreign_department = w.township_department(&w.other_township);
    let unknown_department = json!(unknown(NodeKind::Department));
    let station_count = "{ stations { totalCount } }";

    let mut cases = vec![
        Case {
            name: "assignResidentDeputy(deputyId) by station staff",
            token: w.staff.clone(),
            mutation: ASSIGN,
            vars: Box::new({
                let s = w.binhe.clone();
                move |id| json!({ "d": id, "s": s })
            }),
            out_of_scope: foreign_deputy.clone(),
            unknown: json!(unknown(NodeKind::Deputy)),
            code: "BAD_USER_INPUT",
            probe: DEPUTY_VIEW,
            probe_vars: json!({ "id": foreign_deputy }),
        },
        Case {
            name: "assignResidentDeputy(deputyId) by a township supervisor",
            token: township_supervisor.clone(),
            mutation: ASSIGN,
            vars: Box::new({
                let s = w.binhe.clone();
                move |id| json!({ "d": id, "s": s })
            }),
            out_of_scope: foreign_deputy.clone(),
            unknown: json!(unknown(NodeKind::Deputy)),
            code: "BAD_USER_INPUT",
            probe: DEPUTY_VIEW,
            probe_vars: json!({ "id": foreign_deputy }),
        },
        Case {
            name: "mergePetition(intoId)",
            token: w.staff.clone(),
            mutation: MERGE,
            vars: Box::new({
                let item = item.clone();
                move |id| json!({ "id": item, "into": id })
            }),
            out_of_scope: other_item.clone(),
            unknown: json!(unknown(NodeKind::Petition)),
            code: "BAD_USER_INPUT",
            probe: ITEM,
            probe_vars: json!({ "id": item }),
        },
        Case {
            name: "forwardPetition(leadDepartmentId)",
            token: w.staff.clone(),
            mutation: forward,
            vars: Box::new({
                let item = item.clone();
                move |id| json!({ "id": item, "lead": id, "assist": [] })
            }),
            out_of_scope: foreign_department.clone(),
            unknown: unknown_department.clone(),
            code: "BAD_USER_INPUT",
            probe: ITEM,
            probe_vars: json!({ "id": item }),
        },
        Case {
            name: "forwardPetition(assistDepartmentIds)",
            token: w.staff.clone(),
            mutation: forward,
            vars: Box::new({
                let (item, lead) = (item.clone(), jiaotong.clone());
                move |id| json!({ "id": item, "lead": lead, "assist": [id] })
            }),
            out_of_scope: foreign_department.clone(),
            unknown: unknown_department.clone(),
            code: "BAD_USER_INPUT",
            probe: "query($id: ID!) { node(id: $id) { ... on Petition { state version departments { department { id } role status } } } }",
            probe_vars: json!({ "id": item }),
        },
        Case {
            name: "createStation(parentId) by a township supervisor",
            token: township_supervisor.clone(),
            mutation: "mutation($t: ID!, $p: ID) { createStation(input: { code: \"scope-post\", name: \"范围测试服务岗\", kind: SERVICE_POST, townshipId: $t, parentId: $p }) { id } }",
            vars: Box::new({
                let t = w.binhe_township.clone();
                move |id| json!({ "t": t, "p": id })
            }),
            out_of_scope: w.other_station.clone(),
            unknown: json!(unknown(NodeKind::Station)),
            code: "BAD_USER_INPUT",
            probe: station_count,
            probe_vars: json!({}),
        },
        Case {
            name: "createLiaison(gridId)",
            token: w.staff.clone(),
            mutation: "mutation($s: ID!, $g: ID) { createLiaison(input: { stationId: $s, gridId: $g, name: \"王网格员\", kind: GRID_WORKER }) { name } }",
            vars: Box::new({
                let s = w.binhe.clone();
                move |id| json!({ "s": s, "g": id })
            }),
            out_of_scope: foreign_grid.clone(),
            unknown: json!(unknown(NodeKind::Grid)),
            code: "BAD_USER_INPUT",
            probe: "query($s: ID!) { node(id: $s) { ... on Station { liaisons { totalCount } } } }",
            probe_vars: json!({ "s": w.binhe }),
        },
        Case {
            name: "linkDeputyGrid(deputyId)",
            token: w.staff.clone(),
            mutation: "mutation($d: ID!, $g: ID!) { linkDeputyGrid(deputyId: $d, gridId: $g) { id } }",
            vars: Box::new({
                let g = binhe_grid.clone();
                move |id| json!({ "d": id, "g": g })
            }),
            out_of_scope: resident_elsewhere.clone(),
            unknown: json!(unknown(NodeKind::Deputy)),
            code: "BAD_USER_INPUT",
            probe: "query($g: ID!) { node(id: $g) { ... on Grid { deputies { totalCount } } } }",
            probe_vars: json!({ "g": binhe_grid }),
        },
        Case {
            name: "submitSuggestion(stationId) by a deputy",
            token: deputy.clone(),
            mutation: "mutation($d: ID!, $s: ID) { submitSuggestion(title: \"增设路灯\", content: \"建议在村口增设太阳能路灯。\", departmentId: $d, stationId: $s) { id } }",
            vars: Box::new({
                let d = jiaotong.clone();
                move |id| json!({ "d": d, "s": id })
            }),
            out_of_scope: w.other_station.clone(),
            unknown: json!(unknown(NodeKind::Station)),
            code: "BAD_USER_INPUT",
            probe: "{ suggestions(all: true) { totalCount } }",
            probe_vars: json!({}),
        },
        // Main ids of records not everyone sees: NOT_FOUND for both.
        Case {
            name: "answerSuggestion(id) by another department's handler",
            token: handler.clone(),
            mutation: "mutation($id: ID!) { answerSuggestion(id: $id, adoption: ADOPTED, answer: \"已采纳\") { id } }",
            vars: Box::new(|id| json!({ "id": id })),
            out_of_scope: suggestion.clone(),
            unknown: json!(unknown(NodeKind::Suggestion)),
            code: "NOT_FOUND",
            probe: "query($id: ID!) { node(id: $id) { ... on Suggestion { status answer } } }",
            probe_vars: json!({ "id": suggestion }),
        },
        Case {
            name: "registerPetition(id) on another station's item",
            token: w.staff.clone(),
            mutation: REGISTER,
            vars: Box::new({
                let c = w.category.clone();
                move |id| json!({ "id": id, "c": c })
            }),
            out_of_scope: other_item.clone(),
            unknown: json!(unknown(NodeKind::Petition)),
            code: "NOT_FOUND",
            probe: ITEM,
            probe_vars: json!({ "id": other_item }),
        },
    ];
    for (op, mutation) in [
        ("updateStory", "mutation($id: ID!) { updateStory(id: $id, input: { title: \"改写\", body: \"改写\" }) { id } }"),
        ("submitStory", "mutation($id: ID!) { submitStory(id: $id) { id } }"),
        ("publishStory", "mutation($id: ID!) { publishStory(id: $id) { id } }"),
        ("returnStory", "mutation($id: ID!) { returnStory(id: $id, reason: \"退回\") { id } }"),
    ] {
        cases.push(Case {
            name: op,
            token: w.staff.clone(),
            mutation,
            vars: Box::new(|id| json!({ "id": id })),
            out_of_scope: story.clone(),
            unknown: json!(unknown(NodeKind::Story)),
            code: "NOT_FOUND",
            probe: story_probe,
            probe_vars: json!({ "id": story }),
        });
    }
    cases
}

#[tokio::test]
async fn every_id_out_of_reach_answers_as_an_unknown_one_and_changes_nothing() {
    let w = World::new().await;
    let cases = cases(&w).await;
    let mut failures = Vec::new();
    for case in &cases {
        let probe = || {
            w.app
                .gql(case.probe)
                .vars(case.probe_vars.clone())
                .bearer(Some(&w.admin))
                .send()
        };
        let before = probe().await.data().clone();
        let send = |id: &Value| {
            w.app
                .gql(case.mutation)
                .vars((case.vars)(id))
                .bearer(Some(&case.token))
                .send()
        };
        let out_of_scope = send(&case.out_of_scope).await;
        let missing = send(&case.unknown).await;
        let after = probe().await.data().clone();
        let first = |r: &GqlResponse| r.body["errors"][0].clone();
        let (a, b) = (first(&out_of_scope), first(&missing));
        if out_of_scope.error_code() != Some(case.code)
            || a["message"] != b["message"]
            || a["extensions"] != b["extensions"]
        {
            failures.push(format!(
                "{}: out of scope {}\n    unknown {}",
                case.name, out_of_scope.body, missing.body
            ));
        }
        if before != after {
            failures.push(format!("{}: changed {before} -> {after}", case.name));
        }
    }
    assert!(cases.len() >= 15);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The scope rules refuse only what is out of reach: within it, each change goes through.
#[tokio::test]
async fn within_reach_the_same_changes_go_through() {
    let w = World::new().await;
    let app = &w.app;
    // Forwarding to the township department of the item's own township.
    let item = item_at(app, &w.citizen, &w.binhe).await;
    ok(
        app,
        &w.staff,
        REGISTER,
        json!({ "id": item, "c": w.category }),
    )
    .await;
    let own = w.township_department(&w.binhe_township);
    let forward = "mutation($id: ID!, $lead: ID!, $assist: [ID!]) { forwardPetition(id: $id, leadDepartmentId: $lead, assistDepartmentIds: $assist) { leadDepartment { id } } }";
    let r = ok(
        app,
        &w.staff,
        forward,
        json!({ "id": item, "lead": w.department("jiaotong"), "assist": [own] }),
    )
    .await;
    assert_eq!(
        r["forwardPetition"]["leadDepartment"]["id"],
        w.department("jiaotong")
    );

    // A parent station in the new station's township.
    let township_supervisor = account(
        app,
        "reach.township.supervisor",
        json!([{ "role": "SUPERVISOR", "townshipId": w.binhe_township }]),
        None,
    )
    .await;
    let r = ok(
        app,
        &township_supervisor,
        "mutation($t: ID!, $p: ID) { createStation(input: { code: \"reach-post\", name: \"范围内服务岗\", kind: SERVICE_POST, townshipId: $t, parentId: $p }) { parent { id } } }",
        json!({ "t": w.binhe_township, "p": w.binhe }),
    )
    .await;
    assert_eq!(r["createStation"]["parent"]["id"], w.binhe);

    // A suggestion through the deputy's own station.
    let deputy = app.token("deputy").await;
    let r = ok(
        app,
        &deputy,
        "mutation($d: ID!, $s: ID) { submitSuggestion(title: \"增设路灯\", content: \"建议在村口增设太阳能路灯。\", departmentId: $d, stationId: $s) { status } }",
        json!({ "d": w.department("jiaotong"), "s": w.binhe }),
    )
    .await;
    assert_eq!(r["submitSuggestion"]["status"], "SUBMITTED");
}
