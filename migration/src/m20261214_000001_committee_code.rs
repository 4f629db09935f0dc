//! A special committee's code (issue 18): the natural key an import file names it by,
//! as townships, stations and departments have theirs. Committees stored before get
//! the demo's codes by name (`fazhi`, ...), else `committee-<id>`.
use sea_orm_migration::prelude::*;

use crate::sql::run_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261214_000001_committee_code"
    }
}

const UP: &[&str] = &[
    "ALTER TABLE special_committee ADD COLUMN code VARCHAR(32) NOT NULL DEFAULT ''",
    // The demo's committees (the only ones a database holds before this: no other path
    // created any) get the codes its import files name them by; any other one
    // `committee-<id>`.
    "UPDATE special_committee SET code = CASE name WHEN '和顺县人大法制委员会' THEN 'fazhi' WHEN '和顺县人大财政经济委员会' THEN 'caijing' WHEN '和顺县人大社会建设委员会' THEN 'shejian' WHEN '和顺县人大常委会监察和司法工作委员会' THEN 'jiansi' WHEN '和顺县人大常委会预算工作委员会' THEN 'yusuan' WHEN '和顺县人大常委会农业农村工作委员会' THEN 'nongye' WHEN '和顺县人大常委会教育科学文化工作委员会' THEN 'jiaokewen' WHEN '和顺县人大常委会卫生健康工作委员会' THEN 'weijian' WHEN '和顺县人大常委会环境与资源保护工作委员会' THEN 'huanzi' WHEN '和顺县人大常委会城乡建设工作委员会' THEN 'chengjian' ELSE 'committee-' || CAST(id AS VARCHAR(20)) END WHERE code = ''",
    "CREATE UNIQUE INDEX special_committee_code ON special_committee (code)",
];

const DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS special_committee_code",
    "ALTER TABLE special_committee DROP COLUMN code",
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
