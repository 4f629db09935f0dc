//! `node(id:)`: fetch any object by global id, with the same visibility rules as the
//! typed queries: organisation data is public; accounts are visible to admins and
//! to their owner only (others get null, as for a missing id).
use std::collections::HashMap;

use sea_orm::ConnectionTrait;

use crate::auth::Actor;
use crate::domain::node_id::{NodeId, NodeKind};
use crate::error::AppResult;
use crate::service::org;

#[derive(Clone)]
pub enum NodeModel {
    Township(entity::township::Model),
    Station(entity::station::Model),
    Grid(entity::grid::Model),
    Deputy(entity::deputy::Model),
    Department(entity::department::Model),
    Account(entity::account::Model),
}

pub async fn fetch<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: NodeId,
) -> AppResult<Option<NodeModel>> {
    Ok(fetch_many(db, actor, &[id]).await?.pop().flatten())
}

/// One statement per node kind present, results in the order asked.
pub async fn fetch_many<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[NodeId],
) -> AppResult<Vec<Option<NodeModel>>> {
    let keys_of = |kind: NodeKind| -> Vec<i64> {
        ids.iter()
            .filter(|i| i.kind == kind)
            .map(|i| i.id)
            .collect()
    };
    let mut found: HashMap<NodeId, NodeModel> = HashMap::new();
    for kind in NodeKind::ALL {
        let keys = keys_of(*kind);
        if keys.is_empty() {
            continue;
        }
        let models: Vec<(i64, NodeModel)> = match kind {
            NodeKind::Township => org::townships_by_ids(db, &keys)
                .await?
                .into_iter()
                .map(|(k, m)| (k, NodeModel::Township(m)))
                .collect(),
            NodeKind::Station => org::stations_by_ids(db, &keys)
                .await?
                .into_iter()
                .map(|(k, m)| (k, NodeModel::Station(m)))
                .collect(),
            NodeKind::Grid => org::grids_by_ids(db, &keys)
                .await?
                .into_iter()
                .map(|(k, m)| (k, NodeModel::Grid(m)))
                .collect(),
            NodeKind::Deputy => org::deputies_by_ids(db, &keys)
                .await?
                .into_iter()
                .map(|(k, m)| (k, NodeModel::Deputy(m)))
                .collect(),
            // Accounts follow the same rule as `accounts`/`me`: admins, or oneself.
            NodeKind::Account => crate::service::accounts::accounts_by_ids(db, &keys)
                .await?
                .into_iter()
                .filter(|(id, _)| actor.is_admin() || actor.account_id() == Some(*id))
                .map(|(k, m)| (k, NodeModel::Account(m)))
                .collect(),
            NodeKind::Department => org::departments_by_ids(db, &keys)
                .await?
                .into_iter()
                .map(|(k, m)| (k, NodeModel::Department(m)))
                .collect(),
        };
        found.extend(models.into_iter().map(|(k, m)| (NodeId::new(*kind, k), m)));
    }
    Ok(ids.iter().map(|id| found.get(id).cloned()).collect())
}
