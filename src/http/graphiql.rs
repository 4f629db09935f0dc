//! GraphiQL at `/` (not in production), served entirely from the binary: the page,
//! its start-up script and the vendored GraphiQL, React and React DOM files
//! (`assets/graphiql/`, versions in its README). No request leaves the server, so the
//! IDE works where the public CDNs cannot be reached.
use poem::web::{Html, Path};
use poem::{handler, Response};

use super::embedded::{self, Asset};

const PAGE: &str = include_str!("pages/graphiql.html");

/// `/graphiql/{file}`: name, media type, body.
const ASSETS: &[Asset] = &[
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "start.js",
        "text/javascript; charset=utf-8",
        include_bytes!("pages/graphiql.js"),
    ),
];

#[handler]
pub fn page() -> Html<&'static str> {
    Html(PAGE)
}

#[handler]
pub fn asset(Path(name): Path<String>) -> Response {
    embedded::serve(ASSETS, &name, "GraphiQL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_files_served_here() {
        for (attribute, rest) in PAGE.split(['"', '\'']).zip(PAGE.split(['"', '\'']).skip(1)) {
            if attribute.ends_with("src=") || attribute.ends_with("href=") {
                let served = rest == "data:," || embedded::is_served(ASSETS, "/graphiql/", rest);
                assert!(served, "{rest} is not served by the binary");
            }
        }
        assert!(!PAGE.contains("//"), "no absolute or protocol-relative URL");
    }
}
