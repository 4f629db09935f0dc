use super::page_loader;

page_loader!(
    /// A page of the grids of each station.
    StationGridsLoader,
    (),
    entity::grid::Model,
    crate::service::org::grid_pages
);
