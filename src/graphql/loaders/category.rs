use super::batch_loader;

batch_loader!(
    /// A category by id.
    CategoryLoader,
    entity::category::Model,
    crate::service::org::categories_by_ids
);
