//! Excel exports for meetings: each reads through the same use case as its GraphQL
//! query (so the same permission check and the same figures), and lays the answer out
//! as [`Sheet`]s for `domain::export::workbook`. Exports need a signed-in account even
//! where the query does not (`statistics`): an export reads a whole breakdown at once.
//! No export carries personal data (names and phones of citizens).
use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{category, department, deputy, petition, station, township};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::domain::calendar::local_date;
use crate::domain::compliance::{DutyItem, MonthCompliance, YearCompliance};
use crate::domain::export::{self, Cell, Sheet, MAX_ROWS};
use crate::domain::page::{Page, PageRequest};
use crate::error::{AppError, AppResult};
use crate::service::duty::compliance::{self, Scope, Standing};
use crate::service::duty::pairings;
use crate::service::petitions::queries::{self, ItemFilter};
use crate::service::statistics::{self, Statistics};
use crate::service::Ctx;

/// A period of collection dates, both ends included, checked against the export's bound.
pub fn period(from: NaiveDate, to: NaiveDate) -> AppResult<ItemFilter> {
    export::check_period(from, to).map_err(|message| AppError::bad_input("to", message))?;
    Ok(ItemFilter {
        from: Some(from),
        to: Some(to),
        ..ItemFilter::default()
    })
}

fn too_many() -> AppError {
    AppError::bad_input(
        "to",
        format!("超过{MAX_ROWS}行，请缩短区间 (more than {MAX_ROWS} rows: a shorter period)"),
    )
}

/// Every item of one page as large as the cap; refused when there are more.
fn whole(page: Page<petition::Model>) -> AppResult<Vec<petition::Model>> {
    if page.has_next_page {
        return Err(too_many());
    }
    Ok(page.items.into_iter().map(|(_, item)| item).collect())
}

fn all_rows() -> PageRequest {
    PageRequest::first(MAX_ROWS as u64).wanting(true, false)
}

/// 站点台账: the station's items collected in the period.
pub async fn station_ledger(
    ctx: &Ctx<'_>,
    station_id: i64,
    filter: &ItemFilter,
) -> AppResult<Vec<Sheet>> {
    let items = whole(queries::ledger(ctx, station_id, filter, &all_rows()).await?)?;
    Ok(vec![item_sheet(ctx.db, "站点台账", &items).await?])
}

/// A department's inbox: the items forwarded to it, collected in the period.
pub async fn department_inbox(
    ctx: &Ctx<'_>,
    department_id: i64,
    filter: &ItemFilter,
) -> AppResult<Vec<Sheet>> {
    let items = whole(queries::inbox(ctx, department_id, filter, &all_rows()).await?)?;
    Ok(vec![item_sheet(ctx.db, "部门收件", &items).await?])
}

const ITEM_HEADERS: [&str; 13] = [
    "受理编号",
    "标题",
    "收集日期",
    "渠道",
    "类别",
    "紧急程度",
    "状态",
    "主办部门",
    "办理期限",
    "办结日期",
    "是否超期",
    "督办次数",
    "满意度",
];

async fn item_sheet<C: ConnectionTrait>(
    db: &C,
    name: &str,
    items: &[petition::Model],
) -> AppResult<Sheet> {
    let categories = names(category::Entity::find().all(db).await?, |c| (c.id, c.name));
    let departments = names(department::Entity::find().all(db).await?, |d| {
        (d.id, d.name)
    });
    let name_of = |names: &HashMap<i64, String>, id: Option<i64>| {
        Cell::opt_text(id.and_then(|id| names.get(&id).cloned()))
    };
    let mut sheet = Sheet::new(name, &ITEM_HEADERS);
    for item in items {
        sheet.rows.push(vec![
            Cell::text(&item.tracking_code),
            Cell::text(&item.title),
            Cell::Date(local_date(item.collected_at)),
            Cell::text(export::channel_zh(item.channel)),
            name_of(&categories, item.category_id),
            Cell::opt_text(item.urgency.map(export::urgency_zh)),
            Cell::text(export::state_zh(item.state)),
            name_of(&departments, item.lead_department_id),
            Cell::opt_date(item.deadline.map(local_date)),
            Cell::opt_date(item.resolved_at.map(local_date)),
            Cell::Flag(item.is_overdue),
            Cell::Int(item.urge_count.into()),
            Cell::opt_text(item.satisfaction.map(export::satisfaction_zh)),
        ]);
    }
    Ok(sheet)
}

fn names<M>(rows: Vec<M>, pair: impl Fn(M) -> (i64, String)) -> HashMap<i64, String> {
    rows.into_iter().map(pair).collect()
}

