use super::batch_loader;

batch_loader!(
    /// The grids of a station.
    StationGridsLoader,
    Vec<entity::grid::Model>,
    crate::service::org::grids_by_station
);
