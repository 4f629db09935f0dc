//! Deputies' suggestions (意见建议) to departments and the departments' answers.
use chrono::{DateTime, Utc};
use entity::{account, department, station, suggestion, Adoption, SuggestionStatus};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QuerySelect, Set,
};
use serde_json::json;

use crate::auth::Actor;
use crate::db::paging::fetch_page;
use crate::db::write;
use crate::domain::event::{DomainEvent, SuggestionChange};
use crate::domain::page::{Page, PageRequest};
use crate::error::{AppError, AppResult};
use crate::events::outbox;
use crate::service::statistics::rollup;
use crate::service::support::idempotency::{self, Claim};
use crate::service::support::scope::out_of_reach;
use crate::service::{org, Ctx};

/// A deputy's suggestion; with an idempotency key a retry within 24 hours answers
/// the first suggestion and creates nothing.
pub async fn submit(
    ctx: &Ctx<'_>,
    title: &str,
    content: &str,
    department_id: i64,
    station_id: Option<i64>,
    idempotency_key: Option<String>,
) -> AppResult<suggestion::Model> {
    let db = ctx.db;
    let arguments = json!({
        "title": title,
        "content": content,
        "departmentId": department_id,
        "stationId": station_id,
    });
    let claim = Claim::new(ctx, idempotency_key, "submitSuggestion", &arguments)?;
    idempotency::once(
        db,
        claim.as_ref(),
        submit_new(
            ctx,
            Draft {
                title,
                content,
                department_id,
                station_id,
            },
            claim.as_ref(),
        ),
        |stored| async move {
            suggestion::Entity::find_by_id(stored.object_id.unwrap_or_default())
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found("建议 (suggestion)"))
        },
    )
    .await
}

/// What a deputy submits.
struct Draft<'a> {
    title: &'a str,
    content: &'a str,
    department_id: i64,
    station_id: Option<i64>,
}

async fn submit_new(
    ctx: &Ctx<'_>,
    draft: Draft<'_>,
    claim: Option<&Claim>,
) -> AppResult<suggestion::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    let Some(deputy_id) = actor.deputy_id() else {
        return Err(actor
            .require(false)
            .err()
            .unwrap_or_else(AppError::forbidden));
    };
    let (title, content) = validate_text(draft.title, draft.content)?;
    let department_id = draft.department_id;
    department::Entity::find_by_id(department_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input("departmentId", "部门不存在 (no such department)"))?;
    let township_id = match draft.station_id {
        Some(s) => Some(township_served_at(db, deputy_id, s).await?),
        None => None,
    };
    let row = suggestion::ActiveModel {
        deputy_id: Set(deputy_id),
        department_id: Set(Some(department_id)),
        station_id: Set(draft.station_id),
        title: Set(title.to_owned()),
        content: Set(content.to_owned()),
        status: Set(SuggestionStatus::Submitted),
        submitted_at: Set(ctx.now()),
        ..Default::default()
    };
    let row = &row;
    write::transaction(db, |txn| async move {
        let txn = &*txn;
        let row = row.clone().insert(txn).await?;
        rollup::suggestion_changed(txn, None, &row).await?;
        let event = DomainEvent::suggestion(
            SuggestionChange::Made,
            &row,
            township_id,
            actor.account_id(),
        );
        outbox::append(txn, &event).await?;
        idempotency::record(claim, txn, Some(row.id), json!({})).await?;
        Ok(row)
    })
    .await
}

fn validate_text<'a>(title: &'a str, content: &'a str) -> AppResult<(&'a str, &'a str)> {
    let title = title.trim();
    if !(2..=200).contains(&title.chars().count()) {
        return Err(AppError::bad_input(
            "title",
            "标题须为2-200个字符 (2 to 200 characters)",
        ));
    }
    let content = content.trim();
    if !(10..=10_000).contains(&content.chars().count()) {
        return Err(AppError::bad_input(
            "content",
            "内容须为10-10000个字符 (10 to 10000 characters)",
        ));
    }
    Ok((title, content))
}

/// The township of the station a suggestion is made through: one the deputy serves
/// at; any other answers as a missing one.
async fn township_served_at(
    db: &DatabaseConnection,
    deputy_id: i64,
    station_id: i64,
) -> AppResult<i64> {
    let station = if org::is_resident(db, deputy_id, station_id).await? {
        station::Entity::find_by_id(station_id).one(db).await?
    } else {
        None
    };
    Ok(station
        .ok_or_else(|| out_of_reach("stationId", "站点", "station"))?
        .township_id)
}

/// Who sees a suggestion: the deputy who made it, the department it went to, county
/// supervisors and admins.
pub fn may_see(actor: &Actor, suggestion: &suggestion::Model) -> bool {
    actor.is_admin()
        || actor.is_county_supervisor()
        || actor.deputy_id() == Some(suggestion.deputy_id)
        || suggestion
            .department_id
            .is_some_and(|d| actor.handles_department(d))
}

