//! Rows parsed at the edge: each cell becomes a typed value (codes normalised, phones
//! checked, enums from their Chinese or English labels, dates, yes/no) or a
//! [`RowError`]. Rows refer to each other by natural key (codes), never by id.
use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{
    CongressLevel, DepartmentLevel, Gender, LiaisonKind, PairingKind, Role, StationKind,
    TermStatus, TownshipKind,
};

use super::{map_headers, Kind, RowError, Table};
use crate::domain::place::{CoordinateSystem, Point};
use crate::domain::{deputy_code, login, phone::Phone};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TownshipRow {
    pub code: String,
    pub name: String,
    pub kind: TownshipKind,
    pub sort_order: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentRow {
    pub code: String,
    pub name: String,
    pub level: DepartmentLevel,
    pub township: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRow {
    pub code: String,
    pub name: String,
    pub sort_order: i32,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationRow {
    pub code: String,
    pub name: String,
    pub township: String,
    pub kind: StationKind,
    pub parent: Option<String>,
    pub brand_name: Option<String>,
    pub feature: Option<String>,
    pub address: Option<String>,
    pub reception_hours: Option<String>,
    /// Both coordinates or neither; GCJ-02 ones converted to WGS-84.
    pub location: Option<Point>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridRow {
    pub station: String,
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeputyRow {
    pub code: String,
    pub name: String,
    pub gender: Gender,
    pub level: CongressLevel,
    pub township: Option<String>,
    pub leading_cadre: bool,
    pub term: TermStatus,
    pub sc_member: bool,
    pub sc_leader: bool,
    pub field: Option<String>,
    pub occupation: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentRow {
    pub deputy: String,
    pub station: String,
    pub since: NaiveDate,
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridLinkRow {
    pub deputy: String,
    pub station: String,
    pub grid: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiaisonRow {
    pub phone: String,
    pub name: String,
    pub station: String,
    pub grid: Option<String>,
    pub kind: LiaisonKind,
    pub active: bool,
}

/// A special committee (专门委员会) of the standing committee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitteeRow {
    pub code: String,
    pub name: String,
    pub field: String,
}

/// A deputy on a special committee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitteeMemberRow {
    pub committee: String,
    pub deputy: String,
}

/// A pairing (三联结对) of two deputies, or a standing-committee leader's coverage
/// of a township (包联): `junior` or `township`, as the kind says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingRow {
    pub kind: PairingKind,
    pub senior: String,
    pub junior: Option<String>,
    pub township: Option<String>,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub note: Option<String>,
}

/// One role of an account with its scope, by code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    pub role: Role,
    pub station: Option<String>,
    pub department: Option<String>,
    pub township: Option<String>,
}

/// An account: one row per role in the sheet, its fields repeated on each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub login: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub deputy: Option<String>,
    pub grants: Vec<GrantRow>,
}

/// Where a row came from: its sheet and row number.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct At {
    pub sheet: String,
    pub row: usize,
}

/// Every row of a file (or of the database, with `At::default()`), by kind.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dataset {
    pub townships: Vec<(At, TownshipRow)>,
    pub departments: Vec<(At, DepartmentRow)>,
    pub categories: Vec<(At, CategoryRow)>,
    pub stations: Vec<(At, StationRow)>,
    pub grids: Vec<(At, GridRow)>,
    pub deputies: Vec<(At, DeputyRow)>,
    pub residents: Vec<(At, ResidentRow)>,
    pub grid_links: Vec<(At, GridLinkRow)>,
    pub liaisons: Vec<(At, LiaisonRow)>,
    pub accounts: Vec<(At, AccountRow)>,
    pub committees: Vec<(At, CommitteeRow)>,
    pub committee_members: Vec<(At, CommitteeMemberRow)>,
    pub pairings: Vec<(At, PairingRow)>,
    /// Codes of stored deputies who are no longer active (deactivated through the API;
    /// a file cannot deactivate one): they may not be paired.
    pub inactive_deputies: std::collections::HashSet<String>,
}

/// Parses every table: the typed rows, or every problem of every table.
pub fn parse(tables: &[(Kind, Table)]) -> Result<Dataset, Vec<RowError>> {
    let mut data = Dataset::default();
    let mut errors = Vec::new();
    for (kind, table) in tables {
        let positions = match map_headers(*kind, table) {
            Ok(positions) => positions,
            Err(found) => {
                errors.extend(found);
                continue;
            }
        };
        for (row, cells) in &table.rows {
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let mut cells = Cells {
                kind: *kind,
                at: At {
                    sheet: table.sheet.clone(),
                    row: *row,
                },
                positions: &positions,
                cells,
                errors: Vec::new(),
            };
            parse_row(&mut cells, &mut data);
            errors.append(&mut cells.errors);
        }
    }
    if errors.is_empty() {
        Ok(data)
    } else {
        Err(errors)
    }
}

fn parse_row(c: &mut Cells<'_>, data: &mut Dataset) {
    let at = c.at.clone();
    match c.kind {
        Kind::Townships => push(c, &mut data.townships, at, township),
        Kind::Departments => push(c, &mut data.departments, at, department),
        Kind::Categories => push(c, &mut data.categories, at, category),
        Kind::Stations => push(c, &mut data.stations, at, station),
        Kind::Grids => push(c, &mut data.grids, at, grid),
        Kind::Deputies => push(c, &mut data.deputies, at, deputy),
        Kind::Residents => push(c, &mut data.residents, at, resident),
        Kind::GridLinks => push(c, &mut data.grid_links, at, grid_link),
        Kind::Liaisons => push(c, &mut data.liaisons, at, liaison),
        Kind::Accounts => push(c, &mut data.accounts, at, account),
        Kind::Committees => push(c, &mut data.committees, at, committee),
        Kind::CommitteeMembers => push(c, &mut data.committee_members, at, committee_member),
        Kind::Pairings => push(c, &mut data.pairings, at, pairing),
    }
}

/// Keeps the row when every cell parsed.
fn push<T>(c: &mut Cells<'_>, rows: &mut Vec<(At, T)>, at: At, parse: fn(&mut Cells<'_>) -> T) {
    let row = parse(c);
    if c.errors.is_empty() {
        rows.push((at, row));
    }
}

