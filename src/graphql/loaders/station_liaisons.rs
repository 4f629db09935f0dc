use super::batch_loader;

batch_loader!(
    /// The part-time liaisons of a station.
    StationLiaisonsLoader,
    Vec<entity::liaison::Model>,
    crate::service::org::management::liaisons_by_station
);
