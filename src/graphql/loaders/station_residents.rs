use super::page_loader;

page_loader!(
    /// A page of the resident deputies (驻站代表) of each station.
    StationResidentsLoader,
    (),
    entity::deputy::Model,
    crate::service::org::resident_pages
);
