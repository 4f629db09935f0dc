//! `smart-npc user create`: the first admin (and any account) from the command line.
use entity::{account, department, deputy, station, township};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::auth::password::PasswordHasher;
use crate::auth::token::TokenKeys;
use crate::auth::{AuthKit, ClientInfo};
use crate::db::write;
use crate::limits::rate_limit::RateLimiter;
use crate::service::accounts::admin::{insert_account, prepare_account, GrantSpec, NewAccount};
use crate::service::support::audit::{self, action, Entry};

/// An account to create from the command line: codes as an operator types them, and
/// the password the command line read (never from its arguments).
pub struct NewUser {
    pub role: entity::Role,
    pub login: String,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    /// Station code (station staff).
    pub station: Option<String>,
    /// Department code (department handlers).
    pub department: Option<String>,
    /// Township code (township-scoped supervisors).
    pub township: Option<String>,
    /// The deputy's public code (deputy accounts).
    pub deputy: Option<String>,
    pub password: String,
}

async fn id_by_code<E: EntityTrait>(
    db: &DatabaseConnection,
    what: &str,
    column: E::Column,
    code: Option<&str>,
    id_of: fn(&E::Model) -> i64,
) -> Result<Option<i64>, String>
where
    E::Column: ColumnTrait,
{
    let Some(code) = code else { return Ok(None) };
    let found = E::find()
        .filter(column.eq(code))
        .one(db)
        .await
        .map_err(|e| format!("database: {e}"))?;
    found
        .map(|m| Some(id_of(&m)))
        .ok_or_else(|| format!("no {what} with code {code:?}"))
}

pub async fn create_user(db: &DatabaseConnection, user: NewUser) -> Result<account::Model, String> {
    let NewUser {
        role,
        login,
        display_name,
        phone,
        station,
        department,
        township,
        deputy,
        password,
    } = user;
    let grant = GrantSpec {
        role,
        station_id: id_by_code::<station::Entity>(
            db,
            "station",
            station::Column::Code,
            station.as_deref(),
            |m| m.id,
        )
        .await?,
        department_id: id_by_code::<department::Entity>(
            db,
            "department",
            department::Column::Code,
            department.as_deref(),
            |m| m.id,
        )
        .await?,
        township_id: id_by_code::<township::Entity>(
            db,
            "township",
            township::Column::Code,
            township.as_deref(),
            |m| m.id,
        )
        .await?,
    };
    let deputy_id =
        id_by_code::<deputy::Entity>(db, "deputy", deputy::Column::Code, deputy.as_deref(), |m| {
            m.id
        })
        .await?;
    let kit = AuthKit {
        hasher: PasswordHasher::new(),
        keys: TokenKeys::random(),
        limiter: RateLimiter::in_process(),
    };
    let input = NewAccount {
        display_name: display_name.unwrap_or_else(|| login.clone()),
        login,
        phone,
        password,
        deputy_id,
        grants: vec![grant],
    };
    let describe = |e: crate::error::AppError| match e {
        crate::error::AppError::BadUserInput { message, field } => {
            format!("{}: {message}", field.unwrap_or_else(|| "input".into()))
        }
        other => format!("{other:?}"),
    };
    let new = &prepare_account(&kit, input).await.map_err(describe)?;
    let cli = &ClientInfo {
        ip: "cli".into(),
        user_agent: None,
    };
    let account = write::transaction(db, |txn| async move {
        let txn = &*txn;
        let account = insert_account(txn, new, None).await?;
        audit::record(
            txn,
            cli,
            Entry {
                account_id: Some(account.id),
                login: Some(&account.login),
                action: action::ACCOUNT_CREATED,
                detail: Some(format!("command line; role {role:?}")),
            },
        )
        .await?;
        Ok(account)
    })
    .await
    .map_err(describe)?;
    Ok(account)
}
