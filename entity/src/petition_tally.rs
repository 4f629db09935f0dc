//! `petition_tally`: how many items stand in each (township, station, state, category,
//! urgency, overdue); kept by a trigger on `petition` (see the migration
//! `m20261211_000001_petition_tally`). `-1` is "none" in an id column, `''` in `urgency`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "petition_tally")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub township_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub station_id: i64,
    /// A `PetitionState`'s stored value.
    #[sea_orm(primary_key, auto_increment = false)]
    pub state: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub category_id: i64,
    /// An `Urgency`'s stored value, or `''`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub urgency: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub is_overdue: bool,
    pub items: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
