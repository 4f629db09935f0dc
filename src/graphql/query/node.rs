use async_graphql::{Context, Object, ID};

use crate::domain::node_id::NodeId;
use crate::error::AppError;
use crate::graphql::context::{service_ctx, state};
use crate::graphql::types::Node;
use crate::service::node::{self, NodeModel};

#[derive(Default)]
pub struct NodeQuery;

fn to_node(model: NodeModel) -> Node {
    use crate::graphql::types::{
        Account, Activity, Campaign, Category, Department, Deputy, Grid, Pairing, Petition,
        Station, Story, Suggestion, Township,
    };
    match model {
        NodeModel::Township(m) => Node::Township(Township(m)),
        NodeModel::Station(m) => Node::Station(Station(m)),
        NodeModel::Grid(m) => Node::Grid(Grid(m)),
        NodeModel::Deputy(m) => Node::Deputy(Deputy(m)),
        NodeModel::Department(m) => Node::Department(Department(m)),
        NodeModel::Account(m) => Node::Account(Account(m)),
        NodeModel::Pairing(m) => Node::Pairing(Pairing(m)),
        NodeModel::Activity(m) => Node::Activity(Activity(m)),
        NodeModel::Campaign(m) => Node::Campaign(Campaign(m)),
        NodeModel::Story(m) => Node::Story(Story(m)),
        NodeModel::Petition(model, personal) => Node::Petition(Petition { model, personal }),
        NodeModel::Suggestion(m) => Node::Suggestion(Suggestion(m)),
        NodeModel::Category(m) => Node::Category(Category(m)),
        NodeModel::Notification(m) => Node::Notification(crate::graphql::types::Notification(m)),
        NodeModel::NotificationDelivery(m) => {
            Node::NotificationDelivery(crate::graphql::types::NotificationDelivery(m))
        }
    }
}

#[Object]
impl NodeQuery {
    /// Fetches any object by its global id; null when nothing has that id.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        let id = NodeId::decode(&id)?;
        Ok(node::fetch(&service_ctx(ctx)?, id).await?.map(to_node))
    }

    /// Fetches several objects by global id, in the order given (null where missing).
    #[graphql(complexity = "crate::graphql::list_complexity(ids.len(), child_complexity)")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        let app = state(ctx)?;
        let max = app.settings.max_page_size as usize;
        if ids.len() > max {
            return Err(AppError::bad_input(
                "ids",
                format!("最多 {max} 个 ID (at most {max} ids)"),
            )
            .into());
        }
        let ids = ids
            .iter()
            .map(|id| NodeId::decode(id))
            .collect::<Result<Vec<_>, _>>()?;
        let found = node::fetch_many(&service_ctx(ctx)?, &ids).await?;
        Ok(found.into_iter().map(|m| m.map(to_node)).collect())
    }
}
