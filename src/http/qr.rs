//! A deputy's personal QR code (专属二维码): `/deputies/{code}/qr.png`, `qr.svg` and a
//! printable card `card.svg`. The code carries `{PUBLIC_BASE_URL}/m/d/{code}`, the
//! mobile message page; the deputy's public code is random and stable, so the images
//! are cached. Unknown or malformed codes are 404 with a short text body.
use entity::{deputy, CongressLevel};
use poem::http::{header, StatusCode};
use poem::web::{Data, Path};
use poem::{handler, Request, Response};
use qrcode::{Color, EcLevel, QrCode};
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::links::message_page_url;
use crate::service::org;
use crate::state::AppState;

/// Pixels per module in the PNG, and the quiet zone in modules (the standard's 4).
const PNG_MODULE_PX: usize = 10;
const QUIET_ZONE: usize = 4;

/// Images never change for a code, but `PUBLIC_BASE_URL` might: a week, revalidated by ETag.
const IMAGE_CACHE: &str = "public, max-age=604800";
/// The card shows the name and station, which staff may edit.
const CARD_CACHE: &str = "public, max-age=3600";

/// The module matrix of a QR code: `width`² modules, row-major, `true` for dark.
pub struct Matrix {
    pub width: usize,
    pub dark: Vec<bool>,
}

impl Matrix {
    /// Medium error correction (15%): survives a scuffed printed card.
    pub fn encode(data: &str) -> Option<Matrix> {
        let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).ok()?;
        let width = code.width();
        let dark = code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        Some(Matrix { width, dark })
    }

    fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }

    /// An SVG path of the dark modules (one unit per module, quiet zone included in
    /// the offsets), horizontal runs merged: `M{x} {y}h{n}v1h-{n}z`.
    fn svg_path(&self, offset: usize) -> String {
        let mut d = String::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < self.width && self.is_dark(x, y) {
                    x += 1;
                }
                let run = x - start;
                d.push_str(&format!(
                    "M{} {}h{run}v1h-{run}z",
                    start + offset,
                    y + offset
                ));
            }
        }
        d
    }
}

/// A 1-bit greyscale PNG of the code with its quiet zone.
pub fn png(data: &str) -> Option<Vec<u8>> {
    let matrix = Matrix::encode(data)?;
    let modules = matrix.width + 2 * QUIET_ZONE;
    let side = modules * PNG_MODULE_PX;
    let row_bytes = side.div_ceil(8);
    let mut pixels = vec![0xFFu8; row_bytes * side];
    for y in 0..side {
        let my = (y / PNG_MODULE_PX).checked_sub(QUIET_ZONE);
        for x in 0..side {
            let mx = (x / PNG_MODULE_PX).checked_sub(QUIET_ZONE);
            let dark = match (mx, my) {
                (Some(mx), Some(my)) if mx < matrix.width && my < matrix.width => {
                    matrix.is_dark(mx, my)
                }
                _ => false,
            };
            if dark {
                pixels[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
            }
        }
    }
    let mut out = Vec::with_capacity(2048);
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().ok()?;
    writer.write_image_data(&pixels).ok()?;
    writer.finish().ok()?;
    Some(out)
}

/// A standalone SVG of the code (scales to any print size).
pub fn svg(data: &str) -> Option<String> {
    let matrix = Matrix::encode(data)?;
    let size = matrix.width + 2 * QUIET_ZONE;
    Some(format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="{px}" height="{px}" shape-rendering="crispEdges" role="img">"#,
            "<title>{title}</title>",
            r##"<rect width="{size}" height="{size}" fill="#fff"/>"##,
            r##"<path fill="#000" d="{path}"/>"##,
            "</svg>\n"
        ),
        size = size,
        px = size * PNG_MODULE_PX,
        title = xml_escape(data),
        path = matrix.svg_path(QUIET_ZONE),
    ))
}

/// 全国/省/市/县/乡镇人大代表
pub fn level_label(level: CongressLevel) -> &'static str {
    match level {
        CongressLevel::National => "全国人大代表",
        CongressLevel::Provincial => "省人大代表",
        CongressLevel::Municipal => "市人大代表",
        CongressLevel::County => "县人大代表",
        CongressLevel::Township => "乡镇人大代表",
    }
}

