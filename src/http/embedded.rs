//! Files built into the binary and served by name: GraphiQL's and the dashboard's
//! vendored scripts and styles.
use poem::http::{header, StatusCode};
use poem::Response;

/// An embedded file: name, media type, body.
pub type Asset = (&'static str, &'static str, &'static [u8]);

/// `name` from `assets`, cacheable for an hour (a new binary may carry new versions);
/// 404 `no such {what} file` otherwise.
pub fn serve(assets: &[Asset], name: &str, what: &str) -> Response {
    match assets.iter().find(|(file, _, _)| *file == name) {
        Some((_, media_type, body)) => Response::builder()
            .content_type(*media_type)
            .header(header::CACHE_CONTROL, "public, max-age=3600")
            .header("x-content-type-options", "nosniff")
            .body(*body),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(format!("no such {what} file")),
    }
}

/// Whether a page's `src`/`href` value is one of `assets` under `prefix`.
#[cfg(test)]
pub fn is_served(assets: &[Asset], prefix: &str, reference: &str) -> bool {
    reference
        .strip_prefix(prefix)
        .is_some_and(|file| assets.iter().any(|(name, _, _)| *name == file))
}