const FIGURE_HEADERS: [&str; 12] = [
    "名称",
    "收集件数",
    "办结件数",
    "办结率",
    "按期办结率",
    "满意率",
    "平均办理时长(小时)",
    "超期件数",
    "急难愁盼办结",
    "意见建议",
    "建议采纳",
    "评价件数",
];

fn figure_row(name: &str, s: &Statistics) -> Vec<Cell> {
    vec![
        Cell::text(name),
        Cell::Int(s.items_collected),
        Cell::Int(s.items_completed),
        Cell::Rate(s.completion_rate),
        Cell::Rate(s.on_time_rate),
        Cell::Rate(s.satisfaction_rate),
        Cell::Number(s.average_handling_hours),
        Cell::Int(s.overdue_count),
        Cell::Int(s.urgent_completed),
        Cell::Int(s.suggestions_made),
        Cell::Int(s.suggestions_adopted),
        Cell::Int(s.rated),
    ]
}

/// A scope's figures for a period: the whole, then by township, station, category and
/// month (each row as `statistics` answers for that narrower scope).
pub async fn statistics(
    ctx: &Ctx<'_>,
    from: NaiveDate,
    to: NaiveDate,
    scope: statistics::Scope,
) -> AppResult<Vec<Sheet>> {
    ctx.actor.require_signed_in()?;
    export::check_period(from, to).map_err(|message| AppError::bad_input("to", message))?;
    let db = ctx.db;
    let whole = statistics::compute(db, from, to, &scope).await?;
    let mut total = Sheet::new("总计", &FIGURE_HEADERS);
    total.rows.push(figure_row("合计", &whole));
    let mut sheets = vec![total];
    let (by_township, by_station) = by_place(ctx, from, to, scope).await?;
    sheets.extend([by_township, by_station]);
    sheets.push(by_category(db, &whole).await?);
    sheets.push(by_month(db, from, to, scope).await?);
    Ok(sheets)
}

/// The townships and the stations the scope reaches, each with its figures.
async fn by_place(
    ctx: &Ctx<'_>,
    from: NaiveDate,
    to: NaiveDate,
    scope: statistics::Scope,
) -> AppResult<(Sheet, Sheet)> {
    let db = ctx.db;
    let mut stations = station::Entity::find().order_by_asc(station::Column::Id);
    let mut townships = township::Entity::find().order_by_asc(township::Column::SortOrder);
    if let Some(s) = scope.station_id {
        stations = stations.filter(station::Column::Id.eq(s));
    }
    let township_of_station = match scope.station_id {
        Some(s) => Some(
            station::Entity::find_by_id(s)
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found("站点 (station)"))?
                .township_id,
        ),
        None => None,
    };
    if let Some(t) = scope.township_id.or(township_of_station) {
        stations = stations.filter(station::Column::TownshipId.eq(t));
        townships = townships.filter(township::Column::Id.eq(t));
    }
    let mut by_township = Sheet::new("按乡镇", &FIGURE_HEADERS);
    for t in townships.all(db).await? {
        let narrower = statistics::Scope {
            township_id: Some(t.id),
            ..scope
        };
        let figures = statistics::compute(db, from, to, &narrower).await?;
        by_township.rows.push(figure_row(&t.name, &figures));
    }
    let mut by_station = Sheet::new("按站点", &FIGURE_HEADERS);
    for s in stations.all(db).await? {
        let narrower = statistics::Scope {
            station_id: Some(s.id),
            ..scope
        };
        let figures = statistics::compute(db, from, to, &narrower).await?;
        by_station.rows.push(figure_row(&s.name, &figures));
    }
    Ok((by_township, by_station))
}

async fn by_category<C: ConnectionTrait>(db: &C, whole: &Statistics) -> AppResult<Sheet> {
    let categories = names(category::Entity::find().all(db).await?, |c| (c.id, c.name));
    let mut sheet = Sheet::new("按类别", &["类别", "收集件数", "办结件数"]);
    for count in &whole.by_category {
        let name = count
            .category_id
            .and_then(|id| categories.get(&id).cloned())
            .unwrap_or_else(|| "未分类".to_owned());
        sheet.rows.push(vec![
            Cell::Text(name),
            Cell::Int(count.collected),
            Cell::Int(count.completed),
        ]);
    }
    Ok(sheet)
}