fn township(c: &mut Cells<'_>) -> TownshipRow {
    TownshipRow {
        code: c.code("code"),
        name: c.text("name", 64),
        kind: c.choice("kind", TOWNSHIP_KINDS),
        sort_order: c.number("sort_order", c.at.row as i32 - 2),
    }
}

fn department(c: &mut Cells<'_>) -> DepartmentRow {
    let row = DepartmentRow {
        code: c.code("code"),
        name: c.text("name", 64),
        level: c.choice("level", DEPARTMENT_LEVELS),
        township: c.optional_code("township"),
        phone: c.optional_text("phone", 32),
    };
    if (row.level == DepartmentLevel::Township) != row.township.is_some() {
        c.error("township", "乡镇级部门须填写乡镇编码，县级部门不填");
    }
    row
}

fn category(c: &mut Cells<'_>) -> CategoryRow {
    CategoryRow {
        code: c.code("code"),
        name: c.text("name", 32),
        sort_order: c.number("sort_order", c.at.row as i32 - 2),
        active: c.yes_no("active", true),
    }
}

fn station(c: &mut Cells<'_>) -> StationRow {
    StationRow {
        code: c.code("code"),
        name: c.text("name", 64),
        township: c.code("township"),
        kind: c.choice("kind", STATION_KINDS),
        parent: c.optional_code("parent"),
        brand_name: c.optional_text("brand_name", 64),
        feature: c.optional_text("feature", 500),
        address: c.optional_text("address", 200),
        reception_hours: c.optional_text("reception_hours", 200),
        location: c.point(),
    }
}

fn grid(c: &mut Cells<'_>) -> GridRow {
    GridRow {
        station: c.code("station"),
        name: c.text("name", 64),
        description: c.optional_text("description", 500),
    }
}

fn deputy(c: &mut Cells<'_>) -> DeputyRow {
    let row = DeputyRow {
        code: c.deputy_code("code"),
        name: c.text("name", 32),
        gender: c.choice("gender", GENDERS),
        level: c.choice("level", CONGRESS_LEVELS),
        township: c.optional_code("township"),
        leading_cadre: c.yes_no("leading_cadre", false),
        term: c
            .optional_choice("term", TERMS)
            .unwrap_or(TermStatus::FirstTerm),
        sc_member: c.yes_no("sc_member", false),
        sc_leader: c.yes_no("sc_leader", false),
        field: c.optional_text("field", 64),
        occupation: c.optional_text("occupation", 64),
        phone: c.phone("phone"),
    };
    if row.sc_leader && !row.sc_member {
        c.error("sc_member", "常委会领导须同时为常委会组成人员");
    }
    row
}

