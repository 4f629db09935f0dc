//! `password_setup`: a one-time set-password code of an account created without a
//! password; only the code's sha256 is stored.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "password_setup")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// At most one code per account: a new import's code replaces the old one.
    pub account_id: i64,
    /// sha256 (hex) of the code.
    pub code_hash: String,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
