//! What a file changes: each row matched on its natural key against what is stored
//! (the same row types, read back from the database), as a creation, an update naming
//! the columns that differ, or nothing. Checked first: no key twice in the file, and
//! every code a row names exists in the file or the database.
use chrono::NaiveDate;
use std::collections::{BTreeSet, HashMap, HashSet};

use super::rows::{column_zh, AccountRow, At, Dataset};
use super::rows::{
    label_en, CategoryRow, CommitteeMemberRow, CommitteeRow, DepartmentRow, DeputyRow, GridLinkRow,
    GridRow, LiaisonRow, PairingRow, ResidentRow, StationRow, TownshipRow, PAIRING_KINDS,
};
use super::{Kind, RowError};
use crate::domain::pairing_rules::{self, DeputyTraits};
use crate::error::AppError;

/// A row's natural key and the columns an update may change.
pub trait Keyed: Clone + PartialEq {
    const KIND: Kind;
    /// The column the key is reported under.
    const KEY_COLUMN: &'static str;
    fn key(&self) -> String;
    /// The columns (keys of [`Kind::columns`]) in which `self` differs from `old`.
    fn changed(&self, old: &Self) -> Vec<&'static str>;
}

macro_rules! changed {
    ($new:ident, $old:ident, $($field:ident => $column:literal),* $(,)?) => {{
        let mut columns = Vec::new();
        $(if $new.$field != $old.$field { columns.push($column); })*
        columns
    }};
}

impl Keyed for TownshipRow {
    const KIND: Kind = Kind::Townships;
    const KEY_COLUMN: &'static str = "code";
    fn key(&self) -> String {
        self.code.clone()
    }
    fn changed(&self, old: &Self) -> Vec<&'static str> {
        changed!(self, old, name => "name", kind => "kind", sort_order => "sort_order")
    }
}

impl Keyed for DepartmentRow {
    const KIND: Kind = Kind::Departments;
    const KEY_COLUMN: &'static str = "code";
    fn key(&self) -> String {
        self.code.clone()
    }
    fn changed(&self, old: &Self) -> Vec<&'static str> {
        changed!(self, old, name => "name", level => "level", township => "township", phone => "phone")
    }
}

impl Keyed for CategoryRow {
    const KIND: Kind = Kind::Categories;
    const KEY_COLUMN: &'static str = "code";
    fn key(&self) -> String {
        self.code.clone()
    }
    fn changed(&self, old: &Self) -> Vec<&'static str> {
        changed!(self, old, name => "name", sort_order => "sort_order", active => "active")
    }
}

impl Keyed for StationRow {
    const KIND: Kind = Kind::Stations;
    const KEY_COLUMN: &'static str = "code";
    fn key(&self) -> String {
        self.code.clone()
    }
    fn changed(&self, old: &Self) -> Vec<&'static str> {
        changed!(self, old, name => "name", township => "township", kind => "kind",
            parent => "parent", brand_name => "brand_name", feature => "feature",
            address => "address", reception_hours => "reception_hours",
            location => "latitude")
    }
}

impl Keyed for GridRow {
    const KIND: Kind = Kind::Grids;
    const KEY_COLUMN: &'static str = "name";
    fn key(&self) -> String {
        format!("{}/{}", self.station, self.name)
    }
    fn changed(&self, old: &Self) -> Vec<&'static str> {
        changed!(self, old, description => "description")
    }
}

impl Keyed for DeputyRow {
    const KIND: Kind = Kind::Deputies;
    const KEY_COLUMN: &'static str = "code";
    fn key(&self) -> String {
        self.code.clone()
    }
    fn changed(&self, old: &Self) -> Vec<&'static str> {
        changed!(self, old, name => "name", gender => "gender", level => "level",
            township => "township", leading_cadre => "leading_cadre", term => "term",
            sc_member => "sc_member", sc_leader => "sc_leader", field => "field",
            occupation => "occupation", phone => "phone")
    }
}

impl Keyed for ResidentRow {
    const KIND: Kind = Kind::Residents;
    const KEY_COLUMN: &'static str = "deputy";
    fn key(&self) -> String {
        format!("{}@{}", self.deputy, self.station)
    }
    fn changed(&self, old: &Self) -> Vec<&'static str> {
        changed!(self, old, since => "since", until => "until")
    }
}

