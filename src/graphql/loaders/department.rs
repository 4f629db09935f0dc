use super::batch_loader;

batch_loader!(
    /// A department by id.
    DepartmentLoader,
    entity::department::Model,
    crate::service::org::departments_by_ids
);
