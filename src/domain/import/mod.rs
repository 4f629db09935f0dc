//! Importing a county's organisation from spreadsheets, without I/O: the kinds of sheet
//! and their columns (headers in Chinese or English), a raw [`Table`] parsed row by
//! row into typed values ([`rows`]), and the [`plan`]: what a file changes against
//! what is stored, matched on natural keys (codes, phone numbers, logins), after the
//! whole file is checked. Every problem is a [`RowError`] naming sheet, row, column
//! and the reason in Chinese; one problem anywhere means nothing is written.
pub mod plan;
pub mod read;
pub mod rows;
pub mod template;

use std::fmt;

/// A kind of sheet, in the order rows are written (what a row refers to comes first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Townships,
    Departments,
    Categories,
    Stations,
    Grids,
    Deputies,
    Residents,
    GridLinks,
    Liaisons,
    Accounts,
    Committees,
    CommitteeMembers,
    Pairings,
}

/// A column of a sheet: its English key and Chinese header (either names it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub key: &'static str,
    pub zh: &'static str,
    pub required: bool,
}

const fn req(key: &'static str, zh: &'static str) -> Column {
    Column {
        key,
        zh,
        required: true,
    }
}

const fn opt(key: &'static str, zh: &'static str) -> Column {
    Column {
        key,
        zh,
        required: false,
    }
}

impl Kind {
    pub const ALL: [Kind; 13] = [
        Kind::Townships,
        Kind::Departments,
        Kind::Categories,
        Kind::Stations,
        Kind::Grids,
        Kind::Deputies,
        Kind::Residents,
        Kind::GridLinks,
        Kind::Liaisons,
        Kind::Accounts,
        Kind::Committees,
        Kind::CommitteeMembers,
        Kind::Pairings,
    ];

    /// The sheet's (or file's) English and Chinese names.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Kind::Townships => ("townships", "乡镇"),
            Kind::Departments => ("departments", "部门"),
            Kind::Categories => ("categories", "分类"),
            Kind::Stations => ("stations", "站点"),
            Kind::Grids => ("grids", "网格"),
            Kind::Deputies => ("deputies", "代表"),
            Kind::Residents => ("residents", "驻站代表"),
            Kind::GridLinks => ("grid_links", "网格联系"),
            Kind::Liaisons => ("liaisons", "联络员"),
            Kind::Accounts => ("accounts", "账号"),
            Kind::Committees => ("committees", "专门委员会"),
            Kind::CommitteeMembers => ("committee_members", "委员会成员"),
            Kind::Pairings => ("pairings", "结对"),
        }
    }

    /// The kind a sheet or file stem names, in either language ("stations", "站点",
    /// "03-stations" and "站点 stations" all name stations).
    pub fn from_name(name: &str) -> Option<Kind> {
        let name = name.trim().to_lowercase();
        let parts: Vec<&str> = name
            .split(|c: char| c.is_whitespace() || "-()（）/".contains(c))
            .filter(|p| !p.is_empty())
            .collect();
        Kind::ALL.into_iter().find(|kind| {
            let (en, zh) = kind.names();
            name == en || name == zh || parts.iter().any(|p| *p == en || *p == zh)
        })
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            Kind::Townships => {
                const COLUMNS: &[Column] = &[
                    req("code", "编码"),
                    req("name", "名称"),
                    req("kind", "类型"),
                    opt("sort_order", "排序"),
                ];
                COLUMNS
            }
            Kind::Departments => {
                const COLUMNS: &[Column] = &[
                    req("code", "编码"),
                    req("name", "名称"),
                    req("level", "层级"),
                    opt("township", "乡镇编码"),
                    opt("phone", "电话"),
                ];
                COLUMNS
            }
            Kind::Categories => {
                const COLUMNS: &[Column] = &[
                    req("code", "编码"),
                    req("name", "名称"),
                    opt("sort_order", "排序"),
                    opt("active", "启用"),
                ];
                COLUMNS
            }
            Kind::Stations => {
                const COLUMNS: &[Column] = &[
                    req("code", "编码"),
                    req("name", "名称"),
                    req("township", "乡镇编码"),
                    req("kind", "类型"),
                    opt("parent", "上级站点编码"),
                    opt("brand_name", "品牌名称"),
                    opt("feature", "特色"),
                    opt("address", "地址"),
                    opt("reception_hours", "接待时间"),
                    opt("latitude", "纬度"),
                    opt("longitude", "经度"),
                    opt("coordinate_system", "坐标系"),
                ];
                COLUMNS
            }
            Kind::Grids => {
                const COLUMNS: &[Column] = &[
                    req("station", "站点编码"),
                    req("name", "名称"),
                    opt("description", "说明"),
                ];
                COLUMNS
            }
            Kind::Deputies => {
                const COLUMNS: &[Column] = &[
                    req("code", "代表编码"),
                    req("name", "姓名"),
                    req("gender", "性别"),
                    req("level", "层级"),
                    opt("township", "乡镇编码"),
                    opt("leading_cadre", "领导干部"),
                    opt("term", "任期"),
                    opt("sc_member", "常委会组成人员"),
                    opt("sc_leader", "常委会领导"),
                    opt("field", "专业领域"),
                    opt("occupation", "职业"),
                    opt("phone", "手机"),
                ];
                COLUMNS
            }
            Kind::Residents => {
                const COLUMNS: &[Column] = &[
                    req("deputy", "代表编码"),
                    req("station", "站点编码"),
                    req("since", "起始日期"),
                    opt("until", "结束日期"),
                ];
                COLUMNS
            }
            Kind::GridLinks => {
                const COLUMNS: &[Column] = &[
                    req("deputy", "代表编码"),
                    req("station", "站点编码"),
                    req("grid", "网格名称"),
                ];
                COLUMNS
            }
            Kind::Liaisons => {
                const COLUMNS: &[Column] = &[
                    req("phone", "手机"),
                    req("name", "姓名"),
                    req("station", "站点编码"),
                    opt("grid", "网格名称"),
                    req("kind", "类型"),
                    opt("active", "在岗"),
                ];
                COLUMNS
            }
            Kind::Accounts => {
                const COLUMNS: &[Column] = &[
                    req("login", "登录名"),
                    req("display_name", "显示名称"),
                    opt("phone", "手机"),
                    opt("deputy", "代表编码"),
                    req("role", "角色"),
                    opt("station", "站点编码"),
                    opt("department", "部门编码"),
                    opt("township", "乡镇编码"),
                ];
                COLUMNS
            }
            Kind::Committees => {
                const COLUMNS: &[Column] = &[
                    req("code", "编码"),
                    req("name", "名称"),
                    req("field", "专业领域"),
                ];
                COLUMNS
            }
            Kind::CommitteeMembers => {
                const COLUMNS: &[Column] =
                    &[req("committee", "委员会编码"), req("deputy", "代表编码")];
                COLUMNS
            }
            Kind::Pairings => {
                const COLUMNS: &[Column] = &[
                    req("kind", "类型"),
                    req("senior", "联系代表编码"),
                    opt("junior", "被联系代表编码"),
                    opt("township", "包联乡镇编码"),
                    req("started_on", "起始日期"),
                    opt("ended_on", "结束日期"),
                    opt("note", "备注"),
                ];
                COLUMNS
            }
        }
    }

    /// The header a template shows: "编码 code".
    pub fn header(column: &Column) -> String {
        format!("{} {}", column.zh, column.key)
    }
}

