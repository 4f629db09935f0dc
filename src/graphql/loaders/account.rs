use super::batch_loader;

batch_loader!(
    /// An account by id (callers decide who may see it).
    AccountLoader,
    entity::account::Model,
    crate::service::accounts::accounts_by_ids
);
