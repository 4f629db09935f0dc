//! `story`: a duty story (履职故事) for the showcase feed (代表风采).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::StoryStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "story")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub deputy_id: i64,
    pub author_account_id: Option<i64>,
    pub station_id: Option<i64>,
    pub township_id: Option<i64>,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub cover_url: Option<String>,
    pub status: StoryStatus,
    #[sea_orm(column_type = "Text")]
    pub return_reason: Option<String>,
    /// Set exactly when `status` is `Published`.
    pub published_at: Option<DateTimeUtc>,
    /// Feed order: the outbox sequence of the publishing event.
    #[sea_orm(unique)]
    pub published_seq: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::deputy::Entity",
        from = "Column::DeputyId",
        to = "super::deputy::Column::Id",
        on_delete = "Cascade"
    )]
    Deputy,
    #[sea_orm(
        belongs_to = "super::account::Entity",
        from = "Column::AuthorAccountId",
        to = "super::account::Column::Id",
        on_delete = "SetNull"
    )]
    AuthorAccount,
    #[sea_orm(
        belongs_to = "super::station::Entity",
        from = "Column::StationId",
        to = "super::station::Column::Id",
        on_delete = "SetNull"
    )]
    Station,
    #[sea_orm(
        belongs_to = "super::township::Entity",
        from = "Column::TownshipId",
        to = "super::township::Column::Id",
        on_delete = "SetNull"
    )]
    Township,
}

impl Related<super::deputy::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Deputy.def()
    }
}

impl Related<super::account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AuthorAccount.def()
    }
}

impl Related<super::station::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Station.def()
    }
}

impl Related<super::township::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Township.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