/// The department answers: adopted, partly adopted or not adopted, with a text.
pub async fn answer(
    ctx: &Ctx<'_>,
    id: i64,
    adoption: Adoption,
    answer: &str,
) -> AppResult<suggestion::Model> {
    let (db, actor) = (ctx.db, ctx.actor);
    actor.require_signed_in()?;
    let now = ctx.now();
    write::transaction(db, |txn| async move {
        answer_in(&txn, actor, id, adoption, answer, now).await
    })
    .await
}

async fn answer_in(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: i64,
    adoption: Adoption,
    answer: &str,
    now: DateTime<Utc>,
) -> AppResult<suggestion::Model> {
    // One the actor may not see answers as a missing one. Two handlers answering at
    // once take turns on the row lock: the second finds it answered.
    let existing = suggestion::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .filter(|s| may_see(actor, s))
        .ok_or_else(|| AppError::not_found("意见建议 (suggestion)"))?;
    actor.require(
        existing
            .department_id
            .is_some_and(|d| actor.handles_department(d)),
    )?;
    let answer = answer.trim();
    if !(2..=10_000).contains(&answer.chars().count()) {
        return Err(AppError::bad_input(
            "answer",
            "答复须为2-10000个字符 (2 to 10000 characters)",
        ));
    }
    if existing.status == SuggestionStatus::Answered {
        return Err(already_answered());
    }
    let row = write_answer(txn, existing.id, adoption, answer, now).await?;
    rollup::suggestion_changed(txn, Some(&existing), &row).await?;
    emit_answered(txn, &row).await?;
    Ok(row)
}

fn already_answered() -> AppError {
    AppError::InvalidTransition("该建议已答复 (already answered)".into())
}

/// Records the answer, unless another got there first; the suggestion as answered.
async fn write_answer(
    txn: &DatabaseTransaction,
    id: i64,
    adoption: Adoption,
    answer: &str,
    now: DateTime<Utc>,
) -> AppResult<suggestion::Model> {
    let written = suggestion::Entity::update_many()
        .col_expr(
            suggestion::Column::Status,
            Expr::value(SuggestionStatus::Answered),
        )
        .col_expr(suggestion::Column::Adoption, Expr::value(Some(adoption)))
        .col_expr(suggestion::Column::Answer, Expr::value(answer.to_owned()))
        .col_expr(suggestion::Column::AnsweredAt, Expr::value(now))
        .filter(suggestion::Column::Id.eq(id))
        .filter(suggestion::Column::Status.ne(SuggestionStatus::Answered))
        .exec(txn)
        .await?
        .rows_affected;
    if written != 1 {
        return Err(already_answered());
    }
    suggestion::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::internal("suggestion vanished while answered"))
}

/// The Answered event, scoped to the station's township and the deputy's account.
async fn emit_answered(txn: &DatabaseTransaction, row: &suggestion::Model) -> AppResult<()> {
    let township_id = match row.station_id {
        Some(s) => station::Entity::find_by_id(s)
            .one(txn)
            .await?
            .map(|s| s.township_id),
        None => None,
    };
    let deputy_account_id = account::Entity::find()
        .filter(account::Column::DeputyId.eq(row.deputy_id))
        .one(txn)
        .await?
        .map(|a| a.id);
    let event = DomainEvent::suggestion(
        SuggestionChange::Answered,
        row,
        township_id,
        deputy_account_id,
    );
    outbox::append(txn, &event).await?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
pub enum SuggestionScope {
    /// The signed-in deputy's own record.
    Mine,
    Department(i64),
    /// Supervisors and admins: all.
    All,
}

pub async fn list(
    ctx: &Ctx<'_>,
    scope: SuggestionScope,
    page: &PageRequest,
) -> AppResult<Page<suggestion::Model>> {
    let (db, actor) = (ctx.db, ctx.actor);
    let query = match scope {
        SuggestionScope::Mine => {
            let deputy = actor.deputy_id();
            actor.require(deputy.is_some())?;
            suggestion::Entity::find().filter(suggestion::Column::DeputyId.eq(deputy))
        }
        SuggestionScope::Department(d) => {
            actor.require(
                actor.handles_department(d) || actor.is_admin() || actor.is_county_supervisor(),
            )?;
            suggestion::Entity::find().filter(suggestion::Column::DepartmentId.eq(d))
        }
        SuggestionScope::All => {
            actor.require(actor.is_admin() || actor.is_county_supervisor())?;
            suggestion::Entity::find()
        }
    };
    fetch_page(db, query, suggestion::Column::Id, |m| m.id, page).await
}
