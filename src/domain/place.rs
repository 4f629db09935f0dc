//! Places (issue 16): points on the earth, as the platform keeps them.
//!
//! A point is WGS-84 in whole units of 1e-7 degree (about 1 cm), as stored
//! (`latitude_e7`, `longitude_e7`): a bounding box is then an exact integer range on an
//! index, on SQLite and PostgreSQL alike. Clients may send GCJ-02 (the offset datum of
//! WeChat's location messages and of Chinese maps); it is converted to WGS-84 on the
//! way in, with `coordtransform`'s refined inverse, and only inside the mainland
//! region that datum applies to (elsewhere a GCJ-02 point means nothing: refused).
use crate::error::{AppError, AppResult};

/// Mean earth radius (IUGG), metres: the great-circle distances below use it.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;
const E7: f64 = 10_000_000.0;
/// The largest accuracy radius kept (100 km): beyond that a fix says nothing useful.
pub const MAX_ACCURACY_M: f64 = 100_000.0;
/// The longest address text kept, in characters.
pub const MAX_ADDRESS_CHARS: usize = 200;

/// The datum of coordinates a client sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CoordinateSystem {
    /// GPS, the browser's geolocation, OpenStreetMap.
    #[default]
    Wgs84,
    /// 国测局坐标 ("Mars coordinates"): WeChat, AMap, Tencent Maps.
    Gcj02,
}

/// The name of a part of `field` in an error (`location.latitude`; a root argument
/// when `field` is empty).
fn sub(field: &str, part: &str) -> String {
    if field.is_empty() {
        part.to_owned()
    } else {
        format!("{field}.{part}")
    }
}

/// A WGS-84 point, in 1e-7 degree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Point {
    pub lat_e7: i32,
    pub lon_e7: i32,
}

impl Point {
    /// A point from WGS-84 degrees, checked: finite, latitude within ±90, longitude
    /// within ±180. `field` prefixes the error's field (`location` → `location.latitude`).
    pub fn from_wgs84(field: &str, latitude: f64, longitude: f64) -> AppResult<Point> {
        if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
            return Err(AppError::bad_input(
                &sub(field, "latitude"),
                "纬度须在-90到90之间 (latitude must be a number from -90 to 90)",
            ));
        }
        if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
            return Err(AppError::bad_input(
                &sub(field, "longitude"),
                "经度须在-180到180之间 (longitude must be a number from -180 to 180)",
            ));
        }
        Ok(Point {
            lat_e7: (latitude * E7).round() as i32,
            lon_e7: (longitude * E7).round() as i32,
        })
    }

    /// A point as a client sent it: WGS-84 as is, GCJ-02 converted (and refused outside
    /// the mainland region, where GCJ-02 is not defined).
    pub fn parse(
        field: &str,
        latitude: f64,
        longitude: f64,
        system: CoordinateSystem,
    ) -> AppResult<Point> {
        // Checked as degrees first: NaN, infinities and out-of-range values never
        // reach the conversion.
        let checked = Point::from_wgs84(field, latitude, longitude)?;
        match system {
            CoordinateSystem::Wgs84 => Ok(checked),
            CoordinateSystem::Gcj02 => {
                if !coordtransform::is_in_gcj02_region(longitude, latitude) {
                    return Err(AppError::bad_input(
                        &sub(field, "coordinateSystem"),
                        "GCJ-02坐标仅适用于中国大陆 (GCJ-02 coordinates exist only inside mainland China)",
                    ));
                }
                let (lon, lat) = coordtransform::gcj02_to_wgs84_in_mainland(longitude, latitude);
                Point::from_wgs84(field, lat, lon)
            }
        }
    }

    /// The stored pair, when both halves are there.
    pub fn from_stored(lat_e7: Option<i32>, lon_e7: Option<i32>) -> Option<Point> {
        Some(Point {
            lat_e7: lat_e7?,
            lon_e7: lon_e7?,
        })
    }

    pub fn latitude(self) -> f64 {
        f64::from(self.lat_e7) / E7
    }

    pub fn longitude(self) -> f64 {
        f64::from(self.lon_e7) / E7
    }

    /// This point in GCJ-02 (for a client that draws on a Chinese map); outside the
    /// mainland region, unchanged.
    pub fn to_gcj02(self) -> (f64, f64) {
        let (lon, lat) = coordtransform::wgs84_to_gcj02(self.longitude(), self.latitude());
        (lat, lon)
    }

    /// Great-circle distance in metres (haversine on the mean radius; within 0.5 % of
    /// the ellipsoid, which is more than ordering stations needs).
    pub fn distance_m(self, other: Point) -> f64 {
        let (lat1, lat2) = (self.latitude().to_radians(), other.latitude().to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.longitude() - self.longitude()).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }
}

