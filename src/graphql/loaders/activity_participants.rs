use super::batch_loader;

batch_loader!(
    /// The deputies of an activity.
    ActivityParticipantsLoader,
    Vec<entity::deputy::Model>,
    crate::service::duty::activities::participants_of
);
