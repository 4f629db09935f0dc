use super::batch_loader;

batch_loader!(
    /// The stations a deputy is assigned to.
    DeputyStationsLoader,
    Vec<entity::station::Model>,
    crate::service::org::stations_by_deputy
);