/// An item's location as submitted: the point, how sure the device was, and what the
/// submitter called the place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub point: Point,
    /// Accuracy radius, metres, rounded up.
    pub accuracy_m: Option<i32>,
    pub address: Option<String>,
}

/// A location as a client sends it, before checking.
#[derive(Clone, Debug, Default)]
pub struct LocationInput {
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy: Option<f64>,
    pub address: Option<String>,
    pub coordinate_system: CoordinateSystem,
}

impl Location {
    /// Checks and converts a client's location; `field` names it in errors.
    pub fn parse(field: &str, input: &LocationInput) -> AppResult<Location> {
        let point = Point::parse(
            field,
            input.latitude,
            input.longitude,
            input.coordinate_system,
        )?;
        let accuracy_m = match input.accuracy {
            None => None,
            Some(a) if a.is_finite() && (0.0..=MAX_ACCURACY_M).contains(&a) => {
                Some(a.ceil() as i32)
            }
            Some(_) => {
                return Err(AppError::bad_input(
                    &sub(field, "accuracy"),
                    "精度须为0到100000米 (accuracy must be 0 to 100000 metres)",
                ))
            }
        };
        let address = input
            .address
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned);
        if address.as_ref().is_some_and(|a| {
            a.chars().count() > MAX_ADDRESS_CHARS || a.chars().any(char::is_control)
        }) {
            return Err(AppError::bad_input(
                &sub(field, "address"),
                "地址最多200个字符 (at most 200 characters, no control characters)",
            ));
        }
        Ok(Location {
            point,
            accuracy_m,
            address,
        })
    }

    /// The stored columns, when the point is there.
    pub fn from_stored(
        lat_e7: Option<i32>,
        lon_e7: Option<i32>,
        accuracy_m: Option<i32>,
        address: Option<String>,
    ) -> Option<Location> {
        Some(Location {
            point: Point::from_stored(lat_e7, lon_e7)?,
            accuracy_m,
            address,
        })
    }
}

impl Location {
    /// What a viewer who may not see the submitter's details is told: the point
    /// rounded to 0.01° (about a kilometre), without the address or the accuracy.
    pub fn coarse(&self) -> Location {
        const STEP: i64 = 100_000;
        let round = |v: i32| ((i64::from(v) as f64 / STEP as f64).round() as i64 * STEP) as i32;
        Location {
            point: Point {
                lat_e7: round(self.point.lat_e7),
                lon_e7: round(self.point.lon_e7),
            },
            accuracy_m: None,
            address: None,
        }
    }
}

/// A latitude/longitude rectangle in 1e-7 degree, edges included. `west <= east`: a
/// box never crosses the antimeridian (none of this platform's places is near it; a
/// search around a point that would cross it takes every longitude instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoundingBox {
    pub south_e7: i32,
    pub west_e7: i32,
    pub north_e7: i32,
    pub east_e7: i32,
}

const MAX_LAT_E7: i32 = 900_000_000;
const MAX_LON_E7: i32 = 1_800_000_000;

