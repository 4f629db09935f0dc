//! Excel exports for meetings (`/exports/*.xlsx`), without I/O: a table of typed
//! cells becomes a worksheet with a bold Chinese header row, frozen, each column as
//! wide as its widest cell, dates as Excel dates and rates as percentages. Written
//! with `rust_xlsxwriter` (as the import templates are). What goes into the tables is
//! `service::exports`' business; the names of the kinds and their bounds are here,
//! and the Chinese words for stored values that exports and printed pages share.
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

/// The most rows one sheet of an export holds: past it the export is refused
/// (a shorter period or a narrower scope), never cut silently.
pub const MAX_ROWS: usize = 10_000;

/// The longest period (in days, both ends included) a list export covers.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// The exports there are, by file name (`/exports/<name>.xlsx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 站点台账: a station's items collected in a period.
    StationLedger,
    /// 部门收件箱: the items forwarded to a department, collected in a period.
    DepartmentInbox,
    /// 统计: a scope's figures for a period, by township, station, category and month.
    Statistics,
    /// 结对覆盖: the gaps against the pairing rules in a month.
    Coverage,
    /// "八个一" 履职情况: per deputy of a station or township, a month or a year.
    Compliance,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::StationLedger,
        Kind::DepartmentInbox,
        Kind::Statistics,
        Kind::Coverage,
        Kind::Compliance,
    ];

    pub fn file_stem(self) -> &'static str {
        match self {
            Kind::StationLedger => "station-ledger",
            Kind::DepartmentInbox => "department-inbox",
            Kind::Statistics => "statistics",
            Kind::Coverage => "coverage",
            Kind::Compliance => "compliance",
        }
    }

    /// The kind a file name (`statistics.xlsx`) asks for.
    pub fn from_file(file: &str) -> Option<Kind> {
        let stem = file.strip_suffix(".xlsx")?;
        Kind::ALL.into_iter().find(|k| k.file_stem() == stem)
    }
}

/// One cell's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    /// A share in [0, 1], shown as a percentage.
    Rate(f64),
    Number(f64),
    Date(NaiveDate),
    /// Yes / no, written 是 / 否.
    Flag(bool),
}

impl Cell {
    pub fn text(value: impl Into<String>) -> Cell {
        Cell::Text(value.into())
    }

    pub fn opt_text(value: Option<impl Into<String>>) -> Cell {
        value.map_or(Cell::Empty, |v| Cell::Text(v.into()))
    }

    pub fn opt_date(value: Option<NaiveDate>) -> Cell {
        value.map_or(Cell::Empty, Cell::Date)
    }

    /// Display width in Latin character widths (a Chinese character takes two).
    fn width(&self) -> usize {
        match self {
            Cell::Empty => 0,
            Cell::Text(t) => t.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum(),
            Cell::Int(i) => i.to_string().len(),
            Cell::Rate(_) => 7,
            Cell::Number(_) => 8,
            Cell::Date(_) => 10,
            Cell::Flag(_) => 2,
        }
    }
}

/// One worksheet: a header row and rows of the same length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sheet {
    pub name: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

impl Sheet {
    pub fn new(name: &str, headers: &[&'static str]) -> Sheet {
        Sheet {
            name: name.to_owned(),
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }
}

struct Formats {
    header: Format,
    date: Format,
    rate: Format,
    number: Format,
}

/// The workbook of `sheets`, as bytes.
pub fn workbook(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let formats = Formats {
        header: Format::new().set_bold().set_background_color("#DDEBF7"),
        date: Format::new().set_num_format("yyyy-mm-dd"),
        rate: Format::new().set_num_format("0.0%"),
        number: Format::new().set_num_format("0.0"),
    };
    let mut book = Workbook::new();
    for sheet in sheets {
        let out = book.add_worksheet();
        out.set_name(&sheet.name)?;
        for (col, header) in sheet.headers.iter().enumerate() {
            out.write_string_with_format(0, col as u16, *header, &formats.header)?;
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            for (col, cell) in row.iter().enumerate() {
                write_cell(out, r as u32 + 1, col as u16, cell, &formats)?;
            }
        }
        for (col, header) in sheet.headers.iter().enumerate() {
            let widest = sheet
                .rows
                .iter()
                .filter_map(|row| row.get(col))
                .map(Cell::width)
                .chain([Cell::text(*header).width()])
                .max()
                .unwrap_or(0);
            out.set_column_width(col as u16, (widest + 2).clamp(6, 60) as f64)?;
        }
        out.set_freeze_panes(1, 0)?;
    }
    book.save_to_buffer()
}

fn write_cell(
    out: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    formats: &Formats,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Empty => {}
        Cell::Text(text) => {
            out.write_string(row, col, text)?;
        }
        Cell::Int(value) => {
            out.write_number(row, col, *value as f64)?;
        }
        Cell::Rate(value) => {
            out.write_number_with_format(row, col, *value, &formats.rate)?;
        }
        Cell::Number(value) => {
            out.write_number_with_format(row, col, *value, &formats.number)?;
        }
        Cell::Date(date) => {
            let excel =
                ExcelDateTime::from_ymd(date.year() as u16, date.month() as u8, date.day() as u8)?;
            out.write_datetime_with_format(row, col, &excel, &formats.date)?;
        }
        Cell::Flag(value) => {
            out.write_string(row, col, if *value { "是" } else { "否" })?;
        }
    }
    Ok(())
}

/// A list period: `to` not before `from`, at most [`MAX_PERIOD_DAYS`] days.
pub fn check_period(from: NaiveDate, to: NaiveDate) -> Result<(), &'static str> {
    if to < from {
        return Err("结束日期早于开始日期 (to is before from)");
    }
    if (to - from).num_days() + 1 > MAX_PERIOD_DAYS {
        return Err("导出区间最长366天 (at most 366 days)");
    }
    Ok(())
}