impl Keyed for GridLinkRow {
    const KIND: Kind = Kind::GridLinks;
    const KEY_COLUMN: &'static str = "deputy";
    fn key(&self) -> String {
        format!("{}@{}/{}", self.deputy, self.station, self.grid)
    }
    fn changed(&self, _old: &Self) -> Vec<&'static str> {
        Vec::new()
    }
}

impl Keyed for LiaisonRow {
    const KIND: Kind = Kind::Liaisons;
    const KEY_COLUMN: &'static str = "phone";
    fn key(&self) -> String {
        self.phone.clone()
    }
    fn changed(&self, old: &Self) -> Vec<&'static str> {
        changed!(self, old, name => "name", station => "station", grid => "grid",
            kind => "kind", active => "active")
    }
}

impl Keyed for AccountRow {
    const KIND: Kind = Kind::Accounts;
    const KEY_COLUMN: &'static str = "login";
    fn key(&self) -> String {
        self.login.clone()
    }
    /// Roles are added, never taken away by a file (revoking stays a deliberate act).
    fn changed(&self, old: &Self) -> Vec<&'static str> {
        let mut columns = changed!(self, old, display_name => "display_name", phone => "phone", deputy => "deputy");
        if self.grants.iter().any(|g| !old.grants.contains(g)) {
            columns.push("role");
        }
        columns
    }
}

impl Keyed for CommitteeRow {
    const KIND: Kind = Kind::Committees;
    const KEY_COLUMN: &'static str = "code";
    fn key(&self) -> String {
        self.code.clone()
    }
    fn changed(&self, old: &Self) -> Vec<&'static str> {
        changed!(self, old, name => "name", field => "field")
    }
}

impl Keyed for CommitteeMemberRow {
    const KIND: Kind = Kind::CommitteeMembers;
    const KEY_COLUMN: &'static str = "deputy";
    fn key(&self) -> String {
        format!("{}@{}", self.deputy, self.committee)
    }
    fn changed(&self, _old: &Self) -> Vec<&'static str> {
        Vec::new()
    }
}

impl Keyed for PairingRow {
    const KIND: Kind = Kind::Pairings;
    const KEY_COLUMN: &'static str = "senior";
    /// `sc_member_grassroots:SENIOR>JUNIOR`, `sc_leader_township:SENIOR>township`.
    fn key(&self) -> String {
        let target = self.junior.as_ref().or(self.township.as_ref());
        format!(
            "{}:{}>{}",
            label_en(PAIRING_KINDS, &self.kind),
            self.senior,
            target.map_or("", String::as_str)
        )
    }
    fn changed(&self, old: &Self) -> Vec<&'static str> {
        changed!(self, old, started_on => "started_on", ended_on => "ended_on", note => "note")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create,
    /// The Chinese headers of the columns that change.
    Update(Vec<&'static str>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: Kind,
    pub key: String,
    pub action: Action,
}

/// The rows to write (new or changed, in file order) and what each does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub writes: Dataset,
    pub changes: Vec<Change>,
    pub unchanged: usize,
}

/// The plan of `incoming` against `current` (what is stored), or every problem.
pub fn plan(incoming: &Dataset, current: &Dataset) -> Result<Plan, Vec<RowError>> {
    let mut errors = references(incoming, current);
    let mut plan = Plan::default();
    macro_rules! each {
        ($($kind:ident),*) => {$(
            let writes = diff(&incoming.$kind, &current.$kind, &mut plan, &mut errors);
            plan.writes.$kind = writes;
        )*};
    }
    each!(
        townships,
        departments,
        categories,
        stations,
        grids,
        deputies,
        residents,
        grid_links,
        liaisons,
        accounts,
        committees,
        committee_members,
        pairings
    );
    errors.extend(committee_names(incoming, current));
    errors.extend(pairing_fit(incoming, current));
    errors.extend(ended_pairings_stay_ended(incoming, current));
    if errors.is_empty() {
        Ok(plan)
    } else {
        errors.sort();
        Err(errors)
    }
}

