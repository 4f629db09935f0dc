use super::batch_loader;

batch_loader!(
    /// The resident deputies (驻站代表) of a station.
    StationResidentsLoader,
    Vec<entity::deputy::Model>,
    crate::service::org::resident_deputies_by_station
);
