use super::batch_loader;

batch_loader!(
    /// A deputy by id.
    DeputyLoader,
    entity::deputy::Model,
    crate::service::org::deputies_by_ids
);
