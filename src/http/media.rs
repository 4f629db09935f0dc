//! Content negotiation for GraphQL over HTTP.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseMedia {
    /// `application/json`: 200 for every well-formed request (legacy clients).
    Json,
    /// `application/graphql-response+json`: status codes reflect request errors.
    GraphqlResponse,
}

impl ResponseMedia {
    pub fn content_type(self) -> &'static str {
        match self {
            ResponseMedia::Json => "application/json; charset=utf-8",
            ResponseMedia::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// Picks the response media type from an `Accept` header; `None` means nothing we can
/// produce is acceptable (406). A missing header means `application/json`.
pub fn negotiate(accept: Option<&str>) -> Option<ResponseMedia> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(ResponseMedia::Json);
    };
    let mut best: Option<(f32, ResponseMedia)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if quality <= 0.0 {
            continue;
        }
        let candidate = match media.as_str() {
            "application/graphql-response+json" => ResponseMedia::GraphqlResponse,
            "application/json" | "application/*" | "*/*" => ResponseMedia::Json,
            _ => continue,
        };
        let better = match best {
            None => true,
            Some((q, current)) => {
                quality > q
                    || (quality == q
                        && candidate == ResponseMedia::GraphqlResponse
                        && current != candidate)
            }
        };
        if better {
            best = Some((quality, candidate));
        }
    }
    best.map(|(_, media)| media)
}

/// Whether a request `Content-Type` is JSON (parameters such as charset allowed).
pub fn is_json_content_type(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().eq_ignore_ascii_case("application/json"))
        .unwrap_or(false)
}

/// `multipart/form-data`: the GraphQL multipart request (uploads).
pub fn is_multipart_content_type(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().eq_ignore_ascii_case("multipart/form-data"))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_the_spec() {
        assert_eq!(negotiate(None), Some(ResponseMedia::Json));
        assert_eq!(negotiate(Some("*/*")), Some(ResponseMedia::Json));
        assert_eq!(
            negotiate(Some("application/json")),
            Some(ResponseMedia::Json)
        );
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(ResponseMedia::GraphqlResponse)
        );
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(ResponseMedia::Json)
        );
        assert_eq!(negotiate(Some("text/html")), None);
        assert_eq!(negotiate(Some("application/json;q=0")), None);
    }

    #[test]
    fn json_content_type_allows_parameters() {
        assert!(is_json_content_type(Some(
            "application/json; charset=utf-8"
        )));
        assert!(!is_json_content_type(Some("text/plain")));
        assert!(!is_json_content_type(None));
    }
}
