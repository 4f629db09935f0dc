use super::batch_loader;

batch_loader!(
    /// A station by id.
    StationLoader,
    entity::station::Model,
    crate::service::org::stations_by_ids
);
