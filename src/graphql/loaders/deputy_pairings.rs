use super::page_loader;

page_loader!(
    /// A page of the pairings each deputy takes part in, on either side (filter:
    /// active ones only).
    DeputyPairingsLoader,
    bool,
    entity::pairing::Model,
    crate::service::duty::pairings::pages_by_deputies
);
