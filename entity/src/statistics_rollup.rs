//! `statistics_rollup`: the counters behind `statistics`, per (grain, bucket, township,
//! station, department, category). `0` in a place column means "all", `-1` "none"; see
//! the migration `m20261202_000001_statistics_rollup` for the layout.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "statistics_rollup")]
pub struct Model {
    /// 0: a day (China time), 1: a month.
    #[sea_orm(primary_key, auto_increment = false)]
    pub grain: i16,
    /// The day, or the month's first day.
    #[sea_orm(primary_key, auto_increment = false)]
    pub bucket: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub township_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub station_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub department_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub category_id: i64,
    pub collected: i64,
    pub completed: i64,
    pub with_deadline: i64,
    pub on_time: i64,
    pub rated: i64,
    pub satisfied: i64,
    pub handled: i64,
    pub handling_ms: i64,
    pub overdue: i64,
    pub urgent_completed: i64,
    pub suggestions_made: i64,
    pub suggestions_adopted: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
