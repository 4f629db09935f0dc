//! `smart-npc user create`: the first admin (and any account) from the command line.
use entity::{account, department, deputy, station, township};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::auth::{AuthKit, ClientInfo};
use crate::db::write;
use crate::error::{AppError, AppResult};
use crate::service::accounts::admin::{
    insert_account, prepare_account, GrantSpec, NewAccount, PreparedAccount,
};

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
    let grant = grant_of(db, &user).await?;
    let deputy_id = id_by_code::<deputy::Entity>(
        db,
        "deputy",
        deputy::Column::Code,
        user.deputy.as_deref(),
        |m| m.id,
    )
    .await?;
    // A throwaway kit: the command line only hashes the password, it signs nobody in.
    let kit = AuthKit::offline();
    let role = user.role;
    let input = NewAccount {
        display_name: user.display_name.unwrap_or_else(|| user.login.clone()),
        login: user.login,
        phone: user.phone,
        password: user.password,
        deputy_id,
        grants: vec![grant],
    };
    let new = &prepare_account(&kit, input).await.map_err(describe)?;
    insert_audited(db, new, role).await.map_err(describe)
}

/// The role with the scope its codes name.
async fn grant_of(db: &DatabaseConnection, user: &NewUser) -> Result<GrantSpec, String> {
    Ok(GrantSpec {
        role: user.role,
        station_id: id_by_code::<station::Entity>(
            db,
            "station",
            station::Column::Code,
            user.station.as_deref(),
            |m| m.id,
        )
        .await?,
        department_id: id_by_code::<department::Entity>(
            db,
            "department",
            department::Column::Code,
            user.department.as_deref(),
            |m| m.id,
        )
        .await?,
        township_id: id_by_code::<township::Entity>(
            db,
            "township",
            township::Column::Code,
            user.township.as_deref(),
            |m| m.id,
        )
        .await?,
    })
}

/// One line for the operator: the field and message of a bad input.
fn describe(e: AppError) -> String {
    match e {
        AppError::BadUserInput { message, field } => {
            format!("{}: {message}", field.unwrap_or_else(|| "input".into()))
        }
        other => format!("{other:?}"),
    }
}

async fn insert_audited(
    db: &DatabaseConnection,
    new: &PreparedAccount,
    role: entity::Role,
) -> AppResult<account::Model> {
    let cli = &ClientInfo {
        ip: "cli".into(),
        user_agent: None,
    };
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        let how = format!("command line; role {role:?}");
        insert_account(txn, cli, new, None, how).await
    })
    .await
}
