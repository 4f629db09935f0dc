//! Opinion items (社情民意, `Petition` in the API), issue #5: the closed loop with the right
//! role at each step; merge, decline, return, resolution on the spot, reopening, urging;
//! the supervision job (overdue, escalation, auto-close); forbidden transitions and
//! wrong roles; races; anonymous intake; personal data; queries; suggestions; the 2025
//! statistics of the report. Who may take each step: `permissions.rs`.
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{outbox_event, petition, petition_event, petition_rating};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};
use smart_npc::domain::node_id::{NodeId, NodeKind};

use crate::fixtures::{assert_bad_input, assert_code, PASSWORD};
use crate::helpers::{Fixture, GqlResponse, TestApp};

/// Appends fragment `P` (everything these tests look at) to a query.
macro_rules! with_item {
    ($q:literal) => {
        concat!(
            $q,
            " fragment P on Petition { id trackingCode title state version round escalationLevel \
             urgeCount isOverdue channel deadline registeredAt acceptedAt resolvedAt closedAt \
             satisfaction result declineReason mergedIntoId handlingLevel urgency attachments { id } \
             submitterName submitterPhone category { code } leadDepartment { code } \
             deputy { code } station { code } \
             departments { department { code } role status report returnReason } \
             timeline { action fromState toState actorRole department { code } note } }"
        )
    };
}

const SUBMIT: &str = with_item!("mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { trackingCode followSecret petition { ...P } } }");
pub(crate) const REGISTER: &str = with_item!("mutation($id: ID!, $v: Int, $c: ID!, $u: Urgency!, $h: HandlingLevel!) { registerPetition(id: $id, version: $v, categoryId: $c, urgency: $u, handlingLevel: $h) { ...P } }");
const DECLINE: &str = with_item!("mutation($id: ID!, $v: Int, $r: String!) { declinePetition(id: $id, version: $v, reason: $r) { ...P } }");
pub(crate) const MERGE: &str = with_item!("mutation($id: ID!, $v: Int, $into: ID!, $n: String) { mergePetition(id: $id, version: $v, intoId: $into, note: $n) { ...P } }");
const RESOLVE_ON_SPOT: &str = with_item!("mutation($id: ID!, $v: Int, $r: String!) { resolvePetitionOnSpot(id: $id, version: $v, result: $r) { ...P } }");
pub(crate) const FORWARD: &str = with_item!("mutation($id: ID!, $v: Int, $lead: ID!, $assist: [ID!]! = [], $n: String) { forwardPetition(id: $id, version: $v, leadDepartmentId: $lead, assistDepartmentIds: $assist, note: $n) { ...P } }");
const ESCALATE: &str = with_item!("mutation($id: ID!, $v: Int, $d: ID!, $n: String) { escalatePetition(id: $id, version: $v, departmentId: $d, note: $n) { ...P } }");
pub(crate) const ACCEPT: &str = with_item!("mutation($id: ID!, $v: Int, $n: String) { acceptPetition(id: $id, version: $v, note: $n) { ...P } }");
pub(crate) const RETURN: &str = with_item!("mutation($id: ID!, $v: Int, $r: String!) { returnPetition(id: $id, version: $v, reason: $r) { ...P } }");
const PROGRESS: &str = with_item!("mutation($id: ID!, $v: Int, $n: String!) { addPetitionProgress(id: $id, version: $v, note: $n) { ...P } }");
const REPORT_ASSIST: &str = with_item!("mutation($id: ID!, $v: Int, $r: String!) { reportAssistPart(id: $id, version: $v, report: $r) { ...P } }");
pub(crate) const COMPLETE: &str = with_item!("mutation($id: ID!, $v: Int, $r: String!) { completePetition(id: $id, version: $v, result: $r) { ...P } }");
pub(crate) const RATE: &str = with_item!("mutation($id: ID, $code: String, $secret: String, $s: Satisfaction!, $c: String) { ratePetition(id: $id, trackingCode: $code, followSecret: $secret, satisfaction: $s, comment: $c) { ...P } }");
pub(crate) const URGE: &str = with_item!("mutation($id: ID!, $v: Int, $n: String!, $d: DateTime!) { urgePetition(id: $id, version: $v, note: $n, deadline: $d) { ...P } }");
const ESCALATE_SUPERVISION: &str = with_item!("mutation($id: ID!, $v: Int, $n: String) { escalateSupervision(id: $id, version: $v, note: $n) { ...P } }");
const NODE: &str = with_item!("query($id: ID!) { node(id: $id) { ...P } }");
const TRACK: &str = with_item!("query($code: String!, $secret: String) { trackPetition(trackingCode: $code, followSecret: $secret) { status { trackingCode state channel isOverdue satisfaction } petition { ...P } } }");
pub(crate) const CYCLE: &str =
    "mutation { runSupervisionCycle { markedOverdue escalated autoClosed } }";
const STATS: &str = "query($from: Date!, $to: Date!, $t: ID, $s: ID, $d: ID, $c: ID) { statistics(from: $from, to: $to, townshipId: $t, stationId: $s, departmentId: $d, categoryId: $c) { itemsCollected itemsCompleted completionRate completedOnTime onTimeRate rated satisfactionRate averageHandlingHours overdueCount urgentCompleted suggestionsMade suggestionsAdopted byCategory { category { code } itemsCollected itemsCompleted } } }";
const SUBMIT_SUGGESTION: &str = "mutation($t: String!, $c: String!, $d: ID!, $s: ID) { submitSuggestion(title: $t, content: $c, departmentId: $d, stationId: $s) { id status adoption answer answeredAt deputy { code } department { code } } }";
const ANSWER_SUGGESTION: &str = "mutation($id: ID!, $a: Adoption!, $t: String!) { answerSuggestion(id: $id, adoption: $a, answer: $t) { id status adoption answer answeredAt } }";

/// A list query of opinion items with filter and paging arguments.
fn list_query(field: &str, args_declared: &str, args: &str) -> String {
    format!(
        "query($f: PetitionFilterInput, $first: Int, $after: String, $last: Int, $before: String{args_declared}) {{ \
         {field}(filter: $f, first: $first, after: $after, last: $last, before: $before{args}) {{ \
         totalCount nodes {{ id state submitterName submitterPhone }} \
         pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"
    )
}

fn ledger_query() -> String {
    list_query("stationLedger", ", $s: ID!", ", stationId: $s")
}
fn inbox_query() -> String {
    list_query("departmentInbox", ", $d: ID!", ", departmentId: $d")
}
fn supervised_query() -> String {
    list_query("petitions", ", $t: ID", ", townshipId: $t")
}

// ------------------------------------------------------------------ the world

pub(crate) struct Station {
    pub(crate) id: Value,
    pub(crate) township: Value,
}

/// The demo app with a token per demo role and the ids the tests refer to.
pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) admin: String,
    pub(crate) supervisor: String,
    pub(crate) staff: String,
    pub(crate) handler: String,
    pub(crate) deputy: String,
    pub(crate) citizen: String,
    /// The 滨河 resident deputy's public code (what the QR code carries).
    pub(crate) deputy_code: String,
    pub(crate) binhe: Value,
    stations: HashMap<String, Station>,
    pub(crate) departments: HashMap<String, Value>,
    categories: HashMap<String, Value>,
}

impl World {
    async fn new() -> World {
        World::on(TestApp::spawn_demo().await).await
    }

    /// The demo fixture with one setting overridden.
    async fn with_env(key: &str, value: &str) -> World {
        World::on(
            TestApp::builder()
                .fixture(Fixture::Demo)
                .env(key, value)
                .spawn()
                .await,
        )
        .await
    }

    pub(crate) async fn on(app: TestApp) -> World {
        let (admin, supervisor, staff, handler, deputy, citizen) = tokio::join!(
            app.token("admin"),
            app.token("supervisor"),
            app.token("staff"),
            app.token("handler"),
            app.token("deputy"),
            app.token("citizen"),
        );
        let r = app
            .gql("{ stations(first: 100) { totalCount nodes { id code township { id } } } departments(first: 100) { totalCount nodes { id code } } categories { id code } }")
            .send()
            .await;
        let data = r.data();
        assert!(data["stations"]["totalCount"].as_i64().unwrap() <= 100);
        let stations: HashMap<String, Station> = data["stations"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["code"].as_str().unwrap().to_owned(),
                    Station {
                        id: s["id"].clone(),
                        township: s["township"]["id"].clone(),
                    },
                )
            })
            .collect();
        let departments = data["departments"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["code"].as_str().unwrap().to_owned(), d["id"].clone()))
            .collect();
        let categories = data["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["code"].as_str().unwrap().to_owned(), c["id"].clone()))
            .collect();
        let me = app
            .gql("{ me { deputy { code } } }")
            .bearer(Some(&deputy))
            .send()
            .await;
        let deputy_code = me.data()["me"]["deputy"]["code"]
            .as_str()
            .unwrap()
            .to_owned();
        let binhe = stations["binhe"].id.clone();
        World {
            app,
            admin,
            supervisor,
            staff,
            handler,
            deputy,
            citizen,
            deputy_code,
            binhe,
            stations,
            departments,
            categories,
        }
    }

    pub(crate) fn dept(&self, code: &str) -> Value {
        self.departments[code].clone()
    }

    pub(crate) fn category(&self, code: &str) -> Value {
        self.categories[code].clone()
    }

    pub(crate) fn station(&self, code: &str) -> &Station {
        &self.stations[code]
    }

    /// A request, sent exactly once.
    async fn gql(&self, token: Option<&str>, query: &str, vars: Value) -> GqlResponse {
        self.app.gql(query).vars(vars).bearer(token).send().await
    }

    /// A request that must succeed: its top-level field.
    pub(crate) async fn ok(&self, token: Option<&str>, query: &str, vars: Value) -> Value {
        top(&self.gql(token, query, vars).await)
    }

    /// One workflow step on `item` at the version it was seen with.
    pub(crate) async fn try_step(
        &self,
        token: &str,
        query: &str,
        item: &Value,
        args: Value,
    ) -> GqlResponse {
        let mut vars = json!({ "id": item["id"], "v": item["version"] });
        for (k, v) in args.as_object().unwrap() {
            vars[k] = v.clone();
        }
        self.gql(Some(token), query, vars).await
    }

    /// A step that must succeed; every step moves the version on by exactly one.
    pub(crate) async fn step(&self, token: &str, query: &str, item: &Value, args: Value) -> Value {
        let r = self.try_step(token, query, item, args).await;
        let next = top(&r);
        assert_eq!(
            next["version"].as_i64(),
            Some(item["version"].as_i64().unwrap() + 1),
            "{}",
            r.body
        );
        next
    }

    pub(crate) async fn rate(
        &self,
        token: Option<&str>,
        item: &Value,
        satisfaction: &str,
    ) -> GqlResponse {
        self.gql(token, RATE, json!({ "id": item["id"], "s": satisfaction }))
            .await
    }

    /// The item through `node(id:)` as `token` sees it (null when hidden).
    pub(crate) async fn node(&self, token: Option<&str>, item: &Value) -> Value {
        self.ok(token, NODE, json!({ "id": item["id"] })).await
    }

    /// One supervision cycle.
    async fn cycle(&self) -> Value {
        self.ok(Some(&self.admin), CYCLE, json!({})).await
    }

    /// One cycle handles everything due (the demo year's backlog is far below its
    /// batch of 500): the next finds nothing to do.
    async fn cycles(&self) {
        self.cycle().await;
        assert_eq!(
            self.cycle().await,
            json!({ "markedOverdue": 0, "escalated": 0, "autoClosed": 0 }),
            "a second cycle still found work"
        );
    }

    pub(crate) async fn submit(&self, token: Option<&str>, input: Value) -> GqlResponse {
        self.gql(token, SUBMIT, json!({ "i": input })).await
    }

    /// The citizen's message to the 滨河 deputy, addressed by public code.
    fn citizen_input(&self) -> Value {
        json!({
            "title": "滨河路路灯不亮",
            "content": "滨河路北段多盏路灯损坏，夜间出行不便，请尽快维修。",
            "deputyCode": self.deputy_code,
            "submitterName": "李建国",
            "submitterPhone": "13812345678",
        })
    }

    /// An anonymous message to the 滨河 station.
    pub(crate) fn anonymous_input(&self) -> Value {
        json!({
            "title": "小区门口积水",
            "content": "滨河小区南门雨后积水严重，老人出行困难。",
            "stationId": self.binhe,
            "submitterName": "张三丰",
            "submitterPhone": "+86 139-1234-5678",
        })
    }

    pub(crate) async fn citizen_item(&self) -> Value {
        let r = self.submit(Some(&self.citizen), self.citizen_input()).await;
        r.data()["submitPetition"]["petition"].clone()
    }

    pub(crate) async fn register(&self, item: &Value, category: &str, urgency: &str) -> Value {
        let args = json!({ "c": self.category(category), "u": urgency, "h": "COUNTY" });
        self.step(&self.staff, REGISTER, item, args).await
    }

    pub(crate) async fn forward(&self, item: &Value, lead: &str, assist: &[&str]) -> Value {
        let assist: Vec<Value> = assist.iter().map(|c| self.dept(c)).collect();
        let args = json!({ "lead": self.dept(lead), "assist": assist });
        self.step(&self.staff, FORWARD, item, args).await
    }

    /// The citizen's item, registered (roads, NORMAL) and forwarded to the transport bureau.
    pub(crate) async fn forwarded(&self) -> Value {
        let item = self.citizen_item().await;
        let item = self.register(&item, "roads_transport", "NORMAL").await;
        self.forward(&item, "jiaotong", &[]).await
    }

    pub(crate) async fn accepted(&self) -> Value {
        let item = self.forwarded().await;
        self.step(&self.handler, ACCEPT, &item, json!({})).await
    }

    pub(crate) async fn resolved(&self) -> Value {
        let item = self.accepted().await;
        let args = json!({ "r": "已更换损坏路灯，恢复照明" });
        self.step(&self.handler, COMPLETE, &item, args).await
    }

    /// Creates an account with `roles` (and a deputy link) and signs it in.
    pub(crate) async fn account(
        &self,
        login: &str,
        roles: Value,
        deputy: Option<&Value>,
    ) -> String {
        let input = json!({ "login": login, "displayName": login, "password": PASSWORD, "roles": roles, "deputyId": deputy });
        self.ok(
            Some(&self.admin),
            "mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }",
            json!({ "i": input }),
        )
        .await;
        let signed = self.app.sign_in(login, PASSWORD).await;
        signed.data()["signIn"]["accessToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub(crate) async fn handler_of(&self, login: &str, department: &str) -> String {
        let roles =
            json!([{ "role": "DEPARTMENT_HANDLER", "departmentId": self.dept(department) }]);
        self.account(login, roles, None).await
    }

    /// A new deputy (createDeputy) with an account.
    async fn new_deputy(&self, login: &str, name: &str) -> String {
        let input = json!({ "name": name, "gender": "MALE", "level": "COUNTY", "termStatus": "FIRST_TERM" });
        let deputy = self
            .ok(
                Some(&self.admin),
                "mutation($i: DeputyDetailsInput!) { createDeputy(input: $i) { id } }",
                json!({ "i": input }),
            )
            .await;
        self.account(login, json!([{ "role": "DEPUTY" }]), Some(&deputy["id"]))
            .await
    }

    /// The account id behind a token.
    pub(crate) async fn account_id(&self, token: &str) -> i64 {
        let me = self.ok(Some(token), "{ me { id } }", json!({})).await;
        num(&me["id"])
    }
}

