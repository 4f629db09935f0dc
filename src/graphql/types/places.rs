//! Places (issue 16): coordinates in and out, stations near a point, items on a map.
use async_graphql::{Enum, InputObject, Object, SimpleObject};

use super::{Petition, Station};
use crate::domain::place::{self, Point};

/// The datum of coordinates sent to the server. Coordinates the server answers with
/// are always WGS-84.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CoordinateSystem {
    /// GPS, a browser's geolocation, OpenStreetMap.
    #[default]
    #[graphql(name = "WGS84")]
    Wgs84,
    /// 国测局坐标: WeChat (wx.getLocation type gcj02, location messages), AMap,
    /// Tencent Maps. Only inside mainland China.
    #[graphql(name = "GCJ02")]
    Gcj02,
}

impl From<CoordinateSystem> for place::CoordinateSystem {
    fn from(value: CoordinateSystem) -> Self {
        match value {
            CoordinateSystem::Wgs84 => place::CoordinateSystem::Wgs84,
            CoordinateSystem::Gcj02 => place::CoordinateSystem::Gcj02,
        }
    }
}

/// Where an item is about, as the device or map gave it.
#[derive(InputObject, Clone, Debug)]
pub struct LocationInput {
    /// Degrees, -90 to 90.
    pub latitude: f64,
    /// Degrees, -180 to 180.
    pub longitude: f64,
    /// The accuracy radius in metres (0 to 100000), as the device reported it.
    pub accuracy: Option<f64>,
    /// What the place is called (at most 200 characters).
    pub address: Option<String>,
    /// GCJ-02 is converted to WGS-84 on the way in.
    #[graphql(default)]
    pub coordinate_system: CoordinateSystem,
}

impl From<LocationInput> for place::LocationInput {
    fn from(l: LocationInput) -> Self {
        place::LocationInput {
            latitude: l.latitude,
            longitude: l.longitude,
            accuracy: l.accuracy,
            address: l.address,
            coordinate_system: l.coordinate_system.into(),
        }
    }
}

/// A WGS-84 point.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

impl From<Point> for GeoPoint {
    fn from(p: Point) -> Self {
        GeoPoint {
            latitude: p.latitude(),
            longitude: p.longitude(),
        }
    }
}

/// An item's location (WGS-84).
#[derive(SimpleObject, Clone, Debug)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    /// The accuracy radius in metres, when the device gave one.
    pub accuracy: Option<i32>,
    pub address: Option<String>,
}

impl From<place::Location> for Location {
    fn from(l: place::Location) -> Self {
        Location {
            latitude: l.point.latitude(),
            longitude: l.point.longitude(),
            accuracy: l.accuracy_m,
            address: l.address,
        }
    }
}

/// A station and how far it is from the point asked about.
pub struct NearbyStation {
    pub station: Station,
    pub distance_meters: f64,
}

#[Object]
impl NearbyStation {
    async fn station(&self) -> &Station {
        &self.station
    }
    /// Great-circle distance in metres (mean earth radius), rounded to the metre.
    async fn distance_meters(&self) -> f64 {
        self.distance_meters.round()
    }
}

/// Whether a map answer lists items or counts them.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapMode {
    /// `points`: the items in the box you may see, each with its exact location.
    Points,
    /// `cells`: located items counted per square cell, at a rounded centroid.
    Cells,
}

/// A count of items in one cell of a map.
#[derive(SimpleObject, Clone, Debug)]
pub struct MapCell {
    /// The cell's items' centroid, rounded to a quarter of the cell (WGS-84).
    pub centre: GeoPoint,
    pub count: i64,
}

/// What a map of a box shows.
#[derive(SimpleObject)]
pub struct ItemMap {
    pub mode: MapMode,
    /// POINTS: the items in the box you may see, by id (each has its `location`).
    pub points: Vec<Petition>,
    /// POINTS: there were more than `first` items.
    pub truncated: bool,
    /// CELLS: every located item (merged ones aside) counted per cell.
    pub cells: Vec<MapCell>,
    /// CELLS: the side of a cell, in degrees.
    pub cell_size_degrees: Option<f64>,
}
