//! `GET /deputies/{id}/archive/{year}`: a deputy's duty archive (电子履职档案) as a
//! print-ready page: A4 `@page` rules, the style inline (allowed by hash), no script,
//! no asset from elsewhere. The bearer token as on `/graphql`; the readers are those
//! of `Deputy.archive(year)` (`service::duty::archive`). `{id}` is the deputy's global
//! id, as GraphQL gives it.
use std::fmt::Write as _;
use std::sync::LazyLock;

use base64::Engine as _;
use poem::http::header;
use poem::web::{Data, Path};
use poem::{handler, Request, Response};
use sha2::{Digest, Sha256};

use super::graphql::{actor_of, client_of, error_reply};
use super::media::ResponseMedia;
use super::qr::xml_escape;
use crate::domain::calendar::local_date;
use crate::domain::compliance::{DutyItem, ItemStatus};
use crate::domain::export::{activity_kind_zh, adoption_zh, state_zh};
use crate::domain::node_id::{NodeId, NodeKind};
use crate::error::{AppError, AppResult};
use crate::service::duty::archive::{self, Archive, MAX_LISTED};
use crate::state::AppState;

const STYLE: &str = include_str!("pages/archive.css");

static CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src data:; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    )
});

#[handler]
pub async fn page(
    req: &Request,
    Path((id, year)): Path<(String, String)>,
    state: Data<&AppState>,
) -> Response {
    let actor = match actor_of(req, &state).await {
        Ok(actor) => actor,
        Err(reply) => return reply.into_response(ResponseMedia::Json),
    };
    let client = client_of(req, state.settings.trust_proxy_headers);
    let ctx = state.ctx(&actor, &client);
    let loaded = async {
        let deputy = NodeId::decode_as("id", &id, NodeKind::Deputy)?;
        let year: i32 = year
            .parse()
            .map_err(|_| AppError::bad_input("year", "年份须为整数 (year must be an integer)"))?;
        archive::load(&ctx, deputy, year).await
    };
    match loaded.await.and_then(|a| render(&a)) {
        Ok(html) => Response::builder()
            .content_type("text/html; charset=utf-8")
            .header("Content-Security-Policy", CSP.as_str())
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header(header::CACHE_CONTROL, "private, no-store")
            .body(html),
        Err(error) => error_reply(error).into_response(ResponseMedia::Json),
    }
}

fn e(s: &str) -> String {
    xml_escape(s)
}

/// Writing into a `String` cannot fail; the `fmt::Result`s are folded into one.
fn render(a: &Archive) -> AppResult<String> {
    let mut out = String::with_capacity(32 * 1024);
    write_page(&mut out, a).map_err(|_| AppError::internal("archive page"))?;
    Ok(out)
}

fn write_page(out: &mut String, a: &Archive) -> std::fmt::Result {
    let d = &a.deputy;
    write!(
        out,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <title>{name} {year}年度履职档案</title><style>{STYLE}</style></head><body><main>\
         <h1>{name} {year}年度履职档案</h1><p class=\"subtitle\">和顺县人大代表电子履职档案</p>",
        name = e(&d.name),
        year = a.year
    )?;
    write_facts(out, a)?;
    write_compliance(out, a)?;
    write_activities(out, a)?;
    write_items(out, a)?;
    write_suggestions(out, a)?;
    write_stories(out, a)?;
    out.push_str("</main></body></html>");
    Ok(())
}

fn write_facts(out: &mut String, a: &Archive) -> std::fmt::Result {
    let c = &a.counts;
    let stations = if a.stations.is_empty() {
        "—".to_owned()
    } else {
        a.stations.join("、")
    };
    write!(
        out,
        "<h2>基本情况</h2><dl class=\"facts\">\
         <dt>代表编码</dt><dd>{code}</dd><dt>所在乡镇</dt><dd>{township}</dd>\
         <dt>联络站点</dt><dd>{stations}</dd><dt>年度</dt><dd>{year}</dd>\
         <dt>履职活动</dt><dd>{act} 次</dd><dt>收集社情民意</dt><dd>{items} 件</dd>\
         <dt>提出意见建议</dt><dd>{sug} 件（采纳 {adopted} 件）</dd><dt>发表履职故事</dt><dd>{stories} 篇</dd>\
         </dl>",
        code = e(&a.deputy.code),
        township = e(a.township.as_deref().unwrap_or("—")),
        stations = e(&stations),
        year = a.year,
        act = c.activities,
        items = c.opinion_items_collected,
        sug = c.suggestions_made,
        adopted = c.suggestions_adopted,
        stories = c.stories_published,
    )
}

fn status_cell(out: &mut String, s: &ItemStatus) -> std::fmt::Result {
    let class = if s.met { "ok" } else { "no" };
    write!(
        out,
        "<td class=\"n {class}\">{}{}</td>",
        s.count,
        if s.met { " ✓" } else { " ✗" }
    )
}