// ------------------------------------------------------------------ helpers

/// The only top-level field of a response that must have no errors.
pub(crate) fn top(r: &GqlResponse) -> Value {
    r.data()
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone()
}

/// The database id behind a global id.
pub(crate) fn num(id: &Value) -> i64 {
    NodeId::decode(id.as_str().unwrap()).unwrap().id
}

fn pid(item: &Value) -> i64 {
    num(&item["id"])
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .unwrap()
        .with_timezone(&Utc)
}

/// A whole second `days` from now (the API echoes it back exactly).
pub(crate) fn seconds_from_now(days: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp() + days * 86_400, 0).unwrap()
}

fn china_today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

/// Yesterday in China: a window that holds everything made during the test, even
/// across midnight, and nothing of the 2025 demo year.
fn since_yesterday() -> String {
    day(china_today() - Duration::days(1))
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The timeline as [action, fromState, toState, actorRole, department code].
fn steps(item: &Value) -> Vec<Value> {
    item["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            json!([
                e["action"],
                e["fromState"],
                e["toState"],
                e["actorRole"],
                e["department"]["code"]
            ])
        })
        .collect()
}

fn last_step(item: &Value) -> Value {
    steps(item).pop().unwrap()
}

fn actions(item: &Value) -> Vec<String> {
    item["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

/// The departments' parts as [code, role, status].
fn parts(item: &Value) -> Vec<Value> {
    item["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| json!([d["department"]["code"], d["role"], d["status"]]))
        .collect()
}

fn part(item: &Value, code: &str) -> Value {
    item["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["department"]["code"] == code)
        .unwrap_or_else(|| panic!("{code} takes no part: {item}"))
        .clone()
}

fn ids(connection: &Value) -> Vec<Value> {
    connection["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].clone())
        .collect()
}

async fn history(app: &TestApp, id: i64) -> Vec<petition_event::Model> {
    petition_event::Entity::find()
        .filter(petition_event::Column::PetitionId.eq(id))
        .order_by_asc(petition_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

/// Kinds of the outbox events of an item on one topic, in order.
async fn outbox_kinds(app: &TestApp, id: i64, topic: &str) -> Vec<String> {
    outbox_event::Entity::find()
        .filter(outbox_event::Column::PetitionId.eq(id))
        .filter(outbox_event::Column::Topic.eq(topic))
        .order_by_asc(outbox_event::Column::Seq)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

/// Sets one column of an item directly in the database (time travel for the job).
async fn set_column(
    app: &TestApp,
    id: i64,
    column: petition::Column,
    value: impl Into<sea_orm::Value>,
) {
    let done = petition::Entity::update_many()
        .col_expr(column, Expr::value(value))
        .filter(petition::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(done.rows_affected, 1);
}

async fn petition_count(app: &TestApp) -> u64 {
    petition::Entity::find().count(&app.db).await.unwrap()
}

// ------------------------------------------------------------------ 1. the loop

#[tokio::test]
async fn one_item_walks_the_whole_loop_with_the_right_role_at_each_step() {
    let w = World::new().await;
    let assist = w.handler_of("shuili_handler", "shuili").await;

    // 群众留言: the citizen writes to the 滨河 deputy by public code (as the QR code does).
    let r = w.submit(Some(&w.citizen), w.citizen_input()).await;
    let payload = r.data()["submitPetition"].clone();
    let item = payload["petition"].clone();
    assert_eq!(item["state"], "SUBMITTED");
    assert_eq!(item["version"], 1);
    assert_eq!(item["round"], 1);
    assert_eq!(item["channel"], "QR_CODE");
    assert_eq!(item["deputy"]["code"], w.deputy_code.as_str());
    assert_eq!(item["station"]["code"], "binhe");
    assert_eq!(payload["trackingCode"], item["trackingCode"]);
    let code = payload["trackingCode"].as_str().unwrap();
    assert!(code.starts_with("HS") && code.len() == 12, "{code}");
    assert!(payload["followSecret"].is_null(), "{payload}");

    // 站点建账: the station's staff registers it with category, urgency and level.
    let args = json!({ "c": w.category("roads_transport"), "u": "NORMAL", "h": "COUNTY" });
    let item = w.step(&w.staff, REGISTER, &item, args).await;
    assert_eq!(item["state"], "REGISTERED");
    assert_eq!(item["version"], 2);
    assert_eq!(item["category"]["code"], "roads_transport");
    assert_eq!(item["urgency"], "NORMAL");
    assert_eq!(item["handlingLevel"], "COUNTY");
    assert!(item["registeredAt"].is_string());

    // 转办: the transport bureau leads, the water bureau assists.
    let args = json!({ "lead": w.dept("jiaotong"), "assist": [w.dept("shuili")], "n": "请交通局主办、水利局协办" });
    let item = w.step(&w.staff, FORWARD, &item, args).await;
    assert_eq!(item["state"], "FORWARDED");
    assert_eq!(item["version"], 3);
    assert_eq!(item["leadDepartment"]["code"], "jiaotong");
    assert!(item["deadline"].is_null());
    assert_eq!(
        parts(&item),
        vec![
            json!(["jiaotong", "LEAD", "FORWARDED"]),
            json!(["shuili", "ASSIST", "FORWARDED"])
        ]
    );

    // 部门承接: the lead department accepts; NORMAL items have 15 days.
    let item = w.step(&w.handler, ACCEPT, &item, json!({})).await;
    assert_eq!(item["state"], "ACCEPTED");
    assert_eq!(item["version"], 4);
    assert_eq!(
        time(&item["deadline"]) - time(&item["acceptedAt"]),
        Duration::days(15)
    );
    assert!(!item["isOverdue"].as_bool().unwrap());
    assert_eq!(
        parts(&item),
        vec![
            json!(["jiaotong", "LEAD", "ACCEPTED"]),
            json!(["shuili", "ASSIST", "ACCEPTED"])
        ]
    );

    // 协办: the assisting department reports its part.
    let args = json!({ "r": "已配合完成沿河路段线路排查" });
    let item = w.step(&assist, REPORT_ASSIST, &item, args).await;
    assert_eq!(item["state"], "ACCEPTED");
    assert_eq!(item["version"], 5);
    assert_eq!(part(&item, "shuili")["status"], "REPORTED");
    assert_eq!(
        part(&item, "shuili")["report"],
        "已配合完成沿河路段线路排查"
    );
    assert_eq!(part(&item, "jiaotong")["status"], "ACCEPTED");

    // Progress, then the result (结果反馈).
    let args = json!({ "n": "已联系施工单位，计划三日内更换灯具" });
    let item = w.step(&w.handler, PROGRESS, &item, args).await;
    assert_eq!(item["state"], "ACCEPTED");
    assert_eq!(item["version"], 6);
    let args = json!({ "r": "已更换损坏路灯12盏，恢复正常照明" });
    let item = w.step(&w.handler, COMPLETE, &item, args).await;
    assert_eq!(item["state"], "RESOLVED");
    assert_eq!(item["version"], 7);
    assert_eq!(item["result"], "已更换损坏路灯12盏，恢复正常照明");
    assert!(item["resolvedAt"].is_string());
    assert_eq!(part(&item, "jiaotong")["status"], "REPORTED");

    // 满意度评价: the citizen is satisfied and the loop closes.
    let r = w
        .gql(
            Some(&w.citizen),
            RATE,
            json!({ "id": item["id"], "s": "SATISFIED", "c": "修得很快，谢谢" }),
        )
        .await;
    let item = top(&r);
    assert_eq!(item["state"], "CLOSED");
    assert_eq!(item["version"], 8);
    assert_eq!(item["satisfaction"], "SATISFIED");
    assert!(item["closedAt"].is_string());

    assert_eq!(
        steps(&item),
        vec![
            json!(["submit", null, "submitted", "submitter", null]),
            json!(["register", "submitted", "registered", "station_staff", null]),
            json!([
                "forward",
                "registered",
                "forwarded",
                "station_staff",
                "jiaotong"
            ]),
            json!([
                "accept",
                "forwarded",
                "accepted",
                "lead_handler",
                "jiaotong"
            ]),
            json!([
                "report_assist",
                "accepted",
                "accepted",
                "assist_handler",
                "shuili"
            ]),
            json!([
                "add_progress",
                "accepted",
                "accepted",
                "lead_handler",
                "jiaotong"
            ]),
            json!([
                "complete",
                "accepted",
                "resolved",
                "lead_handler",
                "jiaotong"
            ]),
            json!(["rate_satisfied", "resolved", "closed", "submitter", null]),
        ]
    );
    let notes: Vec<Value> = item["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["note"].clone())
        .collect();
    assert_eq!(
        notes,
        vec![
            Value::Null,
            Value::Null,
            json!("请交通局主办、水利局协办"),
            Value::Null,
            json!("已配合完成沿河路段线路排查"),
            json!("已联系施工单位，计划三日内更换灯具"),
            json!("已更换损坏路灯12盏，恢复正常照明"),
            json!("修得很快，谢谢"),
        ]
    );

    // Every step is one history row naming the account that took it.
    let id = pid(&item);
    let citizen = w.account_id(&w.citizen).await;
    let staff = w.account_id(&w.staff).await;
    let handler = w.account_id(&w.handler).await;
    let assist_id = w.account_id(&assist).await;
    let rows = history(&w.app, id).await;
    let actors: Vec<Option<i64>> = rows.iter().map(|r| r.actor_account_id).collect();
    assert_eq!(
        actors,
        [citizen, staff, staff, handler, assist_id, handler, handler, citizen].map(Some)
    );
    // ... and one outbox event each on the petition topic; no supervision alert.
    assert_eq!(
        outbox_kinds(&w.app, id, "petition").await,
        [
            "submitted",
            "register",
            "forward",
            "accept",
            "report_assist",
            "add_progress",
            "complete",
            "rate_satisfied"
        ]
    );
    assert!(outbox_kinds(&w.app, id, "supervision").await.is_empty());

    // The citizen follows it in their own list and by tracking code.
    let mine = w
        .ok(
            Some(&w.citizen),
            &list_query("myPetitions", "", ""),
            json!({}),
        )
        .await;
    assert_eq!(ids(&mine), vec![item["id"].clone()]);
    let tracked = w
        .ok(
            Some(&w.citizen),
            TRACK,
            json!({ "code": item["trackingCode"] }),
        )
        .await;
    assert_eq!(tracked["status"]["state"], "CLOSED");
    assert_eq!(tracked["petition"]["id"], item["id"]);
}

// ------------------------------------------------------------------ 2. side paths

#[tokio::test]
async fn duplicates_are_merged_into_another_item() {
    let w = World::new().await;
    let target = w.citizen_item().await;
    let target = w.register(&target, "roads_transport", "NORMAL").await;
    let duplicate = w.citizen_item().await;

    let into_itself = json!({ "into": duplicate["id"] });
    let r = w.try_step(&w.staff, MERGE, &duplicate, into_itself).await;
    assert_bad_input(&r, "intoId");
    let r = w
        .try_step(
            &w.citizen,
            MERGE,
            &duplicate,
            json!({ "into": target["id"] }),
        )
        .await;
    assert_code(&r, "FORBIDDEN");

    let args = json!({ "into": target["id"], "n": "与前一条反映的问题重复" });
    let merged = w.step(&w.staff, MERGE, &duplicate, args).await;
    assert_eq!(merged["state"], "MERGED");
    assert_eq!(merged["mergedIntoId"], target["id"]);
    assert!(merged["closedAt"].is_string());
    assert_eq!(
        last_step(&merged),
        json!(["merge", "submitted", "merged", "station_staff", null])
    );
    assert_eq!(merged["timeline"][1]["note"], "与前一条反映的问题重复");
    // The target is untouched.
    let target_now = w.node(Some(&w.staff), &target).await;
    assert_eq!(target_now["state"], "REGISTERED");
    assert_eq!(target_now["version"], target["version"]);

    // A merged item is finished, and nothing merges into it.
    let args = json!({ "c": w.category("roads_transport"), "u": "NORMAL", "h": "COUNTY" });
    let r = w.try_step(&w.staff, REGISTER, &merged, args).await;
    assert_code(&r, "INVALID_TRANSITION");
    let third = w.citizen_item().await;
    let r = w
        .try_step(&w.staff, MERGE, &third, json!({ "into": merged["id"] }))
        .await;
    assert_bad_input(&r, "intoId");

    // Registered items merge too.
    let third = w.register(&third, "roads_transport", "NORMAL").await;
    let third = w
        .step(&w.staff, MERGE, &third, json!({ "into": target["id"] }))
        .await;
    assert_eq!(
        last_step(&third),
        json!(["merge", "registered", "merged", "station_staff", null])
    );
}

#[tokio::test]
async fn declining_needs_a_reason_and_ends_the_item() {
    let w = World::new().await;
    let item = w.citizen_item().await;
    for empty in ["", "   ", "\n\t"] {
        let r = w
            .try_step(&w.staff, DECLINE, &item, json!({ "r": empty }))
            .await;
        assert_bad_input(&r, "reason");
    }
    let unchanged = w.node(Some(&w.staff), &item).await;
    assert_eq!(unchanged["version"], 1);
    assert_eq!(actions(&unchanged), ["submit"]);

    let declined = w
        .step(
            &w.staff,
            DECLINE,
            &item,
            json!({ "r": "  不属于受理范围，已告知通过法定途径解决  " }),
        )
        .await;
    assert_eq!(declined["state"], "DECLINED");
    assert_eq!(
        declined["declineReason"],
        "不属于受理范围，已告知通过法定途径解决"
    );
    assert!(declined["closedAt"].is_string());
    assert_eq!(
        last_step(&declined),
        json!(["decline", "submitted", "declined", "station_staff", null])
    );
    let r = w
        .try_step(&w.staff, DECLINE, &declined, json!({ "r": "再次" }))
        .await;
    assert_code(&r, "INVALID_TRANSITION");
    let r = w.rate(Some(&w.citizen), &declined, "UNSATISFIED").await;
    assert_code(&r, "INVALID_TRANSITION");

    // From the ledger too.
    let registered = w.citizen_item().await;
    let registered = w.register(&registered, "other", "NORMAL").await;
    let declined = w
        .step(&w.staff, DECLINE, &registered, json!({ "r": "重复反映" }))
        .await;
    assert_eq!(
        last_step(&declined),
        json!(["decline", "registered", "declined", "station_staff", null])
    );
}

#[tokio::test]
async fn a_department_returns_an_item_and_the_station_forwards_it_again() {
    let w = World::new().await;
    let assist = w.handler_of("shuili_handler", "shuili").await;
    let item = w.citizen_item().await;
    let item = w.register(&item, "roads_transport", "NORMAL").await;
    let both = json!({ "lead": w.dept("jiaotong"), "assist": [w.dept("jiaotong")] });
    let r = w.try_step(&w.staff, FORWARD, &item, both).await;
    assert_bad_input(&r, "assistDepartmentIds");
    let item = w.forward(&item, "jiaotong", &["shuili"]).await;

    let r = w
        .try_step(&w.handler, RETURN, &item, json!({ "r": "  " }))
        .await;
    assert_bad_input(&r, "reason");
    let r = w
        .try_step(&assist, RETURN, &item, json!({ "r": "不归我们管" }))
        .await;
    assert_code(&r, "FORBIDDEN");

    let reason = "该路段属城区管理，请转城管局";
    let item = w
        .step(&w.handler, RETURN, &item, json!({ "r": reason }))
        .await;
    assert_eq!(item["state"], "REGISTERED");
    assert!(item["leadDepartment"].is_null());
    assert!(item["deadline"].is_null());
    assert_eq!(
        parts(&item),
        vec![
            json!(["jiaotong", "LEAD", "RETURNED"]),
            json!(["shuili", "ASSIST", "RETURNED"])
        ]
    );
    assert_eq!(part(&item, "jiaotong")["returnReason"], reason);
    assert_eq!(
        last_step(&item),
        json!([
            "return",
            "forwarded",
            "registered",
            "lead_handler",
            "jiaotong"
        ])
    );
    assert_eq!(
        outbox_kinds(&w.app, pid(&item), "supervision").await,
        ["returned"]
    );

    // The bureau still sees what it returned, but no longer acts on it.
    assert_eq!(w.node(Some(&w.handler), &item).await["id"], item["id"]);
    let r = w.try_step(&w.handler, ACCEPT, &item, json!({})).await;
    assert_code(&r, "FORBIDDEN");
    let inbox = w
        .ok(
            Some(&w.handler),
            &inbox_query(),
            json!({ "d": w.dept("jiaotong"), "f": { "from": since_yesterday() } }),
        )
        .await;
    assert_eq!(inbox["totalCount"], 0, "returned items leave the inbox");

    // Forwarded again, to the bureau alone.
    let item = w.forward(&item, "jiaotong", &[]).await;
    assert_eq!(item["state"], "FORWARDED");
    assert_eq!(item["leadDepartment"]["code"], "jiaotong");
    assert_eq!(
        parts(&item),
        vec![
            json!(["jiaotong", "LEAD", "FORWARDED"]),
            json!(["shuili", "ASSIST", "RETURNED"])
        ]
    );
    assert!(part(&item, "jiaotong")["returnReason"].is_null());
    let r = w
        .try_step(&assist, REPORT_ASSIST, &item, json!({ "r": "已排查" }))
        .await;
    assert_code(&r, "FORBIDDEN");
    let item = w.step(&w.handler, ACCEPT, &item, json!({})).await;
    assert_eq!(item["state"], "ACCEPTED");
    assert_eq!(
        actions(&item),
        ["submit", "register", "forward", "return", "forward", "accept"]
    );
}

#[tokio::test]
async fn the_addressed_deputy_resolves_on_the_spot_and_no_other_deputy_may() {
    let w = World::new().await;
    let other = w.new_deputy("other_deputy", "赵其他").await;
    let item = w.citizen_item().await;

    let result = json!({ "r": "代表现场调解，双方达成一致" });
    let r = w
        .try_step(&w.deputy, RESOLVE_ON_SPOT, &item, result.clone())
        .await;
    assert_code(&r, "INVALID_TRANSITION");
    let item = w.register(&item, "disputes", "NORMAL").await;
    // Another deputy has no relation to the item at all: it is hidden from them.
    let r = w
        .try_step(&other, RESOLVE_ON_SPOT, &item, result.clone())
        .await;
    assert_code(&r, "NOT_FOUND");
    assert!(w.node(Some(&other), &item).await.is_null());
    let r = w
        .try_step(&w.deputy, RESOLVE_ON_SPOT, &item, json!({ "r": " " }))
        .await;
    assert_bad_input(&r, "result");

    let item = w
        .step(&w.deputy, RESOLVE_ON_SPOT, &item, result.clone())
        .await;
    assert_eq!(item["state"], "RESOLVED");
    assert_eq!(item["handlingLevel"], "STATION");
    assert_eq!(item["result"], "代表现场调解，双方达成一致");
    assert!(item["leadDepartment"].is_null());
    assert_eq!(
        last_step(&item),
        json!(["resolve_on_spot", "registered", "resolved", "deputy", null])
    );

    // A deputy who can see an item (having written it to the 滨河 deputy) may still not
    // resolve it: only the deputy it is addressed to.
    let input = json!({ "title": "楼道堆放杂物", "content": "三号楼楼道长期堆放杂物，存在消防隐患。", "deputyCode": w.deputy_code });
    let r = w.submit(Some(&other), input).await;
    let own = r.data()["submitPetition"]["petition"].clone();
    // Writing to another deputy by code, a deputy submits like any citizen would.
    assert_eq!(
        steps(&own),
        vec![json!(["submit", null, "submitted", "submitter", null])]
    );
    let own = w.register(&own, "safety_hazards", "NORMAL").await;
    let r = w
        .try_step(&other, RESOLVE_ON_SPOT, &own, result.clone())
        .await;
    assert_code(&r, "FORBIDDEN");
    let own = w
        .step(&w.deputy, RESOLVE_ON_SPOT, &own, result.clone())
        .await;
    assert_eq!(own["state"], "RESOLVED");

    // Unsatisfied with an on-the-spot result: no department to reopen it for, so it
    // goes back to the ledger for a second round.
    let r = w.rate(Some(&w.citizen), &item, "UNSATISFIED").await;
    let item = top(&r);
    assert_eq!(item["state"], "REGISTERED");
    assert_eq!(item["round"], 2);
    assert_eq!(item["satisfaction"], "UNSATISFIED");
    assert!(item["resolvedAt"].is_null());
    assert_eq!(
        last_step(&item),
        json!([
            "rate_unsatisfied",
            "resolved",
            "registered",
            "submitter",
            null
        ])
    );
    let item = w
        .step(
            &w.staff,
            RESOLVE_ON_SPOT,
            &item,
            json!({ "r": "联络站再次协调，已签订调解协议" }),
        )
        .await;
    assert_eq!(
        last_step(&item),
        json!([
            "resolve_on_spot",
            "registered",
            "resolved",
            "station_staff",
            null
        ])
    );
    let r = w.rate(Some(&w.citizen), &item, "BASICALLY_SATISFIED").await;
    let item = top(&r);
    assert_eq!(item["state"], "CLOSED");
    assert_eq!(item["satisfaction"], "BASICALLY_SATISFIED");
}

#[tokio::test]
async fn unsatisfied_ratings_reopen_the_item_and_the_second_round_escalates() {
    let w = World::new().await;
    let item = w.resolved().await;
    let id = pid(&item);
    let first_accepted = time(&item["acceptedAt"]);
    let first_deadline = time(&item["deadline"]);

    let r = w
        .gql(
            Some(&w.citizen),
            RATE,
            json!({ "id": item["id"], "s": "UNSATISFIED", "c": "灯还是不亮" }),
        )
        .await;
    let item = top(&r);
    assert_eq!(item["state"], "ACCEPTED");
    assert_eq!(item["round"], 2);
    assert_eq!(item["version"], 6);
    assert_eq!(item["satisfaction"], "UNSATISFIED");
    assert_eq!(item["escalationLevel"], 0);
    assert!(item["resolvedAt"].is_null());
    let accepted = time(&item["acceptedAt"]);
    assert!(accepted > first_accepted);
    assert!(time(&item["deadline"]) > first_deadline);
    assert_eq!(time(&item["deadline"]) - accepted, Duration::days(15));
    assert_eq!(part(&item, "jiaotong")["status"], "ACCEPTED");
    assert_eq!(
        last_step(&item),
        json!([
            "rate_unsatisfied",
            "resolved",
            "accepted",
            "submitter",
            "jiaotong"
        ])
    );
    assert_eq!(item["timeline"][5]["note"], "灯还是不亮");
    assert_eq!(
        outbox_kinds(&w.app, id, "supervision").await,
        ["rated_unsatisfied"]
    );

    // Round 2 (重办): handled again, again unsatisfied, and with the default of two
    // rounds the item is escalated.
    let item = w
        .step(&w.handler, COMPLETE, &item, json!({ "r": "已二次维修" }))
        .await;
    assert_eq!(item["round"], 2);
    let item = top(&w.rate(Some(&w.citizen), &item, "UNSATISFIED").await);
    assert_eq!(item["state"], "ACCEPTED");
    assert_eq!(item["round"], 3);
    assert_eq!(item["escalationLevel"], 1);
    assert_eq!(
        outbox_kinds(&w.app, id, "supervision").await,
        ["rated_unsatisfied", "rated_unsatisfied", "escalated"]
    );
    let ratings: Vec<(i32, entity::Satisfaction)> = petition_rating::Entity::find()
        .filter(petition_rating::Column::PetitionId.eq(id))
        .order_by_asc(petition_rating::Column::Round)
        .all(&w.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.round, r.rating))
        .collect();
    assert_eq!(
        ratings,
        [
            (1, entity::Satisfaction::Unsatisfied),
            (2, entity::Satisfaction::Unsatisfied)
        ]
    );

    // Round 3 satisfies; the escalation stays on the record.
    let item = w
        .step(&w.handler, COMPLETE, &item, json!({ "r": "更换整条线路" }))
        .await;
    let item = top(&w.rate(Some(&w.citizen), &item, "SATISFIED").await);
    assert_eq!(item["state"], "CLOSED");
    assert_eq!(item["escalationLevel"], 1);
    assert_eq!(
        actions(&item),
        [
            "submit",
            "register",
            "forward",
            "accept",
            "complete",
            "rate_unsatisfied",
            "complete",
            "rate_unsatisfied",
            "complete",
            "rate_satisfied"
        ]
    );
}

#[tokio::test]
async fn max_rehandling_rounds_is_configurable() {
    let w = World::with_env("MAX_REHANDLING_ROUNDS", "1").await;
    let item = w.resolved().await;
    let item = top(&w.rate(Some(&w.citizen), &item, "UNSATISFIED").await);
    assert_eq!(item["state"], "ACCEPTED");
    assert_eq!(item["round"], 2);
    assert_eq!(item["escalationLevel"], 1);
}

#[tokio::test]
async fn deadlines_follow_urgency() {
    let w = World::new().await;
    for (urgency, days) in [("NORMAL", 15), ("URGENT", 7), ("CRITICAL", 3)] {
        let item = w.citizen_item().await;
        let item = w.register(&item, "roads_transport", urgency).await;
        let item = w.forward(&item, "jiaotong", &[]).await;
        let item = w.step(&w.handler, ACCEPT, &item, json!({})).await;
        assert_eq!(
            time(&item["deadline"]) - time(&item["acceptedAt"]),
            Duration::days(days),
            "{urgency}"
        );
    }
}

#[tokio::test]
async fn supervisors_urge_with_a_note_and_a_new_deadline() {
    let w = World::new().await;
    let item = w.accepted().await;
    let id = pid(&item);
    let deadline = seconds_from_now(3);
    let past = seconds_from_now(-1);

    let r = w
        .try_step(
            &w.supervisor,
            URGE,
            &item,
            json!({ "n": "请加快办理", "d": past.to_rfc3339() }),
        )
        .await;
    assert_bad_input(&r, "deadline");
    let r = w
        .try_step(
            &w.supervisor,
            URGE,
            &item,
            json!({ "n": " ", "d": deadline.to_rfc3339() }),
        )
        .await;
    assert_bad_input(&r, "note");
    for token in [&w.handler, &w.staff, &w.deputy, &w.citizen, &w.admin] {
        let args = json!({ "n": "请加快办理", "d": deadline.to_rfc3339() });
        let r = w.try_step(token, URGE, &item, args).await;
        assert_code(&r, "FORBIDDEN");
    }
    let unchanged = w.node(Some(&w.supervisor), &item).await;
    assert_eq!(unchanged["version"], item["version"]);
    assert_eq!(unchanged["urgeCount"], 0);

    // Urging sets a new deadline and lifts the overdue mark.
    set_column(&w.app, id, petition::Column::IsOverdue, true).await;
    let item = w.node(Some(&w.supervisor), &item).await;
    assert_eq!(item["isOverdue"], true);
    let args = json!({ "n": "请于三日内办结", "d": deadline.to_rfc3339() });
    let item = w.step(&w.supervisor, URGE, &item, args).await;
    assert_eq!(item["state"], "ACCEPTED");
    assert_eq!(item["urgeCount"], 1);
    assert_eq!(time(&item["deadline"]), deadline);
    assert_eq!(item["isOverdue"], false);
    assert_eq!(
        last_step(&item),
        json!(["urge", "accepted", "accepted", "supervisor", null])
    );
    assert_eq!(
        item["timeline"].as_array().unwrap().last().unwrap()["note"],
        "请于三日内办结"
    );
    let later = seconds_from_now(2);
    let item = w
        .step(
            &w.supervisor,
            URGE,
            &item,
            json!({ "n": "再次督办", "d": later.to_rfc3339() }),
        )
        .await;
    assert_eq!(item["urgeCount"], 2);
    assert_eq!(time(&item["deadline"]), later);

    // Escalating supervision by hand.
    let r = w
        .try_step(&w.handler, ESCALATE_SUPERVISION, &item, json!({}))
        .await;
    assert_code(&r, "FORBIDDEN");
    let item = w
        .step(
            &w.supervisor,
            ESCALATE_SUPERVISION,
            &item,
            json!({ "n": "提级督办" }),
        )
        .await;
    assert_eq!(item["escalationLevel"], 1);
    assert_eq!(
        last_step(&item),
        json!([
            "escalate_supervision",
            "accepted",
            "accepted",
            "supervisor",
            null
        ])
    );
    assert_eq!(
        outbox_kinds(&w.app, id, "supervision").await,
        ["urged", "urged", "escalated"]
    );

    // Only while a department handles the item.
    let registered = w.citizen_item().await;
    let registered = w.register(&registered, "other", "NORMAL").await;
    let args = json!({ "n": "请加快办理", "d": deadline.to_rfc3339() });
    let r = w.try_step(&w.supervisor, URGE, &registered, args).await;
    assert_code(&r, "INVALID_TRANSITION");
}

#[tokio::test]
async fn a_township_department_escalates_to_a_county_department() {
    let w = World::new().await;
    let township = w.handler_of("chengqu_handler", "chengqu_gov").await;
    let item = w.citizen_item().await;
    let item = w.register(&item, "roads_transport", "URGENT").await;
    let item = w.forward(&item, "chengqu_gov", &[]).await;
    assert_eq!(item["handlingLevel"], "TOWNSHIP");
    let item = w.step(&township, ACCEPT, &item, json!({})).await;
    assert_eq!(
        time(&item["deadline"]) - time(&item["acceptedAt"]),
        Duration::days(7)
    );

    let r = w
        .try_step(
            &township,
            ESCALATE,
            &item,
            json!({ "d": w.dept("yixing_gov") }),
        )
        .await;
    assert_bad_input(&r, "departmentId");
    let args = json!({ "d": w.dept("jiaotong"), "n": "需县交通局统筹" });
    let item = w.step(&township, ESCALATE, &item, args).await;
    assert_eq!(item["state"], "FORWARDED");
    assert_eq!(item["leadDepartment"]["code"], "jiaotong");
    assert_eq!(item["handlingLevel"], "COUNTY");
    assert!(item["deadline"].is_null());
    assert!(item["acceptedAt"].is_null());
    assert_eq!(
        parts(&item),
        vec![
            json!(["chengqu_gov", "LEAD", "RETURNED"]),
            json!(["jiaotong", "LEAD", "FORWARDED"])
        ]
    );
    assert_eq!(
        last_step(&item),
        json!([
            "escalate",
            "accepted",
            "forwarded",
            "lead_handler",
            "jiaotong"
        ])
    );
    let r = w
        .try_step(&township, PROGRESS, &item, json!({ "n": "仍在跟进" }))
        .await;
    assert_code(&r, "FORBIDDEN");

    // The county bureau accepts with a fresh deadline and cannot escalate further.
    let item = w.step(&w.handler, ACCEPT, &item, json!({})).await;
    assert_eq!(
        time(&item["deadline"]) - time(&item["acceptedAt"]),
        Duration::days(7)
    );
    let r = w
        .try_step(
            &w.handler,
            ESCALATE,
            &item,
            json!({ "d": w.dept("renshe") }),
        )
        .await;
    assert_code(&r, "INVALID_TRANSITION");
}

// ------------------------------------------------------------------ 3. supervision job

#[tokio::test]
async fn the_cycle_marks_overdue_items_and_escalates_the_long_overdue() {
    let w = World::with_env("SUPERVISION_INTERVAL_SECS", "0").await;
    let quiet = json!({ "markedOverdue": 0, "escalated": 0, "autoClosed": 0 });
    // The demo year's backlog first.
    w.cycles().await;
    assert_eq!(w.cycle().await, quiet);

    let item = w.accepted().await;
    let on_time = w.accepted().await;
    let id = pid(&item);
    set_column(
        &w.app,
        id,
        petition::Column::Deadline,
        Utc::now() - Duration::days(1),
    )
    .await;
    assert_eq!(
        w.cycle().await,
        json!({ "markedOverdue": 1, "escalated": 0, "autoClosed": 0 })
    );
    let now = w.node(Some(&w.supervisor), &item).await;
    assert_eq!(now["state"], "ACCEPTED");
    assert_eq!(now["isOverdue"], true);
    assert_eq!(now["escalationLevel"], 0);
    assert_eq!(now["version"], item["version"].as_i64().unwrap() + 1);
    assert_eq!(
        last_step(&now),
        json!(["mark_overdue", "accepted", "accepted", "system", null])
    );
    let last = history(&w.app, id).await.pop().unwrap();
    assert_eq!(last.actor_account_id, None);
    assert_eq!(outbox_kinds(&w.app, id, "supervision").await, ["overdue"]);
    let alert = outbox_event::Entity::find()
        .filter(outbox_event::Column::PetitionId.eq(id))
        .filter(outbox_event::Column::Topic.eq("supervision"))
        .one(&w.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alert.station_id, Some(num(&w.binhe)));
    assert_eq!(alert.department_id, Some(num(&w.dept("jiaotong"))));
    let untouched = w.node(Some(&w.supervisor), &on_time).await;
    assert_eq!(untouched["isOverdue"], false);
    assert_eq!(untouched["version"], on_time["version"]);
    let overdue = w
        .ok(
            Some(&w.supervisor),
            &supervised_query(),
            json!({ "f": { "overdue": true, "from": since_yesterday() } }),
        )
        .await;
    assert_eq!(ids(&overdue), vec![item["id"].clone()]);

    // Overdue, but not yet for ESCALATE_OVERDUE_DAYS (3): nothing more happens.
    assert_eq!(w.cycle().await, quiet);
    // Overdue for five days: escalated, once.
    set_column(
        &w.app,
        id,
        petition::Column::Deadline,
        Utc::now() - Duration::days(5),
    )
    .await;
    assert_eq!(
        w.cycle().await,
        json!({ "markedOverdue": 0, "escalated": 1, "autoClosed": 0 })
    );
    let now = w.node(Some(&w.supervisor), &item).await;
    assert_eq!(now["escalationLevel"], 1);
    assert_eq!(now["isOverdue"], true);
    assert_eq!(
        last_step(&now),
        json!([
            "escalate_supervision",
            "accepted",
            "accepted",
            "system",
            null
        ])
    );
    assert_eq!(
        outbox_kinds(&w.app, id, "supervision").await,
        ["overdue", "escalated"]
    );
    assert_eq!(w.cycle().await, quiet);

    // The result lifts the overdue mark.
    let done = w
        .step(&w.handler, COMPLETE, &now, json!({ "r": "已办结" }))
        .await;
    assert_eq!(done["isOverdue"], false);
}

/// The supervision cycle weighs deadlines against the app's clock: time passes by
/// advancing it, not by waiting or back-dating rows.
#[tokio::test]
async fn an_item_is_overdue_once_the_clock_passes_its_deadline() {
    let clock = smart_npc::clock::Clock::system();
    let w = World::on(
        TestApp::builder()
            .fixture(Fixture::Demo)
            .clock(clock.clone())
            .spawn()
            .await,
    )
    .await;
    w.cycles().await;
    let item = w.accepted().await;
    let deadline = time(&item["deadline"]);
    clock.advance(
        (deadline - Utc::now() - Duration::minutes(1))
            .to_std()
            .unwrap(),
    );
    // Access tokens expire on the same clock: sign in again, as a client would.
    let admin = w.app.token("admin").await;
    w.ok(Some(&admin), CYCLE, json!({})).await;
    assert_eq!(
        w.node(Some(&admin), &item).await["isOverdue"],
        false,
        "a minute before the deadline"
    );
    clock.advance(std::time::Duration::from_secs(120));
    let admin = w.app.token("admin").await;
    let report = w.ok(Some(&admin), CYCLE, json!({})).await;
    assert!(report["markedOverdue"].as_i64().unwrap() >= 1, "{report}");
    assert_eq!(w.node(Some(&admin), &item).await["isOverdue"], true);
}

#[tokio::test]
async fn results_left_unrated_close_themselves_after_auto_close_days() {
    let w = World::with_env("SUPERVISION_INTERVAL_SECS", "0").await;
    w.cycles().await;
    let stale = w.resolved().await;
    let fresh = w.resolved().await;
    set_column(
        &w.app,
        pid(&stale),
        petition::Column::ResolvedAt,
        Utc::now() - Duration::days(8),
    )
    .await;
    set_column(
        &w.app,
        pid(&fresh),
        petition::Column::ResolvedAt,
        Utc::now() - Duration::days(6),
    )
    .await;
    assert_eq!(
        w.cycle().await,
        json!({ "markedOverdue": 0, "escalated": 0, "autoClosed": 1 })
    );
    let closed = w.node(Some(&w.citizen), &stale).await;
    assert_eq!(closed["state"], "CLOSED");
    assert!(closed["closedAt"].is_string());
    assert!(closed["satisfaction"].is_null());
    assert_eq!(
        last_step(&closed),
        json!(["auto_close", "resolved", "closed", "system", null])
    );
    let r = w.rate(Some(&w.citizen), &stale, "SATISFIED").await;
    assert_code(&r, "INVALID_TRANSITION");

    let still = w.node(Some(&w.citizen), &fresh).await;
    assert_eq!(still["state"], "RESOLVED");
    let rated = top(&w.rate(Some(&w.citizen), &fresh, "SATISFIED").await);
    assert_eq!(rated["state"], "CLOSED");
}

#[tokio::test]
async fn the_supervision_job_runs_on_its_own() {
    let w = World::with_env("SUPERVISION_INTERVAL_SECS", "1").await;
    let item = w.accepted().await;
    // The job's own alert says when it has marked the item: no polling.
    let mut alerts = crate::ws_client::Ws::transport(w.app.addr)
        .await
        .waiting(std::time::Duration::from_secs(15));
    alerts.init(Some(&w.supervisor)).await;
    alerts
        .subscribe(
            "overdue",
            "subscription { supervisionAlerts(kinds: [\"overdue\"]) { kind petitionId } }",
            json!({}),
        )
        .await;
    alerts.registered().await;
    set_column(
        &w.app,
        pid(&item),
        petition::Column::Deadline,
        Utc::now() - Duration::days(1),
    )
    .await;
    // With SUPERVISION_INTERVAL_SECS=1 the job marks a late item overdue within 15 s
    // (alerts about other items, if any, are not this test's business).
    loop {
        let alert = alerts.next_data("overdue").await["supervisionAlerts"].clone();
        if alert["petitionId"] == item["id"] {
            break;
        }
    }
    assert_eq!(w.node(Some(&w.supervisor), &item).await["isOverdue"], true);
}

// ------------------------------------------------------------------ 4. wrong roles

#[tokio::test]
async fn forbidden_transitions_and_wrong_roles_are_refused() {
    let w = World::new().await;
    let other_handler = w.handler_of("renshe_handler", "renshe").await;
    let item = w.citizen_item().await;
    let register = json!({ "c": w.category("roads_transport"), "u": "NORMAL", "h": "COUNTY" });

    // The bureau has no part in an item not forwarded to it: it does not even see it.
    let r = w.try_step(&w.handler, ACCEPT, &item, json!({})).await;
    assert_code(&r, "NOT_FOUND");
    // Roles that see the item but may never take the step: FORBIDDEN.
    let forward = json!({ "lead": w.dept("jiaotong") });
    for token in [&w.citizen, &w.deputy, &w.supervisor, &w.admin] {
        let r = w.try_step(token, FORWARD, &item, forward.clone()).await;
        assert_code(&r, "FORBIDDEN");
        let r = w.try_step(token, REGISTER, &item, register.clone()).await;
        assert_code(&r, "FORBIDDEN");
    }
    // The submitter may rate, just not before there is a result.
    let r = w.rate(Some(&w.citizen), &item, "SATISFIED").await;
    assert_code(&r, "INVALID_TRANSITION");
    // A stale version is a conflict.
    let mut stale = item.clone();
    stale["version"] = json!(7);
    let r = w
        .try_step(&w.staff, REGISTER, &stale, register.clone())
        .await;
    assert_code(&r, "CONFLICT");

    let item = w.step(&w.staff, REGISTER, &item, register.clone()).await;
    let r = w
        .try_step(&w.staff, REGISTER, &item, register.clone())
        .await;
    assert_code(&r, "INVALID_TRANSITION");
    let item = w.forward(&item, "jiaotong", &[]).await;
    // Staff see the forwarded item but never accept; the bureau cannot finish before accepting.
    let r = w.try_step(&w.staff, ACCEPT, &item, json!({})).await;
    assert_code(&r, "FORBIDDEN");
    let r = w
        .try_step(&w.handler, COMPLETE, &item, json!({ "r": "已办" }))
        .await;
    assert_code(&r, "INVALID_TRANSITION");
    let r = w.try_step(&w.staff, FORWARD, &item, forward.clone()).await;
    assert_code(&r, "INVALID_TRANSITION");
    let item = w.step(&w.handler, ACCEPT, &item, json!({})).await;
    let r = w.try_step(&w.handler, ACCEPT, &item, json!({})).await;
    assert_code(&r, "INVALID_TRANSITION");
    // A county bureau does not escalate to another county bureau.
    let r = w
        .try_step(
            &w.handler,
            ESCALATE,
            &item,
            json!({ "d": w.dept("renshe") }),
        )
        .await;
    assert_code(&r, "INVALID_TRANSITION");
    let r = w.rate(Some(&w.handler), &item, "SATISFIED").await;
    assert_code(&r, "FORBIDDEN");

    let item = w
        .step(&w.handler, COMPLETE, &item, json!({ "r": "已办结" }))
        .await;
    for token in [&w.staff, &w.deputy, &w.handler, &w.supervisor] {
        let r = w.rate(Some(token), &item, "SATISFIED").await;
        assert_code(&r, "FORBIDDEN");
    }
    // Rating twice in one round.
    assert_eq!(
        top(&w.rate(Some(&w.citizen), &item, "SATISFIED").await)["state"],
        "CLOSED"
    );
    for again in ["SATISFIED", "UNSATISFIED"] {
        let r = w.rate(Some(&w.citizen), &item, again).await;
        assert_code(&r, "INVALID_TRANSITION");
    }
    let ratings = petition_rating::Entity::find()
        .filter(petition_rating::Column::PetitionId.eq(pid(&item)))
        .count(&w.app.db)
        .await
        .unwrap();
    assert_eq!(ratings, 1);

    // Another department's handler and anonymous callers do not see the item.
    assert!(w.node(Some(&other_handler), &item).await.is_null());
    assert!(w.node(None, &item).await.is_null());
    let r = w
        .try_step(&other_handler, PROGRESS, &item, json!({ "n": "进展" }))
        .await;
    assert_code(&r, "NOT_FOUND");
    let r = w
        .gql(
            None,
            ACCEPT,
            json!({ "id": item["id"], "v": item["version"] }),
        )
        .await;
    assert_code(&r, "NOT_FOUND");
    let r = w
        .gql(
            Some(&other_handler),
            &ledger_query(),
            json!({ "s": w.binhe }),
        )
        .await;
    assert_code(&r, "FORBIDDEN");
    let r = w
        .gql(
            Some(&other_handler),
            &inbox_query(),
            json!({ "d": w.dept("jiaotong") }),
        )
        .await;
    assert_code(&r, "FORBIDDEN");
    let tracked = w
        .ok(
            Some(&other_handler),
            TRACK,
            json!({ "code": item["trackingCode"] }),
        )
        .await;
    assert_eq!(tracked["status"]["state"], "CLOSED");
    assert!(tracked["petition"].is_null());
}

#[tokio::test]
async fn permission_is_checked_before_the_input() {
    let w = World::new().await;
    let item = w.citizen_item().await;
    let mut failures = Vec::new();
    // The submitter may never decline or resolve: what they type must not matter.
    for (query, args) in [
        (DECLINE, json!({ "r": "" })),
        (RESOLVE_ON_SPOT, json!({ "r": "" })),
    ] {
        let r = w.try_step(&w.citizen, query, &item, args).await;
        if r.error_code() != Some("FORBIDDEN") {
            failures.push(format!("citizen, empty text: {}", r.body));
        }
    }
    // Nor the version they send.
    let mut stale = item.clone();
    stale["version"] = json!(99);
    let args = json!({ "c": w.category("other"), "u": "NORMAL", "h": "COUNTY" });
    let r = w.try_step(&w.citizen, REGISTER, &stale, args).await;
    if r.error_code() != Some("FORBIDDEN") {
        failures.push(format!("citizen, stale version: {}", r.body));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ------------------------------------------------------------------ 5. races

/// Exactly one of two racing requests wins; the other fails with one of `loser`.
fn one_winner(a: &GqlResponse, b: &GqlResponse, loser: &[&str]) -> Value {
    let (winner, other) = match (a.body.get("errors"), b.body.get("errors")) {
        (None, Some(_)) => (a, b),
        (Some(_), None) => (b, a),
        _ => panic!("exactly one must win:\n{}\n{}", a.body, b.body),
    };
    let code = other.error_code().unwrap_or_default();
    assert!(loser.contains(&code), "loser got {}", other.body);
    top(winner)
}

async fn count_actions(app: &TestApp, id: i64, action: &str) -> usize {
    history(app, id)
        .await
        .iter()
        .filter(|e| e.action.starts_with(action))
        .count()
}

/// Sends two requests at once, each exactly once. Never may both win.
async fn race(
    w: &World,
    a: (&str, &str, Value),
    b: (&str, &str, Value),
) -> (GqlResponse, GqlResponse) {
    let (ra, rb) = tokio::join!(w.gql(Some(a.0), a.1, a.2), w.gql(Some(b.0), b.1, b.2));
    assert!(
        ra.body.get("errors").is_some() || rb.body.get("errors").is_some(),
        "both won:\n{}\n{}",
        ra.body,
        rb.body
    );
    (ra, rb)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_steps_on_one_item_let_exactly_one_through() {
    let w = World::new().await;
    let second = w.handler_of("jiaotong_second", "jiaotong").await;
    const ITEMS: usize = 10;
    let mut items = Vec::new();
    for _ in 0..ITEMS {
        items.push(w.forwarded().await);
    }

    for item in &mut items {
        // Two handlers of the bureau accept at the version both saw.
        let vars = json!({ "id": item["id"], "v": item["version"] });
        let (a, b) = race(
            &w,
            (&w.handler, ACCEPT, vars.clone()),
            (&second, ACCEPT, vars),
        )
        .await;
        let won = one_winner(&a, &b, &["CONFLICT"]);
        assert_eq!(won["version"], item["version"].as_i64().unwrap() + 1);
        assert_eq!(count_actions(&w.app, pid(item), "accept").await, 1);
        *item = won;
    }
    for item in &mut items {
        let (a, b) = race(
            &w,
            (
                &w.handler,
                COMPLETE,
                json!({ "id": item["id"], "v": item["version"], "r": "甲办结" }),
            ),
            (
                &second,
                COMPLETE,
                json!({ "id": item["id"], "v": item["version"], "r": "乙办结" }),
            ),
        )
        .await;
        let won = one_winner(&a, &b, &["CONFLICT"]);
        assert_eq!(won["state"], "RESOLVED");
        assert_eq!(count_actions(&w.app, pid(item), "complete").await, 1);
        let stored = petition::Entity::find_by_id(pid(item))
            .one(&w.app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(Some(i64::from(stored.version)), won["version"].as_i64());
        assert_eq!(stored.result.as_deref(), won["result"].as_str());
        *item = won;
    }
    // Two ratings at once (ratings carry no version): they take turns, and the second
    // finds the item rated (INVALID_TRANSITION).
    for item in &items {
        let (a, b) = race(
            &w,
            (
                &w.citizen,
                RATE,
                json!({ "id": item["id"], "s": "SATISFIED" }),
            ),
            (
                &w.citizen,
                RATE,
                json!({ "id": item["id"], "s": "UNSATISFIED" }),
            ),
        )
        .await;
        one_winner(&a, &b, &["INVALID_TRANSITION"]);
        assert_eq!(count_actions(&w.app, pid(item), "rate_").await, 1);
        let ratings = petition_rating::Entity::find()
            .filter(petition_rating::Column::PetitionId.eq(pid(item)))
            .count(&w.app.db)
            .await
            .unwrap();
        assert_eq!(ratings, 1);
    }
}

/// How many writers meet on one item in the tests below.
const WRITERS: usize = 8;

/// The item as stored.
async fn stored(app: &TestApp, id: i64) -> petition::Model {
    petition::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

/// `version` of the item's outbox events on the petition topic after `seq`.
async fn event_versions_after(app: &TestApp, id: i64, seq: i64) -> Vec<i64> {
    outbox_event::Entity::find()
        .filter(outbox_event::Column::PetitionId.eq(id))
        .filter(outbox_event::Column::Topic.eq("petition"))
        .filter(outbox_event::Column::Seq.gt(seq))
        .order_by_asc(outbox_event::Column::Seq)
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|e| {
            let payload: Value = serde_json::from_str(&e.payload).unwrap();
            payload["version"].as_i64().unwrap()
        })
        .collect()
}

/// The newest outbox sequence number so far.
async fn last_seq(app: &TestApp) -> i64 {
    outbox_event::Entity::find()
        .order_by_desc(outbox_event::Column::Seq)
        .one(&app.db)
        .await
        .unwrap()
        .map_or(0, |e| e.seq)
}

/// Sends all requests at once, each exactly once.
async fn all_at_once(w: &World, requests: Vec<(&str, &str, Value)>) -> Vec<GqlResponse> {
    futures_util::future::join_all(
        requests
            .into_iter()
            .map(|(token, query, vars)| w.gql(Some(token), query, vars)),
    )
    .await
}

/// The versions `responses` returned (each must have succeeded), sorted.
fn versions_returned(responses: &[GqlResponse]) -> Vec<i64> {
    let mut failures = Vec::new();
    let mut versions = Vec::new();
    for r in responses {
        if r.body.get("errors").is_some() {
            failures.push(r.body.to_string());
        } else {
            versions.push(top(r)["version"].as_i64().unwrap());
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        responses.len(),
        failures.join("\n")
    );
    versions.sort_unstable();
    versions
}

/// Steps without a `version` do not check one: eight handlers adding progress notes to
/// one item at the same moment all succeed, one after another, each with its own
/// history entry, event and version.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_unversioned_progress_notes_all_land() {
    let w = World::new().await;
    let mut handlers = vec![w.handler.clone()];
    for n in 1..WRITERS {
        handlers.push(w.handler_of(&format!("jiaotong_{n}"), "jiaotong").await);
    }
    let item = w.accepted().await;
    let id = pid(&item);
    let v = item["version"].as_i64().unwrap();
    let seq = last_seq(&w.app).await;
    let before = history(&w.app, id).await.len();

    let notes: Vec<String> = (0..WRITERS).map(|n| format!("第{n}条进展")).collect();
    let responses = all_at_once(
        &w,
        handlers
            .iter()
            .zip(&notes)
            .map(|(token, note)| {
                (
                    token.as_str(),
                    PROGRESS,
                    json!({ "id": item["id"], "n": note }),
                )
            })
            .collect(),
    )
    .await;

    let expected: Vec<i64> = (1..=WRITERS as i64).map(|n| v + n).collect();
    assert_eq!(versions_returned(&responses), expected);
    assert_eq!(
        i64::from(stored(&w.app, id).await.version),
        v + WRITERS as i64
    );
    let added: Vec<petition_event::Model> =
        history(&w.app, id).await.into_iter().skip(before).collect();
    let mut landed: Vec<String> = added
        .iter()
        .map(|e| {
            assert_eq!(e.action, "add_progress");
            assert_eq!(e.to_state, "accepted");
            e.note.clone().unwrap()
        })
        .collect();
    landed.sort();
    let mut sent = notes.clone();
    sent.sort();
    assert_eq!(landed, sent, "each note once");
    // One event per note, carrying the versions in commit order.
    assert_eq!(event_versions_after(&w.app, id, seq).await, expected);
}

/// With a `version` a step is an optimistic check: of eight at the same version, one
/// goes through and seven are told CONFLICT, and nothing of theirs is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_steps_at_one_version_let_exactly_one_through() {
    let w = World::new().await;
    let mut handlers = vec![w.handler.clone()];
    for n in 1..WRITERS {
        handlers.push(w.handler_of(&format!("jiaotong_{n}"), "jiaotong").await);
    }
    let item = w.accepted().await;
    let id = pid(&item);
    let v = item["version"].as_i64().unwrap();
    let seq = last_seq(&w.app).await;
    let before = history(&w.app, id).await.len();

    let responses = all_at_once(
        &w,
        handlers
            .iter()
            .enumerate()
            .map(|(n, token)| {
                (
                    token.as_str(),
                    PROGRESS,
                    json!({ "id": item["id"], "v": v, "n": format!("第{n}条进展") }),
                )
            })
            .collect(),
    )
    .await;

    let (won, lost): (Vec<&GqlResponse>, Vec<&GqlResponse>) = responses
        .iter()
        .partition(|r| r.body.get("errors").is_none());
    assert_eq!(won.len(), 1, "exactly one wins");
    for r in &lost {
        assert_eq!(r.error_code(), Some("CONFLICT"), "{}", r.body);
    }
    assert_eq!(top(won[0])["version"].as_i64(), Some(v + 1));
    assert_eq!(i64::from(stored(&w.app, id).await.version), v + 1);
    let added = history(&w.app, id).await.len() - before;
    assert_eq!(added, 1);
    assert_eq!(event_versions_after(&w.app, id, seq).await, vec![v + 1]);
}

/// Different steps the state machine allows side by side on an accepted item — notes
/// by the lead and the assisting bureau, the assisting report, urging and escalating —
/// sent at once without versions: each applies on top of the ones before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_unversioned_steps_of_different_kinds_all_land() {
    let w = World::new().await;
    let assist = w.handler_of("shuili_handler", "shuili").await;
    let item = w.citizen_item().await;
    let item = w.register(&item, "roads_transport", "NORMAL").await;
    let item = w.forward(&item, "jiaotong", &["shuili"]).await;
    let item = w.step(&w.handler, ACCEPT, &item, json!({})).await;
    let id = pid(&item);
    let v = item["version"].as_i64().unwrap();
    let before = stored(&w.app, id).await;
    let seq = last_seq(&w.app).await;
    let history_before = history(&w.app, id).await.len();

    let on = &item["id"];
    let later = seconds_from_now(20).to_rfc3339();
    let latest = seconds_from_now(30).to_rfc3339();
    let requests: Vec<(&str, &str, Value)> = vec![
        (&w.handler, PROGRESS, json!({ "id": on, "n": "主办进展一" })),
        (&w.handler, PROGRESS, json!({ "id": on, "n": "主办进展二" })),
        (&assist, PROGRESS, json!({ "id": on, "n": "协办进展" })),
        (&assist, REPORT_ASSIST, json!({ "id": on, "r": "协办情况" })),
        (
            &w.supervisor,
            URGE,
            json!({ "id": on, "n": "督办一", "d": later }),
        ),
        (
            &w.supervisor,
            URGE,
            json!({ "id": on, "n": "督办二", "d": latest }),
        ),
        (
            &w.supervisor,
            ESCALATE_SUPERVISION,
            json!({ "id": on, "n": "提级一" }),
        ),
        (
            &w.supervisor,
            ESCALATE_SUPERVISION,
            json!({ "id": on, "n": "提级二" }),
        ),
    ];
    let sent = requests.len() as i64;
    let responses = all_at_once(&w, requests).await;

    let expected: Vec<i64> = (1..=sent).map(|n| v + n).collect();
    assert_eq!(versions_returned(&responses), expected);
    let after = stored(&w.app, id).await;
    assert_eq!(i64::from(after.version), v + sent);
    assert_eq!(after.state, entity::PetitionState::Accepted);
    // Counters moved once per step: nothing was lost to a concurrent write.
    assert_eq!(after.urge_count, before.urge_count + 2);
    assert_eq!(after.escalation_level, before.escalation_level + 2);
    let mut actions: Vec<String> = history(&w.app, id)
        .await
        .into_iter()
        .skip(history_before)
        .map(|e| e.action)
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        [
            "add_progress",
            "add_progress",
            "add_progress",
            "escalate_supervision",
            "escalate_supervision",
            "report_assist",
            "urge",
            "urge"
        ]
    );
    assert_eq!(event_versions_after(&w.app, id, seq).await, expected);
}

/// A writer that holds the item longer than the database lets a waiter wait (PostgreSQL's
/// lock timeout, SQLite's busy timeout: 5 s) does not fail a step without a version:
/// the timeout is contention, and the step is tried again until the item is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_step_waits_out_a_writer_that_holds_the_item_past_the_lock_timeout() {
    use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, TransactionTrait};
    let w = World::new().await;
    let item = w.accepted().await;
    let id = pid(&item);
    let v = item["version"].as_i64().unwrap();

    // Another writer takes the item (SQLite: the database's write lock) and keeps it.
    let holder = w.app.db.begin().await.unwrap();
    let backend = holder.get_database_backend();
    let lock = match backend {
        DatabaseBackend::Postgres => "SELECT id FROM petition WHERE id = $1 FOR UPDATE",
        _ => "UPDATE petition SET id = id WHERE id = $1",
    };
    holder
        .execute(Statement::from_sql_and_values(backend, lock, [id.into()]))
        .await
        .unwrap();

    let request = w.gql(
        Some(&w.handler),
        PROGRESS,
        json!({ "id": item["id"], "n": "等待后的进展" }),
    );
    tokio::pin!(request);
    // Past the 5 s timeout the step is still waiting (it neither failed nor went ahead).
    let early = tokio::time::timeout(std::time::Duration::from_secs(7), &mut request).await;
    assert!(
        early.is_err(),
        "answered while the item was held: {:?}",
        early.map(|r| r.body)
    );
    holder.commit().await.unwrap();

    let r = request.await;
    assert_eq!(top(&r)["version"].as_i64(), Some(v + 1), "{}", r.body);
    assert_eq!(count_actions(&w.app, id, "add_progress").await, 1);
}

#[tokio::test]
async fn consecutive_steps_by_one_actor_never_conflict() {
    let w = World::new().await;
    let mut failures = Vec::new();
    // One request at a time, each sent once: nobody else touches these items.
    for _ in 0..10 {
        let item = w.citizen_item().await;
        let id = item["id"].clone();
        let steps = [
            (
                w.staff.as_str(),
                REGISTER,
                json!({ "id": id, "c": w.category("roads_transport"), "u": "NORMAL", "h": "COUNTY" }),
            ),
            (
                w.staff.as_str(),
                FORWARD,
                json!({ "id": id, "lead": w.dept("jiaotong") }),
            ),
            (w.handler.as_str(), ACCEPT, json!({ "id": id })),
            (
                w.handler.as_str(),
                COMPLETE,
                json!({ "id": id, "r": "已办结" }),
            ),
        ];
        for (token, query, vars) in steps {
            let r = w.gql(Some(token), query, vars).await;
            if r.body.get("errors").is_some() {
                failures.push(r.body.to_string());
                break;
            }
        }
    }
    // One cycle handles everything due (far fewer than its batch of 500).
    let first = w.ok(Some(&w.admin), CYCLE, json!({})).await;
    let second = w.cycle().await;
    if second != json!({ "markedOverdue": 0, "escalated": 0, "autoClosed": 0 }) {
        failures.push(format!(
            "the first cycle did {first}, the second still found {second}"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ------------------------------------------------------------------ 6. anonymous intake

#[tokio::test]
async fn anonymous_citizens_follow_and_rate_with_the_follow_secret() {
    let w = World::new().await;
    let mut input = w.anonymous_input();
    input["submitterPhone"] = Value::Null;
    let r = w.submit(None, input).await;
    assert_bad_input(&r, "submitterPhone");

    let r = w.submit(None, w.anonymous_input()).await;
    let payload = r.data()["submitPetition"].clone();
    let item = payload["petition"].clone();
    let code = payload["trackingCode"].as_str().unwrap().to_owned();
    let secret = payload["followSecret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 32, "{secret}");
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(item["state"], "SUBMITTED");
    assert_eq!(item["channel"], "APP");
    assert_eq!(item["station"]["code"], "binhe");
    assert!(item["deputy"].is_null());
    assert_eq!(item["submitterPhone"], "13912345678");
    assert_eq!(item["submitterName"], "张三丰");
    let stored = petition::Entity::find_by_id(pid(&item))
        .one(&w.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.submitter_account_id, None);
    let hash = stored.follow_secret_hash.unwrap();
    assert!(
        !hash.contains(&secret),
        "only a hash of the secret is stored"
    );

    // Anyone with the code sees where it stands, and nothing more.
    let dashed = format!("{}-{}", &code[..6], &code[6..]).to_lowercase();
    for (token, c) in [
        (None, code.as_str()),
        (Some(w.citizen.as_str()), dashed.as_str()),
    ] {
        let t = w.ok(token, TRACK, json!({ "code": c })).await;
        assert_eq!(t["status"]["trackingCode"], item["trackingCode"]);
        assert_eq!(t["status"]["state"], "SUBMITTED");
        assert!(t["petition"].is_null(), "{t}");
    }
    // With the secret, the whole item.
    let t = w
        .ok(None, TRACK, json!({ "code": code, "secret": secret }))
        .await;
    assert_eq!(t["petition"]["id"], item["id"]);
    assert_eq!(t["petition"]["submitterPhone"], "13912345678");
    let r = w
        .gql(
            None,
            TRACK,
            json!({ "code": code, "secret": "0".repeat(32) }),
        )
        .await;
    assert_code(&r, "FORBIDDEN");
    let r = w.gql(None, TRACK, json!({ "code": "HS2222222222" })).await;
    assert_code(&r, "NOT_FOUND");
    let r = w.gql(None, TRACK, json!({ "code": "nonsense" })).await;
    assert_bad_input(&r, "trackingCode");

    // Handled by the station and the bureau.
    let item = w.register(&item, "governance", "NORMAL").await;
    let item = w.forward(&item, "jiaotong", &[]).await;
    let item = w.step(&w.handler, ACCEPT, &item, json!({})).await;
    w.step(
        &w.handler,
        COMPLETE,
        &item,
        json!({ "r": "已疏通排水管道" }),
    )
    .await;

    // Rating by tracking code needs the secret: without it the item stays hidden.
    let r = w
        .gql(None, RATE, json!({ "code": code, "s": "UNSATISFIED" }))
        .await;
    assert_code(&r, "NOT_FOUND");
    let r = w
        .gql(
            None,
            RATE,
            json!({ "code": code, "secret": "0".repeat(32), "s": "UNSATISFIED" }),
        )
        .await;
    assert_code(&r, "NOT_FOUND");
    let r = w.gql(None, RATE, json!({ "s": "SATISFIED" })).await;
    assert_bad_input(&r, "id");
    let r = w
        .gql(
            None,
            RATE,
            json!({ "code": code, "secret": secret, "s": "SATISFIED", "c": "谢谢" }),
        )
        .await;
    let item = top(&r);
    assert_eq!(item["state"], "CLOSED");
    assert_eq!(item["satisfaction"], "SATISFIED");
    assert_eq!(
        last_step(&item),
        json!(["rate_satisfied", "resolved", "closed", "submitter", null])
    );
    let last = history(&w.app, pid(&item)).await.pop().unwrap();
    assert_eq!(last.actor_account_id, None);
    let t = w.ok(None, TRACK, json!({ "code": code })).await;
    assert_eq!(t["status"]["state"], "CLOSED");
    assert_eq!(t["status"]["satisfaction"], "SATISFIED");
}

#[tokio::test]
async fn anonymous_intake_is_rate_limited_per_address() {
    let w = World::with_env("ANONYMOUS_SUBMISSIONS_PER_ADDRESS", "2").await;
    let before = petition_count(&w.app).await;
    for _ in 0..2 {
        w.submit(None, w.anonymous_input()).await.data();
    }
    let r = w.submit(None, w.anonymous_input()).await;
    assert_code(&r, "RATE_LIMITED");
    let retry = r.body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    // Signed-in citizens are not held by it.
    w.submit(Some(&w.citizen), w.citizen_input()).await.data();
    assert_eq!(petition_count(&w.app).await, before + 3);
}

#[tokio::test]
async fn submissions_are_validated_field_by_field() {
    let w = World::new().await;
    let before = petition_count(&w.app).await;
    let missing_station = NodeId::new(NodeKind::Station, 999_999).encode();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("title", json!(""), "title"),
        ("title", json!("路"), "title"),
        ("title", json!("路".repeat(101)), "title"),
        ("content", json!("    "), "content"),
        ("content", json!("太吵了"), "content"),
        ("content", json!("吵".repeat(5001)), "content"),
        ("submitterPhone", json!("12345"), "submitterPhone"),
        ("submitterPhone", json!("23812345678"), "submitterPhone"),
        ("submitterName", json!("李".repeat(65)), "submitterName"),
        // Uploads are checked in tests/api/attachments.rs.
        ("attachmentIds", json!(["no-such-upload"]), "attachmentIds"),
        ("deputyCode", json!("ZZZZZZZZ"), "deputyCode"),
        ("deputyCode", json!("abc"), "deputyCode"),
        ("deputyCode", Value::Null, "stationId"),
        ("stationId", json!(missing_station), "stationId"),
        ("channel", json!("WECHAT"), "channel"),
    ];
    for (key, value, field) in cases {
        let mut input = w.citizen_input();
        input[key] = value.clone();
        let r = w.submit(Some(&w.citizen), input).await;
        assert_bad_input(&r, field);
        assert!(
            r.body["errors"][0]["message"].is_string(),
            "{key}={value}: {}",
            r.body
        );
    }
    // The same rules for anonymous submitters.
    let mut input = w.anonymous_input();
    input["submitterPhone"] = json!("1381234");
    assert_bad_input(&w.submit(None, input).await, "submitterPhone");
    let mut input = w.anonymous_input();
    input["title"] = json!("");
    assert_bad_input(&w.submit(None, input).await, "title");
    assert_eq!(petition_count(&w.app).await, before, "nothing was stored");

    // The limits themselves are allowed.
    let mut input = w.citizen_input();
    input["title"] = json!("路灯");
    input["content"] = json!("路灯坏了。");
    let r = w.submit(Some(&w.citizen), input).await;
    let item = r.data()["submitPetition"]["petition"].clone();
    assert_eq!(item["attachments"], json!([]));
    let mut input = w.citizen_input();
    input["title"] = json!("路".repeat(100));
    w.submit(Some(&w.citizen), input).await.data();
}

#[tokio::test]
async fn items_recorded_in_person_name_the_recording_role() {
    let w = World::new().await;
    let input = json!({
        "title": "居民反映噪音扰民", "content": "夜间施工噪音扰民，影响居民休息。",
        "channel": "STATION_RECEPTION", "stationId": w.binhe,
        "submitterName": "王建华", "submitterPhone": "13712345678",
    });
    let r = w.submit(Some(&w.staff), input).await;
    let item = r.data()["submitPetition"]["petition"].clone();
    assert_eq!(item["channel"], "STATION_RECEPTION");
    assert_eq!(item["station"]["code"], "binhe");
    // Collected in person: the citizen is not the signed-in account.
    let stored = petition::Entity::find_by_id(pid(&item))
        .one(&w.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.submitter_account_id, None);

    let input = json!({
        "title": "走访收集意见", "content": "走访中群众反映村道破损需要修补。",
        "channel": "DEPUTY_VISIT", "submitterName": "赵大爷",
    });
    let r = w.submit(Some(&w.deputy), input).await;
    let visit = r.data()["submitPetition"]["petition"].clone();
    assert_eq!(visit["deputy"]["code"], w.deputy_code.as_str());
    assert_eq!(visit["station"]["code"], "binhe");
    assert_eq!(
        steps(&visit),
        vec![json!(["submit", null, "submitted", "deputy", null])]
    );
    assert_eq!(
        steps(&item),
        vec![json!(["submit", null, "submitted", "station_staff", null])]
    );
}

// ------------------------------------------------------------------ 7. personal data

#[tokio::test]
async fn personal_data_is_masked_for_those_not_entitled() {
    let w = World::new().await;
    let assist = w.handler_of("shuili_handler", "shuili").await;
    let item = w.citizen_item().await;
    let item = w.register(&item, "roads_transport", "NORMAL").await;
    let item = w.forward(&item, "jiaotong", &["shuili"]).await;
    let item = w.step(&w.handler, ACCEPT, &item, json!({})).await;
    let full = ("李建国", "13812345678");
    let masked = ("李**", "138****5678");
    let seen = |v: &Value| {
        (
            v["submitterName"].as_str().unwrap_or("").to_owned(),
            v["submitterPhone"].as_str().unwrap_or("").to_owned(),
        )
    };
    let expect = |v: &Value, want: (&str, &str), who: &str| {
        assert_eq!(
            seen(v),
            (want.0.to_owned(), want.1.to_owned()),
            "{who}: {v}"
        );
    };

    for (who, token) in [
        ("submitter", &w.citizen),
        ("addressed deputy", &w.deputy),
        ("station staff", &w.staff),
        ("lead handler", &w.handler),
    ] {
        expect(&w.node(Some(token), &item).await, full, who);
    }
    for (who, token) in [
        ("supervisor", &w.supervisor),
        ("assisting handler", &assist),
        ("admin", &w.admin),
    ] {
        let v = w.node(Some(token), &item).await;
        expect(&v, masked, who);
        assert!(v["submitterPhone"].as_str().unwrap().contains('*'));
    }

    // The same in lists ...
    let today = json!({ "from": since_yesterday() });
    let lists = [
        (
            "stationLedger",
            &w.staff,
            ledger_query(),
            json!({ "s": w.binhe, "f": today }),
            full,
        ),
        (
            "departmentInbox lead",
            &w.handler,
            inbox_query(),
            json!({ "d": w.dept("jiaotong"), "f": today }),
            full,
        ),
        (
            "myDeputyPetitions",
            &w.deputy,
            list_query("myDeputyPetitions", "", ""),
            json!({ "f": today }),
            full,
        ),
        (
            "myPetitions",
            &w.citizen,
            list_query("myPetitions", "", ""),
            json!({ "f": today }),
            full,
        ),
        (
            "departmentInbox assist",
            &assist,
            inbox_query(),
            json!({ "d": w.dept("shuili"), "f": today }),
            masked,
        ),
        (
            "petitions",
            &w.supervisor,
            supervised_query(),
            json!({ "f": today }),
            masked,
        ),
    ];
    for (who, token, query, vars, want) in lists {
        let list = w.ok(Some(token), &query, vars).await;
        assert_eq!(list["totalCount"], 1, "{who}: {list}");
        expect(&list["nodes"][0], want, who);
    }
    // ... in step results ...
    let progress = w
        .step(&assist, PROGRESS, &item, json!({ "n": "协办进展" }))
        .await;
    expect(&progress, masked, "assisting handler's step");
    let progress = w
        .step(&w.handler, PROGRESS, &progress, json!({ "n": "主办进展" }))
        .await;
    expect(&progress, full, "lead handler's step");
    // ... and when tracking by code.
    let t = w
        .ok(
            Some(&w.citizen),
            TRACK,
            json!({ "code": item["trackingCode"] }),
        )
        .await;
    expect(&t["petition"], full, "submitter tracking");
    let t = w
        .ok(
            Some(&w.supervisor),
            TRACK,
            json!({ "code": item["trackingCode"] }),
        )
        .await;
    expect(&t["petition"], masked, "supervisor tracking");
}

// ------------------------------------------------------------------ 8. queries

#[tokio::test]
async fn lists_filter_the_demo_year_by_state_category_urgency_and_overdue() {
    let w = World::new().await;
    let year = |mut filter: Value| {
        filter["from"] = json!("2025-01-01");
        filter["to"] = json!("2025-12-31");
        json!({ "f": filter, "first": 1 })
    };
    let total = |v: &Value| v["totalCount"].as_i64().unwrap();
    let cases = [
        (json!({}), 1041),
        (json!({ "states": ["SUBMITTED"] }), 4),
        (json!({ "states": ["REGISTERED"] }), 5),
        (json!({ "states": ["FORWARDED"] }), 6),
        (json!({ "states": ["ACCEPTED"] }), 10),
        (json!({ "states": ["DECLINED", "MERGED"] }), 4),
        (json!({ "states": ["RESOLVED", "CLOSED"] }), 1012),
        (json!({ "overdue": true }), 4),
        (json!({ "overdue": true, "states": ["ACCEPTED"] }), 4),
        (json!({ "urgency": "URGENT" }), 52),
        (
            json!({ "urgency": "URGENT", "states": ["RESOLVED", "CLOSED"] }),
            52,
        ),
        (json!({ "urgency": "CRITICAL" }), 0),
        (json!({ "categoryId": w.category("disputes") }), 35),
    ];
    for (filter, want) in cases {
        let list = w
            .ok(
                Some(&w.supervisor),
                &supervised_query(),
                year(filter.clone()),
            )
            .await;
        assert_eq!(total(&list), want, "{filter}");
    }
    let ledger = |filter: Value| {
        let mut vars = year(filter);
        vars["s"] = w.binhe.clone();
        vars
    };
    let cases = [
        (
            json!({ "categoryId": w.category("disputes"), "states": ["RESOLVED", "CLOSED"] }),
            35,
        ),
        (json!({ "categoryId": w.category("safety_hazards") }), 12),
        (
            json!({ "categoryId": w.category("governance"), "states": ["RESOLVED", "CLOSED"] }),
            16,
        ),
    ];
    for (filter, want) in cases {
        let list = w
            .ok(Some(&w.staff), &ledger_query(), ledger(filter.clone()))
            .await;
        assert_eq!(total(&list), want, "{filter}");
    }
    let r = w
        .gql(
            Some(&w.supervisor),
            &supervised_query(),
            json!({ "f": { "from": "2025-03-02", "to": "2025-03-01" } }),
        )
        .await;
    assert_bad_input(&r, "filter.to");
}

#[tokio::test]
async fn lists_are_scoped_to_the_viewer_with_china_dates_and_paging() {
    let w = World::new().await;
    let a = w.citizen_item().await;
    let b = w.citizen_item().await;
    let c = w.citizen_item().await;
    // 23:30 and 00:30 China time either side of midnight, and two days later.
    for (item, at) in [
        (&a, "2026-03-01T15:30:00Z"),
        (&b, "2026-03-01T16:30:00Z"),
        (&c, "2026-03-03T02:00:00Z"),
    ] {
        let at: DateTime<Utc> = at.parse().unwrap();
        set_column(&w.app, pid(item), petition::Column::CollectedAt, at).await;
    }
    let all = vec![a["id"].clone(), b["id"].clone(), c["id"].clone()];
    let window = |from: &str, to: &str| json!({ "f": { "from": from, "to": to } });
    let cases = [
        (window("2026-03-02", "2026-03-02"), vec![b["id"].clone()]),
        (window("2026-01-01", "2026-03-01"), vec![a["id"].clone()]),
        (window("2026-03-01", "2026-03-03"), all.clone()),
        (window("2026-03-04", "2026-12-31"), vec![]),
    ];
    for (vars, want) in cases {
        let list = w
            .ok(Some(&w.supervisor), &supervised_query(), vars.clone())
            .await;
        assert_eq!(ids(&list), want, "{vars}");
    }

    // The citizen's own items, page by page (oldest first).
    let mine = list_query("myPetitions", "", "");
    let page = w.ok(Some(&w.citizen), &mine, json!({ "first": 2 })).await;
    assert_eq!(page["totalCount"], 3);
    assert_eq!(ids(&page), all[..2].to_vec());
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let page = w
        .ok(
            Some(&w.citizen),
            &mine,
            json!({ "first": 2, "after": page["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(ids(&page), all[2..].to_vec());
    assert_eq!(page["pageInfo"]["hasNextPage"], false);
    assert_eq!(page["pageInfo"]["hasPreviousPage"], true);
    let page = w.ok(Some(&w.citizen), &mine, json!({ "last": 1 })).await;
    assert_eq!(ids(&page), all[2..].to_vec());
    // Somebody else's list is their own.
    let theirs = w.ok(Some(&w.staff), &mine, json!({})).await;
    assert_eq!(theirs["totalCount"], 0);

    // The deputy's, the station's and the department's views.
    let year = json!({ "from": "2026-01-01", "to": "2026-12-31" });
    let deputy = w
        .ok(
            Some(&w.deputy),
            &list_query("myDeputyPetitions", "", ""),
            json!({ "f": year }),
        )
        .await;
    assert_eq!(ids(&deputy), all);
    let b = w.register(&b, "roads_transport", "NORMAL").await;
    let c = w.register(&c, "roads_transport", "URGENT").await;
    let c = w.forward(&c, "jiaotong", &[]).await;
    let mut registered = year.clone();
    registered["states"] = json!(["REGISTERED"]);
    let ledger = w
        .ok(
            Some(&w.staff),
            &ledger_query(),
            json!({ "s": w.binhe, "f": registered }),
        )
        .await;
    assert_eq!(ids(&ledger), vec![b["id"].clone()]);
    let ledger = w
        .ok(
            Some(&w.staff),
            &ledger_query(),
            json!({ "s": w.binhe, "f": year }),
        )
        .await;
    assert_eq!(ledger["totalCount"], 3);
    let mut urgent = year.clone();
    urgent["urgency"] = json!("URGENT");
    urgent["categoryId"] = w.category("roads_transport");
    let inbox = w
        .ok(
            Some(&w.handler),
            &inbox_query(),
            json!({ "d": w.dept("jiaotong"), "f": urgent }),
        )
        .await;
    assert_eq!(ids(&inbox), vec![c["id"].clone()]);
    let inbox = w
        .ok(
            Some(&w.handler),
            &inbox_query(),
            json!({ "d": w.dept("jiaotong"), "f": year }),
        )
        .await;
    assert_eq!(ids(&inbox), vec![c["id"].clone()]);

    // Staff of another station, a handler, a deputy: not this station's ledger.
    let yixing = w.station("yixing_sanzhan");
    let roles = json!([{ "role": "STATION_STAFF", "stationId": yixing.id }]);
    let elsewhere = w.account("yixing_staff", roles, None).await;
    for token in [&elsewhere, &w.handler, &w.deputy, &w.citizen] {
        let r = w
            .gql(Some(token), &ledger_query(), json!({ "s": w.binhe }))
            .await;
        assert_code(&r, "FORBIDDEN");
    }
    w.ok(Some(&elsewhere), &ledger_query(), json!({ "s": yixing.id }))
        .await;
    // A township supervisor sees their township only.
    let roles = json!([{ "role": "SUPERVISOR", "townshipId": yixing.township }]);
    let township = w.account("yixing_supervisor", roles, None).await;
    let r = w
        .gql(
            Some(&township),
            &supervised_query(),
            json!({ "t": w.station("binhe").township }),
        )
        .await;
    assert_code(&r, "FORBIDDEN");
    let theirs = w
        .ok(Some(&township), &supervised_query(), json!({ "f": year }))
        .await;
    assert_eq!(theirs["totalCount"], 0);
    let county = w
        .ok(
            Some(&w.supervisor),
            &supervised_query(),
            json!({ "f": year }),
        )
        .await;
    assert_eq!(county["totalCount"], 3);
    let r = w
        .gql(Some(&township), &ledger_query(), json!({ "s": w.binhe }))
        .await;
    assert_code(&r, "FORBIDDEN");
}

// ------------------------------------------------------------------ 9. suggestions

#[tokio::test]
async fn deputies_suggest_and_the_department_answers_once() {
    let w = World::new().await;
    let water = w.handler_of("shuili_handler", "shuili").await;
    let vars = json!({
        "t": "关于滨河河道清淤的建议",
        "c": "滨河河道淤积严重，建议水利部门汛前组织清淤并建立长效管护机制。",
        "d": w.dept("shuili"),
        "s": w.binhe,
    });
    for (token, code) in [
        (None, "UNAUTHENTICATED"),
        (Some(&w.citizen), "FORBIDDEN"),
        (Some(&w.staff), "FORBIDDEN"),
    ] {
        let r = w
            .gql(token.map(String::as_str), SUBMIT_SUGGESTION, vars.clone())
            .await;
        assert_code(&r, code);
    }
    let mut short = vars.clone();
    short["t"] = json!("建");
    assert_bad_input(
        &w.gql(Some(&w.deputy), SUBMIT_SUGGESTION, short).await,
        "title",
    );
    let mut short = vars.clone();
    short["c"] = json!("建议清淤");
    assert_bad_input(
        &w.gql(Some(&w.deputy), SUBMIT_SUGGESTION, short).await,
        "content",
    );

    let s = w.ok(Some(&w.deputy), SUBMIT_SUGGESTION, vars).await;
    assert_eq!(s["status"], "SUBMITTED");
    assert!(s["adoption"].is_null());
    assert_eq!(s["deputy"]["code"], w.deputy_code.as_str());
    assert_eq!(s["department"]["code"], "shuili");

    let answer = json!({ "id": s["id"], "a": "ADOPTED", "t": "建议已采纳，汛前完成清淤。" });
    // Another department's handler does not see the suggestion: as missing as an
    // unknown id.
    let r = w
        .gql(Some(&w.handler), ANSWER_SUGGESTION, answer.clone())
        .await;
    assert_code(&r, "NOT_FOUND");
    let answered = w.ok(Some(&water), ANSWER_SUGGESTION, answer.clone()).await;
    assert_eq!(answered["status"], "ANSWERED");
    assert_eq!(answered["adoption"], "ADOPTED");
    assert_eq!(answered["answer"], "建议已采纳，汛前完成清淤。");
    assert!(answered["answeredAt"].is_string());
    let mut again = answer.clone();
    again["a"] = json!("NOT_ADOPTED");
    let r = w.gql(Some(&water), ANSWER_SUGGESTION, again).await;
    assert_code(&r, "INVALID_TRANSITION");

    // The deputy sees the answer among their suggestions; the department in its own.
    let list = "query($d: ID) { suggestions(departmentId: $d, last: 1) { totalCount nodes { id status adoption answer } } }";
    let mine = w.ok(Some(&w.deputy), list, json!({})).await;
    assert_eq!(mine["nodes"][0]["id"], s["id"]);
    assert_eq!(mine["nodes"][0]["adoption"], "ADOPTED");
    assert_eq!(mine["nodes"][0]["status"], "ANSWERED");
    let department = w
        .ok(Some(&water), list, json!({ "d": w.dept("shuili") }))
        .await;
    assert_eq!(department["nodes"][0]["id"], s["id"]);
    let r = w
        .gql(Some(&w.handler), list, json!({ "d": w.dept("shuili") }))
        .await;
    assert_code(&r, "FORBIDDEN");
}

// ------------------------------------------------------------------ 10. statistics

/// byCategory as code → (collected, completed).
fn by_category(stats: &Value) -> BTreeMap<String, (i64, i64)> {
    stats["byCategory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["category"]["code"]
                    .as_str()
                    .unwrap_or("(none)")
                    .to_owned(),
                (
                    c["itemsCollected"].as_i64().unwrap(),
                    c["itemsCompleted"].as_i64().unwrap(),
                ),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_2025_statistics_match_the_report() {
    let w = World::new().await;
    let year = json!({ "from": "2025-01-01", "to": "2025-12-31" });
    let county = w.ok(Some(&w.supervisor), STATS, year.clone()).await;
    assert_eq!(county["itemsCollected"], 1041);
    assert_eq!(county["itemsCompleted"], 1012);
    let rate = county["completionRate"].as_f64().unwrap();
    assert_eq!((rate * 1000.0).round() as i64, 972, "{rate}");
    assert_eq!(county["urgentCompleted"], 52);
    assert_eq!(county["suggestionsMade"], 286);
    assert_eq!(county["suggestionsAdopted"], 192);
    let categories = by_category(&county);
    assert_eq!(
        categories.values().map(|c| c.0).sum::<i64>(),
        1041,
        "{categories:?}"
    );
    assert_eq!(categories.values().map(|c| c.1).sum::<i64>(), 1012);

    // 滨河社区: 35 disputes settled, 12 hazards found, 16 governance problems solved.
    let mut scope = year.clone();
    scope["s"] = w.binhe.clone();
    let binhe = w.ok(Some(&w.supervisor), STATS, scope).await;
    let categories = by_category(&binhe);
    assert_eq!(categories["disputes"].1, 35, "{categories:?}");
    assert_eq!(categories["safety_hazards"].0, 12);
    assert_eq!(categories["governance"].1, 16);

    let r = w
        .gql(
            None,
            STATS,
            json!({ "from": "2025-12-31", "to": "2025-01-01" }),
        )
        .await;
    assert_bad_input(&r, "to");
}

#[tokio::test]
async fn statistics_of_a_station_and_a_department_after_a_fresh_flow() {
    let w = World::with_env("SUPERVISION_INTERVAL_SECS", "0").await;
    let water = w.handler_of("shuili_handler", "shuili").await;
    let ten_hours_ago = Utc::now() - Duration::hours(10);

    // A: urgent roads item, handled by the water bureau in time and rated satisfied.
    let a = w.citizen_item().await;
    set_column(
        &w.app,
        pid(&a),
        petition::Column::CollectedAt,
        ten_hours_ago,
    )
    .await;
    let a = w.register(&a, "roads_transport", "URGENT").await;
    let a = w.forward(&a, "shuili", &[]).await;
    let a = w.step(&water, ACCEPT, &a, json!({})).await;
    let a = w.step(&water, COMPLETE, &a, json!({ "r": "已修复" })).await;
    assert_eq!(
        top(&w.rate(Some(&w.citizen), &a, "SATISFIED").await)["state"],
        "CLOSED"
    );
    // B: a dispute the deputy settles on the spot (no deadline, no rating).
    let b = w.citizen_item().await;
    set_column(
        &w.app,
        pid(&b),
        petition::Column::CollectedAt,
        ten_hours_ago,
    )
    .await;
    let b = w.register(&b, "disputes", "NORMAL").await;
    w.step(&w.deputy, RESOLVE_ON_SPOT, &b, json!({ "r": "已调解" }))
        .await;
    // C: still with the water bureau, and overdue.
    let c = w.citizen_item().await;
    let c = w.register(&c, "roads_transport", "NORMAL").await;
    let c = w.forward(&c, "shuili", &[]).await;
    let c = w.step(&water, ACCEPT, &c, json!({})).await;
    set_column(
        &w.app,
        pid(&c),
        petition::Column::Deadline,
        Utc::now() - Duration::hours(1),
    )
    .await;
    w.cycles().await;
    assert_eq!(w.node(Some(&w.staff), &c).await["isOverdue"], true);
    // And one adopted suggestion from the station to the water bureau.
    let s = w
        .ok(
            Some(&w.deputy),
            SUBMIT_SUGGESTION,
            json!({ "t": "关于河道清淤的建议", "c": "建议汛前组织河道清淤，建立长效管护机制。", "d": w.dept("shuili"), "s": w.binhe }),
        )
        .await;
    w.ok(
        Some(&water),
        ANSWER_SUGGESTION,
        json!({ "id": s["id"], "a": "PARTLY_ADOPTED", "t": "部分采纳，先行清淤重点河段。" }),
    )
    .await;

    let today = china_today();
    let window =
        json!({ "from": day(today - Duration::days(1)), "to": day(today + Duration::days(1)) });
    let stats = |extra: Value| {
        let mut vars = window.clone();
        for (k, v) in extra.as_object().unwrap() {
            vars[k] = v.clone();
        }
        w.ok(Some(&w.supervisor), STATS, vars)
    };
    let close = |got: &Value, want: f64| {
        let got = got.as_f64().unwrap();
        assert!((got - want).abs() < 1e-9, "{got} != {want}");
    };

    let station = stats(json!({ "s": w.binhe })).await;
    assert_eq!(station["itemsCollected"], 3);
    assert_eq!(station["itemsCompleted"], 2);
    close(&station["completionRate"], 2.0 / 3.0);
    assert_eq!(station["completedOnTime"], 1);
    close(&station["onTimeRate"], 1.0);
    assert_eq!(station["rated"], 1);
    close(&station["satisfactionRate"], 1.0);
    let hours = station["averageHandlingHours"].as_f64().unwrap();
    assert!((hours - 10.0).abs() < 0.1, "{hours}");
    assert_eq!(station["overdueCount"], 1);
    assert_eq!(station["urgentCompleted"], 1);
    assert_eq!(station["suggestionsMade"], 1);
    assert_eq!(station["suggestionsAdopted"], 1);
    assert_eq!(
        by_category(&station),
        BTreeMap::from([
            ("disputes".to_owned(), (1, 1)),
            ("roads_transport".to_owned(), (2, 1)),
        ])
    );
    // The county and the township hold nothing else in the window.
    let county = stats(json!({})).await;
    assert_eq!(county["itemsCollected"], 3);
    let township = stats(json!({ "t": w.station("binhe").township })).await;
    assert_eq!(township["itemsCollected"], 3);
    assert_eq!(township["suggestionsMade"], 1);

    let department = stats(json!({ "d": w.dept("shuili") })).await;
    assert_eq!(department["itemsCollected"], 2);
    assert_eq!(department["itemsCompleted"], 1);
    close(&department["completionRate"], 0.5);
    assert_eq!(department["completedOnTime"], 1);
    assert_eq!(department["overdueCount"], 1);
    assert_eq!(department["urgentCompleted"], 1);
    assert_eq!(department["suggestionsMade"], 1);
    assert_eq!(department["suggestionsAdopted"], 1);
    let other = stats(json!({ "d": w.dept("jiaotong") })).await;
    assert_eq!(other["itemsCollected"], 0);
    close(&other["completionRate"], 0.0);

    let roads = stats(json!({ "s": w.binhe, "c": w.category("roads_transport") })).await;
    assert_eq!(roads["itemsCollected"], 2);
    assert_eq!(roads["itemsCompleted"], 1);
    close(&roads["completionRate"], 0.5);
    assert_eq!(roads["suggestionsMade"], 0, "suggestions carry no category");
}
