//! Who may do what: one row per operation (query, mutation and subscription field),
//! each naming the actors it is for. `only(operation, …, &[Supervisor, Admin])` says:
//!
//! - every actor in the list gets through the permission check: no error at all, or
//!   the error of the check that follows it (`.then(code)`: the input, the state);
//! - every actor outside it is refused: `UNAUTHENTICATED` when anonymous (the server
//!   asks a caller without a session to sign in before it weighs any right), else
//!   `FORBIDDEN`; except for the actors of `.hidden_from(…)`, to whom the object an
//!   operation names does not exist (`NOT_FOUND`, exactly as for an unknown id).
//!
//! `sees(…)` rows are for reads everyone may make whose answer depends on the reader:
//! the value at a path is there for the listed actors and null for the others.
//!
//! Queries and mutations go over HTTP, subscriptions over `/graphql/ws`
//! (graphql-transport-ws). `every_operation_has_a_row` reads the root fields from
//! `schema.graphql` (kept equal to the code's SDL by `schema::…drift`), so a new
//! operation cannot be added without saying who may use it.
use std::collections::BTreeSet;

use entity::suggestion;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use smart_npc::domain::node_id::{NodeId, NodeKind};

use crate::fixtures::PASSWORD;
use crate::helpers::{Fixture, GqlResponse, TestApp, DEMO_LOGINS, DEMO_PASSWORD};
use crate::petitions::{num, seconds_from_now, top, World, CYCLE};
use crate::ws_client::Ws;

/// Who asks: anonymous, or one of the demo accounts (one per role; the station staff
/// work at 滨河, the handler at the transport bureau, the supervisor county-wide).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Actor {
    Anonymous,
    Citizen,
    Deputy,
    StationStaff,
    Handler,
    Supervisor,
    Admin,
}

use Actor::{Admin, Anonymous, Citizen, Deputy, Handler, StationStaff, Supervisor};

const ACTORS: [Actor; 7] = [
    Anonymous,
    Citizen,
    Deputy,
    StationStaff,
    Handler,
    Supervisor,
    Admin,
];
const EVERYONE: &[Actor] = &ACTORS;
const SIGNED_IN: &[Actor] = &[Citizen, Deputy, StationStaff, Handler, Supervisor, Admin];
const SUPERVISORS: &[Actor] = &[Supervisor, Admin];
/// Signed in, but not the ones whose role gives them the object (`hidden_from`).
const NOT_EDITORS: &[Actor] = &[Citizen, Handler];

impl Actor {
    fn login(self) -> Option<&'static str> {
        Some(match self {
            Anonymous => return None,
            Citizen => "citizen",
            Deputy => "deputy",
            StationStaff => "staff",
            Handler => "handler",
            Supervisor => "supervisor",
            Admin => "admin",
        })
    }

    /// Its place in [`ACTORS`]: rows that change something give each actor its own object.
    fn index(self) -> usize {
        ACTORS.iter().position(|a| *a == self).unwrap_or(0)
    }
}

// ------------------------------------------------------------------ rows

type Vars = fn(&Ids, Actor) -> Value;
type Check = fn(Actor, &GqlResponse) -> Result<(), String>;

#[derive(Clone, Copy)]
enum Expect {
    /// See the module comment: `then` is the allowed actors' error code (None: none).
    Only {
        then: Option<&'static str>,
        hidden: &'static [Actor],
    },
    /// Everyone gets an answer without errors; the value at the path is non-null
    /// exactly for the listed actors.
    Sees(&'static [&'static str]),
}

struct Row {
    operation: &'static str,
    /// Which case of the operation, when it has several rows.
    case: &'static str,
    query: &'static str,
    vars: Vars,
    allowed: &'static [Actor],
    expect: Expect,
    /// What an allowed answer must show beyond the code.
    check: Option<Check>,
    /// Sent as a multipart request with a small PNG as `variables.file`.
    file: bool,
}

fn only(
    operation: &'static str,
    case: &'static str,
    query: &'static str,
    vars: Vars,
    allowed: &'static [Actor],
) -> Row {
    Row {
        operation,
        case,
        query,
        vars,
        allowed,
        expect: Expect::Only {
            then: None,
            hidden: &[],
        },
        check: None,
        file: false,
    }
}

fn sees(
    operation: &'static str,
    case: &'static str,
    query: &'static str,
    vars: Vars,
    allowed: &'static [Actor],
    path: &'static [&'static str],
) -> Row {
    Row {
        expect: Expect::Sees(path),
        ..only(operation, case, query, vars, allowed)
    }
}

impl Row {
    /// The allowed actors reach the next check, which answers `code`.
    fn then(mut self, code: &'static str) -> Row {
        if let Expect::Only { hidden, .. } = self.expect {
            self.expect = Expect::Only {
                then: Some(code),
                hidden,
            };
        }
        self
    }

    /// To these actors the named object does not exist: NOT_FOUND.
    fn hidden_from(mut self, actors: &'static [Actor]) -> Row {
        if let Expect::Only { then, .. } = self.expect {
            self.expect = Expect::Only {
                then,
                hidden: actors,
            };
        }
        self
    }

    fn check(mut self, check: Check) -> Row {
        self.check = Some(check);
        self
    }

    /// The operation takes a file (`uploadAttachment`): the row sends one.
    fn with_file(mut self) -> Row {
        self.file = true;
        self
    }

