//! GraphQL over HTTP (graphql/graphql-over-http): POST with a JSON body, GET with URL
//! parameters (queries only: a mutation over GET is 405), response media negotiated
//! from `Accept`, status codes per the spec, a capped batch form.
//!
//! Why our own handler rather than async-graphql-poem's `GraphQL` endpoint: that one
//! answers 200 for everything, where the spec wants 400 for a request that fails before
//! execution under `application/graphql-response+json` (and no `data` entry), 405 with
//! `Allow` for a mutation over GET, 406 for an `Accept` we cannot serve and 401 with
//! `WWW-Authenticate` for a bad token; and the request must be checked before anything
//! parses it (the text budget, the batch cap, the `Idempotency-Key` rules), run under
//! `REQUEST_TIMEOUT_MS` (503 when it runs over), and carry the actor, client and
//! per-request DataLoaders this handler puts in its data.
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, Variables};
use poem::http::{header, Method, StatusCode};
use poem::web::{Data, Query};
use poem::{handler, Body, Request, Response};
use serde_json::{json, Map, Value};

use super::media::{is_json_content_type, is_multipart_content_type, negotiate, ResponseMedia};
use super::multipart;
use super::write_outcome::{self, within, Ran};
use super::HttpState;
use crate::auth::{Actor, ClientInfo};
use crate::db::write::WriteWatch;
use crate::error::AppError;
use crate::graphql::budget;
use crate::graphql::extensions::CREDENTIAL_FIELDS;
use crate::graphql::persisted::{PersistedQueries, Refusal};
use crate::graphql::{loaders, AppSchema};
use crate::service::accounts;
use crate::service::support::idempotency::HeaderKey;
use crate::state::AppState;

/// The most operations one batched POST may carry.
pub const MAX_BATCH: usize = 10;

/// Engine codes for failures before execution: the response then has no `data`.
const REQUEST_ERROR_CODES: &[&str] = &[
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "QUERY_TOO_DEEP",
    "QUERY_TOO_COMPLEX",
    "BAD_REQUEST",
    "OPERATION_RESOLUTION_FAILURE",
    "OPERATION_NOT_SUPPORTED",
];

/// Request errors where no operation could be chosen to run on this transport: 400
/// whatever the media type (a client that sends them has a bug to see, not a GraphQL
/// result to render).
const ALWAYS_400_CODES: &[&str] = &["OPERATION_RESOLUTION_FAILURE", "OPERATION_NOT_SUPPORTED"];

pub(super) struct Reply {
    status: StatusCode,
    body: Value,
    allow: Option<&'static str>,
    www_authenticate: bool,
    /// `Cache-Control: private, no-cache, must-revalidate` (persisted-query misses).
    no_cache: bool,
    /// `Retry-After` (seconds): a plain route's answer to a limit or a busy database.
    retry_after: Option<u64>,
}

impl Reply {
    fn bad_request(message: &str) -> Self {
        Reply::error(StatusCode::BAD_REQUEST, message, "BAD_REQUEST")
    }

    pub(super) fn error(status: StatusCode, message: &str, code: &str) -> Self {
        Reply {
            status,
            body: json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }),
            allow: None,
            www_authenticate: false,
            no_cache: false,
            retry_after: None,
        }
    }

    /// A persisted-query refusal, with Apollo Server's status and caching.
    fn refused(refusal: Refusal) -> Self {
        Reply {
            status: StatusCode::from_u16(refusal.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            body: json!({ "errors": [refusal.error_json()] }),
            allow: None,
            www_authenticate: false,
            no_cache: refusal.uncacheable(),
            retry_after: None,
        }
    }

    pub(super) fn into_response(self, media: ResponseMedia) -> Response {
        let mut builder = Response::builder()
            .status(self.status)
            .content_type(media.content_type());
        if let Some(allow) = self.allow {
            builder = builder.header(header::ALLOW, allow);
        }
        if self.www_authenticate {
            builder = builder.header(header::WWW_AUTHENTICATE, "Bearer");
        }
        if self.no_cache {
            builder = builder.header(header::CACHE_CONTROL, "private, no-cache, must-revalidate");
        }
        if let Some(secs) = self.retry_after {
            builder = builder.header(header::RETRY_AFTER, secs);
        } else if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // TIMEOUT and UNAVAILABLE: when to try again (`extensions.retryAfter` too).
            builder = builder.header(
                header::RETRY_AFTER,
                crate::error::UNAVAILABLE_RETRY_AFTER_SECS,
            );
        }
        builder.body(
            Body::from_json(&self.body).unwrap_or_else(|_| Body::from_string("{}".to_owned())),
        )
    }
}

