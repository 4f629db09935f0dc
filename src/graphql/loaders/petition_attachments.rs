use super::batch_loader;

batch_loader!(
    /// The attachments of an opinion item.
    PetitionAttachmentsLoader,
    Vec<entity::attachment::Model>,
    crate::service::attachments::of_petitions
);
