//! The import templates (`/import/templates/*.xlsx`): a workbook with one sheet per
//! kind, its header row in Chinese and English (`编码 code`), frozen, required columns
//! in bold, each column as wide as its header. Written with `rust_xlsxwriter`.
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::Kind;

/// The workbook of `kinds`' sheets, as bytes.
pub fn workbook(kinds: &[Kind]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let required = Format::new().set_bold();
    let optional = Format::new();
    for kind in kinds {
        let sheet = book.add_worksheet();
        sheet.set_name(kind.names().1)?;
        for (index, column) in kind.columns().iter().enumerate() {
            let header = Kind::header(column);
            let format = if column.required {
                &required
            } else {
                &optional
            };
            let column_index = index as u16;
            sheet.write_string_with_format(0, column_index, &header, format)?;
            // Chinese characters take about two widths of a Latin one.
            let width = column.zh.chars().count() * 2 + column.key.len() + 4;
            sheet.set_column_width(column_index, width as f64)?;
        }
        sheet.set_freeze_panes(1, 0)?;
    }
    book.save_to_buffer()
}

/// The kinds a template file name asks for: `all.xlsx` or `<kind>.xlsx`.
pub fn kinds_for(file: &str) -> Option<Vec<Kind>> {
    let stem = file.strip_suffix(".xlsx")?;
    if stem == "all" {
        return Some(Kind::ALL.to_vec());
    }
    Kind::ALL
        .into_iter()
        .find(|kind| kind.names().0 == stem)
        .map(|kind| vec![kind])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::import::read;

    #[test]
    fn a_template_reads_back_as_empty_sheets_with_known_headers() {
        let bytes = workbook(&Kind::ALL).expect("workbook");
        let tables = read::xlsx("all.xlsx", &bytes).expect("reads back");
        assert_eq!(tables.len(), Kind::ALL.len());
        for (kind, table) in Kind::ALL.iter().zip(&tables) {
            assert_eq!(Kind::from_name(&table.sheet), Some(*kind));
            assert!(table.rows.is_empty());
            let positions = crate::domain::import::map_headers(*kind, table).expect("known");
            assert!(positions.iter().all(Option::is_some), "{kind:?}");
        }
    }

    #[test]
    fn file_names_name_kinds() {
        assert_eq!(kinds_for("stations.xlsx"), Some(vec![Kind::Stations]));
        assert_eq!(kinds_for("all.xlsx").map(|k| k.len()), Some(13));
        assert_eq!(kinds_for("stations.csv"), None);
        assert_eq!(kinds_for("站点.xlsx"), None);
    }
}
