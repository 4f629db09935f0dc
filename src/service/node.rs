//! `node(id:)`: fetch any object by global id, with the same visibility rules as the
//! typed queries (all node kinds so far are public reference data).
use std::collections::HashMap;

use sea_orm::ConnectionTrait;

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
}

pub async fn fetch<C: ConnectionTrait>(db: &C, id: NodeId) -> AppResult<Option<NodeModel>> {
    Ok(fetch_many(db, &[id]).await?.pop().flatten())
}

/// One statement per node kind present, results in the order asked.
pub async fn fetch_many<C: ConnectionTrait>(
    db: &C,
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
