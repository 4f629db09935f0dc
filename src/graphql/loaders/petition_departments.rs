use super::batch_loader;

batch_loader!(
    /// The departments involved in an opinion item.
    PetitionDepartmentsLoader,
    Vec<entity::petition_department::Model>,
    crate::service::petitions::queries::departments_by_items
);