/// Month by month, each month cut to the period.
async fn by_month<C: ConnectionTrait>(
    db: &C,
    from: NaiveDate,
    to: NaiveDate,
    scope: statistics::Scope,
) -> AppResult<Sheet> {
    let mut headers = vec!["月份"];
    headers.extend_from_slice(&FIGURE_HEADERS[1..]);
    let mut sheet = Sheet::new("按月", &headers);
    for first in export::months_between(from, to) {
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(first);
        let (start, end) = (first.max(from), next.pred_opt().unwrap_or(next).min(to));
        let figures = statistics::compute(db, start, end, &scope).await?;
        let mut row = figure_row("", &figures);
        row[0] = Cell::Date(first);
        sheet.rows.push(row);
    }
    Ok(sheet)
}

async fn deputies<C: ConnectionTrait>(
    db: &C,
    ids: Vec<i64>,
) -> AppResult<HashMap<i64, deputy::Model>> {
    let rows = deputy::Entity::find()
        .filter(deputy::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|d| (d.id, d)).collect())
}

/// 结对覆盖: the gaps against the pairing rules in a month, as `coverageReport`.
pub async fn coverage(ctx: &Ctx<'_>, year: i32, month: u32) -> AppResult<Vec<Sheet>> {
    let gaps = pairings::coverage(ctx, year, month).await?;
    let who = deputies(ctx.db, gaps.iter().map(|g| g.deputy()).collect()).await?;
    let mut sheet = Sheet::new("结对覆盖", &["代表", "代表编码", "问题", "实际", "要求"]);
    for gap in &gaps {
        let deputy = who.get(&gap.deputy());
        sheet.rows.push(vec![
            Cell::opt_text(deputy.map(|d| d.name.clone())),
            Cell::opt_text(deputy.map(|d| d.code.clone())),
            Cell::text(gap.label_zh()),
            Cell::Int(gap.actual() as i64),
            Cell::Text(gap.expected()),
        ]);
    }
    Ok(vec![sheet])
}

/// "八个一": each deputy of a station or township in a month, or in the year so far
/// (through the current month of this year), as `Deputy.compliance` / `yearCompliance`.
pub async fn compliance(
    ctx: &Ctx<'_>,
    scope: Scope,
    year: i32,
    month: Option<u32>,
) -> AppResult<Vec<Sheet>> {
    compliance::check_year(year)?;
    let through = compliance::months_so_far(year, local_date(ctx.now()));
    let rows = compliance::table(ctx, scope, year, month, through).await?;
    let who = deputies(ctx.db, rows.iter().map(|(id, _)| *id).collect()).await?;
    let mut sheet = match month {
        Some(_) => Sheet::new("八个一(月)", &MONTH_HEADERS),
        None => year_sheet(through),
    };
    for (id, standing) in &rows {
        let deputy = who.get(id);
        let mut row = vec![
            Cell::opt_text(deputy.map(|d| d.name.clone())),
            Cell::opt_text(deputy.map(|d| d.code.clone())),
        ];
        match standing {
            Standing::Month(m) => row.extend(month_cells(m)),
            Standing::Year(y) => row.extend(year_cells(y)),
        }
        sheet.rows.push(row);
    }
    Ok(vec![sheet])
}

const MONTH_HEADERS: [&str; 8] = [
    "代表",
    "代表编码",
    "接待一次选民群众",
    "反映一条社情民意",
    "参加一次进站活动",
    "参加一次学习培训",
    "驻站代表听取群众反映",
    "全部达标",
];

fn month_cells(m: &MonthCompliance) -> Vec<Cell> {
    let mut cells: Vec<Cell> = m.items.iter().map(|i| Cell::Int(i.count.into())).collect();
    cells.push(
        m.resident_hearings
            .map_or(Cell::Empty, |h| Cell::Int(h.count.into())),
    );
    cells.push(Cell::Flag(m.fully_compliant));
    cells
}

/// Months 1..=through as columns (met or not), the yearly items' counts, the totals.
fn year_sheet(through: u32) -> Sheet {
    const MONTHS: [&str; 12] = [
        "1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月",
    ];
    let mut headers = vec!["代表", "代表编码"];
    headers.extend_from_slice(&MONTHS[..through as usize]);
    headers.extend(DutyItem::YEARLY.iter().map(|i| i.label_zh()));
    headers.extend(["达标月数", "全年达标"]);
    Sheet::new("八个一(年)", &headers)
}

fn year_cells(y: &YearCompliance) -> Vec<Cell> {
    let mut cells: Vec<Cell> = y
        .months
        .iter()
        .map(|m| Cell::Flag(m.fully_compliant))
        .collect();
    cells.extend(y.yearly_items.iter().map(|i| Cell::Int(i.count.into())));
    cells.push(Cell::Int(y.compliant_months.into()));
    cells.push(Cell::Flag(y.fully_compliant));
    cells
}
