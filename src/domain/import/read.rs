//! From a file's bytes to [`Table`]s: CSV (UTF-8, with or without BOM; the `csv`
//! crate) is one table, named by its file; an XLSX workbook (`calamine`) is one table
//! per sheet, named by the sheet (a workbook with one sheet may be named by its file).
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use super::{Kind, RowError, Table};

/// A file as handed in: its name (for its kind and for errors) and bytes.
pub struct File {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The tables of every file with their kinds, or every file-level problem.
pub fn tables(files: &[File]) -> Result<Vec<(Kind, Table)>, Vec<RowError>> {
    let mut tables = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match file_tables(file) {
            Ok(found) => tables.extend(found),
            Err(error) => errors.push(error),
        }
    }
    // Rows are written kind by kind (what a row names first), whatever the file order.
    tables.sort_by_key(|(kind, _)| *kind);
    if errors.is_empty() {
        Ok(tables)
    } else {
        Err(errors)
    }
}

fn file_error(name: &str, reason: impl Into<String>) -> RowError {
    RowError::new(name, 0, "", reason)
}

fn stem(name: &str) -> &str {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.rsplit_once('.').map_or(base, |(stem, _)| stem)
}

fn file_tables(file: &File) -> Result<Vec<(Kind, Table)>, RowError> {
    let lower = file.name.to_lowercase();
    let unknown = || {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.names().1).collect();
        file_error(
            &file.name,
            format!(
                "无法识别数据类型，文件名或工作表名须为{}之一",
                names.join("、")
            ),
        )
    };
    if lower.ends_with(".csv") {
        let kind = Kind::from_name(stem(&file.name)).ok_or_else(unknown)?;
        return Ok(vec![(kind, csv(&file.name, &file.bytes)?)]);
    }
    if !lower.ends_with(".xlsx") {
        return Err(file_error(&file.name, "只接受 .csv 或 .xlsx 文件"));
    }
    let sheets = xlsx(&file.name, &file.bytes)?;
    let single = sheets.len() == 1;
    let mut tables = Vec::new();
    for table in sheets {
        let kind = Kind::from_name(&table.sheet)
            .or_else(|| single.then(|| Kind::from_name(stem(&file.name))).flatten())
            .ok_or_else(|| file_error(&table.sheet, "未知的工作表"))?;
        tables.push((kind, table));
    }
    Ok(tables)
}

/// One CSV file: the first record is the header.
pub fn csv(name: &str, bytes: &[u8]) -> Result<Table, RowError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut table = Table {
        sheet: stem(name).to_owned(),
        ..Table::default()
    };
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| match e.kind() {
            ::csv::ErrorKind::Utf8 { .. } => file_error(name, "文件须为 UTF-8 编码"),
            _ => file_error(name, format!("CSV 格式错误: {e}")),
        })?;
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_owned()).collect();
        if index == 0 {
            table.headers = cells;
        } else {
            table.rows.push((index + 1, cells));
        }
    }
    Ok(table)
}

/// Every sheet of a workbook, in order.
pub fn xlsx(name: &str, bytes: &[u8]) -> Result<Vec<Table>, RowError> {
    let mut workbook = Xlsx::new(Cursor::new(bytes))
        .map_err(|_| file_error(name, "无法读取 .xlsx 文件（文件损坏或不是 Excel 工作簿）"))?;
    let mut tables = Vec::new();
    for sheet in workbook.sheet_names() {
        let range = workbook
            .worksheet_range(&sheet)
            .map_err(|_| file_error(&sheet, "无法读取工作表"))?;
        let first_row = range.start().map_or(0, |(row, _)| row as usize);
        let first_column = range.start().map_or(0, |(_, column)| column as usize);
        let mut table = Table {
            sheet: sheet.clone(),
            ..Table::default()
        };
        for (index, row) in range.rows().enumerate() {
            // A sheet that starts at column C still has its header in column A's place.
            let mut cells = vec![String::new(); first_column];
            cells.extend(row.iter().map(cell_text));
            let number = first_row + index + 1;
            if number == 1 {
                table.headers = cells;
            } else if table.headers.is_empty() {
                return Err(file_error(&sheet, "第1行须为表头"));
            } else {
                table.rows.push((number, cells));
            }
        }
        tables.push(table);
    }
    Ok(tables)
}

/// A cell as text: whole numbers without `.0` (codes and phones typed as numbers),
/// dates as `YYYY-MM-DD`.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|d| d.date().format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_owned(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_and_numbers() {
        let table = csv(
            "data/站点.csv",
            "\u{feff}编码,名称\nbinhe,滨河\n".as_bytes(),
        )
        .expect("csv");
        assert_eq!(table.sheet, "站点");
        assert_eq!(table.headers, vec!["编码", "名称"]);
        assert_eq!(table.rows, vec![(2, vec!["binhe".into(), "滨河".into()])]);
    }

    #[test]
    fn only_utf8_csv() {
        let error = csv("站点.csv", b"\xd5\xbe\xb5\xe3,x\n").expect_err("GBK");
        assert_eq!(error.reason, "文件须为 UTF-8 编码");
    }

    #[test]
    fn a_file_of_unknown_kind_or_format_is_named() {
        let files = [
            File {
                name: "notes.csv".into(),
                bytes: b"a\n".to_vec(),
            },
            File {
                name: "站点.xls".into(),
                bytes: vec![],
            },
            File {
                name: "乡镇.xlsx".into(),
                bytes: b"not a zip".to_vec(),
            },
        ];
        let errors = tables(&files).expect_err("bad files");
        assert_eq!(errors.len(), 3);
        assert!(errors[0].reason.starts_with("无法识别数据类型"));
        assert_eq!(errors[1].reason, "只接受 .csv 或 .xlsx 文件");
        assert!(errors[2].reason.starts_with("无法读取 .xlsx"));
    }
}
