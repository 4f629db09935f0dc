use super::page_loader;

page_loader!(
    /// A page of the activities each deputy took part in (filter: one year).
    DeputyActivitiesLoader,
    Option<i32>,
    entity::activity::Model,
    crate::service::duty::activities::pages_by_deputies
);
