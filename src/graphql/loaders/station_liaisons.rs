use super::page_loader;

page_loader!(
    /// A page of the liaisons of each station.
    StationLiaisonsLoader,
    (),
    entity::liaison::Model,
    crate::service::org::management::liaison_pages
);