/// A printable contact card (about A6, 105 × 148 mm): name, level, station, the QR
/// code and the public code for those who type it in.
pub fn card_svg(deputy: &deputy::Model, stations: &[String], url: &str) -> Option<String> {
    let matrix = Matrix::encode(url)?;
    // The QR code with its quiet zone, 200 units wide, centred on a 300-unit card.
    let modules = matrix.width + 2 * QUIET_ZONE;
    let qr_side = 200.0;
    let scale = qr_side / modules as f64;
    let station_line = if stations.is_empty() {
        String::new()
    } else {
        format!("驻站：{}", stations.join("、"))
    };
    // Shrink long station names to fit 270 units (a CJK glyph is about 1 em wide).
    let station_size = fit_font_size(&station_line, 270.0, 15.0);
    let name_size = fit_font_size(&deputy.name, 260.0, 34.0);
    Some(format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 424" width="105mm" height="148.4mm" role="img" "#,
            r#"font-family="'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif">"#,
            "<title>{name} {level} 联系卡</title>",
            r##"<rect width="300" height="424" fill="#fff"/>"##,
            r##"<rect width="300" height="56" fill="#b71c1c"/>"##,
            r##"<text x="150" y="36" text-anchor="middle" font-size="20" font-weight="700" fill="#fff" letter-spacing="2">智慧人大 · 代表联系卡</text>"##,
            r##"<text x="150" y="104" text-anchor="middle" font-size="{name_size:.1}" font-weight="700" fill="#1a1a1a">{name}</text>"##,
            r##"<text x="150" y="134" text-anchor="middle" font-size="16" fill="#333">{level}</text>"##,
            r##"<text x="150" y="160" text-anchor="middle" font-size="{station_size:.1}" fill="#333">{station}</text>"##,
            r##"<g transform="translate(50 172) scale({scale:.4})" shape-rendering="crispEdges"><rect width="{modules}" height="{modules}" fill="#fff"/><path fill="#000" d="{path}"/></g>"##,
            r##"<text x="150" y="388" text-anchor="middle" font-size="18" font-weight="700" fill="#b71c1c">微信扫一扫 · 给代表留言</text>"##,
            r##"<text x="150" y="409" text-anchor="middle" font-size="11" fill="#555">代表编码 {code}</text>"##,
            "</svg>\n"
        ),
        name = xml_escape(&deputy.name),
        level = level_label(deputy.level),
        station = xml_escape(&station_line),
        name_size = name_size,
        station_size = station_size,
        scale = scale,
        modules = modules,
        path = matrix.svg_path(QUIET_ZONE),
        code = xml_escape(&deputy.code),
    ))
}

fn fit_font_size(text: &str, width: f64, max: f64) -> f64 {
    let ems: f64 = text
        .chars()
        .map(|c| if c.is_ascii() { 0.55 } else { 1.0 })
        .sum();
    if ems <= 0.0 {
        max
    } else {
        (width / ems).clamp(8.0, max)
    }
}

pub(super) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

// ------------------------------------------------------------------ HTTP

/// The deputy with this public code. `Ok(None)` for unknown or malformed codes;
/// `Err` (a 500 already built and logged) when the database fails.
pub(super) async fn find_deputy(
    state: &AppState,
    code: &str,
) -> Result<Option<deputy::Model>, Response> {
    match org::deputy_by_code(&state.db, code).await {
        Ok(found) => Ok(found),
        Err(AppError::BadUserInput { .. }) => Ok(None),
        Err(error) => {
            tracing::error!(?error, "deputy lookup failed");
            Err(text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务器内部错误，请稍后再试 (internal error)\n",
            ))
        }
    }
}

pub(super) fn text(status: StatusCode, body: &'static str) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/plain; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(body)
}

fn no_such_deputy() -> Response {
    text(StatusCode::NOT_FOUND, "未找到该代表 (no such deputy)\n")
}