    /// A workflow step on the CLOSED item: the actors who may take it reach the state
    /// check; anonymous callers do not see the item.
    fn step(self) -> Row {
        self.then("INVALID_TRANSITION").hidden_from(&[Anonymous])
    }

    fn name(&self) -> String {
        format!("{}{}", self.operation, self.case)
    }

    /// The error code `actor` must get (None: none).
    fn expected(&self, actor: Actor) -> Option<&'static str> {
        match self.expect {
            Expect::Sees(_) => None,
            Expect::Only { then, .. } if self.allowed.contains(&actor) => then,
            Expect::Only { hidden, .. } if hidden.contains(&actor) => Some("NOT_FOUND"),
            Expect::Only { .. } if actor == Anonymous => Some("UNAUTHENTICATED"),
            Expect::Only { .. } => Some("FORBIDDEN"),
        }
    }

    /// Compares an answer (its first error code and data) with the row.
    fn verify(
        &self,
        actor: Actor,
        code: Option<&str>,
        errors: bool,
        data: &Value,
    ) -> Result<(), String> {
        let want = self.expected(actor);
        if code != want || (want.is_none() && errors) {
            return Err(format!("expected {want:?}, got {code:?}"));
        }
        if let Expect::Sees(path) = self.expect {
            let value = path
                .iter()
                .fold(data, |value, key| match key.parse::<usize>() {
                    Ok(index) => &value[index],
                    Err(_) => &value[*key],
                });
            if value.is_null() == self.allowed.contains(&actor) {
                return Err(format!("visible={}", !value.is_null()));
            }
        }
        Ok(())
    }
}

// ------------------------------------------------------------------ the objects rows name

/// Ids the rows refer to; `[_; 7]` arrays hold one object per actor ([`Actor::index`]).
struct Ids {
    // The petition loop (see `fixture`).
    closed: Value,
    closed_code: Value,
    /// As it was before the table ran.
    closed_item: Value,
    open: Value,
    foreign: Value,
    foreign_code: Value,
    binhe: Value,
    other_township: Value,
    jiaotong: Value,
    category: Value,
    deputy_code: Value,
    suggestion: Value,
    deadline: String,
    // Organisation and accounts.
    admin_account: Value,
    /// The demo deputy (resident at 滨河).
    deputy: Value,
    /// A deputy of 滨河's township with no station yet, per actor.
    unassigned: Vec<Value>,
    /// A resident deputy of 滨河 with no grid.
    resident: Value,
    /// A deputy whose details the rows replace.
    spare_deputy: Value,
    binhe_grid: Value,
    /// Grassroots deputies a leading cadre may pair with, per actor.
    juniors: Vec<Value>,
    cadre: Value,
    /// Active pairings, per actor.
    pairings: Vec<Value>,
    // Stories about the demo deputy, by the deputy, per actor.
    drafts: Vec<Value>,
    submitted: Vec<Value>,
    to_return: Vec<Value>,
    /// Unused refresh tokens of the citizen, per actor.
    refresh: Vec<String>,
}

/// A well-formed account id that names no account.
const MISSING_ACCOUNT: &str = "QWNjb3VudDo5OTk5OTk"; // Account:999999

fn none(_: &Ids, _: Actor) -> Value {
    json!({})
}

fn on_closed(f: &Ids, _: Actor) -> Value {
    json!({ "id": f.closed })
}

/// A text unique to the actor (codes, names and phone numbers must not repeat).
fn tag(actor: Actor) -> usize {
    actor.index()
}

fn rows() -> Vec<Row> {
    let mut rows = account_rows();
    rows.extend(org_rows());
    rows.extend(duty_rows());
    rows.extend(petition_rows());
    rows.extend(attachment_rows());
    rows.extend(notification_rows());
    rows.extend(open311_rows());
    // Last: it changes the demo items.
    rows.push(only("runSupervisionCycle", "", CYCLE, none, &[Admin]));
    // Last: it ends the session.
    rows.push(only("signOut", "", "mutation { signOut }", none, SIGNED_IN));
    rows
}

fn attachment_rows() -> Vec<Row> {
    const UPLOAD: &str = "mutation($file: Upload!, $p: AttachmentPurpose!) { uploadAttachment(file: $file, purpose: $p) { id contentType } }";
    vec![
        only(
            "uploadAttachment",
            " (petition)",
            UPLOAD,
            |_, _| json!({ "p": "PETITION" }),
            EVERYONE,
        )
        .with_file(),
        only(
            "uploadAttachment",
            " (result)",
            UPLOAD,
            |_, _| json!({ "p": "RESULT" }),
            &[StationStaff, Handler, Admin],
        )
        .with_file(),
        only(
            "uploadAttachment",
            " (activity)",
            UPLOAD,
            |_, _| json!({ "p": "ACTIVITY" }),
            &[Deputy, StationStaff, Supervisor, Admin],
        )
        .with_file(),
        only(
            "uploadAttachment",
            " (story)",
            UPLOAD,
            |_, _| json!({ "p": "STORY" }),
            &[Deputy, StationStaff, Supervisor, Admin],
        )
        .with_file(),
        // The row's PNG is no CSV or XLSX: the admin's answer is a report of that.
        only(
            "importOrganisation",
            " (dry run)",
            "mutation($file: Upload!) { importOrganisation(file: $file, dryRun: true) { ok } }",
            none,
            &[Admin],
        )
        .with_file(),
    ]
}

