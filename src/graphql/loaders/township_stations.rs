use super::batch_loader;

batch_loader!(
    /// The stations of a township.
    TownshipStationsLoader,
    Vec<entity::station::Model>,
    crate::service::org::stations_by_township
);
