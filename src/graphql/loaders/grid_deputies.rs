use super::page_loader;

page_loader!(
    /// A page of the deputies of each grid.
    GridDeputiesLoader,
    (),
    entity::deputy::Model,
    crate::service::org::management::grid_deputy_pages
);
