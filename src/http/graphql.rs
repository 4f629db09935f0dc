//! GraphQL over HTTP (graphql/graphql-over-http): POST with a JSON body, GET with URL
//! parameters (queries only: a mutation over GET is 405), response media negotiated
//! from `Accept`, status codes per the spec, a capped batch form.
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse, Variables};
use poem::http::{header, Method, StatusCode};
use poem::web::{Data, Query};
use poem::{handler, Body, Request, Response};
use serde_json::{json, Map, Value};

use super::media::{is_json_content_type, negotiate, ResponseMedia};
use crate::app::AppState;
use crate::auth::{Actor, ClientInfo};
use crate::error::AppError;
use crate::graphql::extensions::has_credential_field;
use crate::graphql::{loaders, AppSchema};
use crate::service::accounts;

/// The most operations one batched POST may carry.
pub const MAX_BATCH: usize = 10;

/// Engine codes for failures before execution: the response then has no `data`.
const REQUEST_ERROR_CODES: &[&str] = &[
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "QUERY_TOO_DEEP",
    "QUERY_TOO_COMPLEX",
    "BAD_REQUEST",
];

struct Reply {
    status: StatusCode,
    body: Value,
    allow: Option<&'static str>,
    www_authenticate: bool,
}

impl Reply {
    fn bad_request(message: &str) -> Self {
        Reply::error(StatusCode::BAD_REQUEST, message, "BAD_REQUEST")
    }

    fn error(status: StatusCode, message: &str, code: &str) -> Self {
        Reply {
            status,
            body: json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }),
            allow: None,
            www_authenticate: false,
        }
    }

    fn into_response(self, media: ResponseMedia) -> Response {
        let mut builder = Response::builder()
            .status(self.status)
            .content_type(media.content_type());
        if let Some(allow) = self.allow {
            builder = builder.header(header::ALLOW, allow);
        }
        if self.www_authenticate {
            builder = builder.header(header::WWW_AUTHENTICATE, "Bearer");
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
    let mut request = async_graphql::Request::new(query);
    match params.get("operationName") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => request = request.operation_name(name.clone()),
        Some(_) => return Err(Reply::bad_request("`operationName` must be a string")),
    }
    match params.get("variables") {
        None | Some(Value::Null) => {}
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

/// A single response as JSON: no `data` entry when the request failed before execution.
fn response_json(response: &async_graphql::Response) -> (Value, bool) {
    let request_error = is_request_error(response);
    let mut body = serde_json::to_value(response).unwrap_or_else(|_| json!({}));
    if let (true, Value::Object(map)) = (request_error, &mut body) {
        map.remove("data");
    }
    (body, request_error)
}

fn status_for(media: ResponseMedia, request_error: bool) -> StatusCode {
    match (media, request_error) {
        (ResponseMedia::GraphqlResponse, true) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

/// The actor behind the request's bearer token; anonymous without one.
async fn actor_of(req: &Request, state: &AppState) -> Result<Actor, Reply> {
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
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let graphql = error.into_graphql();
        Reply {
            status,
            body: json!({ "errors": [{ "message": graphql.message, "extensions": graphql.extensions }] }),
            allow: None,
            www_authenticate: true,
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
    let client = client_of(req, state.settings.trust_proxy_headers);
    let prepare = |request: async_graphql::Request| {
        loaders::register(request, &state.db)
            .data(actor.clone())
            .data(client.clone())
    };
    match batch {
        BatchRequest::Single(request) => {
            let response = schema.execute(prepare(request)).await;
            let (body, request_error) = response_json(&response);
            Reply {
                status: status_for(media, request_error),
                body,
                allow: None,
                www_authenticate: false,
            }
        }
        BatchRequest::Batch(requests) => {
            let responses = schema
                .execute_batch(BatchRequest::Batch(
                    requests.into_iter().map(prepare).collect(),
                ))
                .await;
            let items = match responses {
                BatchResponse::Single(one) => vec![one],
                BatchResponse::Batch(many) => many,
            };
            Reply {
                status: StatusCode::OK,
                body: Value::Array(items.iter().map(|r| response_json(r).0).collect()),
                allow: None,
                www_authenticate: false,
            }
        }
    }
}

#[handler]
pub async fn post_graphql(
    req: &Request,
    body: Body,
    state: Data<&AppState>,
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
    if !is_json_content_type(content_type) {
        return Reply::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
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
        Value::Object(params) => match parse_params(&params) {
            Ok(request) => BatchRequest::Single(request),
            Err(reply) => return reply.into_response(media),
        },
        Value::Array(items) => {
            if items.is_empty() || items.len() > MAX_BATCH {
                let message = format!("a batch holds 1 to {MAX_BATCH} operations");
                return Reply::bad_request(&message).into_response(media);
            }
            let mut requests = Vec::with_capacity(items.len());
            for item in items {
                let Value::Object(params) = item else {
                    return Reply::bad_request("each batch entry must be an object")
                        .into_response(media);
                };
                match parse_params(&params) {
                    Ok(request) => requests.push(request),
                    Err(reply) => return reply.into_response(media),
                }
            }
            // Credential checks are never batched (no password guessing in bulk).
            let credentials = requests.iter().any(|r| {
                async_graphql::parser::parse_query(&r.query)
                    .is_ok_and(|doc| has_credential_field(&doc))
            });
            if credentials {
                return Reply::bad_request(
                    "signIn 等凭证操作不能批量提交 (credential operations cannot be batched)",
                )
                .into_response(media);
            }
            // Credential checks are never batched (no password guessing in bulk).
            let credentials = requests.iter().any(|r| {
                async_graphql::parser::parse_query(&r.query)
                    .is_ok_and(|doc| has_credential_field(&doc))
            });
            if credentials {
                return Reply::bad_request(
                    "signIn 等凭证操作不能批量提交 (credential operations cannot be batched)",
                )
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
    state: Data<&AppState>,
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
    let request = match parse_params(&map) {
        Ok(request) => request,
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