/// A cacheable response with a strong ETag; `304 Not Modified` when the client has it.
pub(super) fn cached(
    req: &Request,
    body: Vec<u8>,
    content_type: &'static str,
    cache_control: &'static str,
) -> Response {
    let digest = Sha256::digest(&body);
    let etag = format!("\"{}\"", hex::encode(&digest[..12]));
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "*" || v.split(',').any(|t| t.trim() == etag));
    let builder = Response::builder()
        .header(header::CACHE_CONTROL, cache_control)
        .header(header::ETAG, etag)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if fresh {
        builder.status(StatusCode::NOT_MODIFIED).finish()
    } else {
        builder.content_type(content_type).body(body)
    }
}

fn image_failed() -> Response {
    tracing::error!("QR code could not be encoded");
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "二维码生成失败 (QR encoding failed)\n",
    )
}

#[handler]
pub async fn qr_png(req: &Request, Path(code): Path<String>, state: Data<&AppState>) -> Response {
    let deputy = match find_deputy(&state, &code).await {
        Ok(Some(d)) => d,
        Ok(None) => return no_such_deputy(),
        Err(response) => return response,
    };
    match png(&message_page_url(
        &state.settings.public_base_url,
        &deputy.code,
    )) {
        Some(bytes) => cached(req, bytes, "image/png", IMAGE_CACHE),
        None => image_failed(),
    }
}

#[handler]
pub async fn qr_svg(req: &Request, Path(code): Path<String>, state: Data<&AppState>) -> Response {
    let deputy = match find_deputy(&state, &code).await {
        Ok(Some(d)) => d,
        Ok(None) => return no_such_deputy(),
        Err(response) => return response,
    };
    match svg(&message_page_url(
        &state.settings.public_base_url,
        &deputy.code,
    )) {
        Some(svg) => cached(req, svg.into_bytes(), "image/svg+xml", IMAGE_CACHE),
        None => image_failed(),
    }
}

#[handler]
pub async fn card_svg_handler(
    req: &Request,
    Path(code): Path<String>,
    state: Data<&AppState>,
) -> Response {
    let deputy = match find_deputy(&state, &code).await {
        Ok(Some(d)) => d,
        Ok(None) => return no_such_deputy(),
        Err(response) => return response,
    };
    let stations = match org::stations_by_deputy(&state.db, &[deputy.id]).await {
        Ok(mut by_deputy) => by_deputy
            .remove(&deputy.id)
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.name)
            .collect::<Vec<_>>(),
        Err(error) => {
            tracing::error!(?error, "station lookup failed");
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务器内部错误，请稍后再试 (internal error)\n",
            );
        }
    };
    let url = message_page_url(&state.settings.public_base_url, &deputy.code);
    match card_svg(&deputy, &stations, &url) {
        Some(svg) => cached(req, svg.into_bytes(), "image/svg+xml", CARD_CACHE),
        None => image_failed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_has_the_signature_and_the_quiet_zone() {
        let bytes = png("https://npc.example.cn/m/d/AB23CD45").expect("encodes");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert!(bytes.len() > 200, "{}", bytes.len());
    }

    #[test]
    fn svg_runs_cover_every_dark_module() {
        let matrix = Matrix::encode("https://npc.example.cn/m/d/AB23CD45").expect("encodes");
        let dark = matrix.dark.iter().filter(|d| **d).count();
        let path = matrix.svg_path(0);
        let covered: usize = path
            .split('h')
            .skip(1)
            .step_by(2)
            .map(|run| {
                run.split('v')
                    .next()
                    .unwrap_or("0")
                    .parse::<usize>()
                    .unwrap_or(0)
            })
            .sum();
        assert_eq!(covered, dark);
    }

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(xml_escape("<a&'\">"), "&lt;a&amp;&#39;&quot;&gt;");
    }

    #[test]
    fn long_station_lines_shrink() {
        assert_eq!(fit_font_size("滨河社区", 270.0, 15.0), 15.0);
        assert!(fit_font_size(&"站".repeat(30), 270.0, 15.0) < 10.0);
    }
}
