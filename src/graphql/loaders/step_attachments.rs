use super::batch_loader;

batch_loader!(
    /// The files of a step of an item's history (a department's result documents).
    PetitionEventAttachmentsLoader,
    Vec<entity::attachment::Model>,
    crate::service::attachments::of_petition_events
);

batch_loader!(
    /// A story's images: its cover and its gallery.
    StoryAttachmentsLoader,
    Vec<entity::attachment::Model>,
    crate::service::attachments::of_stories
);

batch_loader!(
    /// An activity's photos, with who may see them.
    ActivityPhotosLoader,
    (
        crate::service::duty::activity_photos::Readers,
        Vec<entity::attachment::Model>
    ),
    crate::service::duty::activity_photos::of_activities
);
