//! The GraphQL multipart request (jaydenseric/graphql-multipart-request-spec) on
//! `POST /graphql`: an `operations` part (the JSON a plain POST would carry), a `map`
//! part (`{"0": ["variables.file"]}`) and the files, each waiting in a temporary file
//! (not in memory) until its resolver reads it.
//!
//! Hand-written over `multer` rather than async-graphql's `receive_batch_multipart`,
//! because that one neither counts files nor bounds the `operations` part apart from
//! a file's size, and parses `operations` itself, past the persisted-query resolution
//! and the text budget every other request goes through. The whole body is bounded by
//! `Content-Length` before a byte is read (`body_limit`).
use std::collections::HashMap;

use async_graphql::UploadValue;
use poem::Body;
use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;

use crate::config::Uploads;

/// The largest `map` part.
const MAX_MAP_BYTES: u64 = 16 * 1024;

/// An uploaded file and the part it came in.
pub struct Part {
    pub name: String,
    pub value: UploadValue,
}

/// What was read: the operations, the map, the files.
pub struct Multipart {
    pub operations: Value,
    pub map: HashMap<String, Vec<String>>,
    pub files: Vec<Part>,
}

/// Why a multipart body was refused.
pub enum Refused {
    /// A file over `UPLOAD_MAX_FILE_BYTES`, more files than allowed, or a body over
    /// `UPLOAD_MAX_REQUEST_BYTES`: 413, `BAD_USER_INPUT`.
    TooLarge(String),
    /// Not a well-formed multipart request: 400, `BAD_REQUEST`.
    Malformed(String),
}

fn malformed(message: impl Into<String>) -> Refused {
    Refused::Malformed(message.into())
}

pub async fn read(
    body: Body,
    content_type: &str,
    uploads: &Uploads,
    max_operations_bytes: usize,
) -> Result<Multipart, Refused> {
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| malformed("multipart/form-data needs a boundary"))?;
    let limits = multer::SizeLimit::new()
        .whole_stream(uploads.max_request_bytes as u64)
        .per_field(uploads.max_file_bytes as u64)
        .for_field("operations", max_operations_bytes as u64)
        .for_field("map", MAX_MAP_BYTES);
    let mut multipart = multer::Multipart::with_constraints(
        body.into_bytes_stream(),
        boundary,
        multer::Constraints::new().size_limit(limits),
    );
    let (mut operations, mut map, mut files) = (None, None, Vec::new());
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| refused(e, uploads))?
    {
        match field.name() {
            Some("operations") => {
                let bytes = field.bytes().await.map_err(|e| refused(e, uploads))?;
                operations = Some(
                    serde_json::from_slice::<Value>(&bytes)
                        .map_err(|_| malformed("`operations` is not valid JSON"))?,
                );
            }
            Some("map") => {
                let bytes = field.bytes().await.map_err(|e| refused(e, uploads))?;
                map = Some(
                    serde_json::from_slice::<HashMap<String, Vec<String>>>(&bytes)
                        .map_err(|_| malformed("`map` must map part names to lists of paths"))?,
                );
            }
            Some(_) if operations.is_none() || map.is_none() => {
                return Err(malformed("`operations` and `map` come before the files"));
            }
            Some(name) => {
                if files.len() == uploads.max_files_per_request {
                    return Err(Refused::TooLarge(format!(
                        "一次最多上传{0}个文件 (at most {0} files per request)",
                        uploads.max_files_per_request
                    )));
                }
                let name = name.to_owned();
                files.push(Part {
                    value: spool(field, uploads).await?,
                    name,
                });
            }
            None => return Err(malformed("every part needs a name")),
        }
    }
    match (operations, map) {
        (Some(operations), Some(map)) => Ok(Multipart {
            operations,
            map,
            files,
        }),
        _ => Err(malformed(
            "a multipart request has `operations` and `map` parts",
        )),
    }
}

/// Writes a file part to a temporary file (removed when the last handle closes).
async fn spool(mut field: multer::Field<'_>, uploads: &Uploads) -> Result<UploadValue, Refused> {
    let failed = |e: std::io::Error| {
        tracing::error!(error = %e, "cannot spool an upload to a temporary file");
        malformed("the upload could not be received")
    };
    let filename = field.file_name().unwrap_or_default().to_owned();
    let content_type = field.content_type().map(ToString::to_string);
    let mut file = tokio::fs::File::from_std(tempfile::tempfile().map_err(failed)?);
    while let Some(chunk) = field.chunk().await.map_err(|e| refused(e, uploads))? {
        file.write_all(&chunk).await.map_err(failed)?;
    }
    file.flush().await.map_err(failed)?;
    let mut content = file.into_std().await;
    std::io::Seek::rewind(&mut content).map_err(failed)?;
    Ok(UploadValue {
        filename,
        content_type,
        content,
    })
}

