use super::batch_loader;

batch_loader!(
    /// The history of an opinion item.
    PetitionEventsLoader,
    Vec<entity::petition_event::Model>,
    crate::service::petitions::queries::events_of
);
