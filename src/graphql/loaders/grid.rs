use super::batch_loader;

batch_loader!(
    /// A grid by id.
    GridLoader,
    entity::grid::Model,
    crate::service::org::grids_by_ids
);