fn resident(c: &mut Cells<'_>) -> ResidentRow {
    let row = ResidentRow {
        deputy: c.deputy_code("deputy"),
        station: c.code("station"),
        since: c.date("since"),
        until: c.optional_date("until"),
    };
    if row.until.is_some_and(|until| until < row.since) {
        c.error("until", "结束日期早于起始日期");
    }
    row
}

fn grid_link(c: &mut Cells<'_>) -> GridLinkRow {
    GridLinkRow {
        deputy: c.deputy_code("deputy"),
        station: c.code("station"),
        grid: c.text("grid", 64),
    }
}

fn liaison(c: &mut Cells<'_>) -> LiaisonRow {
    LiaisonRow {
        phone: c.phone("phone").unwrap_or_default(),
        name: c.text("name", 32),
        station: c.code("station"),
        grid: c.optional_text("grid", 64),
        kind: c.choice("kind", LIAISON_KINDS),
        active: c.yes_no("active", true),
    }
}

fn committee(c: &mut Cells<'_>) -> CommitteeRow {
    CommitteeRow {
        code: c.code("code"),
        name: c.text("name", 64),
        field: c.text("field", 64),
    }
}

fn committee_member(c: &mut Cells<'_>) -> CommitteeMemberRow {
    CommitteeMemberRow {
        committee: c.code("committee"),
        deputy: c.deputy_code("deputy"),
    }
}

/// A township coverage names a township and no junior deputy; every other kind a
/// junior deputy and no township.
fn pairing(c: &mut Cells<'_>) -> PairingRow {
    let row = PairingRow {
        kind: c.choice("kind", PAIRING_KINDS),
        senior: c.deputy_code("senior"),
        junior: c.optional_deputy_code("junior"),
        township: c.optional_code("township"),
        started_on: c.date("started_on"),
        ended_on: c.optional_date("ended_on"),
        note: c.optional_text("note", 500),
    };
    if row.kind == PairingKind::ScLeaderTownship {
        if row.township.is_none() {
            c.error("township", "常委会领导包联乡镇须填写包联乡镇编码");
        }
        if row.junior.is_some() {
            c.error("junior", "包联乡镇不填被联系代表编码");
        }
    } else {
        if row.junior.is_none() {
            c.error("junior", "代表之间结对须填写被联系代表编码");
        }
        if row.township.is_some() {
            c.error("township", "只有常委会领导包联乡镇填写乡镇编码");
        }
    }
    if row.junior.as_ref() == Some(&row.senior) {
        c.error("junior", "代表不能与自己结对");
    }
    if row.ended_on.is_some_and(|ended| ended < row.started_on) {
        c.error("ended_on", "结束日期早于起始日期");
    }
    row
}

fn account(c: &mut Cells<'_>) -> AccountRow {
    let typed = c.text("login", 64);
    let login = login::normalise(&typed).unwrap_or_else(|_| {
        if !typed.is_empty() {
            c.error(
                "login",
                "登录名须为手机号或3-32位字母、数字、. _ -，以字母开头",
            );
        }
        typed.to_lowercase()
    });
    let grant = GrantRow {
        role: c.choice("role", ROLES),
        station: c.optional_code("station"),
        department: c.optional_code("department"),
        township: c.optional_code("township"),
    };
    let row = AccountRow {
        login,
        display_name: c.text("display_name", 64),
        phone: c.phone("phone"),
        deputy: c.optional_deputy_code("deputy"),
        grants: vec![grant],
    };
    check_scope(c, &row);
    row
}

/// Station staff name a station, handlers a department, a supervisor at most a
/// township, a deputy's account its deputy; nothing else is scoped.
fn check_scope(c: &mut Cells<'_>, row: &AccountRow) {
    let grant = &row.grants[0];
    let (station, department, township) = match grant.role {
        Role::StationStaff => (true, false, false),
        Role::DepartmentHandler => (false, true, false),
        Role::Supervisor => (false, false, grant.township.is_some()),
        _ => (false, false, false),
    };
    if station != grant.station.is_some() {
        c.error("station", "站点工作人员须且仅须填写站点编码");
    }
    if department != grant.department.is_some() {
        c.error("department", "部门承办人须且仅须填写部门编码");
    }
    if township != grant.township.is_some() {
        c.error("township", "只有督办员可按乡镇限定范围");
    }
    if (grant.role == Role::Deputy) && row.deputy.is_none() {
        c.error("deputy", "代表账号须填写代表编码");
    }
}

