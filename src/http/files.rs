//! `GET /files/{id}` and `/files/{id}/thumbnail`: an attachment's bytes, for exactly
//! those who may see what it is attached to (`service::attachments::open`; the bearer
//! token as on `/graphql`). Anyone else gets the 404 of a missing file. The images of
//! a published story are public: no token needed, and shared caches may keep them. The answer is
//! never sniffed or run by a browser: `nosniff`, a sandboxing CSP, and a PDF is a
//! download.
use poem::http::header;
use poem::web::{Data, Path};
use poem::{handler, Request, Response};

use super::graphql::{actor_of, client_of, error_reply};
use super::media::ResponseMedia;
use crate::service::attachments;
use crate::state::AppState;
use crate::storage::Variant;

#[handler]
pub async fn file(req: &Request, Path(id): Path<String>, state: Data<&AppState>) -> Response {
    serve(req, &id, Variant::Original, &state).await
}

#[handler]
pub async fn thumbnail(req: &Request, Path(id): Path<String>, state: Data<&AppState>) -> Response {
    serve(req, &id, Variant::Thumbnail, &state).await
}

async fn serve(req: &Request, id: &str, variant: Variant, state: &AppState) -> Response {
    let actor = match actor_of(req, state).await {
        Ok(actor) => actor,
        Err(reply) => return reply.into_response(ResponseMedia::Json),
    };
    let client = client_of(req, state.settings.trust_proxy_headers);
    let ctx = state.ctx(&actor, &client);
    match attachments::open(&ctx, id, variant).await {
        Ok(attachments::Opened {
            content_type,
            bytes,
            public,
        }) => {
            let disposition = if content_type == "application/pdf" {
                format!("attachment; filename=\"{id}.pdf\"")
            } else {
                "inline".to_owned()
            };
            Response::builder()
                .content_type(content_type)
                .header("X-Content-Type-Options", "nosniff")
                .header("Content-Security-Policy", "default-src 'none'; sandbox")
                .header(header::CONTENT_DISPOSITION, disposition)
                // A published story's image is everyone's; anything else is per
                // person: a shared cache must not hand it to someone else.
                .header(
                    header::CACHE_CONTROL,
                    if public {
                        "public, max-age=86400"
                    } else {
                        "private, max-age=300"
                    },
                )
                .body(bytes)
        }
        Err(error) => error_reply(error).into_response(ResponseMedia::Json),
    }
}