/// The rows of one kind to write; their changes and the unchanged count go to `plan`.
fn diff<T: Keyed>(
    incoming: &[(At, T)],
    current: &[(At, T)],
    plan: &mut Plan,
    errors: &mut Vec<RowError>,
) -> Vec<(At, T)> {
    let mut writes = Vec::new();
    let stored: HashMap<String, &T> = current.iter().map(|(_, row)| (row.key(), row)).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (at, row) in incoming {
        let key = row.key();
        if let Some(first) = seen.insert(key.clone(), at.row) {
            let column = column_zh(T::KIND, T::KEY_COLUMN);
            let reason = format!("与第{first}行重复（{key}）");
            errors.push(RowError::new(&at.sheet, at.row, column, reason));
            continue;
        }
        let action = match stored.get(&key) {
            None => Action::Create,
            Some(old) => {
                let columns = row.changed(old);
                if columns.is_empty() {
                    plan.unchanged += 1;
                    continue;
                }
                Action::Update(columns.iter().map(|c| column_zh(T::KIND, c)).collect())
            }
        };
        writes.push((at.clone(), row.clone()));
        let kind = T::KIND;
        plan.changes.push(Change { kind, key, action });
    }
    writes
}

/// The codes a sheet's rows define, in the file and stored.
fn keys<T: Keyed>(incoming: &[(At, T)], current: &[(At, T)]) -> HashSet<String> {
    incoming
        .iter()
        .chain(current)
        .map(|(_, row)| row.key())
        .collect()
}

/// Every code a row names must be defined in the file or stored.
fn references(incoming: &Dataset, current: &Dataset) -> Vec<RowError> {
    let townships = keys(&incoming.townships, &current.townships);
    let stations = keys(&incoming.stations, &current.stations);
    let grids = keys(&incoming.grids, &current.grids);
    let deputies = keys(&incoming.deputies, &current.deputies);
    let departments = keys(&incoming.departments, &current.departments);
    let mut errors = Vec::new();
    let mut check =
        |kind: Kind, at: &At, column: &str, code: Option<String>, known: &HashSet<String>| {
            if let Some(code) = code.filter(|c| !known.contains(c)) {
                let reason = format!("“{code}”不存在（文件和数据库中都没有）");
                errors.push(RowError::new(
                    &at.sheet,
                    at.row,
                    column_zh(kind, column),
                    reason,
                ));
            }
        };
    for (at, s) in &incoming.stations {
        check(
            Kind::Stations,
            at,
            "township",
            Some(s.township.clone()),
            &townships,
        );
        check(Kind::Stations, at, "parent", s.parent.clone(), &stations);
    }
    for (at, d) in &incoming.departments {
        check(
            Kind::Departments,
            at,
            "township",
            d.township.clone(),
            &townships,
        );
    }
    for (at, g) in &incoming.grids {
        check(
            Kind::Grids,
            at,
            "station",
            Some(g.station.clone()),
            &stations,
        );
    }
    for (at, d) in &incoming.deputies {
        check(
            Kind::Deputies,
            at,
            "township",
            d.township.clone(),
            &townships,
        );
    }
    for (at, r) in &incoming.residents {
        check(
            Kind::Residents,
            at,
            "deputy",
            Some(r.deputy.clone()),
            &deputies,
        );
        check(
            Kind::Residents,
            at,
            "station",
            Some(r.station.clone()),
            &stations,
        );
    }
    for (at, l) in &incoming.grid_links {
        check(
            Kind::GridLinks,
            at,
            "deputy",
            Some(l.deputy.clone()),
            &deputies,
        );
        let grid = format!("{}/{}", l.station, l.grid);
        check(Kind::GridLinks, at, "grid", Some(grid), &grids);
    }
    for (at, l) in &incoming.liaisons {
        check(
            Kind::Liaisons,
            at,
            "station",
            Some(l.station.clone()),
            &stations,
        );
        let grid = l.grid.as_ref().map(|g| format!("{}/{g}", l.station));
        check(Kind::Liaisons, at, "grid", grid, &grids);
    }
    for (at, a) in &incoming.accounts {
        check(Kind::Accounts, at, "deputy", a.deputy.clone(), &deputies);
        for g in &a.grants {
            check(Kind::Accounts, at, "station", g.station.clone(), &stations);
            check(
                Kind::Accounts,
                at,
                "department",
                g.department.clone(),
                &departments,
            );
            check(
                Kind::Accounts,
                at,
                "township",
                g.township.clone(),
                &townships,
            );
        }
    }
    let committees = keys(&incoming.committees, &current.committees);
    for (at, m) in &incoming.committee_members {
        let kind = Kind::CommitteeMembers;
        check(
            kind,
            at,
            "committee",
            Some(m.committee.clone()),
            &committees,
        );
        check(kind, at, "deputy", Some(m.deputy.clone()), &deputies);
    }
    for (at, p) in &incoming.pairings {
        let kind = Kind::Pairings;
        check(kind, at, "senior", Some(p.senior.clone()), &deputies);
        check(kind, at, "junior", p.junior.clone(), &deputies);
        check(kind, at, "township", p.township.clone(), &townships);
    }
    errors.extend(one_account_per_deputy(incoming, current));
    errors
}