type Labels<T> = &'static [(&'static str, &'static str, T)];

pub const TOWNSHIP_KINDS: Labels<TownshipKind> = &[
    ("镇", "town", TownshipKind::Town),
    ("乡", "township", TownshipKind::Township),
    ("城区", "district", TownshipKind::District),
];
pub const COORDINATE_SYSTEMS: Labels<CoordinateSystem> = &[
    ("WGS-84", "wgs84", CoordinateSystem::Wgs84),
    ("GCJ-02", "gcj02", CoordinateSystem::Gcj02),
];

pub const STATION_KINDS: Labels<StationKind> = &[
    ("联络站", "liaison_station", StationKind::LiaisonStation),
    ("代表服务点", "service_point", StationKind::ServicePoint),
    ("代表服务岗", "service_post", StationKind::ServicePost),
    (
        "示范基地",
        "demonstration_base",
        StationKind::DemonstrationBase,
    ),
];
pub const DEPARTMENT_LEVELS: Labels<DepartmentLevel> = &[
    ("县级", "county", DepartmentLevel::County),
    ("乡镇级", "township", DepartmentLevel::Township),
];
pub const GENDERS: Labels<Gender> = &[
    ("男", "male", Gender::Male),
    ("女", "female", Gender::Female),
];
pub const CONGRESS_LEVELS: Labels<CongressLevel> = &[
    ("全国", "national", CongressLevel::National),
    ("省", "provincial", CongressLevel::Provincial),
    ("市", "municipal", CongressLevel::Municipal),
    ("县", "county", CongressLevel::County),
    ("乡镇", "township", CongressLevel::Township),
];
pub const TERMS: Labels<TermStatus> = &[
    ("首任", "first_term", TermStatus::FirstTerm),
    ("连任", "re_elected", TermStatus::ReElected),
];
pub const LIAISON_KINDS: Labels<LiaisonKind> = &[
    ("网格员", "grid_worker", LiaisonKind::GridWorker),
    ("志愿者", "volunteer", LiaisonKind::Volunteer),
    ("社区民警", "community_police", LiaisonKind::CommunityPolice),
    ("物业人员", "property_staff", LiaisonKind::PropertyStaff),
    ("站点管理员", "station_admin", LiaisonKind::StationAdmin),
];
pub const PAIRING_KINDS: Labels<PairingKind> = &[
    (
        "常委会组成人员联系基层代表",
        "sc_member_grassroots",
        PairingKind::ScMemberGrassroots,
    ),
    (
        "常委会领导包联乡镇",
        "sc_leader_township",
        PairingKind::ScLeaderTownship,
    ),
    (
        "领导干部代表联系基层代表",
        "leader_grassroots",
        PairingKind::LeaderGrassroots,
    ),
    (
        "连任代表联系新任代表",
        "reelected_first_term",
        PairingKind::ReelectedFirstTerm,
    ),
    (
        "省市人大代表联系县乡代表",
        "upper_lower",
        PairingKind::UpperLower,
    ),
];
pub const ROLES: Labels<Role> = &[
    ("群众", "citizen", Role::Citizen),
    ("代表", "deputy", Role::Deputy),
    ("站点工作人员", "station_staff", Role::StationStaff),
    ("部门承办人", "department_handler", Role::DepartmentHandler),
    ("督办员", "supervisor", Role::Supervisor),
    ("管理员", "admin", Role::Admin),
];

/// The Chinese label of a value (what a template and the demo files show).
pub fn label<T: PartialEq>(labels: Labels<T>, value: &T) -> &'static str {
    labels
        .iter()
        .find(|(_, _, v)| v == value)
        .map_or("", |(zh, _, _)| zh)
}

/// The English name of a value (as keys spell it).
pub fn label_en<T: PartialEq>(labels: Labels<T>, value: &T) -> &'static str {
    labels
        .iter()
        .find(|(_, _, v)| v == value)
        .map_or("", |(_, en, _)| en)
}

/// The cells of one row, read by column key; each problem is kept as a [`RowError`].
struct Cells<'a> {
    kind: Kind,
    at: At,
    positions: &'a [Option<usize>],
    cells: &'a [String],
    errors: Vec<RowError>,
}