fn account_rows() -> Vec<Row> {
    vec![
        only("signIn", "", "mutation($p: String!) { signIn(login: \"citizen\", password: $p) { accessToken } }", |_, _| json!({ "p": DEMO_PASSWORD }), EVERYONE),
        only("refreshSession", "", "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }", |f, a| json!({ "t": f.refresh[a.index()] }), EVERYONE),
        only("registerCitizen", "", "mutation($p: String!, $pw: String!) { registerCitizen(phone: $p, displayName: \"新居民\", password: $pw) { accessToken } }", |_, a| json!({ "p": format!("1391111000{}", tag(a)), "pw": PASSWORD }), EVERYONE),
        only("changePassword", " (wrong current password)", "mutation($n: String!) { changePassword(currentPassword: \"not-the-password\", newPassword: $n) }", |_, _| json!({ "n": PASSWORD }), SIGNED_IN).then("BAD_USER_INPUT"),
        only("setPasswordWithCode", " (wrong code)", "mutation($l: String!, $n: String!) { setPasswordWithCode(login: $l, code: \"AAAA-AAAA-AAAA\", newPassword: $n) }", |_, a| json!({ "l": format!("nobody-{}", tag(a)), "n": PASSWORD }), EVERYONE).then("BAD_USER_INPUT"),
        only("me", "", "{ me { login } }", none, SIGNED_IN),
        only("accounts", "", "{ accounts { totalCount } }", none, &[Admin]),
        only("auditLog", "", "{ auditLog(last: 5) { totalCount } }", none, &[Admin]),
        // Validation comes after the permission check.
        only("createAccount", "", "mutation { createAccount(input: { login: \"!!\", displayName: \"x\", password: \"x\", roles: [{ role: CITIZEN }] }) { id } }", none, &[Admin]).then("BAD_USER_INPUT"),
        only("grantRole", "", "mutation($a: ID!) { grantRole(accountId: $a, grant: { role: CITIZEN }) { id } }", |_, _| json!({ "a": MISSING_ACCOUNT }), &[Admin]).then("NOT_FOUND"),
        only("revokeRole", "", "mutation($a: ID!) { revokeRole(accountId: $a, grant: { role: CITIZEN }) { id } }", |_, _| json!({ "a": MISSING_ACCOUNT }), &[Admin]).then("NOT_FOUND"),
        only("setAccountDisabled", "", "mutation($a: ID!) { setAccountDisabled(accountId: $a, disabled: true) { id } }", |_, _| json!({ "a": MISSING_ACCOUNT }), &[Admin]).then("NOT_FOUND"),
        // node(id:) follows the accounts rule: only admins (or the owner, see
        // `owners_see_their_own_account_through_node`) see an account; to others it
        // is null exactly as a missing id.
        sees("node", " (admin account)", "query($id: ID!) { node(id: $id) { id } }", |f, _| json!({ "id": f.admin_account }), &[Admin], &["node"]),
        sees("nodes", " (admin account)", "query($id: ID!) { nodes(ids: [$id]) { id } }", |f, _| json!({ "id": f.admin_account }), &[Admin], &["nodes", "0"]),
    ]
}

fn phone_masking(actor: Actor, r: &GqlResponse) -> Result<(), String> {
    let phone = r.body["data"]["deputyByCode"]["phone"]
        .as_str()
        .unwrap_or_default();
    let masked = phone.contains('*');
    let entitled = matches!(actor, Admin | Supervisor | StationStaff | Deputy);
    if masked != entitled {
        Ok(())
    } else {
        Err(format!("phone {phone:?}"))
    }
}

