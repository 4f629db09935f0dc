use super::batch_loader;

batch_loader!(
    /// Pairings a deputy takes part in, on either side.
    DeputyPairingsLoader,
    Vec<entity::pairing::Model>,
    crate::service::duty::pairings::by_deputies
);