fn media_or_406(req: &Request) -> Result<ResponseMedia, Box<Response>> {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    negotiate(accept).ok_or_else(|| {
        Reply::error(
            StatusCode::NOT_ACCEPTABLE,
            "Accept must allow application/graphql-response+json or application/json",
            "NOT_ACCEPTABLE",
        )
        .into_response(ResponseMedia::Json)
        .into()
    })
}

/// Reads one `{query, operationName, variables, extensions}` object, checking types.
fn parse_params(params: &Map<String, Value>) -> Result<async_graphql::Request, Reply> {
    let query = match params.get("query") {
        Some(Value::String(q)) => q.clone(),
        Some(_) => return Err(Reply::bad_request("`query` must be a string")),
        None => return Err(Reply::bad_request("`query` is required")),
    };
    // Bounded before anything parses it (GET and batches parse it here already).
    if let Err(over) = budget::check_text(&query, &budget::LIMITS) {
        return Err(Reply::error(
            StatusCode::BAD_REQUEST,
            &over.message(&budget::LIMITS),
            over.code(),
        ));
    }
    if multipart::document_forges_upload(&query) {
        return Err(Reply::bad_request(
            "a file is sent as a multipart request, not in the document",
        ));
    }
    let mut request = async_graphql::Request::new(query);
    match params.get("operationName") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => request = request.operation_name(name.clone()),
        Some(_) => return Err(Reply::bad_request("`operationName` must be a string")),
    }
    match params.get("variables") {
        None | Some(Value::Null) => {}
        Some(v) if multipart::forges_upload(v) => {
            return Err(Reply::bad_request(
                "a file is sent as a multipart request, not in `variables`",
            ))
        }
        Some(v @ Value::Object(_)) => request = request.variables(Variables::from_json(v.clone())),
        Some(_) => return Err(Reply::bad_request("`variables` must be an object")),
    }
    match params.get("extensions") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (key, value) in map {
                let value = async_graphql::Value::from_json(value.clone())
                    .map_err(|_| Reply::bad_request("`extensions` is not valid"))?;
                request.extensions.insert(key.clone(), value);
            }
        }
        Some(_) => return Err(Reply::bad_request("`extensions` must be an object")),
    }
    Ok(request)
}

fn is_request_error(response: &async_graphql::Response) -> bool {
    if response.errors.is_empty() || response.data != async_graphql::Value::Null {
        return false;
    }
    response.errors.iter().all(|e| {
        match e.extensions.as_ref().and_then(|ext| ext.get("code")) {
            Some(async_graphql::Value::String(code)) => {
                REQUEST_ERROR_CODES.contains(&code.as_str())
            }
            // Uncoded errors only survive from before execution (see ErrorCodes).
            None => true,
            Some(_) => false,
        }
    })
}

/// How a response failed, if it did before execution.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Failure {
    None,
    /// Parsing or validation: 400 as `application/graphql-response+json`.
    Request,
    /// No operation to run here: 400 for every media type.
    NoOperation,
}

