//! `wechat_delivery`: each inbound WeChat delivery once (deduplicated on `FromUserName`+`MsgId`, or
//! `FromUserName`+`CreateTime` for events), with the reply it got.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "wechat_delivery")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub dedupe_key: String,
    pub open_id: String,
    pub petition_id: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub reply: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::petition::Entity",
        from = "Column::PetitionId",
        to = "super::petition::Column::Id",
        on_delete = "SetNull"
    )]
    Petition,
}

impl Related<super::petition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Petition.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