/// A committee's name is its own: no other code (in the file or stored) has it.
fn committee_names(incoming: &Dataset, current: &Dataset) -> Vec<RowError> {
    let incoming_codes: HashSet<&str> = incoming
        .committees
        .iter()
        .map(|(_, c)| c.code.as_str())
        .collect();
    let mut holder: HashMap<&str, &str> = current
        .committees
        .iter()
        .filter(|(_, c)| !incoming_codes.contains(c.code.as_str()))
        .map(|(_, c)| (c.name.as_str(), c.code.as_str()))
        .collect();
    let mut errors = Vec::new();
    for (at, c) in &incoming.committees {
        match holder.insert(&c.name, &c.code) {
            Some(other) if other != c.code => {
                let reason = format!("名称已由委员会“{other}”使用");
                let column = column_zh(Kind::Committees, "name");
                errors.push(RowError::new(&at.sheet, at.row, column, reason));
            }
            _ => {}
        }
    }
    errors
}

/// Each pairing fits its kind ([`pairing_rules::check_fit`]), judged on the deputies
/// as the file leaves them (a file's row over the stored one).
fn pairing_fit(incoming: &Dataset, current: &Dataset) -> Vec<RowError> {
    let mut traits: HashMap<&str, DeputyTraits> = HashMap::new();
    let rows = current.deputies.iter().chain(&incoming.deputies);
    for (id, (_, d)) in (1..).zip(rows) {
        traits.insert(
            &d.code,
            DeputyTraits {
                id,
                level: d.level,
                is_leading_cadre: d.leading_cadre,
                term_status: d.term,
                is_sc_member: d.sc_member,
                is_sc_leader: d.sc_leader,
                // As `createPairing` requires: a deactivated deputy is paired no more.
                active: !current.inactive_deputies.contains(&d.code),
            },
        );
    }
    let mut errors = Vec::new();
    for (at, p) in &incoming.pairings {
        let Some(senior) = traits.get(p.senior.as_str()) else {
            continue; // reported as an unknown code
        };
        let junior = match &p.junior {
            Some(code) => match traits.get(code.as_str()) {
                Some(junior) => Some(junior),
                None => continue,
            },
            None => None,
        };
        // The township's id does not matter to the rule, only that there is one.
        let township = p.township.as_ref().map(|_| 0);
        if let Err(AppError::BadUserInput { message, field }) =
            pairing_rules::check_fit(p.kind, senior, junior, township)
        {
            let key = match field.as_deref() {
                Some("seniorDeputyId") => "senior",
                Some("juniorDeputyId") => "junior",
                Some("townshipId") => "township",
                _ => "kind",
            };
            let column = column_zh(Kind::Pairings, key);
            errors.push(RowError::new(&at.sheet, at.row, column, message));
        }
    }
    errors
}

/// A stored pairing that has ended stays ended: a row without 结束日期 for it would
/// wipe the end from the history (a new period is `createPairing`'s, not a file's).
fn ended_pairings_stay_ended(incoming: &Dataset, current: &Dataset) -> Vec<RowError> {
    let ended: HashMap<String, NaiveDate> = current
        .pairings
        .iter()
        .filter_map(|(_, p)| Some((p.key(), p.ended_on?)))
        .collect();
    let mut errors = Vec::new();
    for (at, p) in &incoming.pairings {
        if let (None, Some(on)) = (p.ended_on, ended.get(&p.key())) {
            errors.push(RowError::new(
                &at.sheet,
                at.row,
                column_zh(Kind::Pairings, "ended_on"),
                format!("该结对已于{on}结束,不能由文件重新开启"),
            ));
        }
    }
    errors
}

