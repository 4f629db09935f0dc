use super::batch_loader;

batch_loader!(
    /// The role grants of an account.
    AccountGrantsLoader,
    Vec<entity::account_role::Model>,
    crate::service::accounts::grants_by_accounts
);
