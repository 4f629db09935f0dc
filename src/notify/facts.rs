//! What the notifier loads about an item before `domain::notice::notices` decides who
//! is told: its names, the follower whose message it became, and the accounts that
//! may see it (station staff, handlers of its departments, supervisors, the deputy).
use entity::{
    account, account_role, category, department, petition, petition_department, station,
    wechat_delivery, wechat_follower, Role,
};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::domain::notice::{Follower, ItemFacts, Part};
use crate::error::AppResult;

/// The facts of item `petition_id`, or `None` when it no longer exists.
pub async fn load<C: ConnectionTrait>(db: &C, petition_id: i64) -> AppResult<Option<ItemFacts>> {
    let Some(item) = petition::Entity::find_by_id(petition_id).one(db).await? else {
        return Ok(None);
    };
    let station_name = match item.station_id {
        Some(id) => station::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|s| s.name),
        None => None,
    };
    let category_name = match item.category_id {
        Some(id) => category::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|c| c.name),
        None => None,
    };
    let parts = parts_of(db, item.id).await?;
    let handlers: Vec<i64> = parts
        .iter()
        .flat_map(|p| p.handlers.iter().copied())
        .collect();
    let deputy_account = match item.deputy_id {
        Some(deputy) => accounts_of_deputy(db, deputy).await?,
        None => None,
    };
    Ok(Some(ItemFacts {
        tracking_code: item.tracking_code.clone(),
        title: item.title.clone(),
        station_name,
        category_name,
        result: item.result.clone(),
        decline_reason: item.decline_reason.clone(),
        submitter_account: item.submitter_account_id,
        follower: follower_of(db, item.id).await?,
        deputy_account,
        station_staff: match item.station_id {
            Some(s) => {
                holders(
                    db,
                    Role::StationStaff,
                    account_role::Column::StationId.eq(s),
                )
                .await?
            }
            None => Vec::new(),
        },
        phones: phones_of(db, &handlers).await?,
        parts,
        supervisors: holders(
            db,
            Role::Supervisor,
            Condition::any()
                .add(account_role::Column::TownshipId.is_null())
                .add(account_role::Column::TownshipId.eq(item.township_id)),
        )
        .await?,
        sms_phone: item
            .sms_consent
            .then(|| item.submitter_phone.clone())
            .flatten(),
    }))
}

/// The phones of the accounts `ids` that have one.
pub async fn phones_of<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<std::collections::BTreeMap<i64, String>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(i64, Option<String>)> = account::Entity::find()
        .select_only()
        .column(account::Column::Id)
        .column(account::Column::Phone)
        .filter(account::Column::Id.is_in(ids.iter().copied()))
        .filter(account::Column::Disabled.eq(false))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, phone)| Some((id, phone?)))
        .collect())
}

async fn accounts_of_deputy<C: ConnectionTrait>(db: &C, deputy_id: i64) -> AppResult<Option<i64>> {
    Ok(account::Entity::find()
        .select_only()
        .column(account::Column::Id)
        .filter(account::Column::DeputyId.eq(deputy_id))
        .into_tuple::<i64>()
        .one(db)
        .await?)
}

/// The follower whose message became the item.
async fn follower_of<C: ConnectionTrait>(db: &C, petition_id: i64) -> AppResult<Option<Follower>> {
    let Some(delivery) = wechat_delivery::Entity::find()
        .filter(wechat_delivery::Column::PetitionId.eq(petition_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let follower = wechat_follower::Entity::find()
        .filter(wechat_follower::Column::OpenId.eq(&delivery.open_id))
        .one(db)
        .await?;
    Ok(Some(Follower {
        subscribed: follower.as_ref().is_none_or(|f| f.subscribed),
        notices_off: follower.as_ref().is_some_and(|f| f.notices_off),
        open_id: delivery.open_id,
    }))
}

/// The accounts granted `role` where `scope` holds, without duplicates.
async fn holders<C: ConnectionTrait>(
    db: &C,
    role: Role,
    scope: impl sea_orm::sea_query::IntoCondition,
) -> AppResult<Vec<i64>> {
    let mut ids: Vec<i64> = account_role::Entity::find()
        .select_only()
        .column(account_role::Column::AccountId)
        .filter(account_role::Column::Role.eq(role))
        .filter(scope)
        .into_tuple()
        .all(db)
        .await?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

async fn parts_of<C: ConnectionTrait>(db: &C, petition_id: i64) -> AppResult<Vec<Part>> {
    let rows = petition_department::Entity::find()
        .filter(petition_department::Column::PetitionId.eq(petition_id))
        .find_also_related(department::Entity)
        .all(db)
        .await?;
    let mut parts = Vec::with_capacity(rows.len());
    for (part, dept) in rows {
        let handlers = holders(
            db,
            Role::DepartmentHandler,
            account_role::Column::DepartmentId.eq(part.department_id),
        )
        .await?;
        parts.push(Part {
            department_id: part.department_id,
            department_name: dept.map(|d| d.name).unwrap_or_default(),
            role: part.role,
            status: part.status,
            handlers,
        });
    }
    Ok(parts)
}