fn org_rows() -> Vec<Row> {
    vec![
        only("townships", "", "{ townships { totalCount } }", none, EVERYONE),
        only("stations", "", "{ stations(kind: SERVICE_POST) { totalCount } }", none, EVERYONE),
        only("nearestStations", "", "{ nearestStations(latitude: 37.33, longitude: 113.57, first: 1) { distanceMeters } }", none, EVERYONE),
        // Everyone gets a map: points for what they may see, else counts (tests/api/places.rs).
        only("itemsOnMap", "", "{ itemsOnMap(south: 37.3, west: 113.5, north: 37.4, east: 113.6) { mode } }", none, EVERYONE),
        only("deputies", "", "{ deputies(first: 1) { totalCount } }", none, EVERYONE),
        only("departments", "", "{ departments { totalCount } }", none, EVERYONE),
        only("specialCommittees", "", "{ specialCommittees { code members { code } } }", none, EVERYONE),
        sees("node", " (station)", "query($id: ID!) { node(id: $id) { id } }", |f, _| json!({ "id": f.binhe }), EVERYONE, &["node"]),
        only("deputyByCode", " (phone masked but for the entitled)", "query($c: String!) { deputyByCode(code: $c) { phone } }", |f, _| json!({ "c": f.deputy_code }), EVERYONE).check(phone_masking),
        only("createStation", "", "mutation($i: CreateStationInput!) { createStation(input: $i) { id } }", |f, a| json!({ "i": { "code": format!("perm-pt-{}", tag(a)), "name": format!("权限测试服务点{}", tag(a)), "kind": "SERVICE_POINT", "townshipId": f.other_township } }), SUPERVISORS),
        only("updateStation", "", "mutation($id: ID!) { updateStation(id: $id, input: { receptionHours: \"每周三 全天\" }) { id } }", |f, _| json!({ "id": f.binhe }), &[StationStaff, Supervisor, Admin]),
        only("createGrid", "", "mutation($s: ID!, $n: String!) { createGrid(stationId: $s, name: $n) { id } }", |f, a| json!({ "s": f.binhe, "n": format!("权限网格{}", tag(a)) }), &[StationStaff, Supervisor, Admin]),
        only("createLiaison", "", "mutation($s: ID!) { createLiaison(input: { stationId: $s, name: \"王志愿者\", kind: VOLUNTEER }) { name } }", |f, _| json!({ "s": f.binhe }), &[StationStaff, Supervisor, Admin]),
        only("createDepartment", "", "mutation($c: String!) { createDepartment(code: $c, name: $c, level: COUNTY) { id } }", |_, a| json!({ "c": format!("perm-dept-{}", tag(a)) }), &[Admin]),
        only("createDeputy", "", "mutation { createDeputy(input: { name: \"权限代表\", gender: MALE, level: COUNTY, termStatus: FIRST_TERM }) { id } }", none, SUPERVISORS),
        only("updateDeputy", "", "mutation($id: ID!) { updateDeputy(id: $id, input: { name: \"改名代表\", gender: FEMALE, level: COUNTY, termStatus: FIRST_TERM }) { id } }", |f, _| json!({ "id": f.spare_deputy }), SUPERVISORS),
        only("assignResidentDeputy", "", "mutation($d: ID!, $s: ID!) { assignResidentDeputy(deputyId: $d, stationId: $s, since: \"2024-01-01\") { id } }", |f, a| json!({ "d": f.unassigned[a.index()], "s": f.binhe }), &[StationStaff, Supervisor, Admin]),
        only("endResidentAssignment", "", "mutation($d: ID!, $s: ID!) { endResidentAssignment(deputyId: $d, stationId: $s, until: \"2024-06-30\") { id } }", |f, a| json!({ "d": f.unassigned[a.index()], "s": f.binhe }), &[StationStaff, Supervisor, Admin]),
        only("linkDeputyGrid", "", "mutation($d: ID!, $g: ID!) { linkDeputyGrid(deputyId: $d, gridId: $g) { id } }", |f, _| json!({ "d": f.resident, "g": f.binhe_grid }), &[StationStaff, Supervisor, Admin]),
        only("unlinkDeputyGrid", "", "mutation($d: ID!, $g: ID!) { unlinkDeputyGrid(deputyId: $d, gridId: $g) }", |f, _| json!({ "d": f.resident, "g": f.binhe_grid }), &[StationStaff, Supervisor, Admin]),
    ]
}

fn duty_rows() -> Vec<Row> {
    vec![
        only("pairings", "", "{ pairings(first: 1) { totalCount } }", none, EVERYONE),
        only("createPairing", "", "mutation($s: ID!, $j: ID!) { createPairing(input: { kind: LEADER_GRASSROOTS, seniorDeputyId: $s, juniorDeputyId: $j }) { id } }", |f, a| json!({ "s": f.cadre, "j": f.juniors[a.index()] }), SUPERVISORS),
        only("endPairing", "", "mutation($id: ID!) { endPairing(id: $id) { id } }", |f, a| json!({ "id": f.pairings[a.index()] }), SUPERVISORS),
        only("coverageReport", "", "{ coverageReport(year: 2024, month: 3) { kind } }", none, SUPERVISORS),
        only("activities", "", "{ activities(first: 1) { totalCount } }", none, EVERYONE),
        only("logActivity", "", "mutation($d: ID!) { logActivity(input: { kind: STUDY_TRAINING, title: \"学习\", occurredOn: \"2024-04-03\", participantIds: [$d] }) { id } }", |f, _| json!({ "d": f.deputy }), &[Deputy, StationStaff, Supervisor, Admin]),
        only("campaigns", "", "{ campaigns(first: 1) { totalCount } }", none, EVERYONE),
        only("createCampaign", "", "mutation($n: String!) { createCampaign(name: $n, startsOn: \"2024-01-01\") { id } }", |_, a| json!({ "n": format!("权限活动{}", tag(a)) }), SUPERVISORS),
        only("complianceRollup", " (滨河)", "query($s: ID!) { complianceRollup(stationId: $s, year: 2024, month: 3) { deputies } }", |f, _| json!({ "s": f.binhe }), &[StationStaff, Supervisor, Admin]),
        only("showcase", "", "{ showcase(first: 1) { totalCount } }", none, EVERYONE),
        only("storyReviewQueue", "", "{ storyReviewQueue(first: 1) { totalCount } }", none, &[StationStaff, Supervisor, Admin]),
        only("createStory", " (about the demo deputy)", "mutation($d: ID!) { createStory(deputyId: $d, input: { title: \"代写\", body: \"代写\" }) { id } }", |f, _| json!({ "d": f.deputy }), &[Deputy, StationStaff, Admin]),
        // The author sees their story but may not review it; to everyone else without a
        // role at the station an unpublished story is as missing as an unknown id.
        only("updateStory", "", "mutation($id: ID!) { updateStory(id: $id, input: { title: \"改稿\", body: \"改稿\" }) { id status } }", |f, a| json!({ "id": f.drafts[a.index()] }), &[Deputy, StationStaff, Admin]).hidden_from(NOT_EDITORS),
        only("submitStory", "", "mutation($id: ID!) { submitStory(id: $id) { id status } }", |f, a| json!({ "id": f.drafts[a.index()] }), &[Deputy, StationStaff, Admin]).hidden_from(NOT_EDITORS),
        only("publishStory", "", "mutation($id: ID!) { publishStory(id: $id) { id status } }", |f, a| json!({ "id": f.submitted[a.index()] }), &[StationStaff, Supervisor, Admin]).hidden_from(NOT_EDITORS),
        only("returnStory", "", "mutation($id: ID!) { returnStory(id: $id, reason: \"理由\") { id status } }", |f, a| json!({ "id": f.to_return[a.index()] }), &[StationStaff, Supervisor, Admin]).hidden_from(NOT_EDITORS),
    ]
}