impl BoundingBox {
    /// Every point within `radius_m` of `centre` lies in this box (a superset: the
    /// corners are farther). Near a pole, or where the longitudes would wrap, the box
    /// takes every longitude.
    pub fn around(centre: Point, radius_m: f64) -> BoundingBox {
        let dlat = (radius_m / EARTH_RADIUS_M).to_degrees();
        let south = centre.latitude() - dlat;
        let north = centre.latitude() + dlat;
        // The widest longitude span of the circle is at the latitude nearest a pole.
        let widest = south.abs().max(north.abs());
        let full_longitude = north >= 90.0 || south <= -90.0 || {
            let dlon = dlat / widest.to_radians().cos();
            centre.longitude() - dlon <= -180.0 || centre.longitude() + dlon >= 180.0
        };
        let (west, east) = if full_longitude {
            (-180.0, 180.0)
        } else {
            let dlon = dlat / widest.to_radians().cos();
            (centre.longitude() - dlon, centre.longitude() + dlon)
        };
        BoundingBox {
            south_e7: ((south * E7).floor() as i32).max(-MAX_LAT_E7),
            north_e7: ((north * E7).ceil() as i32).min(MAX_LAT_E7),
            west_e7: ((west * E7).floor() as i32).max(-MAX_LON_E7),
            east_e7: ((east * E7).ceil() as i32).min(MAX_LON_E7),
        }
    }

    /// A map's box as a client sends it: its edges (root arguments `south`, `west`,
    /// `north`, `east`) in the client's datum. GCJ-02 corners are converted like any
    /// point; `south <= north` and `west <= east` after that.
    pub fn parse(
        south: f64,
        west: f64,
        north: f64,
        east: f64,
        system: CoordinateSystem,
    ) -> AppResult<BoundingBox> {
        for (field, value, limit) in [
            ("south", south, 90.0),
            ("north", north, 90.0),
            ("west", west, 180.0),
            ("east", east, 180.0),
        ] {
            if !value.is_finite() || value.abs() > limit {
                return Err(AppError::bad_input(
                    field,
                    format!(
                        "须为-{limit}到{limit}之间的数 (must be a number from -{limit} to {limit})"
                    ),
                ));
            }
        }
        let sw = Point::parse("", south, west, system)?;
        let ne = Point::parse("", north, east, system)?;
        for (field, low, high) in [
            ("north", sw.lat_e7, ne.lat_e7),
            ("east", sw.lon_e7, ne.lon_e7),
        ] {
            if low > high {
                return Err(AppError::bad_input(
                    field,
                    "须south<=north且west<=east (south must not exceed north, nor west east)",
                ));
            }
        }
        Ok(BoundingBox {
            south_e7: sw.lat_e7,
            west_e7: sw.lon_e7,
            north_e7: ne.lat_e7,
            east_e7: ne.lon_e7,
        })
    }

    pub fn contains(&self, p: Point) -> bool {
        (self.south_e7..=self.north_e7).contains(&p.lat_e7)
            && (self.west_e7..=self.east_e7).contains(&p.lon_e7)
    }

    /// The larger of its two sides, in degrees.
    pub fn span_degrees(&self) -> f64 {
        let lat = i64::from(self.north_e7) - i64::from(self.south_e7);
        let lon = i64::from(self.east_e7) - i64::from(self.west_e7);
        lat.max(lon) as f64 / E7
    }
}

/// The side of the square cells a map of this span counts in (1e-7 degree): about an
/// eighth of the span, rounded up to 0.01°, 0.02°, 0.05°, 0.1°, 0.2°, 0.5°, 1° or 2°,
/// and never under `min_e7`.
pub fn cell_size_e7(span_degrees: f64, min_e7: i32) -> i32 {
    const STEPS: [i32; 8] = [
        100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000,
    ];
    let wanted = span_degrees / 8.0 * E7;
    let step = STEPS
        .iter()
        .copied()
        .find(|s| f64::from(*s) >= wanted)
        .unwrap_or(STEPS[STEPS.len() - 1]);
    step.max(min_e7)
}

