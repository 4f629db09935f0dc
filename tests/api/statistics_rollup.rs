//! The statistics rollup (issue 14): every change keeps it equal to a computation from
//! scratch (random histories of workflow steps, suggestions, time passing and
//! supervision cycles, driven through the API); the migration and `statistics rebuild`
//! recompute exactly the rows the changes kept; `byCategory` comes in one order on
//! both backends; and the scale seed (`seed --demo --scale N`).
use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use migration::{Migrator, MigratorTrait};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{Database, EntityTrait, QueryOrder};
use serde_json::{json, Value};
use smart_npc::clock::Clock;
use smart_npc::domain::calendar::local_date;
use smart_npc::domain::node_id::{NodeId, NodeKind};
use smart_npc::service::statistics::{self, rollup, verify, Scope};

use crate::helpers::{Fixture, GqlResponse, TestApp, TestDatabase};

const SUBMIT: &str =
    "mutation($i: SubmitPetitionInput!) { submitPetition(input: $i) { petition { id state } } }";
const REGISTER: &str = "mutation($id: ID!, $c: ID!, $u: Urgency!) { registerPetition(id: $id, categoryId: $c, urgency: $u, handlingLevel: COUNTY) { id state } }";
const FORWARD: &str = "mutation($id: ID!, $lead: ID!, $assist: [ID!]!) { forwardPetition(id: $id, leadDepartmentId: $lead, assistDepartmentIds: $assist) { id state } }";
const ACCEPT: &str = "mutation($id: ID!) { acceptPetition(id: $id) { id state } }";
const RETURN: &str =
    "mutation($id: ID!) { returnPetition(id: $id, reason: \"不属于本部门职责\") { id state } }";
const COMPLETE: &str =
    "mutation($id: ID!) { completePetition(id: $id, result: \"已处理完毕\") { id state } }";
const ON_SPOT: &str =
    "mutation($id: ID!) { resolvePetitionOnSpot(id: $id, result: \"现场调解解决\") { id state } }";
const DECLINE: &str =
    "mutation($id: ID!) { declinePetition(id: $id, reason: \"不属于受理范围\") { id state } }";
const MERGE: &str =
    "mutation($id: ID!, $into: ID!) { mergePetition(id: $id, intoId: $into) { id state } }";
const RATE: &str =
    "mutation($id: ID!, $s: Satisfaction!) { ratePetition(id: $id, satisfaction: $s) { id state } }";
const CYCLE: &str = "mutation { runSupervisionCycle { markedOverdue escalated autoClosed } }";
const SUGGEST: &str = "mutation($d: ID!, $s: ID) { submitSuggestion(title: \"关于河道清淤的建议\", content: \"建议汛前组织河道清淤，建立长效管护机制。\", departmentId: $d, stationId: $s) { id } }";
const ANSWER: &str = "mutation($id: ID!, $a: Adoption!) { answerSuggestion(id: $id, adoption: $a, answer: \"已研究办理。\") { id } }";
const STATS: &str = "query($from: Date!, $to: Date!, $c: ID) { statistics(from: $from, to: $to, categoryId: $c) { itemsCollected itemsCompleted averageHandlingHours byCategory { category { id } itemsCollected itemsCompleted } } }";

/// The demo, with the people who act and the ids they name.
struct History {
    app: TestApp,
    clock: Clock,
    rng: StdRng,
    tokens: [String; 5],
    deputy_code: String,
    binhe: Value,
    jiaotong: Value,
    departments: Vec<Value>,
    categories: Vec<Value>,
    items: Vec<Value>,
    suggestions: Vec<Value>,
    done: usize,
}

/// A token for each person who acts, in the order of the constants below.
async fn sign_in(app: &TestApp) -> [String; 5] {
    let mut tokens = Vec::new();
    for login in ["staff", "handler", "deputy", "citizen", "admin"] {
        tokens.push(app.token(login).await);
    }
    tokens.try_into().unwrap()
}

const STAFF: usize = 0;
const HANDLER: usize = 1;
const DEPUTY: usize = 2;
const CITIZEN: usize = 3;
const ADMIN: usize = 4;

