//! Addresses of the pages and images served to citizens, in one place: the HTTP layer
//! routes them ([`route`]) and the GraphQL layer hands out their full URLs (a deputy's
//! `qrCodeUrl` and `messagePageUrl`), so the two cannot drift apart.

/// Route patterns as the HTTP router takes them (`:code` is the path parameter).
pub mod route {
    pub const DEPUTY_QR_PNG: &str = "/deputies/:code/qr.png";
    pub const DEPUTY_QR_SVG: &str = "/deputies/:code/qr.svg";
    pub const DEPUTY_CARD_SVG: &str = "/deputies/:code/card.svg";
    /// The printable duty archive; `:code` is the deputy's global id here.
    pub const DEPUTY_ARCHIVE: &str = "/deputies/:code/archive/:year";
    pub const DEPUTY_MESSAGE_PAGE: &str = "/m/d/:code";
    pub const TRACK_LOOKUP_PAGE: &str = "/m/t";
    pub const TRACK_PAGE: &str = "/m/t/:code";
    pub const FILE: &str = "/files/:code";
    pub const FILE_THUMBNAIL: &str = "/files/:code/thumbnail";
}

/// `pattern` under `public_base_url`, with `:code` replaced.
fn url(public_base_url: &str, pattern: &str, code: &str) -> String {
    format!(
        "{}{}",
        public_base_url.trim_end_matches('/'),
        pattern.replace(":code", code)
    )
}

/// The message page a deputy's QR code opens.
pub fn message_page_url(public_base_url: &str, code: &str) -> String {
    url(public_base_url, route::DEPUTY_MESSAGE_PAGE, code)
}

/// The tracking page of an item (what a template message links to).
pub fn tracking_page_url(public_base_url: &str, tracking_code: &str) -> String {
    url(public_base_url, route::TRACK_PAGE, tracking_code)
}

/// The deputy's QR code image (PNG; `qr.svg` and `card.svg` sit beside it).
pub fn qr_code_url(public_base_url: &str, code: &str) -> String {
    url(public_base_url, route::DEPUTY_QR_PNG, code)
}

/// An attachment's file, served to those who may see what it is attached to.
pub fn file_url(public_base_url: &str, id: &str) -> String {
    url(public_base_url, route::FILE, id)
}

/// An image attachment's thumbnail.
pub fn file_thumbnail_url(public_base_url: &str, id: &str) -> String {
    url(public_base_url, route::FILE_THUMBNAIL, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_the_public_base() {
        assert_eq!(
            message_page_url("https://npc.example.cn/", "AB23CD45"),
            "https://npc.example.cn/m/d/AB23CD45"
        );
        assert_eq!(
            tracking_page_url("https://npc.example.cn/", "HS2612ABCDEF"),
            "https://npc.example.cn/m/t/HS2612ABCDEF"
        );
        assert_eq!(
            qr_code_url("https://npc.example.cn", "AB23CD45"),
            "https://npc.example.cn/deputies/AB23CD45/qr.png"
        );
    }
}