/// One sheet (or one CSV file) as read: its name, header cells and data rows, each
/// with its row number as a spreadsheet shows it (the header is row 1). Cells are text:
/// a date cell of a workbook arrives as `YYYY-MM-DD`, a whole number without `.0`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub sheet: String,
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Where a problem is: sheet, row (1 is the header) and column (its Chinese header).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowError {
    pub sheet: String,
    pub row: usize,
    pub column: String,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} 第{}行 [{}]: {}",
            self.sheet, self.row, self.column, self.reason
        )
    }
}

impl RowError {
    pub fn new(sheet: &str, row: usize, column: &str, reason: impl Into<String>) -> Self {
        RowError {
            sheet: sheet.to_owned(),
            row,
            column: column.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Which column of [`Kind::columns`] each header cell is; errors for unknown,
/// repeated and missing columns.
pub fn map_headers(kind: Kind, table: &Table) -> Result<Vec<Option<usize>>, Vec<RowError>> {
    let columns = kind.columns();
    let mut errors = Vec::new();
    let mut positions: Vec<Option<usize>> = vec![None; columns.len()];
    for (index, header) in table.headers.iter().enumerate() {
        let header = header.trim();
        if header.is_empty() {
            continue;
        }
        match columns.iter().position(|c| header_names(header, c)) {
            Some(c) if positions[c].is_none() => positions[c] = Some(index),
            Some(_) => errors.push(RowError::new(&table.sheet, 1, header, "列重复")),
            None => errors.push(RowError::new(&table.sheet, 1, header, "未知的列")),
        }
    }
    for (c, column) in columns.iter().enumerate() {
        if column.required && positions[c].is_none() {
            errors.push(RowError::new(&table.sheet, 1, column.zh, "缺少必填列"));
        }
    }
    if errors.is_empty() {
        Ok(positions)
    } else {
        Err(errors)
    }
}

/// "编码", "code", "编码 code", "编码(code)" and "编码/code" all name the column.
fn header_names(header: &str, column: &Column) -> bool {
    let header = header.to_lowercase();
    header == column.key
        || header == column.zh
        || header
            .split(|c: char| c.is_whitespace() || "()（）/".contains(c))
            .filter(|p| !p.is_empty())
            .any(|p| p == column.key || p == column.zh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheets_are_named_in_either_language() {
        assert_eq!(Kind::from_name("stations"), Some(Kind::Stations));
        assert_eq!(Kind::from_name("站点"), Some(Kind::Stations));
        assert_eq!(Kind::from_name("04-stations"), Some(Kind::Stations));
        assert_eq!(Kind::from_name("驻站代表 residents"), Some(Kind::Residents));
        assert_eq!(Kind::from_name("Grid_Links"), Some(Kind::GridLinks));
        assert_eq!(
            Kind::from_name("12-committee_members"),
            Some(Kind::CommitteeMembers)
        );
        assert_eq!(Kind::from_name("专门委员会"), Some(Kind::Committees));
        assert_eq!(Kind::from_name("结对 pairings"), Some(Kind::Pairings));
        assert_eq!(Kind::from_name("notes"), None);
    }

    #[test]
    fn headers_in_chinese_english_or_both() {
        let table = Table {
            sheet: "乡镇".into(),
            headers: vec!["编码".into(), "name".into(), "类型 kind".into()],
            rows: vec![],
        };
        let map = map_headers(Kind::Townships, &table).expect("known headers");
        assert_eq!(map, vec![Some(0), Some(1), Some(2), None]);
    }

    #[test]
    fn unknown_repeated_and_missing_headers_are_listed() {
        let table = Table {
            sheet: "乡镇".into(),
            headers: vec!["编码".into(), "code".into(), "面积".into()],
            rows: vec![],
        };
        let errors = map_headers(Kind::Townships, &table).expect_err("bad headers");
        let reasons: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.column.as_str(), e.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("code", "列重复"),
                ("面积", "未知的列"),
                ("名称", "缺少必填列"),
                ("类型", "缺少必填列"),
            ]
        );
    }
}