/// The cell a stored coordinate falls in: `floor((c + offset) / size)` with the offset
/// making every coordinate non-negative, as the SQL computes it (integer division of
/// non-negative numbers rounds down on both backends).
pub fn cell_of(coordinate_e7: i32, offset_e7: i32, size_e7: i32) -> i64 {
    (i64::from(coordinate_e7) + i64::from(offset_e7)) / i64::from(size_e7)
}

/// A cell's shown position: the centroid of its items, rounded to a quarter of the
/// cell (so neither one item's exact point nor more than the cell says is revealed)
/// and kept inside the cell.
pub fn rounded_centroid(centroid_e7: f64, cell_index: i64, offset_e7: i32, size_e7: i32) -> i32 {
    let quarter = f64::from(size_e7) / 4.0;
    let low = cell_index as f64 * f64::from(size_e7) - f64::from(offset_e7);
    let steps = ((centroid_e7 - low) / quarter).round().clamp(0.0, 4.0);
    (low + steps * quarter).round() as i32
}

/// Fewer items than this in a cell and its point is the cell's centre, not the
/// (rounded) centroid of its items: a lone item's place is not told to the public
/// any closer than its cell.
pub const CELL_CENTROID_MIN_ITEMS: i64 = 5;

/// Where a public cell is drawn: the rounded centroid of its items, or the cell's
/// centre when it holds fewer than [`CELL_CENTROID_MIN_ITEMS`].
pub fn cell_point(
    centroid_e7: f64,
    cell_index: i64,
    offset_e7: i32,
    size_e7: i32,
    items: i64,
) -> i32 {
    if items >= CELL_CENTROID_MIN_ITEMS {
        return rounded_centroid(centroid_e7, cell_index, offset_e7, size_e7);
    }
    let low = cell_index * i64::from(size_e7) - i64::from(offset_e7);
    (low + i64::from(size_e7) / 2) as i32
}

impl BoundingBox {
    /// This box grown outward to whole cells of `size_e7` (offset as [`cell_of`]), so
    /// that counting the items in it counts each cell it touches entirely: counts in
    /// boxes cut inside a cell, narrowed step by step, would otherwise pin an item
    /// down to any precision.
    pub fn to_whole_cells(self, size_e7: i32) -> BoundingBox {
        let size = i64::from(size_e7.max(1));
        let widen = |low: i32, high: i32, offset: i32, max: i32| {
            let first = (i64::from(low) + i64::from(offset)).div_euclid(size);
            let last = (i64::from(high) + i64::from(offset)).div_euclid(size);
            let clamp = |v: i64| v.clamp(-i64::from(max), i64::from(max)) as i32;
            (
                clamp(first * size - i64::from(offset)),
                clamp((last + 1) * size - i64::from(offset) - 1),
            )
        };
        let (south_e7, north_e7) = widen(self.south_e7, self.north_e7, LAT_OFFSET_E7, MAX_LAT_E7);
        let (west_e7, east_e7) = widen(self.west_e7, self.east_e7, LON_OFFSET_E7, MAX_LON_E7);
        BoundingBox {
            south_e7,
            west_e7,
            north_e7,
            east_e7,
        }
    }
}

/// The offsets that make latitudes and longitudes non-negative for [`cell_of`].
pub const LAT_OFFSET_E7: i32 = MAX_LAT_E7;
pub const LON_OFFSET_E7: i32 = MAX_LON_E7;

#[cfg(test)]
mod tests {
    use super::*;