/// A deputy has at most one account: no two logins (in the file or stored) name it.
fn one_account_per_deputy(incoming: &Dataset, current: &Dataset) -> Vec<RowError> {
    let incoming_logins: BTreeSet<&str> = incoming
        .accounts
        .iter()
        .map(|(_, a)| a.login.as_str())
        .collect();
    let mut holder: HashMap<&str, &str> = current
        .accounts
        .iter()
        .filter(|(_, a)| !incoming_logins.contains(a.login.as_str()))
        .filter_map(|(_, a)| Some((a.deputy.as_deref()?, a.login.as_str())))
        .collect();
    let mut errors = Vec::new();
    for (at, a) in &incoming.accounts {
        let Some(deputy) = a.deputy.as_deref() else {
            continue;
        };
        match holder.insert(deputy, &a.login) {
            Some(other) if other != a.login => {
                let reason = format!("代表“{deputy}”已有账号“{other}”");
                errors.push(RowError::new(
                    &at.sheet,
                    at.row,
                    column_zh(Kind::Accounts, "deputy"),
                    reason,
                ));
            }
            _ => {}
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::{StationKind, TownshipKind};

    fn at(row: usize) -> At {
        At {
            sheet: "sheet".into(),
            row,
        }
    }

    fn township(code: &str, name: &str) -> TownshipRow {
        TownshipRow {
            code: code.into(),
            name: name.into(),
            kind: TownshipKind::Town,
            sort_order: 0,
        }
    }

    fn station(code: &str, township: &str) -> StationRow {
        StationRow {
            code: code.into(),
            name: format!("{code}站"),
            township: township.into(),
            kind: StationKind::LiaisonStation,
            parent: None,
            brand_name: None,
            feature: None,
            address: None,
            reception_hours: None,
            location: None,
        }
    }

    #[test]
    fn the_same_rows_again_change_nothing_and_a_changed_row_names_its_columns() {
        let stored = Dataset {
            townships: vec![(At::default(), township("lucheng", "义兴镇"))],
            ..Dataset::default()
        };
        let again = Dataset {
            townships: vec![(at(2), township("lucheng", "义兴镇"))],
            ..Dataset::default()
        };
        let plan = plan(&again, &stored).expect("valid");
        assert_eq!((plan.changes.len(), plan.unchanged), (0, 1));

        let renamed = Dataset {
            townships: vec![
                (at(2), township("lucheng", "义兴新镇")),
                (at(3), township("mafang", "马坊镇")),
            ],
            ..Dataset::default()
        };
        let plan = super::plan(&renamed, &stored).expect("valid");
        let actions: Vec<(&str, &Action)> = plan
            .changes
            .iter()
            .map(|c| (c.key.as_str(), &c.action))
            .collect();
        assert_eq!(
            actions,
            vec![
                ("lucheng", &Action::Update(vec!["名称"])),
                ("mafang", &Action::Create)
            ]
        );
        assert_eq!(plan.writes.townships.len(), 2);
    }

    #[test]
    fn unknown_codes_and_repeated_keys_are_errors() {
        let incoming = Dataset {
            townships: vec![(at(2), township("lucheng", "义兴镇"))],
            stations: vec![
                (at(2), station("binhe", "lucheng")),
                (at(3), station("binhe", "lucheng")),
                (at(4), station("xinzhai", "nowhere")),
            ],
            ..Dataset::default()
        };
        let errors = plan(&incoming, &Dataset::default()).expect_err("invalid");
        let found: Vec<(usize, &str, &str)> = errors
            .iter()
            .map(|e| (e.row, e.column.as_str(), e.reason.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                (3, "编码", "与第2行重复（binhe）"),
                (4, "乡镇编码", "“nowhere”不存在（文件和数据库中都没有）"),
            ]
        );
    }

    #[test]
    fn a_stored_township_may_be_named() {
        let stored = Dataset {
            townships: vec![(At::default(), township("lucheng", "义兴镇"))],
            ..Dataset::default()
        };
        let incoming = Dataset {
            stations: vec![(at(2), station("binhe", "lucheng"))],
            ..Dataset::default()
        };
        assert!(plan(&incoming, &stored).is_ok());
    }
}