fn petition_rows() -> Vec<Row> {
    const ROLES: &[Actor] = EVERYONE;
    vec![
        only("registerPetition", "", "mutation($id: ID!, $c: ID!) { registerPetition(id: $id, categoryId: $c, urgency: NORMAL, handlingLevel: COUNTY) { id } }", |f, _| json!({ "id": f.closed, "c": f.category }), &[StationStaff]).step(),
        only("declinePetition", "", "mutation($id: ID!) { declinePetition(id: $id, reason: \"重复\") { id } }", on_closed, &[StationStaff]).step(),
        only("mergePetition", "", "mutation($id: ID!, $into: ID!) { mergePetition(id: $id, intoId: $into) { id } }", |f, _| json!({ "id": f.closed, "into": f.open }), &[StationStaff]).step(),
        only("resolvePetitionOnSpot", "", "mutation($id: ID!) { resolvePetitionOnSpot(id: $id, result: \"已解决\") { id } }", on_closed, &[StationStaff, Deputy]).step(),
        only("forwardPetition", "", "mutation($id: ID!, $d: ID!) { forwardPetition(id: $id, leadDepartmentId: $d) { id } }", |f, _| json!({ "id": f.closed, "d": f.jiaotong }), &[StationStaff]).step(),
        only("escalatePetition", "", "mutation($id: ID!, $d: ID!) { escalatePetition(id: $id, departmentId: $d) { id } }", |f, _| json!({ "id": f.closed, "d": f.jiaotong }), &[StationStaff, Handler]).step(),
        only("acceptPetition", "", "mutation($id: ID!) { acceptPetition(id: $id) { id } }", on_closed, &[Handler]).step(),
        only("returnPetition", "", "mutation($id: ID!) { returnPetition(id: $id, reason: \"不属本部门\") { id } }", on_closed, &[Handler]).step(),
        only("addPetitionProgress", "", "mutation($id: ID!) { addPetitionProgress(id: $id, note: \"进展\") { id } }", on_closed, &[Handler]).step(),
        only("reportAssistPart", "", "mutation($id: ID!) { reportAssistPart(id: $id, report: \"协办情况\") { id } }", on_closed, &[]).step(),
        only("completePetition", "", "mutation($id: ID!) { completePetition(id: $id, result: \"已办结\") { id } }", on_closed, &[Handler]).step(),
        // With result files: who may take the step and its state are checked first (an
        // id that attaches nothing is not looked at before).
        only("completePetition", " (with files)", "mutation($id: ID!) { completePetition(id: $id, result: \"已办结\", attachmentIds: [\"unused\"]) { id } }", on_closed, &[Handler]).step(),
        only("addPetitionProgress", " (with files)", "mutation($id: ID!) { addPetitionProgress(id: $id, note: \"进展\", attachmentIds: [\"unused\"]) { id } }", on_closed, &[Handler]).step(),
        only("reportAssistPart", " (with files)", "mutation($id: ID!) { reportAssistPart(id: $id, report: \"协办情况\", attachmentIds: [\"unused\"]) { id } }", on_closed, &[]).step(),
        only("ratePetition", "", "mutation($id: ID!) { ratePetition(id: $id, satisfaction: SATISFIED) { id } }", on_closed, &[Citizen]).step(),
        only("urgePetition", "", "mutation($id: ID!, $d: DateTime!) { urgePetition(id: $id, note: \"请加快\", deadline: $d) { id } }", |f, _| json!({ "id": f.closed, "d": f.deadline }), &[Supervisor]).step(),
        only("escalateSupervision", "", "mutation($id: ID!) { escalateSupervision(id: $id) { id } }", on_closed, &[Supervisor]).step(),
        only("submitPetition", " (app)", "mutation($c: String!) { submitPetition(input: { title: \"路灯不亮\", content: \"滨河路路灯不亮，请维修。\", deputyCode: $c, submitterPhone: \"13812345678\" }) { trackingCode } }", |f, _| json!({ "c": f.deputy_code }), ROLES),
        only("submitPetition", " (reception)", "mutation($s: ID!) { submitPetition(input: { title: \"来站反映\", content: \"来站反映噪音扰民问题。\", channel: STATION_RECEPTION, stationId: $s }) { trackingCode } }", |f, _| json!({ "s": f.binhe }), &[Deputy, StationStaff]),
        only("stationLedger", "", "query($s: ID!) { stationLedger(stationId: $s, first: 1) { totalCount } }", |f, _| json!({ "s": f.binhe }), &[StationStaff, Supervisor, Admin]),
        only("departmentInbox", "", "query($d: ID!) { departmentInbox(departmentId: $d, first: 1) { totalCount } }", |f, _| json!({ "d": f.jiaotong }), &[Handler, Supervisor, Admin]),
        only("myDeputyPetitions", "", "{ myDeputyPetitions(first: 1) { totalCount } }", none, &[Deputy]),
        only("myPetitions", "", "{ myPetitions(first: 1) { totalCount } }", none, SIGNED_IN),
        only("petitions", "", "{ petitions(first: 1) { totalCount } }", none, SUPERVISORS),
        only("categories", "", "{ categories { code } }", none, ROLES),
        only("statistics", "", "{ statistics(from: \"2025-01-01\", to: \"2025-12-31\") { itemsCollected } }", none, ROLES),
        only("suggestions", " (mine)", "{ suggestions(first: 1) { totalCount } }", none, &[Deputy]),
        only("suggestions", " (all)", "{ suggestions(all: true, first: 1) { totalCount } }", none, SUPERVISORS),
        only("suggestions", " (department)", "query($d: ID!) { suggestions(departmentId: $d, first: 1) { totalCount } }", |f, _| json!({ "d": f.jiaotong }), &[Handler, Supervisor, Admin]),
        only("submitSuggestion", "", "mutation($d: ID!) { submitSuggestion(title: \"x\", content: \"建议加强道路养护工作。\", departmentId: $d) { id } }", |f, _| json!({ "d": f.jiaotong }), &[Deputy]).then("BAD_USER_INPUT"),
        // Supervisors see the answered suggestion but may not act; to the others it
        // is as missing as an unknown id.
        only("answerSuggestion", "", "mutation($id: ID!) { answerSuggestion(id: $id, adoption: ADOPTED, answer: \"已采纳\") { id } }", |f, _| json!({ "id": f.suggestion }), &[Handler]).then("INVALID_TRANSITION").hidden_from(&[Citizen, Deputy, StationStaff]),
        sees("node", " (item)", "query($id: ID!) { node(id: $id) { id } }", on_closed, SIGNED_IN, &["node"]),
        sees("node", " (other station's item)", "query($id: ID!) { node(id: $id) { id } }", |f, _| json!({ "id": f.foreign }), SUPERVISORS, &["node"]),
        sees("trackPetition", "", "query($c: String!) { trackPetition(trackingCode: $c) { status { state } petition { id } } }", |f, _| json!({ "c": f.closed_code }), SIGNED_IN, &["trackPetition", "petition"]),
        sees("trackPetition", " (other station's item)", "query($c: String!) { trackPetition(trackingCode: $c) { status { state } petition { id } } }", |f, _| json!({ "c": f.foreign_code }), SUPERVISORS, &["trackPetition", "petition"]),
    ]
}