impl Cells<'_> {
    fn zh(&self, key: &str) -> &'static str {
        column_zh(self.kind, key)
    }

    fn error(&mut self, key: &str, reason: &str) {
        let column = self.zh(key);
        self.errors
            .push(RowError::new(&self.at.sheet, self.at.row, column, reason));
    }

    /// The trimmed cell, `None` when empty or the column is absent.
    fn raw(&self, key: &str) -> Option<String> {
        let index = self.kind.columns().iter().position(|c| c.key == key)?;
        let cell = self.cells.get(self.positions[index]?)?.trim();
        (!cell.is_empty()).then(|| cell.to_owned())
    }

    fn required(&mut self, key: &str) -> Option<String> {
        let value = self.raw(key);
        if value.is_none() {
            self.error(key, "必填项为空");
        }
        value
    }

    fn text(&mut self, key: &str, max: usize) -> String {
        let value = self.required(key).unwrap_or_default();
        if value.chars().count() > max {
            self.error(key, &format!("不能超过{max}个字符"));
        }
        value
    }

    fn optional_text(&mut self, key: &str, max: usize) -> Option<String> {
        let value = self.raw(key)?;
        if value.chars().count() > max {
            self.error(key, &format!("不能超过{max}个字符"));
        }
        Some(value)
    }

    fn code(&mut self, key: &str) -> String {
        let value = self.required(key).unwrap_or_default();
        self.checked_code(key, value)
    }

    fn optional_code(&mut self, key: &str) -> Option<String> {
        let value = self.raw(key)?;
        Some(self.checked_code(key, value))
    }

    fn checked_code(&mut self, key: &str, value: String) -> String {
        let code = value.to_ascii_lowercase();
        let ok = (2..=32).contains(&code.len())
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !ok && !value.is_empty() {
            self.error(key, "编码须为2-32位小写字母、数字、_ 或 -");
        }
        code
    }

    fn deputy_code(&mut self, key: &str) -> String {
        match self.required(key) {
            Some(value) => self.checked_deputy_code(key, &value),
            None => String::new(),
        }
    }

    fn optional_deputy_code(&mut self, key: &str) -> Option<String> {
        let value = self.raw(key)?;
        Some(self.checked_deputy_code(key, &value))
    }

    fn checked_deputy_code(&mut self, key: &str, value: &str) -> String {
        deputy_code::parse(value).unwrap_or_else(|_| {
            self.error(key, "代表编码格式不正确");
            String::new()
        })
    }

    fn phone(&mut self, key: &str) -> Option<String> {
        let required = self
            .kind
            .columns()
            .iter()
            .any(|c| c.key == key && c.required);
        let value = if required {
            self.required(key)?
        } else {
            self.raw(key)?
        };
        match Phone::parse(key, &value) {
            Ok(phone) => Some(phone.into_string()),
            Err(_) => {
                self.error(key, "手机号码格式不正确");
                None
            }
        }
    }

    /// The value its label names; the first value (and an error) when none does.
    /// `latitude` and `longitude` (degrees, both or neither) in `coordinate_system`
    /// (WGS-84 unless it says GCJ-02), as a WGS-84 point.
    fn point(&mut self) -> Option<Point> {
        let system = self
            .optional_choice("coordinate_system", COORDINATE_SYSTEMS)
            .unwrap_or_default();
        let (lat, lon) = match (self.raw("latitude"), self.raw("longitude")) {
            (None, None) => return None,
            (Some(lat), Some(lon)) => (lat, lon),
            (lat, _) => {
                let missing = if lat.is_none() {
                    "latitude"
                } else {
                    "longitude"
                };
                self.error(missing, "纬度和经度须同时填写");
                return None;
            }
        };
        let number = |v: &str| v.parse::<f64>().unwrap_or(f64::NAN);
        match Point::parse("", number(&lat), number(&lon), system) {
            Ok(point) => Some(point),
            Err(e) => {
                let field = match &e {
                    crate::error::AppError::BadUserInput { field, .. } => field.as_deref(),
                    _ => None,
                };
                let key = match field {
                    Some("longitude") => "longitude",
                    Some("latitude") => "latitude",
                    _ => "coordinate_system",
                };
                let reason = match key {
                    "coordinate_system" => "GCJ-02坐标仅适用于中国大陆",
                    _ => "纬度须在-90到90之间、经度须在-180到180之间",
                };
                self.error(key, reason);
                None
            }
        }
    }

    fn choice<T: Copy>(&mut self, key: &str, labels: Labels<T>) -> T {
        match self.required(key) {
            Some(value) => self.pick(key, &value, labels),
            None => labels[0].2,
        }
    }

    fn optional_choice<T: Copy>(&mut self, key: &str, labels: Labels<T>) -> Option<T> {
        let value = self.raw(key)?;
        Some(self.pick(key, &value, labels))
    }

    fn pick<T: Copy>(&mut self, key: &str, value: &str, labels: Labels<T>) -> T {
        let lower = value.to_lowercase();
        let found = labels
            .iter()
            .find(|(zh, en, _)| *zh == value || *en == lower)
            .map(|(_, _, v)| *v);
        found.unwrap_or_else(|| {
            let allowed: Vec<&str> = labels.iter().map(|(zh, _, _)| *zh).collect();
            self.error(key, &format!("取值须为{}之一", allowed.join("、")));
            labels[0].2
        })
    }

    fn number(&mut self, key: &str, default: i32) -> i32 {
        let Some(value) = self.raw(key) else {
            return default;
        };
        value.parse().unwrap_or_else(|_| {
            self.error(key, "须为整数");
            default
        })
    }

    fn yes_no(&mut self, key: &str, default: bool) -> bool {
        let Some(value) = self.raw(key) else {
            return default;
        };
        match value.to_lowercase().as_str() {
            "是" | "yes" | "y" | "true" | "1" => true,
            "否" | "no" | "n" | "false" | "0" => false,
            _ => {
                self.error(key, "须为“是”或“否”");
                default
            }
        }
    }

    fn date(&mut self, key: &str) -> NaiveDate {
        match self.required(key) {
            Some(value) => self.checked_date(key, &value),
            None => NaiveDate::default(),
        }
    }

    fn optional_date(&mut self, key: &str) -> Option<NaiveDate> {
        let value = self.raw(key)?;
        Some(self.checked_date(key, &value))
    }

    fn checked_date(&mut self, key: &str, value: &str) -> NaiveDate {
        let parsed = ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日"]
            .iter()
            .find_map(|format| NaiveDate::parse_from_str(value, format).ok());
        parsed.unwrap_or_else(|| {
            self.error(key, "日期格式须为 YYYY-MM-DD");
            NaiveDate::default()
        })
    }
}