impl History {
    async fn new(seed: u64) -> History {
        let clock = Clock::system();
        let app = TestApp::builder()
            .fixture(Fixture::Demo)
            .env("SUPERVISION_INTERVAL_SECS", "0")
            // Everyone signs in again after time passes.
            .env("SIGNIN_ATTEMPTS_PER_ADDRESS", "1000")
            .clock(clock.clone())
            .spawn()
            .await;
        let tokens = sign_in(&app).await;
        let ids = app
            .gql("{ stations(first: 100) { nodes { id code } } departments(first: 100) { nodes { id code } } categories { id } }")
            .send()
            .await;
        let data = ids.data();
        let find = |list: &str, code: &str| {
            data[list]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["code"] == code)
                .map(|n| n["id"].clone())
                .unwrap()
        };
        let departments = ["shuili", "minzheng", "sifa"]
            .iter()
            .map(|c| find("departments", c))
            .collect();
        let me = app
            .gql("{ me { deputy { code } } }")
            .bearer(Some(&tokens[DEPUTY]))
            .send()
            .await;
        History {
            binhe: find("stations", "binhe"),
            jiaotong: find("departments", "jiaotong"),
            departments,
            categories: data["categories"].as_array().unwrap()[..4]
                .iter()
                .map(|c| c["id"].clone())
                .collect(),
            deputy_code: me.data()["me"]["deputy"]["code"].as_str().unwrap().into(),
            tokens,
            app,
            clock,
            rng: StdRng::seed_from_u64(seed),
            items: Vec::new(),
            suggestions: Vec::new(),
            done: 0,
        }
    }

    /// Sends a step: it is taken, or refused with a code a client expects (a refused
    /// step changes nothing, and the rollup must not change either).
    async fn send(&mut self, who: usize, query: &str, vars: Value) -> Option<Value> {
        let r: GqlResponse = self
            .app
            .gql(query)
            .vars(vars)
            .bearer(Some(&self.tokens[who]))
            .send()
            .await;
        match r.error_code() {
            None => {
                self.done += 1;
                Some(r.data().clone())
            }
            Some(
                "INVALID_TRANSITION" | "FORBIDDEN" | "NOT_FOUND" | "CONFLICT" | "BAD_USER_INPUT",
            ) => None,
            Some(other) => panic!("{query}: unexpected {other}: {}", r.body),
        }
    }

    fn pick(&mut self, list: &[Value]) -> Value {
        list[self.rng.gen_range(0..list.len())].clone()
    }

    async fn submit(&mut self) {
        let mut input = json!({
            "title": "滨河路路灯不亮",
            "content": "滨河路北段多盏路灯损坏，夜间出行不便，请尽快维修。",
            "submitterName": "李建国",
            "submitterPhone": "13812345678",
        });
        if self.rng.gen_bool(0.5) {
            input["deputyCode"] = json!(self.deputy_code);
        } else {
            input["stationId"] = self.binhe.clone();
        }
        if let Some(data) = self.send(CITIZEN, SUBMIT, json!({ "i": input })).await {
            self.items
                .push(data["submitPetition"]["petition"]["id"].clone());
        }
    }

    async fn step_on_item(&mut self, kind: u32) {
        let id = self.pick(&self.items.clone());
        let (who, query, mut vars) = match kind {
            0 => {
                let urgency = ["NORMAL", "URGENT", "CRITICAL"][self.rng.gen_range(0..3)];
                let c = self.pick(&self.categories.clone());
                (STAFF, REGISTER, json!({ "c": c, "u": urgency }))
            }
            1 => {
                let n = self.rng.gen_range(0..=2);
                let assist: Vec<Value> = self.departments[..n].to_vec();
                let lead = self.jiaotong.clone();
                (STAFF, FORWARD, json!({ "lead": lead, "assist": assist }))
            }
            2 => (HANDLER, ACCEPT, json!({})),
            3 => (HANDLER, COMPLETE, json!({})),
            4 => (HANDLER, RETURN, json!({})),
            5 => (DEPUTY, ON_SPOT, json!({})),
            6 => (STAFF, DECLINE, json!({})),
            7 => (
                STAFF,
                MERGE,
                json!({ "into": self.pick(&self.items.clone()) }),
            ),
            _ => {
                let s =
                    ["SATISFIED", "BASICALLY_SATISFIED", "UNSATISFIED"][self.rng.gen_range(0..3)];
                (CITIZEN, RATE, json!({ "s": s }))
            }
        };
        vars["id"] = id;
        self.send(who, query, vars).await;
    }

    async fn suggestion(&mut self) {
        if !self.suggestions.is_empty() && self.rng.gen_bool(0.5) {
            let id = self.pick(&self.suggestions.clone());
            let a = ["ADOPTED", "PARTLY_ADOPTED", "NOT_ADOPTED"][self.rng.gen_range(0..3)];
            self.send(HANDLER, ANSWER, json!({ "id": id, "a": a }))
                .await;
            return;
        }
        let d = if self.rng.gen_bool(0.6) {
            self.jiaotong.clone()
        } else {
            self.pick(&self.departments.clone())
        };
        let s = if self.rng.gen_bool(0.7) {
            self.binhe.clone()
        } else {
            Value::Null
        };
        if let Some(data) = self.send(DEPUTY, SUGGEST, json!({ "d": d, "s": s })).await {
            self.suggestions
                .push(data["submitSuggestion"]["id"].clone());
        }
    }

    /// One random move.
    async fn act(&mut self) {
        match self.rng.gen_range(0..100) {
            0..=14 => self.submit().await,
            15..=19 => {
                let hours = self.rng.gen_range(1..48);
                self.clock
                    .advance(std::time::Duration::from_secs(hours * 3600));
                // Access tokens live 15 minutes of the app's time.
                self.tokens = sign_in(&self.app).await;
            }
            20..=23 => {
                self.send(ADMIN, CYCLE, json!({})).await;
            }
            24..=31 => self.suggestion().await,
            _ if self.items.is_empty() => self.submit().await,
            n => self.step_on_item(n % 9).await,
        }
    }
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Every rollup row, in key order.
async fn rows(db: &sea_orm::DatabaseConnection) -> Vec<entity::statistics_rollup::Model> {
    use entity::statistics_rollup::{Column, Entity};
    Entity::find()
        .order_by_asc(Column::DepartmentId)
        .order_by_asc(Column::TownshipId)
        .order_by_asc(Column::StationId)
        .order_by_asc(Column::Grain)
        .order_by_asc(Column::Bucket)
        .order_by_asc(Column::CategoryId)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        // A row whose counters all went back to zero is the same as no row.
        .filter(|r| {
            [
                r.collected,
                r.completed,
                r.with_deadline,
                r.on_time,
                r.rated,
                r.satisfied,
                r.handled,
                r.handling_ms,
                r.overdue,
                r.urgent_completed,
                r.suggestions_made,
                r.suggestions_adopted,
            ]
            .iter()
            .any(|v| *v != 0)
        })
        .collect()
}