fn notification_rows() -> Vec<Row> {
    // No delivery has this id: an admin gets through the check to the lookup.
    let unknown = |_: &Ids, _: Actor| json!({ "id": NodeId::new(NodeKind::NotificationDelivery, 999_999).encode() });
    vec![
        only(
            "notifications",
            "",
            "{ notifications(first: 1) { totalCount } }",
            none,
            SIGNED_IN,
        ),
        only(
            "unreadNotificationCount",
            "",
            "{ unreadNotificationCount }",
            none,
            SIGNED_IN,
        ),
        only(
            "markNotificationsRead",
            "",
            "mutation { markNotificationsRead(ids: []) { unreadCount } }",
            none,
            SIGNED_IN,
        ),
        only(
            "notificationDeliveries",
            "",
            "{ notificationDeliveries(first: 1) { totalCount } }",
            none,
            &[Admin],
        ),
        only(
            "retryNotificationDelivery",
            "",
            "mutation($id: ID!) { retryNotificationDelivery(id: $id) { id } }",
            unknown,
            &[Admin],
        )
        .then("BAD_USER_INPUT"),
    ]
}

/// Open311 API keys: admins only.
fn open311_rows() -> Vec<Row> {
    let missing =
        |_: &Ids, _: Actor| json!({ "id": NodeId::new(NodeKind::Open311Key, 999_999).encode() });
    let station =
        |_: &Ids, _: Actor| json!({ "s": NodeId::new(NodeKind::Station, 999_999).encode() });
    vec![
        only("open311Keys", "", "{ open311Keys { id } }", none, &[Admin]),
        only(
            "issueOpen311Key",
            " (empty name)",
            "mutation($s: ID!) { issueOpen311Key(name: \"\", stationId: $s) { key } }",
            station,
            &[Admin],
        )
        .then("BAD_USER_INPUT"),
        only(
            "revokeOpen311Key",
            "",
            "mutation($id: ID!) { revokeOpen311Key(id: $id) { id } }",
            missing,
            &[Admin],
        )
        .then("NOT_FOUND"),
    ]
}

/// Subscriptions, over `/graphql/ws`.
fn subscription_rows() -> Vec<Row> {
    vec![
        only(
            "myNotifications",
            "",
            "subscription { myNotifications { id } }",
            none,
            SIGNED_IN,
        ),
        only(
            "liveEvents",
            "",
            "subscription { liveEvents { seq } }",
            none,
            EVERYONE,
        ),
        only(
            "petitionEvents",
            "",
            "subscription { petitionEvents { seq } }",
            none,
            SIGNED_IN,
        ),
        only(
            "supervisionAlerts",
            "",
            "subscription { supervisionAlerts { seq } }",
            none,
            SIGNED_IN,
        ),
        only(
            "showcaseStories",
            "",
            "subscription { showcaseStories { seq } }",
            none,
            EVERYONE,
        ),
        // The current figures come at once.
        only(
            "liveStatistics",
            "",
            "subscription { liveStatistics { itemsCollected } }",
            none,
            EVERYONE,
        ),
    ]
}

// ------------------------------------------------------------------ the table

