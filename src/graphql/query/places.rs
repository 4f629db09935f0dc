use async_graphql::{Context, Object};

use crate::domain::place::{BoundingBox, Point};
use crate::graphql::context::{actor, state};
use crate::graphql::types::places::{
    CoordinateSystem, GeoPoint, ItemMap, MapCell, MapMode, NearbyStation,
};
use crate::graphql::types::{Petition, Station};
use crate::service::places::{self, ItemMap as Map};

#[derive(Default)]
pub struct PlacesQuery;

#[Object]
impl PlacesQuery {
    /// The stations nearest a point (those with coordinates), nearest first by
    /// great-circle distance, each with its distance. Public, like `stations`.
    #[graphql(complexity = "first.unwrap_or(5).clamp(1, 50) as usize * child_complexity")]
    async fn nearest_stations(
        &self,
        ctx: &Context<'_>,
        latitude: f64,
        longitude: f64,
        #[graphql(default)] coordinate_system: CoordinateSystem,
        #[graphql(desc = "How many, 1 to 50 (default 5).")] first: Option<i32>,
    ) -> async_graphql::Result<Vec<NearbyStation>> {
        let centre = Point::parse("", latitude, longitude, coordinate_system.into())?;
        let found = places::nearest_stations(&state(ctx)?.db, centre, first.unwrap_or(5)).await?;
        Ok(found
            .into_iter()
            .map(|(model, distance_meters)| NearbyStation {
                station: Station(model),
                distance_meters,
            })
            .collect())
    }

    /// The items in a box, for a map. Zoomed in (the box's longer side at most 0.2°)
    /// and signed in with items to see: POINTS, the items in the box you may see with
    /// their exact locations (at most `first`, by id). Otherwise, and always for the
    /// public: CELLS, every located item counted per square cell (at least 0.05°) at
    /// a rounded centroid. The box spans at most 5°.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "first.unwrap_or(200).clamp(1, 500) as usize * child_complexity")]
    async fn items_on_map(
        &self,
        ctx: &Context<'_>,
        south: f64,
        west: f64,
        north: f64,
        east: f64,
        #[graphql(default)] coordinate_system: CoordinateSystem,
        #[graphql(desc = "POINTS: how many items, 1 to 500 (default 200).")] first: Option<i32>,
    ) -> async_graphql::Result<ItemMap> {
        let bbox = BoundingBox::parse(south, west, north, east, coordinate_system.into())?;
        let map =
            places::items_on_map(&state(ctx)?.db, actor(ctx), bbox, first.unwrap_or(200)).await?;
        Ok(match map {
            Map::Points { items, truncated } => ItemMap {
                mode: MapMode::Points,
                points: items
                    .into_iter()
                    .map(|(model, rel)| Petition {
                        model,
                        personal: rel.may_see_personal,
                    })
                    .collect(),
                truncated,
                cells: Vec::new(),
                cell_size_degrees: None,
            },
            Map::Cells { size_e7, cells } => ItemMap {
                mode: MapMode::Cells,
                points: Vec::new(),
                truncated: false,
                cells: cells
                    .into_iter()
                    .map(|c| MapCell {
                        centre: GeoPoint::from(c.centre),
                        count: c.count,
                    })
                    .collect(),
                cell_size_degrees: Some(f64::from(size_e7) / 1e7),
            },
        })
    }
}
