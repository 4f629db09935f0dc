//! `smart-npc import`: a county's organisation from CSV and XLSX files. The files are
//! read and parsed at the edge (`domain::import`), checked as a whole against what is
//! stored (every problem listed, nothing written if there is one), and the plan's rows
//! written in one transaction. New accounts get no password: each gets a one-time
//! set-password code ([`crate::service::accounts::setup`]), returned once.
//!
//! The plan is made from what is stored before the transaction; the transaction reads
//! the ids again, so a row another writer added meanwhile is updated, not duplicated.
mod apply;
pub mod current;

use crate::auth::{AuthKit, ClientInfo, Principal};
use crate::db::write;
use crate::domain::import::plan::{self, Plan};
use crate::domain::import::read::{self, File};
use crate::domain::import::rows::{self, Dataset};
use crate::domain::import::RowError;
use crate::domain::setup_code;
use crate::error::AppResult;
use crate::service::accounts::setup::IssuedCode;

/// What an import did (or, with `dry_run`, would do).
#[derive(Debug)]
pub struct Outcome {
    pub plan: Plan,
    /// The one-time codes of the accounts created: shown once, never again.
    pub codes: Vec<IssuedCode>,
    pub written: bool,
}

/// Imports `files`: `Ok(Err(problems))` when any row fails (nothing written).
/// `by` is the admin who uploaded them (`None` from the command line): the audit
/// entries of what the import writes name them.
pub async fn import(
    db: &sea_orm::DatabaseConnection,
    kit: &AuthKit,
    client: &ClientInfo,
    by: Option<&Principal>,
    files: &[File],
    dry_run: bool,
) -> AppResult<Result<Outcome, Vec<RowError>>> {
    let plan = match check(db, files).await? {
        Ok(plan) => plan,
        Err(problems) => return Ok(Err(problems)),
    };
    if dry_run || plan.changes.is_empty() {
        let codes = Vec::new();
        return Ok(Ok(Outcome {
            plan,
            codes,
            written: false,
        }));
    }
    // Hashed once, of a secret nobody is told: no password opens a new account.
    let locked_hash = &kit.hasher.hash(&setup_code::generate()).await?;
    let (writes, now) = (&plan.writes, kit.clock.now());
    let changes = plan.changes.len();
    let codes = write::transaction(db, |txn| async move {
        let (_, ids) = current::load(&*txn).await?;
        let db = &*txn;
        let mut writer = apply::Writer {
            db,
            ids,
            now,
            client,
            by,
            locked_hash,
        };
        writer.write(writes, changes).await
    })
    .await?;
    Ok(Ok(Outcome {
        plan,
        codes,
        written: true,
    }))
}

/// Who may import through the API: admins. Checked before the upload is read.
pub fn may_import(ctx: &crate::service::Ctx<'_>) -> AppResult<()> {
    ctx.actor.require(ctx.actor.is_admin())
}

/// `importOrganisation`: an admin's uploaded file, imported as the command line
/// imports it (the same checks, the same single transaction, the same report), the
/// audit naming the admin.
pub async fn import_upload(
    ctx: &crate::service::Ctx<'_>,
    file: File,
    dry_run: bool,
) -> AppResult<Result<Outcome, Vec<RowError>>> {
    may_import(ctx)?;
    let by = ctx.actor.principal();
    import(ctx.db, ctx.auth, ctx.client, by, &[file], dry_run).await
}

/// Reads, parses and plans the files against what is stored.
async fn check(
    db: &sea_orm::DatabaseConnection,
    files: &[File],
) -> AppResult<Result<Plan, Vec<RowError>>> {
    let parsed = read::tables(files).and_then(|tables| rows::parse(&tables));
    let data = match parsed.and_then(group) {
        Ok(data) => data,
        Err(problems) => return Ok(Err(problems)),
    };
    let (current, _) = current::load(db).await?;
    Ok(plan::plan(&data, &current))
}

fn group(mut data: Dataset) -> Result<Dataset, Vec<RowError>> {
    data.accounts = rows::group_accounts(std::mem::take(&mut data.accounts))?;
    Ok(data)
}
