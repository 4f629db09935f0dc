use super::page_loader;

page_loader!(
    /// A page of the participants of each activity.
    ActivityParticipantsLoader,
    (),
    entity::deputy::Model,
    crate::service::duty::activities::participant_pages
);
