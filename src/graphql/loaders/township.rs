use super::batch_loader;

batch_loader!(
    /// A township by id.
    TownshipLoader,
    entity::township::Model,
    crate::service::org::townships_by_ids
);
