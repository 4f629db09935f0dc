use super::batch_loader;

batch_loader!(
    /// The stations of an activity.
    ActivityStationsLoader,
    Vec<entity::station::Model>,
    crate::service::duty::activities::stations_of
);
