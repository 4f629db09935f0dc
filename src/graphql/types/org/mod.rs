//! The organisation: townships, stations and their grids, deputies, liaisons and
//! departments, special committees.
pub mod committee;
pub mod department;
pub mod deputy;
pub mod grid;
pub mod liaison;
pub mod station;
pub mod township;

pub use committee::SpecialCommittee;
pub use department::Department;
pub use deputy::Deputy;
pub use grid::Grid;
pub use liaison::Liaison;
pub use station::Station;
pub use township::Township;
