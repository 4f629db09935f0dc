//! `node(id:)`: fetch any object by global id, with the same visibility rules as the
//! typed queries: organisation data is public; accounts are visible to admins and
//! to their owner only (others get null, as for a missing id).
use std::collections::HashMap;

use sea_orm::ConnectionTrait;

use crate::auth::Actor;
use crate::domain::node_id::{NodeId, NodeKind};
use crate::error::AppResult;
use crate::service::org;
use crate::service::Ctx;

// Short-lived values handed straight to the GraphQL layer.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum NodeModel {
    Township(entity::township::Model),
    Station(entity::station::Model),
    Grid(entity::grid::Model),
    Deputy(entity::deputy::Model),
    Department(entity::department::Model),
    Account(entity::account::Model),
    Pairing(entity::pairing::Model),
    Activity(entity::activity::Model),
    Campaign(entity::campaign::Model),
    Story(entity::story::Model),
    /// With whether the viewer may see the submitter's personal data.
    Petition(entity::petition::Model, bool),
    Suggestion(entity::suggestion::Model),
    Category(entity::category::Model),
    Notification(entity::notification_delivery::Model),
    NotificationDelivery(entity::notification_delivery::Model),
}

pub async fn fetch(ctx: &Ctx<'_>, id: NodeId) -> AppResult<Option<NodeModel>> {
    Ok(fetch_many(ctx, &[id]).await?.pop().flatten())
}

fn wrap<M>(rows: HashMap<i64, M>, f: fn(M) -> NodeModel) -> Vec<(i64, NodeModel)> {
    rows.into_iter().map(|(k, m)| (k, f(m))).collect()
}

/// One statement per node kind present (plus visibility checks), results in the
/// order asked.
pub async fn fetch_many(ctx: &Ctx<'_>, ids: &[NodeId]) -> AppResult<Vec<Option<NodeModel>>> {
    let mut found: HashMap<NodeId, NodeModel> = HashMap::new();
    for kind in NodeKind::ALL {
        let keys: Vec<i64> = ids
            .iter()
            .filter(|i| i.kind == *kind)
            .map(|i| i.id)
            .collect();
        if keys.is_empty() {
            continue;
        }
        let models = match public_of_kind(ctx.db, *kind, &keys).await? {
            Some(models) => models,
            None => restricted_of_kind(ctx.db, ctx.actor, *kind, &keys).await?,
        };
        found.extend(models.into_iter().map(|(k, m)| (NodeId::new(*kind, k), m)));
    }
    Ok(ids.iter().map(|id| found.get(id).cloned()).collect())
}

/// Nodes of a kind everyone may see (organisation data, duties); `None` for the
/// kinds with visibility rules.
async fn public_of_kind<C: ConnectionTrait>(
    db: &C,
    kind: NodeKind,
    keys: &[i64],
) -> AppResult<Option<Vec<(i64, NodeModel)>>> {
    use entity::{activity, campaign, pairing};
    Ok(Some(match kind {
        NodeKind::Township => wrap(org::townships_by_ids(db, keys).await?, NodeModel::Township),
        NodeKind::Station => wrap(org::stations_by_ids(db, keys).await?, NodeModel::Station),
        NodeKind::Grid => wrap(org::grids_by_ids(db, keys).await?, NodeModel::Grid),
        NodeKind::Deputy => wrap(org::deputies_by_ids(db, keys).await?, NodeModel::Deputy),
        NodeKind::Department => wrap(
            org::departments_by_ids(db, keys).await?,
            NodeModel::Department,
        ),
        NodeKind::Pairing => wrap(
            org::by_ids::<pairing::Entity, _>(db, pairing::Column::Id, keys, |m| m.id).await?,
            NodeModel::Pairing,
        ),
        NodeKind::Activity => wrap(
            org::by_ids::<activity::Entity, _>(db, activity::Column::Id, keys, |m| m.id).await?,
            NodeModel::Activity,
        ),
        NodeKind::Campaign => wrap(
            org::by_ids::<campaign::Entity, _>(db, campaign::Column::Id, keys, |m| m.id).await?,
            NodeModel::Campaign,
        ),
        NodeKind::Category => wrap(org::categories_by_ids(db, keys).await?, NodeModel::Category),
        NodeKind::Account
        | NodeKind::Story
        | NodeKind::Petition
        | NodeKind::Suggestion
        | NodeKind::Notification
        | NodeKind::NotificationDelivery
        | NodeKind::Open311Key => return Ok(None),
    }))
}

/// Nodes of a kind with visibility rules: those `actor` may see.
async fn restricted_of_kind<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    kind: NodeKind,
    keys: &[i64],
) -> AppResult<Vec<(i64, NodeModel)>> {
    use entity::{story, suggestion};
    Ok(match kind {
        // Accounts follow the same rule as `accounts`/`me`: admins, or oneself.
        NodeKind::Account => {
            let mut rows = crate::service::accounts::accounts_by_ids(db, keys).await?;
            rows.retain(|id, _| actor.is_admin() || actor.account_id() == Some(*id));
            wrap(rows, NodeModel::Account)
        }
        // Stories: published ones are public, others only for their author side and editors.
        NodeKind::Story => {
            let rows =
                org::by_ids::<story::Entity, _>(db, story::Column::Id, keys, |m| m.id).await?;
            let visible = crate::service::duty::stories::filter_visible(
                db,
                actor,
                rows.into_values().collect(),
            )
            .await?;
            visible
                .into_iter()
                .map(|m| (m.id, NodeModel::Story(m)))
                .collect()
        }
        NodeKind::Petition => crate::service::petitions::queries::visible_many(db, actor, keys)
            .await?
            .into_iter()
            .map(|(m, rel)| (m.id, NodeModel::Petition(m, rel.may_see_personal)))
            .collect(),
        // Suggestions: the deputy who made it, the department it went to,
        // county supervisors and admins.
        NodeKind::Suggestion => {
            let mut rows =
                org::by_ids::<suggestion::Entity, _>(db, suggestion::Column::Id, keys, |m| m.id)
                    .await?;
            rows.retain(|_, s| crate::service::suggestions::may_see(actor, s));
            wrap(rows, NodeModel::Suggestion)
        }
        NodeKind::Notification | NodeKind::NotificationDelivery => {
            notice_nodes(db, actor, kind, keys).await?
        }
        // The other kinds are public: `public_of_kind` answered them.
        _ => Vec::new(),
    })
}

/// A notice: its account's only; a delivery: admins' only.
async fn notice_nodes<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    kind: NodeKind,
    keys: &[i64],
) -> AppResult<Vec<(i64, NodeModel)>> {
    let deliveries = kind == NodeKind::NotificationDelivery;
    let rows = crate::service::notifications::by_ids(db, actor, keys, deliveries).await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let id = m.id;
            let model = if deliveries {
                NodeModel::NotificationDelivery(m)
            } else {
                NodeModel::Notification(m)
            };
            (id, model)
        })
        .collect())
}
