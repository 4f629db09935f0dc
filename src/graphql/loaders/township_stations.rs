use super::page_loader;

page_loader!(
    /// A page of the stations of each township.
    TownshipStationsLoader,
    (),
    entity::station::Model,
    crate::service::org::township_station_pages
);