/// The root fields of `Query`, `Mutation` and `Subscription` in `schema.graphql`.
fn root_fields() -> BTreeSet<String> {
    let sdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql");
    let mut fields = BTreeSet::new();
    let mut in_root = false;
    let mut in_doc = false;
    for line in sdl.lines() {
        if [
            "type QueryRoot ",
            "type MutationRoot ",
            "type SubscriptionRoot ",
        ]
        .iter()
        .any(|root| line.starts_with(root))
        {
            in_root = true;
            continue;
        }
        if !in_root {
            continue;
        }
        if line.starts_with('}') {
            in_root = false;
            continue;
        }
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("\"\"\"") {
            // A one-line """doc""" opens and closes; otherwise it toggles.
            if !rest.ends_with("\"\"\"") {
                in_doc = !in_doc;
            }
            continue;
        }
        if in_doc || !line.starts_with('\t') || line.starts_with("\t\t") {
            continue;
        }
        let name: String = trimmed
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            fields.insert(name);
        }
    }
    fields
}

#[test]
fn every_operation_has_a_row() {
    let fields = root_fields();
    assert!(
        fields.len() > 70,
        "the schema reader found {} root fields",
        fields.len()
    );
    let covered: BTreeSet<String> = rows()
        .iter()
        .chain(subscription_rows().iter())
        .map(|row| row.operation.to_owned())
        .collect();
    let missing: Vec<&String> = fields.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "operations without a permission row: {missing:?}"
    );
    let unknown: Vec<&String> = covered.difference(&fields).collect();
    assert!(unknown.is_empty(), "rows for no operation: {unknown:?}");
}

async fn sign_in_all(app: &TestApp) -> Vec<Option<String>> {
    let mut tokens = Vec::new();
    for actor in ACTORS {
        tokens.push(match actor.login() {
            Some(login) => Some(app.token(login).await),
            None => None,
        });
    }
    tokens
}

#[tokio::test]
async fn every_actor_against_every_operation() {
    let w = World::on(
        TestApp::builder()
            .fixture(Fixture::Demo)
            // The table signs in and submits more than one person would.
            .env("SIGNIN_ATTEMPTS_PER_ADDRESS", "1000")
            .env("ANONYMOUS_SUBMISSIONS_PER_ADDRESS", "1000")
            .spawn()
            .await,
    )
    .await;
    assert_eq!(DEMO_LOGINS.len() + 1, ACTORS.len());
    let ids = fixture(&w).await;
    // Tokens of the table's own: `signOut` ends them, the World's stay.
    let tokens = sign_in_all(&w.app).await;

    let mut failures = Vec::new();
    let mut checked = 0;
    for actor in ACTORS {
        let token = tokens[actor.index()].as_deref();
        failures.extend(subscriptions(&w.app, &ids, actor, token).await);
        checked += subscription_rows().len();
        for row in rows() {
            let mut request = w
                .app
                .gql(row.query)
                .vars((row.vars)(&ids, actor))
                .bearer(token);
            if row.file {
                request = request.file("variables.file", crate::attachments::png(8, 8));
            }
            let r = request.send().await;
            checked += 1;
            let errors = r.body.get("errors").is_some();
            let mut verdict = row.verify(actor, r.error_code(), errors, &r.body["data"]);
            if let (Ok(()), Some(check), true) = (&verdict, row.check, row.allowed.contains(&actor))
            {
                verdict = check(actor, &r);
            }
            if let Err(why) = verdict {
                failures.push(format!("{actor:?} × {}: {why}: {}", row.name(), r.body));
            }
        }
    }
    assert_eq!(
        checked,
        ACTORS.len() * (rows().len() + subscription_rows().len())
    );
    assert!(
        failures.is_empty(),
        "permission table mismatches:\n{}",
        failures.join("\n")
    );
    // Nothing in the table changed the closed item.
    let after = w.node(Some(&w.admin), &ids.closed_item).await;
    assert_eq!(after["version"], ids.closed_item["version"]);
    assert_eq!(after["state"], "CLOSED");
}

/// The subscription rows for one actor, on one connection: an allowed subscription
/// is registered without an error (the answer to a ping follows; `liveStatistics`
/// sends its first figures); a refused one answers with the error, then ends.
async fn subscriptions(app: &TestApp, ids: &Ids, actor: Actor, token: Option<&str>) -> Vec<String> {
    let mut failures = Vec::new();
    let mut ws = Ws::transport(app.addr).await;
    ws.init(token).await;
    for row in subscription_rows() {
        let id = row.name();
        ws.subscribe(&id, row.query, (row.vars)(ids, actor)).await;
        ws.send(json!({ "type": "ping" })).await;
        // The first message of this operation, if it sends one before the pong (a
        // refusal always does; other operations' late messages are skipped).
        let refusal = row.expected(actor).is_some();
        let (mut first, mut ponged) = (None::<Value>, false);
        while !(ponged && (first.is_some() || !refusal)) {
            let message = ws.json().await;
            if message["type"] == "pong" {
                ponged = true;
            } else if message["id"] == id.as_str() && first.is_none() {
                first = Some(message);
            }
        }
        let (code, errors, data) = match &first {
            None => (None, false, Value::Null),
            Some(m) if m["type"] == "error" => (
                m["payload"][0]["extensions"]["code"].as_str(),
                true,
                Value::Null,
            ),
            Some(m) => (
                m["payload"]["errors"][0]["extensions"]["code"].as_str(),
                m["payload"].get("errors").is_some(),
                m["payload"]["data"].clone(),
            ),
        };
        if let Err(why) = row.verify(actor, code, errors, &data) {
            failures.push(format!("{actor:?} × subscription {id}: {why}: {first:?}"));
        }
        ws.send(json!({ "id": id, "type": "complete" })).await;
    }
    ws.close().await;
    failures
}

