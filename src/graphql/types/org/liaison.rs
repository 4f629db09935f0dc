use async_graphql::{Context, Object};

use crate::domain::mask;
use crate::graphql::context::actor;
use crate::graphql::loaders::{GridLoader, StationLoader};
use crate::graphql::types::enums::LiaisonKind;
use crate::graphql::types::{load_one, load_opt, Grid};

/// 兼职联络员: a grid worker or volunteer serving a station part-time.
pub struct Liaison(pub entity::liaison::Model);

#[Object]
impl Liaison {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> LiaisonKind {
        self.0.kind.into()
    }
    /// Masked except for admins, supervisors of the station's township and its staff.
    async fn phone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(phone) = self.0.phone.as_deref() else {
            return Ok(None);
        };
        let township = load_one::<StationLoader>(ctx, self.0.station_id)
            .await?
            .map(|s| s.township_id);
        let viewer = actor(ctx);
        let entitled = viewer.is_admin()
            || viewer.supervises_township(township)
            || viewer.is_staff_of(self.0.station_id);
        Ok(Some(if entitled {
            phone.to_owned()
        } else {
            mask::phone(phone)
        }))
    }
    async fn grid(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Grid>> {
        Ok(load_opt::<GridLoader>(ctx, self.0.grid_id).await?.map(Grid))
    }
}
