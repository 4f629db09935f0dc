use super::batch_loader;

batch_loader!(
    /// Activities a deputy took part in.
    DeputyActivitiesLoader,
    Vec<entity::activity::Model>,
    crate::service::duty::activities::by_deputies
);