fn write_compliance(out: &mut String, a: &Archive) -> std::fmt::Result {
    let y = &a.compliance;
    out.push_str("<h2>“八个一”履职情况（逐月）</h2><table><thead><tr><th>月份</th>");
    for item in DutyItem::MONTHLY {
        write!(out, "<th class=\"n\">{}</th>", item.label_zh())?;
    }
    out.push_str(
        "<th class=\"n\">驻站听取反映</th><th class=\"n\">当月达标</th></tr></thead><tbody>",
    );
    for m in &y.months {
        write!(out, "<tr><td>{}月</td>", m.month)?;
        for s in &m.items {
            status_cell(out, s)?;
        }
        match m.resident_hearings {
            Some(h) => write!(out, "<td class=\"n\">{}/{}</td>", h.count, h.required)?,
            None => out.push_str("<td class=\"n\">—</td>"),
        }
        let (class, text) = if m.fully_compliant {
            ("ok", "是")
        } else {
            ("no", "否")
        };
        write!(out, "<td class=\"n {class}\">{text}</td></tr>")?;
    }
    out.push_str("</tbody></table><table><thead><tr>");
    for item in DutyItem::YEARLY {
        write!(out, "<th class=\"n\">{}</th>", item.label_zh())?;
    }
    out.push_str(
        "<th class=\"n\">达标月数</th><th class=\"n\">全年达标</th></tr></thead><tbody><tr>",
    );
    for s in &y.yearly_items {
        status_cell(out, s)?;
    }
    write!(
        out,
        "<td class=\"n\">{}/{}</td><td class=\"n\">{}</td></tr></tbody></table>",
        y.compliant_months,
        y.through_month,
        if y.fully_compliant { "是" } else { "否" }
    )
}

/// The note under a list that the archive cut at [`MAX_LISTED`] rows.
fn write_cut(out: &mut String, listed: usize, total: u64) -> std::fmt::Result {
    if listed as u64 == MAX_LISTED && total > MAX_LISTED {
        write!(
            out,
            "<p class=\"note\">仅列出前 {MAX_LISTED} 条，共 {total} 条。</p>"
        )?;
    }
    Ok(())
}

fn write_activities(out: &mut String, a: &Archive) -> std::fmt::Result {
    out.push_str("<h2>履职活动</h2>");
    if a.activities.is_empty() {
        out.push_str("<p class=\"note\">本年度无记录。</p>");
        return Ok(());
    }
    out.push_str("<table><thead><tr><th>日期</th><th>类别</th><th>活动</th><th class=\"n\">听取群众</th></tr></thead><tbody>");
    for act in &a.activities {
        write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}",
            act.occurred_on,
            activity_kind_zh(act.kind),
            e(&act.title)
        )?;
        // The activity's photos: thumbnails carried in the page (`data:` URLs).
        if let Some(photos) = a.photos.get(&act.id).filter(|p| !p.is_empty()) {
            out.push_str("<figure class=\"photos\">");
            for url in photos {
                write!(out, "<img src=\"{}\" alt=\"\">", e(url))?;
            }
            out.push_str("</figure>");
        }
        write!(out, "</td><td class=\"n\">{}</td></tr>", act.citizens_heard)?;
    }
    out.push_str("</tbody></table>");
    write_cut(out, a.activities.len(), a.counts.activities)
}

fn write_items(out: &mut String, a: &Archive) -> std::fmt::Result {
    out.push_str("<h2>收集的社情民意</h2>");
    if a.items.is_empty() {
        out.push_str("<p class=\"note\">本年度无记录。</p>");
        return Ok(());
    }
    out.push_str("<table><thead><tr><th>日期</th><th>受理编号</th><th>事项</th><th>状态</th></tr></thead><tbody>");
    for item in &a.items {
        write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            local_date(item.collected_at),
            e(&item.tracking_code),
            e(&item.title),
            state_zh(item.state)
        )?;
    }
    out.push_str("</tbody></table>");
    write_cut(out, a.items.len(), a.counts.opinion_items_collected)
}

fn write_suggestions(out: &mut String, a: &Archive) -> std::fmt::Result {
    out.push_str("<h2>意见建议</h2>");
    if a.suggestions.is_empty() {
        out.push_str("<p class=\"note\">本年度无记录。</p>");
        return Ok(());
    }
    out.push_str(
        "<table><thead><tr><th>日期</th><th>建议</th><th>办理结果</th></tr></thead><tbody>",
    );
    for s in &a.suggestions {
        write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            local_date(s.submitted_at),
            e(&s.title),
            adoption_zh(s.adoption)
        )?;
    }
    out.push_str("</tbody></table>");
    write_cut(out, a.suggestions.len(), a.counts.suggestions_made)
}

fn write_stories(out: &mut String, a: &Archive) -> std::fmt::Result {
    out.push_str("<h2>履职故事</h2>");
    if a.stories.is_empty() {
        out.push_str("<p class=\"note\">本年度无发表。</p>");
        return Ok(());
    }
    out.push_str("<table><thead><tr><th>发表日期</th><th>标题</th></tr></thead><tbody>");
    for s in &a.stories {
        let day = s
            .published_at
            .map(|t| local_date(t).to_string())
            .unwrap_or_default();
        write!(out, "<tr><td>{day}</td><td>{}</td></tr>", e(&s.title))?;
    }
    out.push_str("</tbody></table>");
    write_cut(out, a.stories.len(), a.counts.stories_published)
}