fn refused(error: multer::Error, uploads: &Uploads) -> Refused {
    match error {
        multer::Error::FieldSizeExceeded {
            field_name: Some(name),
            ..
        } if name == "operations" || name == "map" => {
            malformed(format!("the `{name}` part is too large"))
        }
        multer::Error::FieldSizeExceeded { .. } => Refused::TooLarge(format!(
            "文件不能超过{}字节 (a file may be at most {} bytes)",
            uploads.max_file_bytes, uploads.max_file_bytes
        )),
        multer::Error::StreamSizeExceeded { .. } => Refused::TooLarge(format!(
            "请求不能超过{}字节 (an upload request may be at most {} bytes)",
            uploads.max_request_bytes, uploads.max_request_bytes
        )),
        _ => malformed("the multipart body is malformed"),
    }
}

/// Puts each mapped file into the request's variables; a mapped part that is missing
/// is refused, a file no path names is dropped.
pub fn apply_map(
    request: &mut async_graphql::Request,
    map: HashMap<String, Vec<String>>,
    files: Vec<Part>,
) -> Result<(), Refused> {
    let mut files: HashMap<String, UploadValue> =
        files.into_iter().map(|p| (p.name, p.value)).collect();
    for (name, paths) in map {
        let file = files
            .remove(&name)
            .ok_or_else(|| malformed(format!("`map` names a part `{name}` that was not sent")))?;
        for path in paths {
            // `variables.<name>[.<index>…]`, naming a variable `operations` has (null).
            let named = path
                .strip_prefix("variables.")
                .and_then(|rest| rest.split('.').next())
                .is_some_and(|name| {
                    request
                        .variables
                        .contains_key(&async_graphql::Name::new(name))
                });
            if !named {
                return Err(malformed(format!(
                    "`map` puts a file at `{path}`, which is not a variable of `operations`"
                )));
            }
            let copy = file
                .try_clone()
                .map_err(|_| malformed("the upload could not be received"))?;
            request.set_upload(&path, copy);
        }
    }
    Ok(())
}

/// How async-graphql marks a variable that holds an upload (`Request::set_upload`).
const UPLOAD_MARK: &str = "#__graphql_file__:";

/// Whether a client's variables carry the engine's upload marker themselves: only a
/// multipart request's `map` may put a file there (a forged marker would name a file
/// that is not there, and the engine's parser panics on a malformed one).
pub fn forges_upload(value: &Value) -> bool {
    match value {
        // In the document itself, as a literal.
        Value::String(s) if s.contains(UPLOAD_MARK) => true,
        Value::Array(items) => items.iter().any(forges_upload),
        Value::Object(map) => map.values().any(forges_upload),
        _ => false,
    }
}

/// Whether a document names the engine's file marker in any value it holds (argument
/// or directive values, variable defaults), after GraphQL's own unescaping — a
/// `\u0023__graphql_file__:0` in the text is the marker once parsed, and the engine's
/// `Upload` would panic on it. A document that does not parse is left to the engine.
pub fn document_forges_upload(query: &str) -> bool {
    use async_graphql::parser::types::{Selection, SelectionSet};
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return false;
    };
    let forges = |value: &dyn erased::Json| value.json().is_some_and(|v| forges_upload(&v));
    fn set_forges(set: &SelectionSet, forges: &dyn Fn(&dyn erased::Json) -> bool) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                let field = &field.node;
                field.arguments.iter().any(|(_, v)| forges(&v.node))
                    || field
                        .directives
                        .iter()
                        .any(|d| d.node.arguments.iter().any(|(_, v)| forges(&v.node)))
                    || set_forges(&field.selection_set.node, forges)
            }
            Selection::InlineFragment(fragment) => {
                set_forges(&fragment.node.selection_set.node, forges)
            }
            Selection::FragmentSpread(_) => false,
        })
    }
    document.operations.iter().any(|(_, operation)| {
        let operation = &operation.node;
        operation
            .variable_definitions
            .iter()
            .filter_map(|d| d.node.default_value.as_ref())
            .any(|v| forges(&v.node))
            || set_forges(&operation.selection_set.node, &forges)
    }) || document
        .fragments
        .values()
        .any(|fragment| set_forges(&fragment.node.selection_set.node, &forges))
}

/// The parser's value types, seen as JSON (both serialise; variables as `$name`).
mod erased {
    pub trait Json {
        fn json(&self) -> Option<serde_json::Value>;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> Option<serde_json::Value> {
            serde_json::to_value(self).ok()
        }
    }
}

/// The `operations` of a single request (a batch of uploads is not supported).
pub fn single(operations: Value) -> Result<Map<String, Value>, Refused> {
    match operations {
        Value::Object(params) => Ok(params),
        _ => Err(malformed(
            "`operations` must be one operation object (batched uploads are not supported)",
        )),
    }
}
