//! Idempotent creation. A creating use case takes an optional [`Claim`] (the actor's
//! scope, the client's key and the hash of the arguments) and runs through [`once`]:
//!
//! - a key already answered for this actor within 24 hours, with the same arguments,
//!   gets that answer again ([`Stored`]) and nothing is created;
//! - the same key with other arguments is `CONFLICT`;
//! - otherwise the use case creates, and [`Claim::record`] writes the key in the
//!   creating transaction, so a crash leaves both or neither;
//! - of concurrent duplicates one commits; the others' insert of the key finds it
//!   (the unique constraint), they roll back and answer with the winner's result.
//!
//! Scope: `account:<id>` for a signed-in actor, `anon:<client address>` for anonymous
//! callers (a stranger can never hit another's key; anonymous intake is rate-limited
//! per address too, and a replay is answered before the limiter counts).
use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use entity::idempotency_key;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::Value;

use crate::domain::idempotency::{request_hash, validate_key, RETENTION_HOURS};
use crate::error::{AppError, AppResult};
use crate::service::Ctx;

/// The key as the client sent it: the `Idempotency-Key` header of an HTTP request
/// (schema data), or an `idempotencyKey` argument.
#[derive(Debug, Clone)]
pub struct HeaderKey(pub String);

/// One creating request under a client's key.
#[derive(Debug, Clone)]
pub struct Claim {
    scope: String,
    key: String,
    operation: &'static str,
    hash: String,
    /// The request's "now" (the app's clock): keys expire against it.
    now: DateTime<Utc>,
}

/// The first answer to a key.
#[derive(Debug, Clone)]
pub struct Stored {
    pub object_id: Option<i64>,
    pub response: Value,
}

/// Picks the key (argument, else header); both given and different is
/// BAD_USER_INPUT. An invalid key is BAD_USER_INPUT.
pub fn choose_key(
    argument: Option<String>,
    header: Option<&HeaderKey>,
) -> AppResult<Option<String>> {
    if let Some(key) = &argument {
        validate_key("idempotencyKey", key)?;
    }
    match (argument, header) {
        (Some(a), Some(h)) if a != h.0 => Err(AppError::bad_input(
            "idempotencyKey",
            "幂等键与请求头 Idempotency-Key 不一致 (idempotencyKey differs from the Idempotency-Key header)",
        )),
        (Some(a), _) => Ok(Some(a)),
        (None, Some(h)) => {
            validate_key("Idempotency-Key", &h.0)?;
            Ok(Some(h.0.clone()))
        }
        (None, None) => Ok(None),
    }
}

impl Claim {
    /// `None` without a key. `arguments` are what the client asked for (the key
    /// itself excluded).
    pub fn new(
        ctx: &Ctx<'_>,
        key: Option<String>,
        operation: &'static str,
        arguments: &Value,
    ) -> AppResult<Option<Claim>> {
        let Some(key) = key else { return Ok(None) };
        validate_key("idempotencyKey", &key)?;
        let scope = match ctx.actor.account_id() {
            Some(id) => format!("account:{id}"),
            None => format!("anon:{}", ctx.client.ip),
        };
        Ok(Some(Claim {
            scope,
            key,
            operation,
            hash: request_hash(operation, arguments),
            now: ctx.now(),
        }))
    }

    /// The live (younger than 24 h) answer to this key, if any; CONFLICT when the key
    /// was used for another request.
    pub async fn stored<C: ConnectionTrait>(&self, db: &C) -> AppResult<Option<Stored>> {
        let row = idempotency_key::Entity::find()
            .filter(idempotency_key::Column::Scope.eq(&self.scope))
            .filter(idempotency_key::Column::IdempotencyKey.eq(&self.key))
            .filter(idempotency_key::Column::CreatedAt.gte(cutoff(self.now)))
            .one(db)
            .await?;
        let Some(row) = row else { return Ok(None) };
        if row.operation != self.operation || row.request_hash != self.hash {
            return Err(AppError::Conflict(format!(
                "该幂等键已用于另一请求 (this idempotency key was already used for a different {} request; use a new key for a new request)",
                row.operation
            )));
        }
        Ok(Some(Stored {
            object_id: row.object_id,
            response: serde_json::from_str(&row.response).unwrap_or(Value::Null),
        }))
    }

    /// Writes the key in the creating transaction. A concurrent duplicate that
    /// committed first makes this a CONFLICT; [`once`] then answers with its result.
    pub async fn record<C: ConnectionTrait>(
        &self,
        txn: &C,
        object_id: Option<i64>,
        response: Value,
    ) -> AppResult<()> {
        // An expired row for this key no longer counts: make room.
        idempotency_key::Entity::delete_many()
            .filter(idempotency_key::Column::Scope.eq(&self.scope))
            .filter(idempotency_key::Column::IdempotencyKey.eq(&self.key))
            .filter(idempotency_key::Column::CreatedAt.lt(cutoff(self.now)))
            .exec(txn)
            .await?;
        let inserted = idempotency_key::Entity::insert(idempotency_key::ActiveModel {
            scope: Set(self.scope.clone()),
            idempotency_key: Set(self.key.clone()),
            operation: Set(self.operation.to_owned()),
            request_hash: Set(self.hash.clone()),
            object_id: Set(object_id),
            response: Set(response.to_string()),
            created_at: Set(self.now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                idempotency_key::Column::Scope,
                idempotency_key::Column::IdempotencyKey,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
        if inserted == 1 {
            Ok(())
        } else {
            Err(AppError::Conflict(
                "同一幂等键的请求正在处理 (a request with this idempotency key got there first)"
                    .into(),
            ))
        }
    }
}

/// Records `claim` (if any) in `txn`: the one line a creating use case adds before
/// it commits.
pub async fn record<C: ConnectionTrait>(
    claim: Option<&Claim>,
    txn: &C,
    object_id: Option<i64>,
    response: Value,
) -> AppResult<()> {
    match claim {
        Some(claim) => claim.record(txn, object_id, response).await,
        None => Ok(()),
    }
}

/// Runs a creating use case under `claim`: a stored answer is replayed (`replay`),
/// else `create` runs; if it fails because a concurrent duplicate committed first,
/// that one's answer is replayed.
pub async fn once<T, C, R, RF>(
    db: &DatabaseConnection,
    claim: Option<&Claim>,
    create: C,
    replay: R,
) -> AppResult<T>
where
    C: Future<Output = AppResult<T>>,
    R: FnOnce(Stored) -> RF,
    RF: Future<Output = AppResult<T>>,
{
    let Some(claim) = claim else {
        return create.await;
    };
    if let Some(stored) = claim.stored(db).await? {
        return replay(stored).await;
    }
    match create.await {
        Ok(done) => Ok(done),
        Err(error) => match claim.stored(db).await {
            Ok(Some(stored)) => replay(stored).await,
            Ok(None) => Err(error),
            Err(conflict) => Err(conflict),
        },
    }
}

/// Forgets keys older than 24 hours at `now`.
pub async fn purge_expired<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> AppResult<u64> {
    Ok(idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(cutoff(now)))
        .exec(db)
        .await?
        .rows_affected)
}

fn cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::hours(RETENTION_HOURS)
}
