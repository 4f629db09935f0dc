use super::batch_loader;

batch_loader!(
    /// The deputies linked to a grid.
    GridDeputiesLoader,
    Vec<entity::deputy::Model>,
    crate::service::org::management::grid_deputies
);
