//! Places (issue 16): an item's optional location and a station's coordinates.
//!
//! Points are WGS-84, stored as integers in units of 1e-7 degree (`latitude_e7`,
//! `longitude_e7`: about 1 cm, and both fit a 32-bit INTEGER on both backends), so a
//! bounding box is an exact integer range on an ordinary index, with no floating-point
//! column and no PostGIS. Both columns are set or both are null (the service writes
//! them together from one `domain::place::Point`; the CHECKs bound each to its range).
use sea_orm_migration::prelude::*;

use crate::sql::run_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000001_places"
    }
}

const UP: &[&str] = &[
    "ALTER TABLE petition ADD COLUMN latitude_e7 INTEGER CHECK (latitude_e7 BETWEEN -900000000 AND 900000000)",
    "ALTER TABLE petition ADD COLUMN longitude_e7 INTEGER CHECK (longitude_e7 BETWEEN -1800000000 AND 1800000000)",
    // The reported accuracy (radius, metres), as the device gave it, rounded up.
    "ALTER TABLE petition ADD COLUMN location_accuracy_m INTEGER CHECK (location_accuracy_m >= 0)",
    // What the submitter (or WeChat's label) called the place.
    "ALTER TABLE petition ADD COLUMN location_address VARCHAR(255)",
    "CREATE INDEX petition_location ON petition (latitude_e7, longitude_e7) WHERE latitude_e7 IS NOT NULL",
    "ALTER TABLE station ADD COLUMN latitude_e7 INTEGER CHECK (latitude_e7 BETWEEN -900000000 AND 900000000)",
    "ALTER TABLE station ADD COLUMN longitude_e7 INTEGER CHECK (longitude_e7 BETWEEN -1800000000 AND 1800000000)",
    "CREATE INDEX station_location ON station (latitude_e7, longitude_e7) WHERE latitude_e7 IS NOT NULL",
];

const DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS station_location",
    "ALTER TABLE station DROP COLUMN longitude_e7",
    "ALTER TABLE station DROP COLUMN latitude_e7",
    "DROP INDEX IF EXISTS petition_location",
    "ALTER TABLE petition DROP COLUMN location_address",
    "ALTER TABLE petition DROP COLUMN location_accuracy_m",
    "ALTER TABLE petition DROP COLUMN longitude_e7",
    "ALTER TABLE petition DROP COLUMN latitude_e7",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, DOWN).await
    }
}