/// A single response as JSON: no `data` entry when the request failed before execution.
fn response_json(response: &async_graphql::Response) -> (Value, Failure) {
    let failure = if !is_request_error(response) {
        Failure::None
    } else if response.errors.iter().any(|e| {
        matches!(
            e.extensions.as_ref().and_then(|ext| ext.get("code")),
            Some(async_graphql::Value::String(code)) if ALWAYS_400_CODES.contains(&code.as_str())
        )
    }) {
        Failure::NoOperation
    } else {
        Failure::Request
    };
    let mut body = serde_json::to_value(response).unwrap_or_else(|_| json!({}));
    if let (Failure::Request | Failure::NoOperation, Value::Object(map)) = (failure, &mut body) {
        map.remove("data");
    }
    (body, failure)
}

fn status_for(media: ResponseMedia, failure: Failure) -> StatusCode {
    match (media, failure) {
        (_, Failure::NoOperation) => StatusCode::BAD_REQUEST,
        (ResponseMedia::GraphqlResponse, Failure::Request) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

/// A use case's error as the answer of a plain HTTP route (`/files`, `/exports`,
/// `/deputies/{id}/archive/{year}`): the status its kind calls for and the GraphQL error
/// body with its stable code (and the field of a bad input). A busy database or two
/// writers meeting is 503 and a rate limit 429, both with `Retry-After`: the same
/// request may pass later, where a 400 would say it never will.
pub(super) fn error_reply(error: AppError) -> Reply {
    let status = match &error {
        AppError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unavailable | AppError::Contention => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Conflict(_) | AppError::InvalidTransition(_) => StatusCode::CONFLICT,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        AppError::BadUserInput { .. } => StatusCode::BAD_REQUEST,
    };
    let retry_after = error.retry_after_secs();
    let error = error.into_graphql();
    let extensions = error
        .extensions
        .map(|e| serde_json::to_value(e).unwrap_or_default());
    Reply {
        status,
        body: json!({ "errors": [{ "message": error.message, "extensions": extensions }] }),
        allow: None,
        www_authenticate: false,
        no_cache: true,
        retry_after,
    }
}

/// The actor behind the request's bearer token; anonymous without one.
pub(super) async fn actor_of(req: &Request, state: &AppState) -> Result<Actor, Reply> {
    let Some(header) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(Actor::Anonymous);
    };
    let token = header
        .to_str()
        .ok()
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let result = match token {
        Some(token) => accounts::actor_for_token(&state.db, &state.auth, token).await,
        None => Err(AppError::unauthenticated(
            "TOKEN_INVALID",
            "Authorization 须为 Bearer 令牌 (expected a Bearer token)",
        )),
    };
    result.map_err(|error| {
        let status = match &error {
            AppError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            // No connection for the session check in time: retryable, like TIMEOUT.
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let graphql = error.into_graphql();
        Reply {
            status,
            body: json!({ "errors": [{ "message": graphql.message, "extensions": graphql.extensions }] }),
            allow: None,
            www_authenticate: status == StatusCode::UNAUTHORIZED,
            no_cache: false,
            retry_after: None,
        }
    })
}

/// The caller's address: the socket peer, or the first `X-Forwarded-For` hop when
/// the deployment says a trusted proxy sets it.
pub fn client_of(req: &Request, trust_proxy_headers: bool) -> ClientInfo {
    let forwarded = trust_proxy_headers
        .then(|| req.headers().get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    let peer = || match req.remote_addr().as_socket_addr() {
        Some(addr) => addr.ip().to_string(),
        None => String::new(),
    };
    ClientInfo {
        ip: forwarded.unwrap_or_else(peer),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// An operation that ran past `REQUEST_TIMEOUT_MS` was stopped: 503. Retryable unless
/// a write of it was committed, which `extensions.writeCommitted` then says.
fn timed_out(timeout: std::time::Duration, write_committed: bool) -> Reply {
    tracing::warn!(
        timeout_ms = timeout.as_millis() as u64,
        write_committed,
        "operation timed out"
    );
    let mut reply = Reply::error(
        StatusCode::SERVICE_UNAVAILABLE,
        write_outcome::timeout_message(write_committed),
        "TIMEOUT",
    );
    if write_committed {
        reply.body["errors"][0]["extensions"]["writeCommitted"] = json!(true);
    }
    reply
}

/// The `Idempotency-Key` header: it applies to the request's one mutation field, so a
/// batch, or a mutation with several root fields, is refused (BAD_REQUEST); a key that
/// is not 1 to 128 characters of `A-Z a-z 0-9 _ - : .` is BAD_USER_INPUT.
fn idempotency_header(req: &Request, batch: &BatchRequest) -> Result<Option<HeaderKey>, Reply> {
    let Some(raw) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let invalid = || {
        Reply::error(
            StatusCode::BAD_REQUEST,
            "Idempotency-Key 须为1-128个字母、数字或 _-:. (1 to 128 characters of A-Z a-z 0-9 _ - : .)",
            "BAD_USER_INPUT",
        )
    };
    let key = raw.to_str().map_err(|_| invalid())?;
    crate::domain::idempotency::validate_key("Idempotency-Key", key).map_err(|_| invalid())?;
    let BatchRequest::Single(request) = batch else {
        return Err(Reply::bad_request(
            "Idempotency-Key 不能用于批量请求 (the Idempotency-Key header applies to one mutation; not to a batch)",
        ));
    };
    if let Ok(document) = async_graphql::parser::parse_query(&request.query) {
        let mut operations = document.operations.iter();
        let operation = match request.operation_name.as_deref() {
            Some(name) => operations.find(|(n, _)| n.map(|n| n.as_str()) == Some(name)),
            None => operations.next(),
        };
        if let Some((_, operation)) = operation {
            let items = &operation.node.selection_set.node.items;
            let one_field = items.len() == 1
                && matches!(
                    items[0].node,
                    async_graphql::parser::types::Selection::Field(_)
                );
            if operation.node.ty == OperationType::Mutation && !one_field {
                return Err(Reply::bad_request(
                    "Idempotency-Key 只适用于单个变更字段 (the Idempotency-Key header applies to a request with exactly one mutation field; send one per request, or use the idempotencyKey argument per field)",
                ));
            }
        }
    }
    Ok(Some(HeaderKey(key.to_owned())))
}

async fn execute(
    req: &Request,
    state: &AppState,
    schema: &AppSchema,
    batch: BatchRequest,
    media: ResponseMedia,
) -> Reply {
    let actor = match actor_of(req, state).await {
        Ok(actor) => actor,
        Err(reply) => return reply,
    };
    if let Some(principal) = actor.principal() {
        // On the request's span (`request_log`): the account, never its token or login.
        tracing::Span::current().record("account_id", principal.account_id);
    }
    let client = client_of(req, state.settings.trust_proxy_headers);
    let idempotency = match idempotency_header(req, &batch) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    let timeout = state.settings.request_timeout;
    let prepare = |request: async_graphql::Request| {
        let request = loaders::register(request, &state.db)
            .data(actor.clone())
            .data(client.clone());
        match &idempotency {
            Some(key) => request.data(key.clone()),
            None => request,
        }
    };
    match batch {
        BatchRequest::Single(request) => {
            let watch = WriteWatch::new();
            let run = watch.scope(schema.execute(prepare(request)));
            let mut response = match within(timeout, std::slice::from_ref(&watch), run).await {
                Ran::Answered(response) => response,
                Ran::Stopped { write_committed } => return timed_out(timeout, write_committed),
            };
            write_outcome::mark_committed(&mut response, &watch);
            let (body, failure) = response_json(&response);
            Reply {
                status: status_for(media, failure),
                body,
                allow: None,
                www_authenticate: false,
                no_cache: false,
                retry_after: None,
            }
        }
        BatchRequest::Batch(requests) => {
            // What `execute_batch` does (every entry at once, answers in order), with a
            // write watch per entry.
            let watches: Vec<WriteWatch> = requests.iter().map(|_| WriteWatch::new()).collect();
            let runs = requests
                .into_iter()
                .zip(&watches)
                .map(|(request, watch)| watch.scope(schema.execute(prepare(request))));
            let batch = futures_util::future::join_all(runs);
            let mut items = match within(timeout, &watches, batch).await {
                Ran::Answered(responses) => responses,
                Ran::Stopped { write_committed } => return timed_out(timeout, write_committed),
            };
            for (response, watch) in items.iter_mut().zip(&watches) {
                write_outcome::mark_committed(response, watch);
            }
            Reply {
                status: StatusCode::OK,
                body: Value::Array(items.iter().map(|r| response_json(r).0).collect()),
                allow: None,
                www_authenticate: false,
                no_cache: false,
                retry_after: None,
            }
        }
    }
}

/// One entry of a POST: its parameters with the persisted document resolved
/// ([`PersistedQueries::resolve_params`]), then read into a request.
async fn decode(
    params: &Map<String, Value>,
    persisted: &PersistedQueries,
) -> Result<Result<async_graphql::Request, Refusal>, Reply> {
    match persisted.resolve_params(params).await {
        Ok(resolved) => parse_params(&resolved).map(Ok),
        Err(refusal) => Ok(Err(refusal)),
    }
}

#[handler]
pub async fn post_graphql(
    req: &Request,
    body: Body,
    state: Data<&HttpState>,
    schema: Data<&AppSchema>,
) -> Response {
    let media = match media_or_406(req) {
        Ok(media) => media,
        Err(response) => return *response,
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if let (true, Some(content_type)) = (is_multipart_content_type(content_type), content_type) {
        return post_multipart(req, body, content_type, &state, &schema, media).await;
    }
    if !is_json_content_type(content_type) {
        return Reply::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json (or multipart/form-data for uploads)",
            "UNSUPPORTED_MEDIA_TYPE",
        )
        .into_response(media);
    }
    let bytes = match body.into_bytes().await {
        Ok(bytes) => bytes,
        Err(_) => {
            return Reply::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
                "BAD_REQUEST",
            )
            .into_response(media)
        }
    };
    let parsed: Value = match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(_) => return Reply::bad_request("request body is not valid JSON").into_response(media),
    };
    let batch = match parsed {
        Value::Object(params) => match decode(&params, &state.persisted).await {
            Ok(Ok(request)) => BatchRequest::Single(request),
            Ok(Err(refusal)) => return Reply::refused(refusal).into_response(media),
            Err(reply) => return reply.into_response(media),
        },
        Value::Array(items) => {
            if items.is_empty() || items.len() > MAX_BATCH {
                let message = format!("a batch holds 1 to {MAX_BATCH} operations");
                return Reply::bad_request(&message).into_response(media);
            }
            // A persisted-query refusal answers its own entry, as Apollo Server does
            // (a client's link then resends that operation alone with its document).
            let mut requests = Vec::with_capacity(items.len());
            let mut refused = Vec::new();
            for (index, item) in items.into_iter().enumerate() {
                let Value::Object(params) = item else {
                    return Reply::bad_request("each batch entry must be an object")
                        .into_response(media);
                };
                match decode(&params, &state.persisted).await {
                    Ok(Ok(request)) => requests.push(request),
                    Ok(Err(refusal)) => refused.push((index, refusal)),
                    Err(reply) => return reply.into_response(media),
                }
            }
            // Credential checks are never batched (no password guessing in bulk), however
            // they are hidden: aliases, inline fragments or named fragments.
            let credentials = requests.iter().any(|r| {
                async_graphql::parser::parse_query(&r.query).is_ok_and(|doc| {
                    budget::check_document(&doc, &budget::LIMITS, CREDENTIAL_FIELDS)
                        .map_or(true, |cost| cost.credential_fields > 0)
                })
            });
            if credentials {
                return Reply::bad_request(
                    "signIn 等凭证操作不能批量提交 (credential operations cannot be batched)",
                )
                .into_response(media);
            }
            if !refused.is_empty() {
                return execute_with_refusals(req, &state, &schema, requests, refused, media)
                    .await
                    .into_response(media);
            }
            BatchRequest::Batch(requests)
        }
        _ => return Reply::bad_request("request body must be a JSON object").into_response(media),
    };
    execute(req, &state, &schema, batch, media)
        .await
        .into_response(media)
}

/// An upload: the multipart request read under `UPLOAD_*` (files wait on disk), its
/// `operations` decoded like a JSON POST's (persisted queries, the text budget), the
/// files put into the variables, then executed as any request.
async fn post_multipart(
    req: &Request,
    body: Body,
    content_type: &str,
    state: &HttpState,
    schema: &AppSchema,
    media: ResponseMedia,
) -> Response {
    let refused = |refusal: multipart::Refused| match refusal {
        multipart::Refused::TooLarge(message) => {
            Reply::error(StatusCode::PAYLOAD_TOO_LARGE, &message, "BAD_USER_INPUT")
        }
        multipart::Refused::Malformed(message) => Reply::bad_request(&message),
    };
    let uploads = &state.settings.uploads;
    let read = multipart::read(body, content_type, uploads, super::MAX_BODY_BYTES).await;
    let multipart::Multipart {
        operations,
        map,
        files,
    } = match read {
        Ok(read) => read,
        Err(refusal) => return refused(refusal).into_response(media),
    };
    let params = match multipart::single(operations) {
        Ok(params) => params,
        Err(refusal) => return refused(refusal).into_response(media),
    };
    let mut request = match decode(&params, &state.persisted).await {
        Ok(Ok(request)) => request,
        Ok(Err(refusal)) => return Reply::refused(refusal).into_response(media),
        Err(reply) => return reply.into_response(media),
    };
    if let Err(refusal) = multipart::apply_map(&mut request, map, files) {
        return refused(refusal).into_response(media);
    }
    execute(req, state, schema, BatchRequest::Single(request), media)
        .await
        .into_response(media)
}

/// The body's bound, by `Content-Length` before a byte is read: 256 KiB for a JSON
/// request, `UPLOAD_MAX_REQUEST_BYTES` for an upload (poem's `SizeLimit` with a
/// limit per content type; the same 411 and 413).
pub fn body_limit<E: poem::Endpoint + 'static>(
    endpoint: E,
    json: usize,
    multipart: usize,
) -> impl poem::Endpoint<Output = Response> {
    use poem::{EndpointExt, IntoResponse};
    endpoint.around(move |endpoint, req| async move {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let limit = if is_multipart_content_type(content_type) {
            multipart
        } else {
            json
        };
        let length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or(poem::error::SizedLimitError::MissingContentLength)?;
        if length > limit as u64 {
            return Err(poem::error::SizedLimitError::PayloadTooLarge.into());
        }
        Ok(endpoint.call(req).await?.into_response())
    })
}

/// A batch some of whose entries were refused: the others run, and each refused entry
/// gets its error in its place.
async fn execute_with_refusals(
    req: &Request,
    state: &AppState,
    schema: &AppSchema,
    requests: Vec<async_graphql::Request>,
    refused: Vec<(usize, Refusal)>,
    media: ResponseMedia,
) -> Reply {
    let mut answers = if requests.is_empty() {
        Vec::new()
    } else {
        let reply = execute(req, state, schema, BatchRequest::Batch(requests), media).await;
        match reply.body {
            Value::Array(answers) => answers,
            // A failure of the whole request (a bad token, a timeout) answers as it is.
            _ => return reply,
        }
    };
    for (index, refusal) in refused {
        let entry = json!({ "errors": [refusal.error_json()] });
        answers.insert(index.min(answers.len()), entry);
    }
    Reply {
        status: StatusCode::OK,
        body: Value::Array(answers),
        allow: None,
        www_authenticate: false,
        no_cache: true,
        retry_after: None,
    }
}

#[derive(serde::Deserialize)]
pub struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// The type of the operation a GET would run, when the document parses.
fn operation_type(query: &str, operation_name: Option<&str>) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(query).ok()?;
    let mut operations = document.operations.iter();
    match operation_name {
        Some(name) => operations
            .find(|(n, _)| n.map(|n| n.as_str()) == Some(name))
            .map(|(_, op)| op.node.ty),
        None => operations.next().map(|(_, op)| op.node.ty),
    }
}

#[handler]
pub async fn get_graphql(
    req: &Request,
    Query(params): Query<GetParams>,
    state: Data<&HttpState>,
    schema: Data<&AppSchema>,
) -> Response {
    let media = match media_or_406(req) {
        Ok(media) => media,
        Err(response) => return *response,
    };
    let mut map = Map::new();
    if let Some(query) = params.query {
        map.insert("query".into(), Value::String(query));
    }
    if let Some(name) = params.operation_name {
        map.insert("operationName".into(), Value::String(name));
    }
    for (key, raw) in [
        ("variables", params.variables),
        ("extensions", params.extensions),
    ] {
        if let Some(raw) = raw {
            match serde_json::from_str::<Value>(&raw) {
                Ok(value) => {
                    map.insert(key.into(), value);
                }
                Err(_) => {
                    let message = format!("`{key}` is not valid JSON");
                    return Reply::bad_request(&message).into_response(media);
                }
            }
        }
    }
    // A hash is resolved before the method rule: a mutation named by its hash is a
    // mutation over GET all the same.
    let request = match decode(&map, &state.persisted).await {
        Ok(Ok(request)) => request,
        Ok(Err(refusal)) => return Reply::refused(refusal).into_response(media),
        Err(reply) => return reply.into_response(media),
    };
    if let Some(OperationType::Mutation | OperationType::Subscription) =
        operation_type(&request.query, request.operation_name.as_deref())
    {
        let mut reply = Reply::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations and subscriptions need POST (or the WebSocket endpoint)",
            "METHOD_NOT_ALLOWED",
        );
        reply.allow = Some("POST");
        return reply.into_response(media);
    }
    debug_assert_eq!(req.method(), Method::GET);
    execute(req, &state, &schema, BatchRequest::Single(request), media)
        .await
        .into_response(media)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(error: AppError) -> (u16, Option<String>, Value) {
        let reply = error_reply(error);
        let body = reply.body.clone();
        let response = reply.into_response(ResponseMedia::Json);
        let retry = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        (response.status().as_u16(), retry, body)
    }

    #[test]
    fn a_busy_database_is_503_with_retry_after_and_bad_input_400() {
        let (status, retry, body) = answer(AppError::Contention);
        assert_eq!((status, retry.as_deref()), (503, Some("1")));
        assert_eq!(body["errors"][0]["extensions"]["code"], "CONFLICT");
        let (status, retry, _) = answer(AppError::Unavailable);
        assert_eq!((status, retry.as_deref()), (503, Some("1")));
        let limited = AppError::RateLimited {
            message: "slow down".into(),
            retry_after_secs: 42,
        };
        let (status, retry, _) = answer(limited);
        assert_eq!((status, retry.as_deref()), (429, Some("42")));
        let (status, retry, body) = answer(AppError::bad_input("year", "no"));
        assert_eq!((status, retry), (400, None));
        assert_eq!(body["errors"][0]["extensions"]["field"], "year");
        let (status, _, _) = answer(AppError::Conflict("taken".into()));
        assert_eq!(status, 409);
    }
}