/// The Chinese header of a column, as errors name it.
pub fn column_zh(kind: Kind, key: &str) -> &'static str {
    kind.columns()
        .iter()
        .find(|c| c.key == key)
        .map_or("", |c| c.zh)
}

/// Groups account rows (one per role) by login: the grants together, the account's
/// fields from its first row; a later row that differs in them is an error.
pub fn group_accounts(rows: Vec<(At, AccountRow)>) -> Result<Vec<(At, AccountRow)>, Vec<RowError>> {
    let mut grouped: Vec<(At, AccountRow)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut errors = Vec::new();
    for (at, row) in rows {
        let Some(&i) = index.get(&row.login) else {
            index.insert(row.login.clone(), grouped.len());
            grouped.push((at, row));
            continue;
        };
        let first = &mut grouped[i].1;
        let same = first.display_name == row.display_name
            && first.phone == row.phone
            && first.deputy == row.deputy;
        if !same {
            let reason = "同一登录名的各行须有相同的显示名称、手机和代表编码";
            errors.push(RowError::new(&at.sheet, at.row, "登录名", reason));
        } else if first.grants.contains(&row.grants[0]) {
            errors.push(RowError::new(&at.sheet, at.row, "角色", "角色重复"));
        } else {
            first.grants.extend(row.grants);
        }
    }
    if errors.is_empty() {
        Ok(grouped)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(sheet: &str, headers: &[&str], rows: &[&[&str]]) -> Table {
        Table {
            sheet: sheet.into(),
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| (i + 2, r.iter().map(|c| (*c).to_owned()).collect()))
                .collect(),
        }
    }

    #[test]
    fn cells_become_typed_values() {
        let stations = table(
            "站点",
            &["编码", "名称", "乡镇编码", "类型", "品牌名称"],
            &[&[
                " BinHe ",
                "滨河社区联络站",
                "lucheng",
                "联络站",
                "滨河议事厅",
            ]],
        );
        let data = parse(&[(Kind::Stations, stations)]).expect("valid");
        let (at, row) = &data.stations[0];
        assert_eq!(at.row, 2);
        assert_eq!(row.code, "binhe");
        assert_eq!(row.kind, StationKind::LiaisonStation);
        assert_eq!(row.brand_name.as_deref(), Some("滨河议事厅"));
        assert_eq!(row.parent, None);
    }

    #[test]
    fn every_bad_cell_is_listed_with_row_and_column() {
        let deputies = table(
            "代表",
            &["代表编码", "姓名", "性别", "层级", "手机", "常委会领导"],
            &[
                &["ABCDEFGH", "张三", "男", "县", "13512345678", "否"],
                &["bad code!", "", "男", "镇", "123", "也许"],
            ],
        );
        let errors = parse(&[(Kind::Deputies, deputies)]).expect_err("invalid");
        let found: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (3, "代表编码"),
                (3, "姓名"),
                (3, "层级"),
                (3, "常委会领导"),
                (3, "手机"),
            ],
            "{errors:?}"
        );
        assert!(errors[2].reason.contains("全国、省、市、县、乡镇"));
    }

    #[test]
    fn scopes_must_fit_the_role() {
        let accounts = table(
            "账号",
            &["登录名", "显示名称", "角色", "站点编码", "部门编码"],
            &[
                &["staff", "联络员", "站点工作人员", "", ""],
                &[
                    "handler",
                    "承办人",
                    "department_handler",
                    "binhe",
                    "jiaotong",
                ],
                &["boss", "管理员", "管理员", "", ""],
            ],
        );
        let errors = parse(&[(Kind::Accounts, accounts)]).expect_err("invalid");
        let found: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(found, vec![(2, "站点编码"), (3, "站点编码")]);
    }

    #[test]
    fn dates_and_defaults() {
        let residents = table(
            "驻站代表",
            &["代表编码", "站点编码", "起始日期", "结束日期"],
            &[&["ABCDEFGH", "binhe", "2022/01/05", "2021-12-31"]],
        );
        let errors = parse(&[(Kind::Residents, residents)]).expect_err("until < since");
        assert_eq!(errors[0].column, "结束日期");
        assert_eq!(errors[0].reason, "结束日期早于起始日期");
    }

    #[test]
    fn a_pairing_names_a_junior_deputy_or_a_township_as_its_kind_says() {
        let pairings = table(
            "结对",
            &[
                "类型",
                "联系代表编码",
                "被联系代表编码",
                "包联乡镇编码",
                "起始日期",
            ],
            &[
                &["常委会领导包联乡镇", "ABCDEFGH", "", "yixing", "2022-01-10"],
                &[
                    "sc_member_grassroots",
                    "ABCDEFGH",
                    "HGFEDCBA",
                    "",
                    "2022-01-10",
                ],
                &[
                    "常委会领导包联乡镇",
                    "ABCDEFGH",
                    "HGFEDCBA",
                    "",
                    "2022-01-10",
                ],
                &[
                    "连任代表联系新任代表",
                    "ABCDEFGH",
                    "ABCDEFGH",
                    "",
                    "2022-01-10",
                ],
            ],
        );
        let errors = parse(&[(Kind::Pairings, pairings)]).expect_err("invalid rows");
        let found: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (4, "包联乡镇编码"),
                (4, "被联系代表编码"),
                (5, "被联系代表编码")
            ],
            "{errors:?}"
        );
    }

    #[test]
    fn account_rows_group_by_login() {
        let accounts = table(
            "账号",
            &["登录名", "显示名称", "角色", "乡镇编码"],
            &[
                &["Lead", "主任", "督办员", ""],
                &["lead", "主任", "督办员", "lucheng"],
                &["lead", "主任", "督办员", "lucheng"],
            ],
        );
        let data = parse(&[(Kind::Accounts, accounts)]).expect("valid rows");
        let errors = group_accounts(data.accounts.clone()).expect_err("repeated role");
        assert_eq!((errors[0].row, errors[0].reason.as_str()), (4, "角色重复"));
        let grouped = group_accounts(data.accounts[..2].to_vec()).expect("two grants");
        assert_eq!(grouped.len(), 1);
        assert_eq!(grouped[0].1.grants.len(), 2);
    }
}