/// Builds what the rows name, through the API as the people concerned would.
async fn fixture(w: &World) -> Ids {
    // A CLOSED item of the citizen, addressed to the 滨河 deputy, handled by the bureau.
    let closed = w.resolved().await;
    let closed = top(&w.rate(Some(&w.citizen), &closed, "SATISFIED").await);
    let open = w.citizen_item().await;
    let open = w.register(&open, "other", "NORMAL").await;
    // An anonymous item at another township's station, forwarded nowhere.
    let mut input = w.anonymous_input();
    input["stationId"] = w.station("yixing_sanzhan").id.clone();
    let r = w.submit(None, input).await;
    let foreign = r.data()["submitPetition"].clone();
    let answered = suggestion::Entity::find()
        .filter(suggestion::Column::DepartmentId.eq(num(&w.dept("jiaotong"))))
        .one(&w.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answered.status, entity::SuggestionStatus::Answered);

    let admin = Some(w.admin.as_str());
    let admin_account = w.ok(admin, "{ me { id } }", json!({})).await["id"].clone();
    let deputy = w
        .ok(Some(&w.deputy), "{ me { deputy { id } } }", json!({}))
        .await["deputy"]["id"]
        .clone();
    let binhe_township = w.station("binhe").township.clone();
    let other_township = w.station("yixing_sanzhan").township.clone();
    assert_ne!(binhe_township, other_township);
    let grids = w
        .ok(None, "query($id: ID!) { node(id: $id) { ... on Station { grids(first: 1) { nodes { id } } } } }", json!({ "id": w.binhe }))
        .await;
    let binhe_grid = grids["grids"]["nodes"][0]["id"].clone();
    assert!(binhe_grid.is_string(), "{grids}");

    let new_deputy = move |details: Value| async move {
        let mut input = json!({ "name": "表中代表", "gender": "MALE", "level": "COUNTY", "termStatus": "FIRST_TERM" });
        for (k, v) in details.as_object().unwrap() {
            input[k] = v.clone();
        }
        w.ok(
            admin,
            "mutation($i: DeputyDetailsInput!) { createDeputy(input: $i) { id } }",
            json!({ "i": input }),
        )
        .await["id"]
            .clone()
    };
    let spare_deputy = new_deputy(json!({})).await;
    let resident = new_deputy(json!({ "townshipId": binhe_township })).await;
    w.ok(admin, "mutation($d: ID!, $s: ID!) { assignResidentDeputy(deputyId: $d, stationId: $s, since: \"2024-01-01\") { id } }", json!({ "d": resident, "s": w.binhe }))
        .await;
    let cadre = new_deputy(json!({ "isLeadingCadre": true })).await;
    let other_cadre = new_deputy(json!({ "isLeadingCadre": true })).await;
    let (mut unassigned, mut juniors, mut pairings) = (Vec::new(), Vec::new(), Vec::new());
    let (mut drafts, mut submitted, mut to_return, mut refresh) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    const STORY_OF: &str = "mutation($d: ID!, $t: String!) { createStory(deputyId: $d, input: { title: $t, body: $t }) { id } }";
    for n in 0..ACTORS.len() {
        unassigned.push(new_deputy(json!({ "townshipId": binhe_township })).await);
        juniors.push(new_deputy(json!({})).await);
        let junior = new_deputy(json!({})).await;
        let pairing = w
            .ok(admin, "mutation($s: ID!, $j: ID!) { createPairing(input: { kind: LEADER_GRASSROOTS, seniorDeputyId: $s, juniorDeputyId: $j }) { id } }", json!({ "s": other_cadre, "j": junior }))
            .await;
        pairings.push(pairing["id"].clone());
        let story = |title: String| {
            let token = w.deputy.clone();
            let deputy = deputy.clone();
            async move {
                w.ok(Some(&token), STORY_OF, json!({ "d": deputy, "t": title }))
                    .await["id"]
                    .clone()
            }
        };
        drafts.push(story(format!("草稿{n}")).await);
        for list in [&mut submitted, &mut to_return] {
            let id = story(format!("待审{n}")).await;
            w.ok(
                Some(&w.deputy),
                "mutation($id: ID!) { submitStory(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
            list.push(id);
        }
        let signed = w.app.sign_in("citizen", DEMO_PASSWORD).await;
        refresh.push(
            signed.data()["signIn"]["refreshToken"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    Ids {
        closed: closed["id"].clone(),
        closed_code: closed["trackingCode"].clone(),
        closed_item: closed.clone(),
        open: open["id"].clone(),
        foreign: foreign["petition"]["id"].clone(),
        foreign_code: foreign["trackingCode"].clone(),
        binhe: w.binhe.clone(),
        other_township,
        jiaotong: w.dept("jiaotong"),
        category: w.category("other"),
        deputy_code: json!(w.deputy_code),
        suggestion: json!(NodeId::new(NodeKind::Suggestion, answered.id).encode()),
        deadline: seconds_from_now(5).to_rfc3339(),
        admin_account,
        deputy,
        unassigned,
        resident,
        spare_deputy,
        binhe_grid,
        juniors,
        cadre,
        pairings,
        drafts,
        submitted,
        to_return,
        refresh,
    }
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
