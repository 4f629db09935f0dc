//! Who is asking. Requests carry an [`Actor`]; services decide what it may do.
pub mod actor;

pub use actor::Actor;