async fn random_history(seed: u64) {
    let mut h = History::new(seed).await;
    let start = local_date(h.clock.now());
    for _ in 0..120 {
        h.act().await;
    }
    assert!(h.done >= 40, "only {} of 120 moves were taken", h.done);
    let end = local_date(h.clock.now());
    let db = &h.app.db;
    let binhe = NodeId::decode_as("id", h.binhe.as_str().unwrap(), NodeKind::Station).unwrap();
    let jiaotong =
        NodeId::decode_as("id", h.jiaotong.as_str().unwrap(), NodeKind::Department).unwrap();
    let shuili = NodeId::decode_as(
        "id",
        h.departments[0].as_str().unwrap(),
        NodeKind::Department,
    )
    .unwrap();
    let category =
        NodeId::decode_as("id", h.categories[1].as_str().unwrap(), NodeKind::Category).unwrap();
    let township = entity::station::Entity::find_by_id(binhe)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .township_id;
    let scopes = [
        Scope::default(),
        Scope {
            station_id: Some(binhe),
            ..Scope::default()
        },
        Scope {
            township_id: Some(township),
            ..Scope::default()
        },
        Scope {
            township_id: Some(township),
            station_id: Some(binhe),
            ..Scope::default()
        },
        Scope {
            department_id: Some(jiaotong),
            ..Scope::default()
        },
        Scope {
            department_id: Some(shuili),
            station_id: Some(binhe),
            ..Scope::default()
        },
        Scope {
            category_id: Some(category),
            ..Scope::default()
        },
        Scope {
            department_id: Some(jiaotong),
            category_id: Some(category),
            township_id: Some(township),
            ..Scope::default()
        },
    ];
    // The whole history, with the demo year; whole months; edges inside months; days.
    let periods = [
        (NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(), end),
        (start, end),
        (start.with_day0(0).unwrap(), end),
        (start + Duration::days(3), end - Duration::days(2)),
        (start, start),
        (end, end),
        (start - Duration::days(1), start + Duration::days(40)),
    ];
    let mut compared = 0;
    for (from, to) in periods {
        if to < from {
            continue;
        }
        for scope in &scopes {
            let expected = statistics::recompute(db, from, to, scope).await.unwrap();
            let found = statistics::compute(db, from, to, scope).await.unwrap();
            assert!(
                verify::agree(&expected, &found),
                "seed {seed}, {from} to {to}, {scope:?}:\n  from scratch {expected:?}\n  rollup       {found:?}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 40);
    let (checked, differences) = verify::verify(db).await.unwrap();
    assert!(checked > 100, "{checked}");
    assert!(differences.is_empty(), "{differences:?}");

    // The item tally the trigger kept through the same history is a count of the items.
    let differences = smart_npc::service::petitions::tally::verify(db)
        .await
        .unwrap();
    assert_eq!(differences, vec![], "seed {seed}: item tally");

    // What the changes kept is exactly what the migration and `rebuild` compute.
    let kept = rows(db).await;
    assert!(!kept.is_empty());
    rollup::rebuild(db).await.unwrap();
    assert_eq!(rows(db).await, kept, "seed {seed}: rebuilt rows differ");
    Migrator::down(db, Some(1)).await.unwrap();
    Migrator::up(db, None).await.unwrap();
    assert_eq!(rows(db).await, kept, "seed {seed}: migrated rows differ");
}

#[tokio::test]
async fn random_histories_keep_the_rollup_equal_to_a_recomputation_a() {
    random_history(0x5eed_0001).await;
}

#[tokio::test]
async fn random_histories_keep_the_rollup_equal_to_a_recomputation_b() {
    random_history(0x5eed_0002).await;
}

#[tokio::test]
async fn random_histories_keep_the_rollup_equal_to_a_recomputation_c() {
    random_history(0x5eed_0003).await;
}

/// A step that moves a figure changes what `statistics` answers at once (the rollup is
/// written in the step's transaction), and a refused step changes nothing.
#[tokio::test]
async fn a_step_moves_the_figures_in_its_own_transaction() {
    let mut h = History::new(7).await;
    let today = local_date(Utc::now());
    let vars = json!({ "from": day(today), "to": day(today) });
    let figures = |r: GqlResponse| r.data()["statistics"].clone();
    let before = figures(h.app.gql(STATS).vars(vars.clone()).send().await);
    assert_eq!(before["itemsCollected"], 0, "{before}");
    h.submit().await;
    let id = h.items[0].clone();
    let after = figures(h.app.gql(STATS).vars(vars.clone()).send().await);
    assert_eq!(after["itemsCollected"], 1);
    assert_eq!(
        after["byCategory"],
        json!([{ "category": null, "itemsCollected": 1, "itemsCompleted": 0 }])
    );
    // Accepting before forwarding is refused: nothing moves.
    assert!(h.send(HANDLER, ACCEPT, json!({ "id": id })).await.is_none());
    let c = h.categories[2].clone();
    h.send(STAFF, REGISTER, json!({ "id": id, "c": c, "u": "URGENT" }))
        .await
        .unwrap();
    h.send(DEPUTY, ON_SPOT, json!({ "id": id })).await.unwrap();
    let done = figures(h.app.gql(STATS).vars(vars).send().await);
    assert_eq!(done["itemsCompleted"], 1);
    assert_eq!(
        done["byCategory"],
        json!([{ "category": { "id": c }, "itemsCollected": 1, "itemsCompleted": 1 }])
    );
}

/// `byCategory`: categories by id, the uncategorised items last, on both backends.
#[tokio::test]
async fn by_category_lists_categories_by_id_and_the_uncategorised_last() {
    let app = TestApp::spawn_demo().await;
    let r = app
        .gql(STATS)
        .vars(json!({ "from": "2025-01-01", "to": "2025-12-31" }))
        .send()
        .await;
    let rows = r.data()["statistics"]["byCategory"]
        .as_array()
        .unwrap()
        .clone();
    // The demo's four unregistered items have no category.
    let last = rows.last().unwrap();
    assert_eq!(last["category"], Value::Null, "{rows:?}");
    assert_eq!(last["itemsCollected"], 4);
    let ids: Vec<i64> = rows[..rows.len() - 1]
        .iter()
        .map(|c| {
            NodeId::decode_as(
                "id",
                c["category"]["id"].as_str().unwrap(),
                NodeKind::Category,
            )
            .unwrap()
        })
        .collect();
    assert!(ids.len() >= 10, "{ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    // The from-scratch computation gives the same order.
    let from = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
    let spec = statistics::recompute(&app.db, from, to, &Scope::default())
        .await
        .unwrap();
    let order: Vec<Option<i64>> = spec.by_category.iter().map(|c| c.category_id).collect();
    let mut want: Vec<Option<i64>> = ids.into_iter().map(Some).collect();
    want.push(None);
    assert_eq!(order, want);
}

/// `--scale 7`: seven copies of the demo's year, two of them in 2025 (copies 0 and 6),
/// one in each of 2021-2024 and 2026; every copy has the report's counts; the rollup
/// agrees with the items.
#[tokio::test]
async fn the_scale_seed_copies_the_demo_year_over_the_years() {
    let (_database, url) = TestDatabase::blank().await;
    let db = Database::connect(&url).await.unwrap();
    smart_npc::db::migrate_and_seed(&db, Some(crate::helpers::DEMO_PASSWORD))
        .await
        .unwrap()
        .expect("seeded");
    let report = smart_npc::seed::seed_copies(&db, 7).await.unwrap();
    assert_eq!(report.copies, 6);
    assert_eq!(report.items, 6 * 1041);
    let year = |y: i32| {
        (
            NaiveDate::from_ymd_opt(y, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(y, 12, 31).unwrap(),
        )
    };
    let mut years = BTreeSet::new();
    for y in 2021..=2026 {
        let (from, to) = year(y);
        let copies = smart_npc::seed::copies_in(7, y) as i64;
        years.insert(copies);
        let s = statistics::compute(&db, from, to, &Scope::default())
            .await
            .unwrap();
        assert_eq!(s.items_collected, 1041 * copies, "{y}");
        assert_eq!(s.items_completed, 1012 * copies, "{y}");
        assert_eq!(s.urgent_completed, 52 * copies, "{y}");
        assert_eq!(s.suggestions_made, 286 * copies, "{y}");
        assert_eq!(s.suggestions_adopted, 192 * copies, "{y}");
        let spec = statistics::recompute(&db, from, to, &Scope::default())
            .await
            .unwrap();
        assert!(verify::agree(&spec, &s), "{y}: {spec:?} != {s:?}");
    }
    assert_eq!(years, BTreeSet::from([1, 2]));
    // The copies differ from each other (their own random draws), not only in the year.
    let station = Scope {
        station_id: Some(2),
        ..Scope::default()
    };
    let one = statistics::compute(&db, year(2021).0, year(2021).1, &station)
        .await
        .unwrap();
    let other = statistics::compute(&db, year(2022).0, year(2022).1, &station)
        .await
        .unwrap();
    assert_ne!(one.by_category, other.by_category);
    let (_, differences) = verify::verify(&db).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");
    db.close().await.unwrap();
}