/// The first day of every month that [from, to] touches, in order.
pub fn months_between(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut month = from.with_day(1);
    while let Some(first) = month.filter(|m| *m <= to) {
        out.push(first);
        month = first.checked_add_months(chrono::Months::new(1));
    }
    out
}

/// Chinese names of an item's state, channel, urgency and rating, as in the ledger.
pub fn state_zh(state: entity::PetitionState) -> &'static str {
    use entity::PetitionState as S;
    match state {
        S::Submitted => "待登记",
        S::Registered => "已登记",
        S::Forwarded => "已转办",
        S::Accepted => "办理中",
        S::Resolved => "已办结",
        S::Closed => "已关闭",
        S::Declined => "不予受理",
        S::Merged => "已合并",
    }
}

pub fn channel_zh(channel: entity::Channel) -> &'static str {
    use entity::Channel as C;
    match channel {
        C::StationReception => "站点接待",
        C::DeputyVisit => "代表走访",
        C::App => "手机应用",
        C::QrCode => "扫代表二维码",
        C::Wechat => "微信公众号",
    }
}

pub fn urgency_zh(urgency: entity::Urgency) -> &'static str {
    use entity::Urgency as U;
    match urgency {
        U::Normal => "一般",
        U::Urgent => "紧急",
        U::Critical => "特急",
    }
}

pub fn satisfaction_zh(rating: entity::Satisfaction) -> &'static str {
    use entity::Satisfaction as S;
    match rating {
        S::Satisfied => "满意",
        S::BasicallySatisfied => "基本满意",
        S::Unsatisfied => "不满意",
    }
}

pub fn activity_kind_zh(kind: entity::ActivityKind) -> &'static str {
    use entity::ActivityKind as K;
    match kind {
        K::CitizenReception => "接待选民",
        K::StationActivity => "进站活动",
        K::StudyTraining => "学习培训",
        K::HouseholdVisit => "入户走访",
        K::Inspection => "视察",
        K::Research => "调研",
        K::DiaryEntry => "民情日志",
        K::LivelihoodProject => "民生实事",
        K::DutyReport => "述职交流",
    }
}

pub fn adoption_zh(adoption: Option<entity::Adoption>) -> &'static str {
    use entity::Adoption as A;
    match adoption {
        Some(A::Adopted) => "采纳",
        Some(A::PartlyAdopted) => "部分采纳",
        Some(A::NotAdopted) => "未采纳",
        None => "待答复",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn file_names_name_kinds() {
        for kind in Kind::ALL {
            assert_eq!(
                Kind::from_file(&format!("{}.xlsx", kind.file_stem())),
                Some(kind)
            );
        }
        assert_eq!(Kind::from_file("statistics.csv"), None);
        assert_eq!(Kind::from_file("../statistics.xlsx"), None);
    }

    #[test]
    fn periods_are_bounded() {
        assert!(check_period(date(2025, 1, 1), date(2025, 12, 31)).is_ok());
        assert!(check_period(date(2024, 1, 1), date(2024, 12, 31)).is_ok());
        // 366 days (a leap year's worth) pass; 367 do not.
        assert!(check_period(date(2025, 1, 1), date(2026, 1, 1)).is_ok());
        assert!(check_period(date(2025, 1, 1), date(2026, 1, 2)).is_err());
        assert!(check_period(date(2025, 2, 1), date(2025, 1, 31)).is_err());
    }

    #[test]
    fn months_cover_the_period() {
        assert_eq!(
            months_between(date(2025, 11, 15), date(2026, 1, 2)),
            vec![date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1)]
        );
        assert_eq!(months_between(date(2025, 3, 1), date(2025, 3, 1)).len(), 1);
    }

    #[test]
    fn a_workbook_reads_back_with_its_cells() {
        let mut sheet = Sheet::new("台账", &["编号", "日期", "件数", "办结率"]);
        sheet.rows.push(vec![
            Cell::text("HS-1"),
            Cell::Date(date(2025, 3, 4)),
            Cell::Int(7),
            Cell::Rate(0.5),
        ]);
        let bytes = workbook(&[sheet]).expect("workbook");
        let tables = crate::domain::import::read::xlsx("x.xlsx", &bytes).expect("reads back");
        assert_eq!(tables[0].sheet, "台账");
        assert_eq!(tables[0].rows.len(), 1);
    }
}
