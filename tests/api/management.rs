//! Managing the organisation (stations, grids, deputies, resident assignments, grid
//! links, liaisons, departments), pairings (三联结对, 包联) and the coverage report,
//! each within the actor's scope. Fixtures are built through the API on top of the
//! Heshun demo seed (accounts, townships, stations).
use serde_json::{json, Value};
use smart_npc::domain::node_id::NodeKind;

use crate::fixtures::{
    assert_bad_input, assert_code, binhe, station_elsewhere, township, unknown, PASSWORD,
};
use crate::helpers::{GqlResponse, TestApp};

// ------------------------------------------------------------------ helpers

const CREATE_STATION: &str = "mutation($i: CreateStationInput!) { createStation(input: $i) { id code name kind isBrand brandName feature address receptionHours township { id } parent { id } } }";

async fn create_station(app: &TestApp, token: &str, code: &str, township: &Value) -> Value {
    let r = app
        .gql(CREATE_STATION)
        .vars(json!({ "i": { "code": code, "name": format!("测试站{code}"), "kind": "SERVICE_POINT", "townshipId": township } }))
        .bearer(Some(token))
        .send()
        .await;
    r.data()["createStation"]["id"].clone()
}

const CREATE_DEPUTY: &str = "mutation($i: DeputyDetailsInput!) { createDeputy(input: $i) { id code name gender level isLeadingCadre termStatus isStandingCommitteeMember isStandingCommitteeLeader professionalField phone township { id } } }";

/// A county, first-term, grassroots deputy with `extra` attributes on top.
fn deputy_input(name: &str, extra: Value) -> Value {
    let mut input =
        json!({ "name": name, "gender": "FEMALE", "level": "COUNTY", "termStatus": "FIRST_TERM" });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    input
}

async fn create_deputy(app: &TestApp, admin: &str, name: &str, extra: Value) -> Value {
    let r = app
        .gql(CREATE_DEPUTY)
        .vars(json!({ "i": deputy_input(name, extra) }))
        .bearer(Some(admin))
        .send()
        .await;
    r.data()["createDeputy"]["id"].clone()
}

const ASSIGN: &str = "mutation($d: ID!, $s: ID!, $since: Date) { assignResidentDeputy(deputyId: $d, stationId: $s, since: $since) { id residentDeputies(first: 100) { edges { node { id } } } } }";
const END_ASSIGNMENT: &str = "mutation($d: ID!, $s: ID!, $until: Date) { endResidentAssignment(deputyId: $d, stationId: $s, until: $until) { id residentDeputies(first: 100) { edges { node { id } } } } }";
const CREATE_GRID: &str = "mutation($s: ID!, $n: String!, $desc: String) { createGrid(stationId: $s, name: $n, description: $desc) { id name description station { id } } }";
const LINK: &str = "mutation($d: ID!, $g: ID!) { linkDeputyGrid(deputyId: $d, gridId: $g) { id deputies { totalCount edges { node { id } } } } }";
const UNLINK: &str = "mutation($d: ID!, $g: ID!) { unlinkDeputyGrid(deputyId: $d, gridId: $g) }";

async fn create_grid(app: &TestApp, token: &str, station: &Value, name: &str) -> Value {
    let r = app
        .gql(CREATE_GRID)
        .vars(json!({ "s": station, "n": name }))
        .bearer(Some(token))
        .send()
        .await;
    r.data()["createGrid"]["id"].clone()
}

/// Creates an account with `roles` (and a deputy link) and signs it in.
async fn account(
    app: &TestApp,
    admin: &str,
    login: &str,
    roles: Value,
    deputy: Option<&Value>,
) -> String {
    let r = app
        .gql("mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }")
        .vars(json!({ "i": { "login": login, "displayName": login, "password": PASSWORD, "roles": roles, "deputyId": deputy } }))
        .bearer(Some(admin))
        .send()
        .await;
    r.data();
    let signed = app.sign_in(login, PASSWORD).await;
    signed.data()["signIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn ids(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect()
}

// ------------------------------------------------------------------ stations

#[tokio::test]
async fn admins_and_county_supervisors_create_stations_others_may_not() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let supervisor = app.token("supervisor").await;
    let yixing = township(&app, "yixing").await;
    let liyang = township(&app, "liyang").await;

    let parent = create_station(&app, &admin, "parent-pt", &yixing).await;
    let r = app
        .gql(CREATE_STATION)
        .vars(json!({ "i": {
            "code": " Yixing-Post_9 ", "name": "义兴测试服务岗", "kind": "SERVICE_POST",
            "townshipId": yixing, "parentId": parent, "brandName": "红色驿站",
            "feature": "代表接待", "address": "义兴镇1号", "receptionHours": "周一 9:00-12:00"
        } }))
        .bearer(Some(&admin))
        .send()
        .await;
    let station = &r.data()["createStation"];
    assert_eq!(
        station["code"], "yixing-post_9",
        "codes are trimmed and lowercased"
    );
    assert_eq!(station["name"], "义兴测试服务岗");
    assert_eq!(station["kind"], "SERVICE_POST");
    assert_eq!(
        station["isBrand"], true,
        "a brand name makes a brand station"
    );
    assert_eq!(station["brandName"], "红色驿站");
    assert_eq!(station["feature"], "代表接待");
    assert_eq!(station["address"], "义兴镇1号");
    assert_eq!(station["receptionHours"], "周一 9:00-12:00");
    assert_eq!(station["township"]["id"], yixing);
    assert_eq!(station["parent"]["id"], parent);

    // The demo supervisor is county-wide: any township.
    let r = app
        .gql(CREATE_STATION)
        .vars(json!({ "i": { "code": "liyang-pt", "name": "李阳测试服务点", "kind": "SERVICE_POINT", "townshipId": liyang } }))
        .bearer(Some(&supervisor))
        .send()
        .await;
    assert_eq!(r.data()["createStation"]["isBrand"], false);
    assert_eq!(r.data()["createStation"]["township"]["id"], liyang);

    // Who else is refused: `permissions.rs`. A refusal creates nothing.
    let vars = json!({ "i": { "code": "nope-pt", "name": "不该建的站", "kind": "SERVICE_POINT", "townshipId": liyang } });
    let staff = app.token("staff").await;
    let r = app
        .gql(CREATE_STATION)
        .vars(vars)
        .bearer(Some(&staff))
        .send()
        .await;
    assert_code(&r, "FORBIDDEN");
    let count = app
        .gql(r#"{ stations(name: "不该建的站") { totalCount } }"#)
        .send()
        .await;
    assert_eq!(count.data()["stations"]["totalCount"], 0);
}

#[tokio::test]
async fn township_supervisors_manage_stations_of_their_township_only() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let yixing = township(&app, "yixing").await;
    let liyang = township(&app, "liyang").await;
    let local = account(
        &app,
        &admin,
        "yixing.supervisor",
        json!([{ "role": "SUPERVISOR", "townshipId": yixing }]),
        None,
    )
    .await;

    let own = create_station(&app, &local, "yixing-own", &yixing).await;
    let r = app
        .gql(CREATE_STATION)
        .vars(json!({ "i": { "code": "liyang-no", "name": "李阳站", "kind": "SERVICE_POINT", "townshipId": liyang } }))
        .bearer(Some(&local))
        .send()
        .await;
    assert_code(&r, "FORBIDDEN");

    let update = "mutation($id: ID!, $i: UpdateStationInput!) { updateStation(id: $id, input: $i) { id feature } }";
    let r = app
        .gql(update)
        .vars(json!({ "id": own, "i": { "feature": "乡镇督办维护" } }))
        .bearer(Some(&local))
        .send()
        .await;
    assert_eq!(r.data()["updateStation"]["feature"], "乡镇督办维护");
    let elsewhere = create_station(&app, &admin, "liyang-adm", &liyang).await;
    let r = app
        .gql(update)
        .vars(json!({ "id": elsewhere, "i": { "feature": "越权" } }))
        .bearer(Some(&local))
        .send()
        .await;
    assert_code(&r, "FORBIDDEN");

    // Grids follow the station's township too.
    let r = app
        .gql(CREATE_GRID)
        .vars(json!({ "s": own, "n": "第一网格" }))
        .bearer(Some(&local))
        .send()
        .await;
    assert_eq!(r.data()["createGrid"]["station"]["id"], own);
    let r = app
        .gql(CREATE_GRID)
        .vars(json!({ "s": elsewhere, "n": "第一网格" }))
        .bearer(Some(&local))
        .send()
        .await;
    assert_code(&r, "FORBIDDEN");

    // Registering deputies is for admins and county supervisors.
    let r = app
        .gql(CREATE_DEPUTY)
        .vars(json!({ "i": deputy_input("乡镇代表", json!({ "townshipId": yixing })) }))
        .bearer(Some(&local))
        .send()
        .await;
    assert_code(&r, "FORBIDDEN");
}

