//! `importOrganisation`'s report: what the command line prints, as data.
use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, Utc};

use crate::domain::import::plan::{Action, Change};
use crate::domain::import::RowError;
use crate::service::accounts::setup::IssuedCode;
use crate::service::import::Outcome;

/// What an import did, would do (`dryRun`), or why it wrote nothing (`errors`).
#[derive(SimpleObject)]
pub struct ImportReport {
    /// No row failed. When false, nothing was written and `errors` lists every problem.
    pub ok: bool,
    /// Whether anything was stored (false for a dry run, a failing file, or a file
    /// that changes nothing).
    pub written: bool,
    pub errors: Vec<ImportError>,
    /// The rows that create or change something, in file order.
    pub changes: Vec<ImportChange>,
    /// Rows equal to what is stored.
    pub unchanged: u32,
    /// One-time set-password codes of the accounts created: shown once, never again.
    pub setup_codes: Vec<SetupCode>,
}

/// One problem, where it is: 表 / 行 / 列 / 原因.
#[derive(SimpleObject)]
pub struct ImportError {
    pub sheet: String,
    /// The row as a spreadsheet numbers it (the header is row 1); 0 for the file.
    pub row: u32,
    pub column: String,
    /// In Chinese.
    pub reason: String,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ImportAction {
    Create,
    Update,
}

#[derive(SimpleObject)]
pub struct ImportChange {
    /// The sheet's English name (`stations`, `deputies`, ...).
    pub kind: String,
    /// Its Chinese name (站点, 代表, ...).
    pub sheet: String,
    /// The row's natural key (a code, a phone number, a login).
    pub key: String,
    pub action: ImportAction,
    /// For an update: the Chinese headers of the columns that change.
    pub columns: Vec<String>,
}

#[derive(SimpleObject)]
pub struct SetupCode {
    pub login: String,
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

impl ImportReport {
    pub fn new(result: Result<Outcome, Vec<RowError>>) -> Self {
        match result {
            Err(problems) => ImportReport {
                ok: false,
                written: false,
                errors: problems.into_iter().map(error).collect(),
                changes: Vec::new(),
                unchanged: 0,
                setup_codes: Vec::new(),
            },
            Ok(outcome) => ImportReport {
                ok: true,
                written: outcome.written,
                errors: Vec::new(),
                changes: outcome.plan.changes.iter().map(change).collect(),
                unchanged: outcome.plan.unchanged as u32,
                setup_codes: outcome.codes.into_iter().map(code).collect(),
            },
        }
    }
}

fn error(problem: RowError) -> ImportError {
    ImportError {
        sheet: problem.sheet,
        row: problem.row as u32,
        column: problem.column,
        reason: problem.reason,
    }
}

fn change(change: &Change) -> ImportChange {
    let (kind, sheet) = change.kind.names();
    let (action, columns) = match &change.action {
        Action::Create => (ImportAction::Create, Vec::new()),
        Action::Update(columns) => (
            ImportAction::Update,
            columns.iter().map(|c| (*c).to_owned()).collect(),
        ),
    };
    ImportChange {
        kind: kind.to_owned(),
        sheet: sheet.to_owned(),
        key: change.key.clone(),
        action,
        columns,
    }
}

fn code(issued: IssuedCode) -> SetupCode {
    SetupCode {
        login: issued.login,
        code: issued.code,
        expires_at: issued.expires_at,
    }
}
