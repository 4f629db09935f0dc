//! Pure rules: no I/O, no database. Unit-tested beside the code.
pub mod deputy_code;
pub mod node_id;
pub mod page;