#[tokio::test]
async fn malformed_station_input_is_bad_user_input_naming_the_field() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let yixing = township(&app, "yixing").await;
    let station_id = create_station(&app, &admin, "some-station", &yixing).await;
    let valid = json!({ "code": "ok-code", "name": "合格站名", "kind": "SERVICE_POINT", "townshipId": yixing });
    let cases: Vec<(&str, Value)> = vec![
        ("code", json!({ "code": "has space" })),
        ("code", json!({ "code": "x" })),
        ("code", json!({ "code": "站点" })),
        ("code", json!({ "code": "a".repeat(33) })),
        ("name", json!({ "name": "   " })),
        ("name", json!({ "name": "名".repeat(129) })),
        ("townshipId", json!({ "townshipId": station_id })),
        (
            "townshipId",
            json!({ "townshipId": unknown(NodeKind::Township) }),
        ),
        (
            "parentId",
            json!({ "parentId": unknown(NodeKind::Station) }),
        ),
        ("parentId", json!({ "parentId": yixing })),
        ("brandName", json!({ "brandName": "牌".repeat(65) })),
    ];
    for (field, patch) in cases {
        let mut input = valid.clone();
        for (k, v) in patch.as_object().unwrap() {
            input[k] = v.clone();
        }
        let r = app
            .gql(CREATE_STATION)
            .vars(json!({ "i": input }))
            .bearer(Some(&admin))
            .send()
            .await;
        assert_bad_input(&r, field);
    }
    let update =
        "mutation($id: ID!, $i: UpdateStationInput!) { updateStation(id: $id, input: $i) { id } }";
    let r = app
        .gql(update)
        .vars(json!({ "id": station_id, "i": { "name": " " } }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_bad_input(&r, "name");
    let r = app
        .gql(update)
        .vars(json!({ "id": unknown(NodeKind::Station), "i": { "feature": "x" } }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_code(&r, "NOT_FOUND");
}

#[tokio::test]
async fn duplicate_station_codes_and_names_conflict() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let yixing = township(&app, "yixing").await;
    let liyang = township(&app, "liyang").await;
    let create = |code: &str, name: &str, township: &Value| json!({ "i": { "code": code, "name": name, "kind": "SERVICE_POST", "townshipId": township } });
    let first = app
        .gql(CREATE_STATION)
        .vars(create("dup-a", "重名测试岗", &yixing))
        .bearer(Some(&admin))
        .send()
        .await;
    first.data();
    // The demo data's own code, in any case.
    let r = app
        .gql(CREATE_STATION)
        .vars(create("BINHE", "另一个站", &yixing))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_code(&r, "CONFLICT");
    let r = app
        .gql(CREATE_STATION)
        .vars(create("dup-a", "又一个站", &liyang))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_code(&r, "CONFLICT");
    let r = app
        .gql(CREATE_STATION)
        .vars(create("dup-b", "重名测试岗", &yixing))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_code(&r, "CONFLICT");
    // The same name in another township is fine.
    let r = app
        .gql(CREATE_STATION)
        .vars(create("dup-c", "重名测试岗", &liyang))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_eq!(r.data()["createStation"]["name"], "重名测试岗");
    // Renaming onto a taken name in the township conflicts as well.
    let second = create_station(&app, &admin, "dup-d", &yixing).await;
    let r = app
        .gql(
            "mutation($id: ID!) { updateStation(id: $id, input: { name: \"重名测试岗\" }) { id } }",
        )
        .vars(json!({ "id": second }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_code(&r, "CONFLICT");
}

#[tokio::test]
async fn staff_edit_their_own_station_and_no_other() {
    let app = TestApp::spawn_demo().await;
    let staff = app.token("staff").await;
    let (binhe_id, _) = binhe(&app).await;
    let (other, _) = station_elsewhere(&app).await;
    let update = "mutation($id: ID!, $i: UpdateStationInput!) { updateStation(id: $id, input: $i) { id name isBrand brandName address receptionHours feature } }";

    let before = app
        .gql("query($id: ID!) { node(id: $id) { ... on Station { name brandName feature } } }")
        .vars(json!({ "id": binhe_id }))
        .send()
        .await;
    let before = before.data()["node"].clone();
    assert_eq!(before["brandName"], "幸福驿站");

    let r = app
        .gql(update)
        .vars(json!({ "id": binhe_id, "i": { "address": "滨河社区服务中心二楼", "receptionHours": "每周三 全天" } }))
        .bearer(Some(&staff))
        .send()
        .await;
    let s = &r.data()["updateStation"];
    assert_eq!(s["address"], "滨河社区服务中心二楼");
    assert_eq!(s["receptionHours"], "每周三 全天");
    assert_eq!(s["name"], before["name"], "omitted fields stay");
    assert_eq!(s["feature"], before["feature"]);
    assert_eq!(s["brandName"], "幸福驿站");

    // An empty string clears an optional field; clearing the brand ends brand status.
    let r = app
        .gql(update)
        .vars(json!({ "id": binhe_id, "i": { "brandName": "", "address": "" } }))
        .bearer(Some(&staff))
        .send()
        .await;
    let s = &r.data()["updateStation"];
    assert_eq!(s["isBrand"], false);
    assert!(s["brandName"].is_null());
    assert!(s["address"].is_null());
    assert_eq!(s["receptionHours"], "每周三 全天");

    let r = app
        .gql(update)
        .vars(json!({ "id": other, "i": { "address": "越权修改" } }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_code(&r, "FORBIDDEN");
    // Other roles and anonymous callers: `permissions.rs`.
    let after = app
        .gql("query($id: ID!) { node(id: $id) { ... on Station { address } } }")
        .vars(json!({ "id": other }))
        .send()
        .await;
    assert_ne!(after.data()["node"]["address"], "越权修改");
}

// ------------------------------------------------------------------ grids, liaisons

#[tokio::test]
async fn staff_add_grids_to_their_station_names_unique_per_station() {
    let app = TestApp::spawn_demo().await;
    let staff = app.token("staff").await;
    let admin = app.token("admin").await;
    let (binhe_id, _) = binhe(&app).await;
    let (other, _) = station_elsewhere(&app).await;

    let r = app
        .gql(CREATE_GRID)
        .vars(json!({ "s": binhe_id, "n": " 第九网格 ", "desc": "滨河新区" }))
        .bearer(Some(&staff))
        .send()
        .await;
    let grid = &r.data()["createGrid"];
    assert_eq!(grid["name"], "第九网格");
    assert_eq!(grid["description"], "滨河新区");
    assert_eq!(grid["station"]["id"], binhe_id);
    let count = app
        .gql("query($id: ID!) { node(id: $id) { ... on Station { grids(first: 50) { totalCount } } } }")
        .vars(json!({ "id": binhe_id }))
        .send()
        .await;
    assert_eq!(
        count.data()["node"]["grids"]["totalCount"],
        9,
        "8 seeded + 1"
    );

    let r = app
        .gql(CREATE_GRID)
        .vars(json!({ "s": binhe_id, "n": "第九网格" }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_code(&r, "CONFLICT");
    // The same name at another station is another grid.
    let r = app
        .gql(CREATE_GRID)
        .vars(json!({ "s": other, "n": "第九网格" }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_eq!(r.data()["createGrid"]["station"]["id"], other);

    let r = app
        .gql(CREATE_GRID)
        .vars(json!({ "s": other, "n": "第十网格" }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_code(&r, "FORBIDDEN");
    let r = app
        .gql(CREATE_GRID)
        .vars(json!({ "s": binhe_id, "n": "  " }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_bad_input(&r, "name");
    let r = app
        .gql(CREATE_GRID)
        .vars(json!({ "s": unknown(NodeKind::Station), "n": "第十网格" }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_bad_input(&r, "stationId");
}

#[tokio::test]
async fn staff_add_liaisons_to_their_station_with_a_grid_of_it() {
    let app = TestApp::spawn_demo().await;
    let staff = app.token("staff").await;
    let admin = app.token("admin").await;
    let citizen = app.token("citizen").await;
    let (binhe_id, _) = binhe(&app).await;
    let (other, _) = station_elsewhere(&app).await;
    let grid = create_grid(&app, &staff, &binhe_id, "联络员网格").await;
    let foreign_grid = create_grid(&app, &admin, &other, "外站网格").await;
    let create = "mutation($i: CreateLiaisonInput!) { createLiaison(input: $i) { name kind phone grid { id } } }";

    let r = app
        .gql(create)
        .vars(json!({ "i": { "stationId": binhe_id, "gridId": grid, "name": " 李网格员 ", "kind": "GRID_WORKER", "phone": "138 1234 5678" } }))
        .bearer(Some(&staff))
        .send()
        .await;
    let liaison = &r.data()["createLiaison"];
    assert_eq!(liaison["name"], "李网格员");
    assert_eq!(liaison["kind"], "GRID_WORKER");
    assert_eq!(liaison["phone"], "13812345678");
    assert_eq!(liaison["grid"]["id"], grid);

    let list = "query($id: ID!) { node(id: $id) { ... on Station { liaisons(first: 100) { edges { node { name phone } } } } } }";
    let find = |r: &GqlResponse| -> Value {
        r.data()["node"]["liaisons"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["name"] == "李网格员")
            .expect("listed")["node"]["phone"]
            .clone()
    };
    let r = app
        .gql(list)
        .vars(json!({ "id": binhe_id }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_eq!(find(&r), "13812345678");
    let r = app
        .gql(list)
        .vars(json!({ "id": binhe_id }))
        .bearer(Some(&citizen))
        .send()
        .await;
    assert_eq!(find(&r), "138****5678");
    let r = app.gql(list).vars(json!({ "id": binhe_id })).send().await;
    assert_eq!(find(&r), "138****5678");

    let r = app
        .gql(create)
        .vars(json!({ "i": { "stationId": binhe_id, "gridId": foreign_grid, "name": "王志愿者", "kind": "VOLUNTEER" } }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_bad_input(&r, "gridId");
    let r = app
        .gql(create)
        .vars(json!({ "i": { "stationId": binhe_id, "name": " ", "kind": "VOLUNTEER" } }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_bad_input(&r, "name");
    let r = app
        .gql(create)
        .vars(json!({ "i": { "stationId": binhe_id, "name": "王志愿者", "kind": "VOLUNTEER", "phone": "12345" } }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_bad_input(&r, "phone");
    let r = app
        .gql(create)
        .vars(json!({ "i": { "stationId": other, "name": "王志愿者", "kind": "VOLUNTEER" } }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_code(&r, "FORBIDDEN");
}

#[tokio::test]
async fn supervisors_of_the_station_township_see_liaison_phones() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let staff = app.token("staff").await;
    let (binhe_id, binhe_township) = binhe(&app).await;
    let local = account(
        &app,
        &admin,
        "binhe.supervisor",
        json!([{ "role": "SUPERVISOR", "townshipId": binhe_township }]),
        None,
    )
    .await;
    app.gql("mutation($i: CreateLiaisonInput!) { createLiaison(input: $i) { name } }")
        .vars(json!({ "i": { "stationId": binhe_id, "name": "周志愿者", "kind": "VOLUNTEER", "phone": "13812340000" } }))
        .bearer(Some(&staff))
        .send()
        .await
        .data();
    let r = app
        .gql("query($id: ID!) { node(id: $id) { ... on Station { liaisons(first: 100) { edges { node { name phone } } } } } }")
        .vars(json!({ "id": binhe_id }))
        .bearer(Some(&local))
        .send()
        .await;
    let phone = r.data()["node"]["liaisons"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["name"] == "周志愿者")
        .expect("listed")["node"]["phone"]
        .clone();
    assert_eq!(phone, "13812340000");
}

// ------------------------------------------------------------------ departments

#[tokio::test]
async fn departments_are_created_and_validated() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let yixing = township(&app, "yixing").await;
    let create = "mutation($c: String!, $n: String!, $l: DepartmentLevel!, $t: ID) { createDepartment(code: $c, name: $n, level: $l, townshipId: $t) { id code name level township { id } } }";

    let r = app
        .gql(create)
        .vars(json!({ "c": "Test-Dept", "n": "和顺县测试局", "l": "COUNTY" }))
        .bearer(Some(&admin))
        .send()
        .await;
    let d = &r.data()["createDepartment"];
    assert_eq!(d["code"], "test-dept");
    assert_eq!(d["level"], "COUNTY");
    assert!(d["township"].is_null());
    let r = app
        .gql(create)
        .vars(json!({ "c": "yixing-office", "n": "义兴镇测试办", "l": "TOWNSHIP", "t": yixing }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_eq!(r.data()["createDepartment"]["township"]["id"], yixing);

    for (vars, field) in [
        (
            json!({ "c": "t-one", "n": "乡镇部门一", "l": "TOWNSHIP" }),
            "townshipId",
        ),
        (
            json!({ "c": "t-two", "n": "县级部门二", "l": "COUNTY", "t": yixing }),
            "townshipId",
        ),
        (
            json!({ "c": "t-three", "n": "乡镇部门三", "l": "TOWNSHIP", "t": unknown(NodeKind::Township) }),
            "townshipId",
        ),
        (
            json!({ "c": "bad code", "n": "县级部门四", "l": "COUNTY" }),
            "code",
        ),
        (json!({ "c": "t-five", "n": " ", "l": "COUNTY" }), "name"),
    ] {
        let r = app.gql(create).vars(vars).bearer(Some(&admin)).send().await;
        assert_bad_input(&r, field);
    }
    // Duplicates: the code (also the seeded 交通运输局's), or the name.
    for vars in [
        json!({ "c": "test-dept", "n": "另一个局", "l": "COUNTY" }),
        json!({ "c": "jiaotong", "n": "又一个局", "l": "COUNTY" }),
        json!({ "c": "other-dept", "n": "和顺县测试局", "l": "COUNTY" }),
    ] {
        let r = app.gql(create).vars(vars).bearer(Some(&admin)).send().await;
        assert_code(&r, "CONFLICT");
    }
    // Everyone else is refused: `permissions.rs`.
}

// ------------------------------------------------------------------ deputies

#[tokio::test]
async fn deputies_are_registered_by_admins_and_county_supervisors() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let supervisor = app.token("supervisor").await;
    let yixing = township(&app, "yixing").await;

    let input = deputy_input(
        " 赵新代表 ",
        json!({ "level": "TOWNSHIP", "townshipId": yixing, "isLeadingCadre": true, "termStatus": "RE_ELECTED",
                "professionalField": "农业", "phone": "+86 139-1234-0001" }),
    );
    let r = app
        .gql(CREATE_DEPUTY)
        .vars(json!({ "i": input }))
        .bearer(Some(&admin))
        .send()
        .await;
    let d = r.data()["createDeputy"].clone();
    assert_eq!(d["name"], "赵新代表");
    assert_eq!(d["gender"], "FEMALE");
    assert_eq!(d["level"], "TOWNSHIP");
    assert_eq!(d["isLeadingCadre"], true);
    assert_eq!(d["termStatus"], "RE_ELECTED");
    assert_eq!(d["isStandingCommitteeMember"], false);
    assert_eq!(d["professionalField"], "农业");
    assert_eq!(d["phone"], "13912340001");
    assert_eq!(d["township"]["id"], yixing);
    let code = d["code"].as_str().unwrap();
    assert_eq!(code.len(), 8, "{code}");
    let found = app
        .gql("query($c: String!) { deputyByCode(code: $c) { id } }")
        .vars(json!({ "c": code }))
        .send()
        .await;
    assert_eq!(found.data()["deputyByCode"]["id"], d["id"]);

    let r = app
        .gql(CREATE_DEPUTY)
        .vars(json!({ "i": deputy_input("钱常委", json!({ "isStandingCommitteeMember": true })) }))
        .bearer(Some(&supervisor))
        .send()
        .await;
    assert_eq!(r.data()["createDeputy"]["isStandingCommitteeMember"], true);
    assert_ne!(r.data()["createDeputy"]["code"], d["code"]);

    // Who else is refused: `permissions.rs`. A refusal creates nothing.
    let staff = app.token("staff").await;
    let r = app
        .gql(CREATE_DEPUTY)
        .vars(json!({ "i": deputy_input("越权代表", json!({})) }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_code(&r, "FORBIDDEN");
    let r = app
        .gql(CREATE_DEPUTY)
        .vars(json!({ "i": deputy_input("匿名代表", json!({})) }))
        .send()
        .await;
    assert_code(&r, "UNAUTHENTICATED");
    let count = app
        .gql(r#"{ a: deputies(filter: {name: "越权代表"}) { totalCount } b: deputies(filter: {name: "匿名代表"}) { totalCount } }"#)
        .send()
        .await;
    assert_eq!(count.data()["a"]["totalCount"], 0);
    assert_eq!(count.data()["b"]["totalCount"], 0);
}

#[tokio::test]
async fn malformed_deputy_details_are_bad_user_input_naming_the_field() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let yixing = township(&app, "yixing").await;
    for (field, extra) in [
        ("name", json!({ "name": "  " })),
        ("name", json!({ "name": "名".repeat(65) })),
        // A leader is also a member.
        (
            "isStandingCommitteeMember",
            json!({ "isStandingCommitteeLeader": true }),
        ),
        // Standing-committee members are county deputies.
        (
            "level",
            json!({ "isStandingCommitteeMember": true, "level": "TOWNSHIP" }),
        ),
        (
            "level",
            json!({ "isStandingCommitteeMember": true, "isStandingCommitteeLeader": true, "level": "PROVINCIAL" }),
        ),
        ("phone", json!({ "phone": "12345" })),
        (
            "townshipId",
            json!({ "townshipId": unknown(NodeKind::Township) }),
        ),
        (
            "townshipId",
            json!({ "townshipId": unknown(NodeKind::Station) }),
        ),
    ] {
        let r = app
            .gql(CREATE_DEPUTY)
            .vars(json!({ "i": deputy_input("校验代表", extra.clone()) }))
            .bearer(Some(&admin))
            .send()
            .await;
        assert_bad_input(&r, field);
    }
    // The same rules hold on update.
    let id = create_deputy(&app, &admin, "待更新代表", json!({ "townshipId": yixing })).await;
    let update =
        "mutation($id: ID!, $i: DeputyDetailsInput!) { updateDeputy(id: $id, input: $i) { id } }";
    let r = app
        .gql(update)
        .vars(json!({ "id": id, "i": deputy_input("待更新代表", json!({ "isStandingCommitteeLeader": true })) }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_bad_input(&r, "isStandingCommitteeMember");
    let r = app
        .gql(update)
        .vars(json!({ "id": unknown(NodeKind::Deputy), "i": deputy_input("无此人", json!({})) }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_code(&r, "NOT_FOUND");
}

#[tokio::test]
async fn updating_a_deputy_replaces_details_and_keeps_the_code() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let supervisor = app.token("supervisor").await;
    let yixing = township(&app, "yixing").await;
    let liyang = township(&app, "liyang").await;
    let created = app
        .gql(CREATE_DEPUTY)
        .vars(json!({ "i": deputy_input("孙代表", json!({ "townshipId": yixing, "occupation": "教师", "phone": "13900001111" })) }))
        .bearer(Some(&admin))
        .send()
        .await;
    let created = created.data()["createDeputy"].clone();
    let update = "mutation($id: ID!, $i: DeputyDetailsInput!) { updateDeputy(id: $id, input: $i) { id code name level termStatus isStandingCommitteeMember occupation phone township { id } } }";
    let r = app
        .gql(update)
        .vars(json!({ "id": created["id"], "i": deputy_input("孙代表(改)", json!({ "townshipId": liyang, "termStatus": "RE_ELECTED", "isStandingCommitteeMember": true })) }))
        .bearer(Some(&supervisor))
        .send()
        .await;
    let updated = &r.data()["updateDeputy"];
    assert_eq!(
        updated["code"], created["code"],
        "the public code never changes"
    );
    assert_eq!(updated["name"], "孙代表(改)");
    assert_eq!(updated["termStatus"], "RE_ELECTED");
    assert_eq!(updated["isStandingCommitteeMember"], true);
    assert_eq!(updated["township"]["id"], liyang);
    assert!(
        updated["occupation"].is_null(),
        "details are replaced, not merged"
    );
    assert!(updated["phone"].is_null());

    // Who else may not: `permissions.rs`.
}

// ------------------------------------------------------------------ resident deputies

#[tokio::test]
async fn staff_assign_and_end_resident_deputies_at_their_station_only() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let staff = app.token("staff").await;
    let (binhe_id, binhe_township) = binhe(&app).await;
    let (other, _) = station_elsewhere(&app).await;
    // Staff assign deputies of their station's township.
    let deputy = create_deputy(
        &app,
        &admin,
        "驻站新代表",
        json!({ "townshipId": binhe_township }),
    )
    .await;

    let r = app
        .gql(ASSIGN)
        .vars(json!({ "d": deputy, "s": binhe_id, "since": "2024-01-01" }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert!(ids(&r.data()["assignResidentDeputy"]["residentDeputies"]).contains(&deputy));
    let stations = app
        .gql("query($id: ID!) { node(id: $id) { ... on Deputy { stations { edges { node { id } } } } } }")
        .vars(json!({ "id": deputy }))
        .send()
        .await;
    assert_eq!(
        ids(&stations.data()["node"]["stations"]),
        vec![binhe_id.clone()]
    );
    let by_station = app
        .gql("query($s: ID!) { deputies(filter: {stationId: $s}, first: 100) { edges { node { id } } } }")
        .vars(json!({ "s": binhe_id }))
        .send()
        .await;
    assert!(ids(&by_station.data()["deputies"]).contains(&deputy));

    let r = app
        .gql(ASSIGN)
        .vars(json!({ "d": deputy, "s": binhe_id }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_code(&r, "CONFLICT");
    let r = app
        .gql(ASSIGN)
        .vars(json!({ "d": deputy, "s": other }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_code(&r, "FORBIDDEN");
    let r = app
        .gql(ASSIGN)
        .vars(json!({ "d": unknown(NodeKind::Deputy), "s": binhe_id }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_bad_input(&r, "deputyId");

    // Ending: not before it began; then kept as history, no longer current.
    let r = app
        .gql(END_ASSIGNMENT)
        .vars(json!({ "d": deputy, "s": binhe_id, "until": "2023-12-31" }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_bad_input(&r, "until");
    let r = app
        .gql(END_ASSIGNMENT)
        .vars(json!({ "d": deputy, "s": binhe_id, "until": "2024-06-30" }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert!(!ids(&r.data()["endResidentAssignment"]["residentDeputies"]).contains(&deputy));
    let stations = app
        .gql("query($id: ID!) { node(id: $id) { ... on Deputy { stations { totalCount } } } }")
        .vars(json!({ "id": deputy }))
        .send()
        .await;
    assert_eq!(stations.data()["node"]["stations"]["totalCount"], 0);
    let r = app
        .gql(END_ASSIGNMENT)
        .vars(json!({ "d": deputy, "s": binhe_id }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_code(&r, "NOT_FOUND");

    // Coming back reopens the assignment.
    let r = app
        .gql(ASSIGN)
        .vars(json!({ "d": deputy, "s": binhe_id, "since": "2024-09-01" }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert!(ids(&r.data()["assignResidentDeputy"]["residentDeputies"]).contains(&deputy));

    // The admin assigns anywhere; staff cannot end an assignment elsewhere.
    let r = app
        .gql(ASSIGN)
        .vars(json!({ "d": deputy, "s": other }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert!(ids(&r.data()["assignResidentDeputy"]["residentDeputies"]).contains(&deputy));
    let r = app
        .gql(END_ASSIGNMENT)
        .vars(json!({ "d": deputy, "s": other }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_code(&r, "FORBIDDEN");
}

#[tokio::test]
async fn inactive_deputies_cannot_be_assigned() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let staff = app.token("staff").await;
    let (binhe_id, binhe_township) = binhe(&app).await;
    // Of the station's township, so that only the inactivity stands in the way.
    let of_binhe = json!({ "townshipId": binhe_township });
    let deputy = create_deputy(&app, &admin, "离任代表", of_binhe.clone()).await;
    let r = app
        .gql("mutation($id: ID!, $i: DeputyDetailsInput!) { updateDeputy(id: $id, input: $i, active: false) { id } }")
        .vars(json!({ "id": deputy, "i": deputy_input("离任代表", of_binhe) }))
        .bearer(Some(&admin))
        .send()
        .await;
    r.data();
    let r = app
        .gql(ASSIGN)
        .vars(json!({ "d": deputy, "s": binhe_id }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_bad_input(&r, "deputyId");
    assert!(r.error_message().contains("not active"), "{}", r.body);
}

#[tokio::test]
async fn omitting_the_active_variable_keeps_the_argument_default() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let deputy = create_deputy(&app, &admin, "默认在任代表", json!({})).await;
    // GraphQL: a variable that is not provided leaves the argument at its default
    // (`active: Boolean! = true`), as if the argument were omitted.
    let r = app
        .gql("mutation($id: ID!, $i: DeputyDetailsInput!, $active: Boolean) { updateDeputy(id: $id, input: $i, active: $active) { id name } }")
        .vars(json!({ "id": deputy, "i": deputy_input("默认在任代表(改)", json!({})) }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_eq!(r.data()["updateDeputy"]["name"], "默认在任代表(改)");
}

#[tokio::test]
async fn resident_deputies_link_at_most_two_grids_of_their_station() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let staff = app.token("staff").await;
    let (binhe_id, binhe_township) = binhe(&app).await;
    let (other, _) = station_elsewhere(&app).await;
    let deputy = create_deputy(
        &app,
        &admin,
        "网格代表",
        json!({ "townshipId": binhe_township }),
    )
    .await;
    let g1 = create_grid(&app, &staff, &binhe_id, "测试网格一").await;
    let g2 = create_grid(&app, &staff, &binhe_id, "测试网格二").await;
    let g3 = create_grid(&app, &staff, &binhe_id, "测试网格三").await;
    let foreign = create_grid(&app, &admin, &other, "外站网格").await;

    // Not (yet) a resident deputy of the station.
    let r = app
        .gql(LINK)
        .vars(json!({ "d": deputy, "g": g1 }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_bad_input(&r, "deputyId");
    app.gql(ASSIGN)
        .vars(json!({ "d": deputy, "s": binhe_id }))
        .bearer(Some(&staff))
        .send()
        .await
        .data();

    let r = app
        .gql(LINK)
        .vars(json!({ "d": deputy, "g": g1 }))
        .bearer(Some(&staff))
        .send()
        .await;
    let grid = &r.data()["linkDeputyGrid"];
    assert_eq!(grid["id"], g1);
    assert_eq!(grid["deputies"]["totalCount"], 1);
    assert_eq!(ids(&grid["deputies"]), vec![deputy.clone()]);
    let r = app
        .gql(LINK)
        .vars(json!({ "d": deputy, "g": g1 }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_code(&r, "CONFLICT");
    let r = app
        .gql(LINK)
        .vars(json!({ "d": deputy, "g": g2 }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_eq!(r.data()["linkDeputyGrid"]["deputies"]["totalCount"], 1);
    // A third grid is one too many.
    let r = app
        .gql(LINK)
        .vars(json!({ "d": deputy, "g": g3 }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_bad_input(&r, "gridId");
    // A grid of a station where the deputy is not resident (as admin, who may).
    let r = app
        .gql(LINK)
        .vars(json!({ "d": deputy, "g": foreign }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_bad_input(&r, "deputyId");
    let r = app
        .gql(LINK)
        .vars(json!({ "d": deputy, "g": foreign }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_code(&r, "FORBIDDEN");
    let r = app
        .gql(LINK)
        .vars(json!({ "d": deputy, "g": unknown(NodeKind::Grid) }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_bad_input(&r, "gridId");

    // Unlinking frees a place.
    let r = app
        .gql(UNLINK)
        .vars(json!({ "d": deputy, "g": g2 }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_eq!(r.data()["unlinkDeputyGrid"], true);
    let r = app
        .gql(UNLINK)
        .vars(json!({ "d": deputy, "g": g2 }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_code(&r, "NOT_FOUND");
    let r = app
        .gql(LINK)
        .vars(json!({ "d": deputy, "g": g3 }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_eq!(
        ids(&r.data()["linkDeputyGrid"]["deputies"]),
        vec![deputy.clone()]
    );
    let g2_now = app
        .gql("query($id: ID!) { node(id: $id) { ... on Grid { deputies { totalCount } } } }")
        .vars(json!({ "id": g2 }))
        .send()
        .await;
    assert_eq!(g2_now.data()["node"]["deputies"]["totalCount"], 0);
    // Who else may not: `permissions.rs`.
}

#[tokio::test]
async fn a_deputy_who_moved_station_links_grids_of_the_new_station() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let yixing = township(&app, "yixing").await;
    let old = create_station(&app, &admin, "old-stn", &yixing).await;
    let new = create_station(&app, &admin, "new-stn", &yixing).await;
    let deputy = create_deputy(&app, &admin, "换站代表", json!({})).await;
    let old_grids = [
        create_grid(&app, &admin, &old, "旧网格一").await,
        create_grid(&app, &admin, &old, "旧网格二").await,
    ];
    let new_grid = create_grid(&app, &admin, &new, "新网格").await;
    app.gql(ASSIGN)
        .vars(json!({ "d": deputy, "s": old, "since": "2024-01-01" }))
        .bearer(Some(&admin))
        .send()
        .await
        .data();
    for g in &old_grids {
        app.gql(LINK)
            .vars(json!({ "d": deputy, "g": g }))
            .bearer(Some(&admin))
            .send()
            .await
            .data();
    }
    app.gql(END_ASSIGNMENT)
        .vars(json!({ "d": deputy, "s": old, "until": "2024-06-30" }))
        .bearer(Some(&admin))
        .send()
        .await
        .data();
    app.gql(ASSIGN)
        .vars(json!({ "d": deputy, "s": new, "since": "2024-07-01" }))
        .bearer(Some(&admin))
        .send()
        .await
        .data();
    // The deputy serves one station now and links none of its grids: one must be possible.
    let r = app
        .gql(LINK)
        .vars(json!({ "d": deputy, "g": new_grid }))
        .bearer(Some(&admin))
        .send()
        .await;
    assert_eq!(
        ids(&r.data()["linkDeputyGrid"]["deputies"]),
        vec![deputy.clone()]
    );
}

// ------------------------------------------------------------------ pairings

const CREATE_PAIRING: &str = "mutation($i: CreatePairingInput!) { createPairing(input: $i) { id kind senior { id } junior { id } township { id } startedOn endedOn active note } }";
const END_PAIRING: &str = "mutation($id: ID!, $on: Date) { endPairing(id: $id, endedOn: $on) { id kind endedOn active } }";

async fn pair(app: &TestApp, token: &str, input: Value) -> GqlResponse {
    app.gql(CREATE_PAIRING)
        .vars(json!({ "i": input }))
        .bearer(Some(token))
        .send()
        .await
}

/// Deputies with exactly the attributes each pairing kind looks at.
struct Cast {
    /// 领导干部代表 (county, first term).
    cadre: Value,
    /// 基层代表: county, first term, not a leading cadre, no committee role.
    grassroots: Value,
    /// 连任代表 (grassroots, county).
    reelected: Value,
    /// 省级人大代表 (grassroots, first term).
    provincial: Value,
    /// 市级人大代表.
    municipal: Value,
    /// 乡级人大代表.
    township_level: Value,
    /// 常委会组成人员 (county).
    member: Value,
    /// 常委会领导 (a member too, county, a leading cadre).
    leader: Value,
}

async fn cast(app: &TestApp, admin: &str) -> Cast {
    Cast {
        cadre: create_deputy(app, admin, "领导干部代表", json!({ "isLeadingCadre": true })).await,
        grassroots: create_deputy(app, admin, "基层代表", json!({})).await,
        reelected: create_deputy(app, admin, "连任代表", json!({ "termStatus": "RE_ELECTED" })).await,
        provincial: create_deputy(app, admin, "省人大代表", json!({ "level": "PROVINCIAL" })).await,
        municipal: create_deputy(app, admin, "市人大代表", json!({ "level": "MUNICIPAL" })).await,
        township_level: create_deputy(app, admin, "乡人大代表", json!({ "level": "TOWNSHIP" })).await,
        member: create_deputy(app, admin, "常委会委员", json!({ "isStandingCommitteeMember": true })).await,
        leader: create_deputy(
            app,
            admin,
            "常委会副主任",
            json!({ "isStandingCommitteeMember": true, "isStandingCommitteeLeader": true, "isLeadingCadre": true }),
        )
        .await,
    }
}

#[tokio::test]
async fn each_pairing_kind_pairs_deputies_whose_attributes_fit() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let supervisor = app.token("supervisor").await;
    let c = cast(&app, &admin).await;
    let yixing = township(&app, "yixing").await;

    for (kind, senior, junior) in [
        ("LEADER_GRASSROOTS", &c.cadre, &c.grassroots),
        ("REELECTED_FIRST_TERM", &c.reelected, &c.grassroots),
        ("UPPER_LOWER", &c.provincial, &c.grassroots),
        ("UPPER_LOWER", &c.municipal, &c.township_level),
        ("SC_MEMBER_GRASSROOTS", &c.member, &c.grassroots),
    ] {
        let r = pair(
            &app,
            &supervisor,
            json!({ "kind": kind, "seniorDeputyId": senior, "juniorDeputyId": junior, "startedOn": "2024-03-01", "note": "三联结对" }),
        )
        .await;
        let p = &r.data()["createPairing"];
        assert_eq!(p["kind"], kind);
        assert_eq!(&p["senior"]["id"], senior);
        assert_eq!(&p["junior"]["id"], junior);
        assert!(p["township"].is_null());
        assert_eq!(p["startedOn"], "2024-03-01");
        assert!(p["endedOn"].is_null());
        assert_eq!(p["active"], true);
        assert_eq!(p["note"], "三联结对");
    }
    let r = pair(
        &app,
        &admin,
        json!({ "kind": "SC_LEADER_TOWNSHIP", "seniorDeputyId": c.leader, "townshipId": yixing, "startedOn": "2024-03-01" }),
    )
    .await;
    let p = &r.data()["createPairing"];
    assert_eq!(p["kind"], "SC_LEADER_TOWNSHIP");
    assert_eq!(p["senior"]["id"], c.leader);
    assert!(p["junior"].is_null());
    assert_eq!(p["township"]["id"], yixing);

    // The grassroots deputy sees all four of their pairings; the list filters by kind.
    let r = app
        .gql("query($id: ID!) { node(id: $id) { ... on Deputy { pairings { totalCount edges { node { kind senior { id } } } } } } }")
        .vars(json!({ "id": c.grassroots }))
        .send()
        .await;
    assert_eq!(r.data()["node"]["pairings"]["totalCount"], 4);
    let r = app
        .gql("query($d: ID!) { pairings(kind: UPPER_LOWER, deputyId: $d) { totalCount edges { node { senior { id } } } } }")
        .vars(json!({ "d": c.grassroots }))
        .send()
        .await;
    assert_eq!(r.data()["pairings"]["totalCount"], 1);
    assert_eq!(
        r.data()["pairings"]["edges"][0]["node"]["senior"]["id"],
        c.provincial
    );
}

#[tokio::test]
async fn a_pairing_whose_kind_does_not_fit_is_bad_user_input() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let c = cast(&app, &admin).await;
    let yixing = township(&app, "yixing").await;
    let other_reelected = create_deputy(
        &app,
        &admin,
        "另一连任代表",
        json!({ "termStatus": "RE_ELECTED" }),
    )
    .await;
    let deputies = |kind: &str, senior: &Value, junior: &Value| json!({ "kind": kind, "seniorDeputyId": senior, "juniorDeputyId": junior });
    let cases: Vec<(Value, &str)> = vec![
        // Leading cadre ↔ grassroots.
        (
            deputies("LEADER_GRASSROOTS", &c.grassroots, &c.reelected),
            "seniorDeputyId",
        ),
        (
            deputies("LEADER_GRASSROOTS", &c.cadre, &c.leader),
            "juniorDeputyId",
        ),
        // Re-elected ↔ first term.
        (
            deputies("REELECTED_FIRST_TERM", &c.grassroots, &c.provincial),
            "seniorDeputyId",
        ),
        (
            deputies("REELECTED_FIRST_TERM", &c.reelected, &other_reelected),
            "juniorDeputyId",
        ),
        // Provincial or municipal ↔ county or township.
        (
            deputies("UPPER_LOWER", &c.grassroots, &c.township_level),
            "seniorDeputyId",
        ),
        (
            deputies("UPPER_LOWER", &c.provincial, &c.municipal),
            "juniorDeputyId",
        ),
        // Standing-committee member ↔ grassroots.
        (
            deputies("SC_MEMBER_GRASSROOTS", &c.cadre, &c.grassroots),
            "seniorDeputyId",
        ),
        (
            deputies("SC_MEMBER_GRASSROOTS", &c.member, &c.cadre),
            "juniorDeputyId",
        ),
        // Leader ↔ township.
        (
            json!({ "kind": "SC_LEADER_TOWNSHIP", "seniorDeputyId": c.member, "townshipId": yixing }),
            "seniorDeputyId",
        ),
        (
            json!({ "kind": "SC_LEADER_TOWNSHIP", "seniorDeputyId": c.leader }),
            "townshipId",
        ),
        (
            json!({ "kind": "SC_LEADER_TOWNSHIP", "seniorDeputyId": c.leader, "juniorDeputyId": c.grassroots }),
            "kind",
        ),
        (
            json!({ "kind": "SC_LEADER_TOWNSHIP", "seniorDeputyId": c.leader, "townshipId": unknown(NodeKind::Township) }),
            "townshipId",
        ),
        // The shape of the input.
        (
            json!({ "kind": "LEADER_GRASSROOTS", "seniorDeputyId": c.cadre }),
            "juniorDeputyId",
        ),
        (
            json!({ "kind": "LEADER_GRASSROOTS", "seniorDeputyId": c.cadre, "townshipId": yixing }),
            "kind",
        ),
        (
            json!({ "kind": "LEADER_GRASSROOTS", "seniorDeputyId": c.cadre, "juniorDeputyId": c.grassroots, "townshipId": yixing }),
            "townshipId",
        ),
        // Self-pairing, even where the deputy would fit both sides.
        (
            deputies("REELECTED_FIRST_TERM", &c.reelected, &c.reelected),
            "juniorDeputyId",
        ),
        (
            deputies("SC_MEMBER_GRASSROOTS", &c.member, &c.member),
            "juniorDeputyId",
        ),
        // Unknown or malformed deputies.
        (
            deputies(
                "LEADER_GRASSROOTS",
                &json!(unknown(NodeKind::Deputy)),
                &c.grassroots,
            ),
            "seniorDeputyId",
        ),
        (
            deputies(
                "LEADER_GRASSROOTS",
                &c.cadre,
                &json!(unknown(NodeKind::Deputy)),
            ),
            "juniorDeputyId",
        ),
        (
            deputies("LEADER_GRASSROOTS", &c.cadre, &yixing),
            "juniorDeputyId",
        ),
        (
            json!({ "kind": "LEADER_GRASSROOTS", "seniorDeputyId": c.cadre, "juniorDeputyId": c.grassroots, "note": "注".repeat(2001) }),
            "note",
        ),
    ];
    for (input, field) in cases {
        let r = pair(&app, &admin, input.clone()).await;
        assert_eq!(
            r.error_code(),
            Some("BAD_USER_INPUT"),
            "{input}: {}",
            r.body
        );
        assert_eq!(
            r.body["errors"][0]["extensions"]["field"], field,
            "{input}: {}",
            r.body
        );
    }
    // A leading cadre paired as a grassroots deputy: the message says which attribute.
    let r = pair(
        &app,
        &admin,
        deputies("LEADER_GRASSROOTS", &c.cadre, &c.leader),
    )
    .await;
    assert!(r.error_message().contains("grassroots"), "{}", r.body);

    // A deputy no longer in office is not paired.
    app.gql("mutation($id: ID!, $i: DeputyDetailsInput!) { updateDeputy(id: $id, input: $i, active: false) { id } }")
        .vars(json!({ "id": c.grassroots, "i": deputy_input("基层代表", json!({})) }))
        .bearer(Some(&admin))
        .send()
        .await
        .data();
    let r = pair(
        &app,
        &admin,
        deputies("LEADER_GRASSROOTS", &c.cadre, &c.grassroots),
    )
    .await;
    assert_bad_input(&r, "juniorDeputyId");

    let count = app
        .gql("query($d: ID!) { pairings(deputyId: $d, activeOnly: false) { totalCount } }")
        .vars(json!({ "d": c.cadre }))
        .send()
        .await;
    assert_eq!(
        count.data()["pairings"]["totalCount"],
        0,
        "nothing was created"
    );
}

#[tokio::test]
async fn a_duplicate_active_pairing_conflicts() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let c = cast(&app, &admin).await;
    let yixing = township(&app, "yixing").await;
    let input = json!({ "kind": "LEADER_GRASSROOTS", "seniorDeputyId": c.cadre, "juniorDeputyId": c.grassroots });
    pair(&app, &admin, input.clone()).await.data();
    let r = pair(&app, &admin, input).await;
    assert_code(&r, "CONFLICT");
    // Another kind between the same two deputies is another pairing.
    let r = pair(
        &app,
        &admin,
        json!({ "kind": "SC_MEMBER_GRASSROOTS", "seniorDeputyId": c.leader, "juniorDeputyId": c.grassroots }),
    )
    .await;
    assert_eq!(r.data()["createPairing"]["kind"], "SC_MEMBER_GRASSROOTS");

    let coverage =
        json!({ "kind": "SC_LEADER_TOWNSHIP", "seniorDeputyId": c.leader, "townshipId": yixing });
    pair(&app, &admin, coverage.clone()).await.data();
    let r = pair(&app, &admin, coverage).await;
    assert_code(&r, "CONFLICT");
}

#[tokio::test]
async fn ending_a_pairing_keeps_it_as_history_and_allows_pairing_again() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let supervisor = app.token("supervisor").await;
    let c = cast(&app, &admin).await;
    let input = json!({ "kind": "REELECTED_FIRST_TERM", "seniorDeputyId": c.reelected, "juniorDeputyId": c.grassroots, "startedOn": "2024-01-10" });
    let first = pair(&app, &supervisor, input.clone()).await.data()["createPairing"]["id"].clone();

    let r = app
        .gql(END_PAIRING)
        .vars(json!({ "id": first, "on": "2024-01-09" }))
        .bearer(Some(&supervisor))
        .send()
        .await;
    assert_bad_input(&r, "endedOn");
    let r = app
        .gql(END_PAIRING)
        .vars(json!({ "id": first, "on": "2024-06-30" }))
        .bearer(Some(&supervisor))
        .send()
        .await;
    let ended = &r.data()["endPairing"];
    assert_eq!(ended["id"], first);
    assert_eq!(ended["endedOn"], "2024-06-30");
    assert_eq!(ended["active"], false);
    let r = app
        .gql(END_PAIRING)
        .vars(json!({ "id": first }))
        .bearer(Some(&supervisor))
        .send()
        .await;
    assert_code(&r, "CONFLICT");

    let history = "query($d: ID!) { node(id: $d) { ... on Deputy { current: pairings { totalCount } all: pairings(activeOnly: false) { totalCount edges { node { id active endedOn } } } } } active: pairings(deputyId: $d) { totalCount } everything: pairings(deputyId: $d, activeOnly: false) { totalCount } }";
    let r = app
        .gql(history)
        .vars(json!({ "d": c.grassroots }))
        .send()
        .await;
    let d = r.data();
    assert_eq!(d["node"]["current"]["totalCount"], 0);
    assert_eq!(d["node"]["all"]["totalCount"], 1);
    assert_eq!(d["node"]["all"]["edges"][0]["node"]["id"], first);
    assert_eq!(d["node"]["all"]["edges"][0]["node"]["active"], false);
    assert_eq!(
        d["node"]["all"]["edges"][0]["node"]["endedOn"],
        "2024-06-30"
    );
    assert_eq!(d["active"]["totalCount"], 0);
    assert_eq!(d["everything"]["totalCount"], 1);

    // The same two deputies, the same kind: allowed again once the first ended.
    let second = pair(&app, &supervisor, input).await.data()["createPairing"]["id"].clone();
    assert_ne!(second, first);
    let r = app
        .gql(history)
        .vars(json!({ "d": c.grassroots }))
        .send()
        .await;
    let d = r.data();
    assert_eq!(d["node"]["current"]["totalCount"], 1);
    assert_eq!(d["node"]["all"]["totalCount"], 2);
    assert_eq!(d["active"]["totalCount"], 1);
    assert_eq!(d["everything"]["totalCount"], 2);
    let r = app
        .gql("query($id: ID!) { node(id: $id) { ... on Pairing { active endedOn } } }")
        .vars(json!({ "id": first }))
        .send()
        .await;
    assert_eq!(r.data()["node"]["active"], false);

    let r = app
        .gql(END_PAIRING)
        .vars(json!({ "id": unknown(NodeKind::Pairing) }))
        .bearer(Some(&supervisor))
        .send()
        .await;
    assert_code(&r, "NOT_FOUND");
}

#[tokio::test]
async fn a_refused_pairing_change_changes_nothing() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let c = cast(&app, &admin).await;
    let input = json!({ "kind": "LEADER_GRASSROOTS", "seniorDeputyId": c.cadre, "juniorDeputyId": c.grassroots });
    // Who is refused: `permissions.rs`. A refusal changes nothing.
    let staff = app.token("staff").await;
    assert_code(&pair(&app, &staff, input.clone()).await, "FORBIDDEN");
    let id = pair(&app, &admin, input).await.data()["createPairing"]["id"].clone();
    let r = app
        .gql(END_PAIRING)
        .vars(json!({ "id": id }))
        .bearer(Some(&staff))
        .send()
        .await;
    assert_code(&r, "FORBIDDEN");
    let still = app
        .gql("query($id: ID!) { node(id: $id) { ... on Pairing { active } } }")
        .vars(json!({ "id": id }))
        .send()
        .await;
    assert_eq!(still.data()["node"]["active"], true);
}

// ------------------------------------------------------------------ coverage report

const COVERAGE: &str = "query($y: Int!, $m: Int!) { coverageReport(year: $y, month: $m) { kind deputy { id } actual expected } }";

/// The report's gaps for `mine` only, sorted: (kind, deputy, actual, expected).
async fn gaps_for(
    app: &TestApp,
    token: &str,
    year: i32,
    month: u32,
    mine: &[&Value],
) -> Vec<(String, Value, u64, String)> {
    let r = app
        .gql(COVERAGE)
        .vars(json!({ "y": year, "m": month }))
        .bearer(Some(token))
        .send()
        .await;
    let mut gaps: Vec<(String, Value, u64, String)> = r.data()["coverageReport"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| mine.contains(&&g["deputy"]["id"]))
        .map(|g| {
            (
                g["kind"].as_str().unwrap().to_owned(),
                g["deputy"]["id"].clone(),
                g["actual"].as_u64().unwrap(),
                g["expected"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    gaps.sort_by(|a, b| (&a.0, a.1.to_string()).cmp(&(&b.0, b.1.to_string())));
    gaps
}

async fn log_visit(app: &TestApp, admin: &str, leader: &Value, station: Option<&Value>, on: &str) {
    let stations: Vec<&Value> = station.into_iter().collect();
    app.gql("mutation($i: LogActivityInput!) { logActivity(input: $i) { id } }")
        .vars(json!({ "i": { "kind": "INSPECTION", "title": "基层站点走访", "occurredOn": on, "participantIds": [leader], "stationIds": stations } }))
        .bearer(Some(admin))
        .send()
        .await
        .data();
}

#[tokio::test]
async fn the_coverage_report_lists_exactly_the_unmet_rules() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let supervisor = app.token("supervisor").await;
    let (binhe_id, _) = binhe(&app).await;
    let yixing = township(&app, "yixing").await;
    let liyang = township(&app, "liyang").await;

    let mut grassroots = Vec::new();
    for i in 0..9 {
        grassroots.push(create_deputy(&app, &admin, &format!("基层代表{i}"), json!({})).await);
    }
    let member = json!({ "isStandingCommitteeMember": true });
    let few = create_deputy(&app, &admin, "委员甲", member.clone()).await;
    let many = create_deputy(&app, &admin, "委员乙", member.clone()).await;
    let right = create_deputy(&app, &admin, "委员丙", member).await;
    let leader = json!({ "isStandingCommitteeMember": true, "isStandingCommitteeLeader": true, "isLeadingCadre": true });
    let lagging = create_deputy(&app, &admin, "副主任甲", leader.clone()).await;
    let diligent = create_deputy(&app, &admin, "副主任乙", leader).await;

    let sc_pair = |senior: &Value, junior: &Value| json!({ "kind": "SC_MEMBER_GRASSROOTS", "seniorDeputyId": senior, "juniorDeputyId": junior, "startedOn": "2024-01-01" });
    for (senior, n) in [(&few, 4), (&many, 9), (&right, 6)] {
        for junior in &grassroots[..n] {
            pair(&app, &admin, sc_pair(senior, junior)).await.data();
        }
    }
    // A fifth pairing that ended before March does not count in March.
    let ended = pair(&app, &admin, sc_pair(&few, &grassroots[4]))
        .await
        .data()["createPairing"]["id"]
        .clone();
    app.gql(END_PAIRING)
        .vars(json!({ "id": ended, "on": "2024-02-10" }))
        .bearer(Some(&admin))
        .send()
        .await
        .data();
    // Township coverage: one for the lagging leader, two for the diligent one.
    for (senior, township) in [
        (&lagging, &yixing),
        (&diligent, &yixing),
        (&diligent, &liyang),
    ] {
        pair(
            &app,
            &admin,
            json!({ "kind": "SC_LEADER_TOWNSHIP", "seniorDeputyId": senior, "townshipId": township, "startedOn": "2024-01-01" }),
        )
        .await
        .data();
    }
    // Station visits in March 2024: one for the lagging leader (the days around March
    // and an activity at no station do not count), two for the diligent one.
    log_visit(&app, &admin, &lagging, Some(&binhe_id), "2024-03-31").await;
    log_visit(&app, &admin, &lagging, Some(&binhe_id), "2024-02-29").await;
    log_visit(&app, &admin, &lagging, Some(&binhe_id), "2024-04-01").await;
    log_visit(&app, &admin, &lagging, None, "2024-03-15").await;
    log_visit(&app, &admin, &diligent, Some(&binhe_id), "2024-03-01").await;
    log_visit(&app, &admin, &diligent, Some(&binhe_id), "2024-03-20").await;

    let mine: Vec<&Value> = [&few, &many, &right, &lagging, &diligent]
        .into_iter()
        .chain(grassroots.iter())
        .collect();
    let mut expected = vec![
        (
            "LEADER_TOWNSHIPS".to_owned(),
            lagging.clone(),
            1,
            "2".to_owned(),
        ),
        (
            "LEADER_VISITS".to_owned(),
            lagging.clone(),
            1,
            ">= 2".to_owned(),
        ),
        (
            "MEMBER_TOO_FEW".to_owned(),
            few.clone(),
            4,
            "5-8".to_owned(),
        ),
        (
            "MEMBER_TOO_MANY".to_owned(),
            many.clone(),
            9,
            "5-8".to_owned(),
        ),
    ];
    expected.sort_by(|a, b| (&a.0, a.1.to_string()).cmp(&(&b.0, b.1.to_string())));
    assert_eq!(gaps_for(&app, &supervisor, 2024, 3, &mine).await, expected);

    // February: the fifth pairing was still active (5 → no gap for `few`), and no one
    // visited enough.
    let mut february = vec![
        (
            "LEADER_TOWNSHIPS".to_owned(),
            lagging.clone(),
            1,
            "2".to_owned(),
        ),
        (
            "LEADER_VISITS".to_owned(),
            lagging.clone(),
            1,
            ">= 2".to_owned(),
        ),
        (
            "LEADER_VISITS".to_owned(),
            diligent.clone(),
            0,
            ">= 2".to_owned(),
        ),
        (
            "MEMBER_TOO_MANY".to_owned(),
            many.clone(),
            9,
            "5-8".to_owned(),
        ),
    ];
    february.sort_by(|a, b| (&a.0, a.1.to_string()).cmp(&(&b.0, b.1.to_string())));
    assert_eq!(gaps_for(&app, &admin, 2024, 2, &mine).await, february);
}

#[tokio::test]
async fn a_coverage_report_month_out_of_range_is_bad_user_input() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    // Who else is refused: `permissions.rs`.
    for month in [0, 13] {
        let r = app
            .gql(COVERAGE)
            .vars(json!({ "y": 2024, "m": month }))
            .bearer(Some(&admin))
            .send()
            .await;
        assert_bad_input(&r, "month");
    }
}

#[tokio::test]
async fn a_grassroots_deputy_re_paired_within_the_month_counts_once() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let member = create_deputy(
        &app,
        &admin,
        "委员丁",
        json!({ "isStandingCommitteeMember": true }),
    )
    .await;
    let mut grassroots = Vec::new();
    for i in 0..8 {
        grassroots.push(create_deputy(&app, &admin, &format!("基层代表{i}"), json!({})).await);
    }
    let mut first = Value::Null;
    for junior in &grassroots {
        let r = pair(
            &app,
            &admin,
            json!({ "kind": "SC_MEMBER_GRASSROOTS", "seniorDeputyId": member, "juniorDeputyId": junior, "startedOn": "2024-01-01" }),
        )
        .await;
        if first.is_null() {
            first = r.data()["createPairing"]["id"].clone();
        }
    }
    // The first pairing ends on March 10 and the same two deputies pair again on March 11:
    // eight grassroots deputies throughout March, never more.
    app.gql(END_PAIRING)
        .vars(json!({ "id": first, "on": "2024-03-10" }))
        .bearer(Some(&admin))
        .send()
        .await
        .data();
    pair(
        &app,
        &admin,
        json!({ "kind": "SC_MEMBER_GRASSROOTS", "seniorDeputyId": member, "juniorDeputyId": grassroots[0], "startedOn": "2024-03-11" }),
    )
    .await
    .data();
    assert_eq!(gaps_for(&app, &admin, 2024, 3, &[&member]).await, vec![]);
}
