use super::page_loader;

page_loader!(
    /// A page of the stations of each activity.
    ActivityStationsLoader,
    (),
    entity::station::Model,
    crate::service::duty::activities::station_pages
);
