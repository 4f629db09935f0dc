use super::batch_loader;

batch_loader!(
    /// A campaign by id.
    CampaignLoader,
    entity::campaign::Model,
    crate::service::duty::activities::campaigns_by_ids
);
