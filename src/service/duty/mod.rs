//! Deputies' duties (履职): pairings with constituents, activities and campaigns, the
//! monthly compliance arithmetic, and the showcase stories of their work.
pub mod activities;
pub mod activity_photos;
pub mod archive;
pub mod compliance;
pub mod pairings;
pub mod stories;
