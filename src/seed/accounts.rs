//! One demo account per role. Their password is `SMART_NPC_DEMO_PASSWORD` (default in
//! the README) — for the demo only.
use chrono::Utc;
use entity::{account, account_role, department, deputy_station, station, Role};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::insert_all;
use crate::auth::password::PasswordHasher;
use crate::error::{AppError, AppResult};

pub struct DemoAccount {
    pub login: &'static str,
    pub display_name: &'static str,
    pub phone: Option<&'static str>,
    pub role: Role,
}

pub const DEMO_ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        login: "admin",
        display_name: "平台管理员",
        phone: None,
        role: Role::Admin,
    },
    DemoAccount {
        login: "supervisor",
        display_name: "县人大常委会督办员",
        phone: None,
        role: Role::Supervisor,
    },
    DemoAccount {
        login: "staff",
        display_name: "滨河社区联络站联络员",
        phone: None,
        role: Role::StationStaff,
    },
    DemoAccount {
        login: "handler",
        display_name: "县交通运输局承办人",
        phone: None,
        role: Role::DepartmentHandler,
    },
    DemoAccount {
        login: "deputy",
        display_name: "滨河社区驻站代表",
        phone: None,
        role: Role::Deputy,
    },
    DemoAccount {
        login: "citizen",
        display_name: "王女士",
        phone: Some("13900000001"),
        role: Role::Citizen,
    },
];

pub async fn seed<C: ConnectionTrait>(db: &C, password: &str) -> AppResult<usize> {
    let missing = |what: &str| AppError::internal(format!("demo seed: {what} missing"));
    let binhe = station::Entity::find()
        .filter(station::Column::Code.eq("binhe"))
        .one(db)
        .await?
        .ok_or_else(|| missing("滨河 station"))?;
    let transport = department::Entity::find()
        .filter(department::Column::Code.eq("jiaotong"))
        .one(db)
        .await?
        .ok_or_else(|| missing("transport bureau"))?;
    let binhe_deputy = deputy_station::Entity::find()
        .filter(deputy_station::Column::StationId.eq(binhe.id))
        .order_by_asc(deputy_station::Column::DeputyId)
        .one(db)
        .await?
        .ok_or_else(|| missing("滨河 resident deputy"))?;

    let hasher = PasswordHasher::new();
    let now = Utc::now();
    let mut accounts = Vec::new();
    let mut roles = Vec::new();
    for (i, demo) in DEMO_ACCOUNTS.iter().enumerate() {
        let id = i as i64 + 1;
        accounts.push(account::ActiveModel {
            id: Set(id),
            login: Set(demo.login.into()),
            phone: Set(demo.phone.map(Into::into)),
            display_name: Set(demo.display_name.into()),
            password_hash: Set(hasher.hash(password).await?),
            deputy_id: Set((demo.role == Role::Deputy).then_some(binhe_deputy.deputy_id)),
            disabled: Set(false),
            created_at: Set(now),
            password_changed_at: Set(now),
        });
        let (station_id, department_id, scope_key) = match demo.role {
            Role::StationStaff => (Some(binhe.id), None, format!("station:{}", binhe.id)),
            Role::DepartmentHandler => (
                None,
                Some(transport.id),
                format!("department:{}", transport.id),
            ),
            _ => (None, None, "*".to_owned()),
        };
        roles.push(account_role::ActiveModel {
            id: Set(id),
            account_id: Set(id),
            role: Set(demo.role),
            station_id: Set(station_id),
            department_id: Set(department_id),
            township_id: Set(None),
            scope_key: Set(scope_key),
            granted_at: Set(now),
            granted_by: Set(None),
        });
    }
    let count = accounts.len();
    insert_all(db, accounts).await?;
    insert_all(db, roles).await?;
    Ok(count)
}