    fn near(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    /// Published pairs (WGS-84, GCJ-02), each given to 5-6 decimals (±1 m): Beijing
    /// railway station from the geoChina R package's documentation, Tiananmen from
    /// recharts2's (OpenStreetMap vs Google China).
    /// (latitude, longitude).
    type LatLon = (f64, f64);

    const REFERENCE: &[(LatLon, LatLon)] = &[
        ((39.90105, 116.42079), (39.90245, 116.42703)),
        ((39.90734, 116.39089), (39.908746, 116.397131)),
    ];

    #[test]
    fn a_box_grows_to_the_whole_cells_it_touches() {
        let size = 500_000; // 0.05°
        let thin = BoundingBox {
            south_e7: 373_000_000,
            west_e7: 1_135_000_000,
            north_e7: 373_000_000,
            east_e7: 1_135_000_001,
        };
        let wide = thin.to_whole_cells(size);
        // Both edges on cell boundaries, the original inside.
        let on_edge = |v: i32, offset: i32| (i64::from(v) + i64::from(offset)) % i64::from(size);
        assert_eq!(on_edge(wide.south_e7, LAT_OFFSET_E7), 0);
        assert_eq!(on_edge(wide.north_e7 + 1, LAT_OFFSET_E7), 0);
        assert_eq!(on_edge(wide.west_e7, LON_OFFSET_E7), 0);
        assert_eq!(on_edge(wide.east_e7 + 1, LON_OFFSET_E7), 0);
        assert!(wide.south_e7 <= thin.south_e7 && wide.north_e7 >= thin.north_e7);
        assert!(wide.west_e7 <= thin.west_e7 && wide.east_e7 >= thin.east_e7);
        // Two boxes cut inside the same cell grow to the same box.
        let other = BoundingBox {
            south_e7: 373_100_000,
            west_e7: 1_135_100_000,
            north_e7: 373_200_000,
            east_e7: 1_135_200_000,
        };
        assert_eq!(other.to_whole_cells(size), wide);
    }

    #[test]
    fn a_coarse_location_is_rounded_to_a_hundredth_of_a_degree_without_its_address() {
        let exact = Location::from_stored(
            Some(373_312_345),
            Some(1_135_768_765),
            Some(8),
            Some("滨河小区3号楼".into()),
        )
        .unwrap();
        let coarse = exact.coarse();
        assert_eq!(coarse.point.lat_e7, 373_300_000);
        assert_eq!(coarse.point.lon_e7, 1_135_800_000);
        assert_eq!((coarse.accuracy_m, coarse.address), (None, None));
    }

    #[test]
    fn a_cell_with_few_items_is_drawn_at_its_centre() {
        let size = 500_000;
        let index = (373_120_000 + LAT_OFFSET_E7) as i64 / size as i64;
        let centre = cell_point(373_120_000.0, index, LAT_OFFSET_E7, size, 1);
        assert_eq!(centre, 373_250_000);
        let many = cell_point(373_120_000.0, index, LAT_OFFSET_E7, size, 5);
        assert_eq!(many, 373_125_000);
    }

    #[test]
    fn gcj02_reference_points_convert_both_ways() {
        for &((wlat, wlon), (glat, glon)) in REFERENCE {
            let p = Point::parse("location", glat, glon, CoordinateSystem::Gcj02).unwrap();
            assert!(near(p.latitude(), wlat, 1.5e-5), "{p:?} vs {wlat}");
            assert!(near(p.longitude(), wlon, 1.5e-5), "{p:?} vs {wlon}");
            let w = Point::from_wgs84("location", wlat, wlon).unwrap();
            let (lat, lon) = w.to_gcj02();
            assert!(near(lat, glat, 1.5e-5), "{lat} vs {glat}");
            assert!(near(lon, glon, 1.5e-5), "{lon} vs {glon}");
        }
    }

    #[test]
    fn gcj02_round_trip_is_within_a_centimetre() {
        // Heshun county seat: there and back through the refined inverse.
        let w = Point::from_wgs84("l", 37.33, 113.57).unwrap();
        let (glat, glon) = w.to_gcj02();
        // The offset is hundreds of metres, not nothing.
        assert!(w.distance_m(Point::from_wgs84("l", glat, glon).unwrap()) > 100.0);
        let back = Point::parse("l", glat, glon, CoordinateSystem::Gcj02).unwrap();
        assert!((back.lat_e7 - w.lat_e7).abs() <= 1 && (back.lon_e7 - w.lon_e7).abs() <= 1);
    }

    #[test]
    fn gcj02_outside_the_mainland_is_refused() {
        for (lat, lon) in [(22.3193, 114.1694), (37.5665, 126.978), (48.8566, 2.3522)] {
            let err = Point::parse("location", lat, lon, CoordinateSystem::Gcj02).unwrap_err();
            assert_eq!(err.code(), "BAD_USER_INPUT");
            // The same numbers as WGS-84 are fine.
            assert!(Point::parse("location", lat, lon, CoordinateSystem::Wgs84).is_ok());
        }
    }

    #[test]
    fn out_of_range_and_non_finite_are_refused() {
        for (lat, lon) in [
            (f64::NAN, 0.0),
            (0.0, f64::NAN),
            (f64::INFINITY, 0.0),
            (0.0, f64::NEG_INFINITY),
            (90.000001, 0.0),
            (-91.0, 0.0),
            (0.0, 180.5),
            (0.0, -181.0),
        ] {
            for system in [CoordinateSystem::Wgs84, CoordinateSystem::Gcj02] {
                assert!(Point::parse("l", lat, lon, system).is_err(), "{lat} {lon}");
            }
        }
        assert!(Point::from_wgs84("l", 90.0, 180.0).is_ok());
        assert!(Point::from_wgs84("l", -90.0, -180.0).is_ok());
    }

    #[test]
    fn hand_computed_distances() {
        // One degree along the equator or a meridian: R·π/180 = 111 195.08 m.
        let origin = Point::from_wgs84("l", 0.0, 0.0).unwrap();
        let east = Point::from_wgs84("l", 0.0, 1.0).unwrap();
        assert!(near(origin.distance_m(east), 111_195.08, 0.01));
        // 0.1° north of Heshun's seat: 11 119.508 m whatever the latitude.
        let seat = Point::from_wgs84("l", 37.33, 113.57).unwrap();
        let north = Point::from_wgs84("l", 37.43, 113.57).unwrap();
        assert!(near(seat.distance_m(north), 11_119.508, 0.01));
        // 0.1° east at 37.33°: R·cos(37.33°)·0.1·π/180 = 8 841.0 m (haversine: within 1 m).
        let east = Point::from_wgs84("l", 37.33, 113.67).unwrap();
        assert!(near(seat.distance_m(east), 8_841.0, 1.0));
        assert_eq!(seat.distance_m(seat), 0.0);
    }

    #[test]
    fn accuracy_and_address_are_checked() {
        let input = |accuracy, address: &str| LocationInput {
            latitude: 37.33,
            longitude: 113.57,
            accuracy,
            address: Some(address.into()),
            coordinate_system: CoordinateSystem::Wgs84,
        };
        let ok = Location::parse("location", &input(Some(12.2), "  义兴镇  ")).unwrap();
        assert_eq!(ok.accuracy_m, Some(13));
        assert_eq!(ok.address.as_deref(), Some("义兴镇"));
        assert_eq!(ok.point.lat_e7, 373_300_000);
        assert_eq!(
            Location::parse("l", &input(None, " ")).unwrap().address,
            None
        );
        for bad in [f64::NAN, -1.0, 100_001.0, f64::INFINITY] {
            assert!(Location::parse("l", &input(Some(bad), "x")).is_err());
        }
        assert!(Location::parse("l", &input(None, &"路".repeat(201))).is_err());
        assert!(Location::parse("l", &input(None, "a\u{0}b")).is_err());
    }

    #[test]
    fn a_box_around_a_point_holds_its_circle() {
        let seat = Point::from_wgs84("l", 37.33, 113.57).unwrap();
        let b = BoundingBox::around(seat, 10_000.0);
        // 10 km is 0.089932° of latitude; at 37.42° the longitude span is
        // 0.089932 / cos(37.42°) = 0.11322°.
        assert!((f64::from(b.north_e7) / E7 - 37.419932).abs() < 1e-5);
        assert!((f64::from(b.east_e7) / E7 - 113.68322).abs() < 1e-4);
        for bearing in 0..36 {
            let t = f64::from(bearing * 10).to_radians();
            let p = Point::from_wgs84(
                "l",
                37.33 + 0.0895 * t.cos(),
                113.57 + 0.0895 * t.sin() / 37.33_f64.to_radians().cos(),
            )
            .unwrap();
            assert!(seat.distance_m(p) <= 10_000.0);
            assert!(b.contains(p), "{p:?}");
        }
        let pole = BoundingBox::around(Point::from_wgs84("l", 89.99, 10.0).unwrap(), 5_000.0);
        assert_eq!(
            (pole.west_e7, pole.east_e7, pole.north_e7),
            (-MAX_LON_E7, MAX_LON_E7, MAX_LAT_E7)
        );
        let dateline = BoundingBox::around(Point::from_wgs84("l", 0.0, 179.99).unwrap(), 5_000.0);
        assert_eq!(
            (dateline.west_e7, dateline.east_e7),
            (-MAX_LON_E7, MAX_LON_E7)
        );
    }

    #[test]
    fn boxes_from_clients_are_checked() {
        let ok = BoundingBox::parse(37.2, 113.4, 37.5, 113.8, CoordinateSystem::Wgs84).unwrap();
        assert_eq!((ok.south_e7, ok.east_e7), (372_000_000, 1_138_000_000));
        assert!((ok.span_degrees() - 0.4).abs() < 1e-9);
        let refused = |s, w, n, e, system| {
            let err = BoundingBox::parse(s, w, n, e, system).unwrap_err();
            assert_eq!(err.code(), "BAD_USER_INPUT");
            err.public_message().to_owned()
        };
        let wgs = CoordinateSystem::Wgs84;
        refused(37.5, 113.4, 37.2, 113.8, wgs);
        refused(37.2, 113.8, 37.5, 113.4, wgs);
        refused(f64::NAN, 113.4, 37.5, 113.8, wgs);
        refused(37.2, 113.4, 37.5, 181.0, wgs);
        // Paris in GCJ-02 means nothing.
        refused(48.8, 2.3, 48.9, 2.4, CoordinateSystem::Gcj02);
    }

    #[test]
    fn cells_and_their_centroids() {
        assert_eq!(cell_size_e7(0.05, 0), 100_000);
        assert_eq!(cell_size_e7(0.4, 0), 500_000);
        assert_eq!(cell_size_e7(0.4, 1_000_000), 1_000_000);
        assert_eq!(cell_size_e7(100.0, 0), 20_000_000);
        // 37.3312° in 0.05° cells: cell (37.3312 + 90) / 0.05 = 2546 (127.30 .. 127.35).
        let cell = cell_of(373_312_000, LAT_OFFSET_E7, 500_000);
        assert_eq!(cell, 2546);
        // Its centroid 37.3312 rounds to the nearest 0.0125° step from 37.30: 37.325
        // (2.496 steps); 37.3320 would be 37.3375 (2.56 steps).
        assert_eq!(
            rounded_centroid(373_312_000.0, cell, LAT_OFFSET_E7, 500_000),
            373_250_000
        );
        assert_eq!(
            rounded_centroid(373_320_000.0, cell, LAT_OFFSET_E7, 500_000),
            373_375_000
        );
        // Negative coordinates round down too.
        assert_eq!(
            cell_of(-1, LON_OFFSET_E7, 500_000),
            (1_800_000_000 - 1) / 500_000
        );
    }
}
