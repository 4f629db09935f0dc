//! Persisted queries: Apollo's automatic persisted queries (APQ) and the checked-in
//! manifest of the clients' own operations.
//!
//! A request names its document by hash in `extensions.persistedQuery =
//! {"version": 1, "sha256Hash": "<hex>"}` (POST body, the GET `extensions` parameter,
//! a WebSocket `subscribe` payload). [`PersistedQueries::resolve_params`] turns such a
//! request into an ordinary one before anything else reads it, so the budget, the
//! metrics' operation label, the response order and the GET/mutation rule all see the
//! full document, whichever way it was sent:
//!
//! - hash only, known: the document is filled in; unknown: `PERSISTED_QUERY_NOT_FOUND`
//!   (message `PersistedQueryNotFound`, what Apollo's link looks for), and the client
//!   sends hash and document;
//! - hash and document: the hash must be the document's sha256 (`BAD_USER_INPUT`
//!   otherwise); a document within the request budget that parses is registered (in
//!   this process, and in Redis under `{REDIS_CHANNEL_PREFIX}:apq:` for every replica);
//! - `PERSISTED_QUERIES=manifest`: only the operations of `assets/operations/` run, by
//!   hash or by their exact text; anything else is `PERSISTED_QUERY_NOT_ALLOWED`;
//! - `PERSISTED_QUERIES=off`: a request with the extension is answered
//!   `PERSISTED_QUERY_NOT_SUPPORTED` (Apollo's link then sends full documents only).
//!
//! Why not async-graphql's `ApolloPersistedQueries` extension: it registers a document
//! before anything bounds or parses it, gives its errors no code, has no manifest
//! mode, and runs inside the engine, after the HTTP layer has already had to read the
//! document (GET's mutation rule, the `Idempotency-Key` rules, the batch checks).
//!
//! The manifest is `assets/operations/<client>/<OperationName>.graphql`, one operation
//! per file, embedded at build time (`build.rs`); an operation's id is the lowercase
//! sha256 hex of its file's exact bytes.
use std::borrow::Cow;
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use lru::LruCache;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::budget;
use super::extensions::CREDENTIAL_FIELDS;
use crate::config::{PersistedQueries as Settings, PersistedQueriesMode as Mode};
use crate::limits::redis_guard::RedisGuard;

/// One operation of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The folder under `assets/operations/`: `mobile`, `dashboard`, ...
    pub client: &'static str,
    /// The file's name without `.graphql`: the operation's name.
    pub name: &'static str,
    /// The lowercase sha256 hex of `text`: what a client sends as `sha256Hash`.
    pub id: String,
    /// The file's exact contents: what a client sends as `query`.
    pub text: &'static str,
}

/// `(client, name, text)` of every file, sorted, written by `build.rs`.
const FILES: &[(&str, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/operations.rs"));

static MANIFEST: LazyLock<Vec<Operation>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(client, name, text)| Operation {
            client,
            name,
            id: sha256_hex(text),
            text,
        })
        .collect()
});

static BY_ID: LazyLock<HashMap<&'static str, &'static Operation>> =
    LazyLock::new(|| MANIFEST.iter().map(|op| (op.id.as_str(), op)).collect());

/// Every operation of the manifest, by client then name.
pub fn manifest() -> &'static [Operation] {
    &MANIFEST
}

/// The operations of one client (a folder of `assets/operations/`), by name; empty for
/// a client that has none. A page embeds these (name → id and text) and sends them
/// hash first.
pub fn operations_for_client(client: &str) -> Vec<&'static Operation> {
    MANIFEST.iter().filter(|op| op.client == client).collect()
}

/// The manifest operation with this id.
pub fn manifest_operation(id: &str) -> Option<&'static Operation> {
    BY_ID.get(id).copied()
}

/// `{name: {"id", "query"}}` of `names` from `client`'s operations, as JSON safe to put
/// inside an HTML `<script>` (`<` escaped). A name the client does not have is left
/// out (the pages' unit tests check theirs are all there).
pub fn operations_json(client: &str, names: &[&str]) -> String {
    let mut map = Map::new();
    for op in operations_for_client(client) {
        if names.contains(&op.name) {
            map.insert(op.name.to_owned(), json!({ "id": op.id, "query": op.text }));
        }
    }
    // Only strings can hold `<`, and `\u003c` means the same there.
    Value::Object(map).to_string().replace('<', "\\u003c")
}

/// The manifest in Apollo's persisted query manifest format (what Apollo's tools
/// generate and GraphOS reads), each operation with its `client` as well: for the
/// builders of mobile apps (`smart-npc persisted-queries`).
pub fn manifest_json() -> Value {
    let operations: Vec<Value> = MANIFEST
        .iter()
        .map(|op| {
            json!({
                "id": op.id,
                "name": op.name,
                "type": operation_type(op.text).unwrap_or("query"),
                "client": op.client,
                "body": op.text,
            })
        })
        .collect();
    json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": operations,
    })
}

/// `query`, `mutation` or `subscription`: the type of a document's one operation.
pub fn operation_type(text: &str) -> Option<&'static str> {
    let document = async_graphql::parser::parse_query(text).ok()?;
    let ty = match &document.operations {
        DocumentOperations::Single(op) => op.node.ty,
        DocumentOperations::Multiple(ops) if ops.len() == 1 => ops.values().next()?.node.ty,
        DocumentOperations::Multiple(_) => return None,
    };
    Some(match ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    })
}

/// The lowercase sha256 hex of `text`'s UTF-8 bytes.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Why a request's document was not resolved. Each is one coded GraphQL error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A hash this server does not know: the client should send the document too.
    NotFound,
    /// `PERSISTED_QUERIES=off` and the request uses the extension.
    NotSupported,
    /// `PERSISTED_QUERIES=manifest` and the document is not in the manifest.
    NotAllowed,
    /// The document's sha256 is not the hash sent with it.
    HashMismatch,
    /// A `version` other than 1.
    Version,
    /// `persistedQuery` is not `{"version": 1, "sha256Hash": "<64 hex digits>"}`.
    Malformed,
}

impl Refusal {
    /// The stable `extensions.code`.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NotFound => "PERSISTED_QUERY_NOT_FOUND",
            Refusal::NotSupported => "PERSISTED_QUERY_NOT_SUPPORTED",
            Refusal::NotAllowed => "PERSISTED_QUERY_NOT_ALLOWED",
            Refusal::HashMismatch | Refusal::Version | Refusal::Malformed => "BAD_USER_INPUT",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            // Apollo's exact messages: clients compare them.
            Refusal::NotFound => "PersistedQueryNotFound",
            Refusal::NotSupported => "PersistedQueryNotSupported",
            Refusal::NotAllowed => {
                "只接受已登记的操作 (this server runs only the operations of its persisted-query manifest)"
            }
            Refusal::HashMismatch => {
                "查询与哈希不符 (extensions.persistedQuery.sha256Hash is not the sha256 of the query)"
            }
            Refusal::Version => {
                "不支持的持久化查询版本 (unsupported persisted query version: only 1 is supported)"
            }
            Refusal::Malformed => {
                "persistedQuery 格式错误 (extensions.persistedQuery must be {\"version\": 1, \"sha256Hash\": \"<64 hex digits>\"})"
            }
        }
    }

    /// The HTTP status, as Apollo Server answers: 200 for "not found" and "not
    /// supported" (the client's next request fixes it), 400 for a malformed request.
    pub fn http_status(self) -> u16 {
        match self {
            Refusal::NotFound | Refusal::NotSupported => 200,
            _ => 400,
        }
    }

    /// Whether the answer must not be cached (Apollo Server sends
    /// `Cache-Control: private, no-cache, must-revalidate` with these: the same GET
    /// succeeds once the document is registered).
    pub fn uncacheable(self) -> bool {
        matches!(self, Refusal::NotFound | Refusal::NotSupported)
    }

    /// The error as it goes in a response's `errors`.
    pub fn error_json(self) -> Value {
        json!({ "message": self.message(), "extensions": { "code": self.code() } })
    }
}

/// The documents this process knows by hash: a bounded local cache, shared through
/// Redis when configured. Cheap to clone.
#[derive(Clone)]
pub struct PersistedQueries {
    inner: Arc<Inner>,
}

struct Inner {
    mode: Mode,
    local: Mutex<Local>,
    /// The guarded connection and the key prefix (`{REDIS_CHANNEL_PREFIX}:apq:`).
    redis: Option<(RedisGuard, String)>,
    ttl: Duration,
}

/// Least recently used documents, bounded by count and by total bytes.
struct Local {
    cache: LruCache<String, Arc<str>>,
    bytes: usize,
    max_bytes: usize,
}

impl Local {
    fn get(&mut self, hash: &str) -> Option<Arc<str>> {
        self.cache.get(hash).cloned()
    }

    fn put(&mut self, hash: String, text: Arc<str>) {
        if text.len() > self.max_bytes {
            return;
        }
        if let Some((_, old)) = self.cache.push(hash, text.clone()) {
            self.bytes -= old.len();
        }
        self.bytes += text.len();
        while self.bytes > self.max_bytes {
            match self.cache.pop_lru() {
                Some((_, old)) => self.bytes -= old.len(),
                None => break,
            }
        }
    }
}

/// `persistedQuery`'s hash, checked.
fn hash_of(extension: &Value) -> Result<String, Refusal> {
    let Value::Object(fields) = extension else {
        return Err(Refusal::Malformed);
    };
    if fields.get("version").and_then(Value::as_i64) != Some(1) {
        return Err(if fields.contains_key("version") {
            Refusal::Version
        } else {
            Refusal::Malformed
        });
    }
    match fields.get("sha256Hash").and_then(Value::as_str) {
        Some(hash) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(hash.to_ascii_lowercase())
        }
        _ => Err(Refusal::Malformed),
    }
}

/// The largest document registered by hash. A client's own operations are a few KiB
/// (the largest in `assets/operations/` is under 1 KiB); a larger document still runs
/// when sent in full, it is only not kept.
pub const MAX_REGISTERED_BYTES: usize = 16 * 1024;

/// Registrations written to Redis per hour, counted across every replica (a counter
/// under the prefix). With documents of at most [`MAX_REGISTERED_BYTES`] kept for at
/// most `PERSISTED_QUERIES_TTL_SECS`, this bounds what anyone can make Redis hold
/// (1,000 an hour × 24 hours × 16 KiB ≈ 375 MiB at the default TTL of a day). Past it,
/// a document is registered in this process only.
pub const REDIS_REGISTRATIONS_PER_HOUR: u64 = 1_000;

/// Whether a document may be registered: small, within the request budget, parses,
/// and names no credential field (a sign-in with literal arguments would otherwise be
/// kept, password and all, in memory and in Redis).
fn registrable(text: &str) -> bool {
    let limits = &budget::LIMITS;
    text.len() <= MAX_REGISTERED_BYTES
        && budget::check_text(text, limits).is_ok()
        && async_graphql::parser::parse_query(text).is_ok_and(|doc| {
            budget::check_document(&doc, limits, CREDENTIAL_FIELDS)
                .is_ok_and(|cost| cost.credential_fields == 0)
        })
}

impl PersistedQueries {
    pub fn new(settings: &Settings, redis: Option<RedisGuard>, redis_prefix: &str) -> Self {
        PersistedQueries {
            inner: Arc::new(Inner {
                mode: settings.mode,
                local: Mutex::new(Local {
                    cache: LruCache::new(
                        NonZeroUsize::new(settings.cache_entries).unwrap_or(NonZeroUsize::MIN),
                    ),
                    bytes: 0,
                    max_bytes: settings.cache_bytes,
                }),
                redis: redis.map(|guard| (guard, format!("{redis_prefix}:apq:"))),
                ttl: settings.ttl,
            }),
        }
    }

    pub fn mode(&self) -> Mode {
        self.inner.mode
    }

    /// Documents held in this process: (count, bytes).
    pub fn local_usage(&self) -> (usize, usize) {
        let local = self.local();
        (local.cache.len(), local.bytes)
    }

    fn local(&self) -> std::sync::MutexGuard<'_, Local> {
        // The cache is valid whatever a panicking holder did.
        self.inner
            .local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A GraphQL request's parameters (`{query, operationName, variables,
    /// extensions}`) with the document resolved: `query` filled in from the hash (and
    /// `extensions.persistedQuery` taken out), or checked against the manifest. Shapes
    /// this does not understand (a `query` that is not a string, `extensions` that are
    /// not an object, neither query nor hash) are passed on as they are, for the
    /// transport's own checks to refuse.
    pub async fn resolve_params<'p>(
        &self,
        params: &'p Map<String, Value>,
    ) -> Result<Cow<'p, Map<String, Value>>, Refusal> {
        let query = match params.get("query") {
            Some(Value::String(q)) if !q.is_empty() => Some(q.as_str()),
            None | Some(Value::Null) | Some(Value::String(_)) => None,
            Some(_) => return Ok(Cow::Borrowed(params)),
        };
        let extension = match params.get("extensions") {
            None | Some(Value::Null) => None,
            Some(Value::Object(extensions)) => {
                extensions.get("persistedQuery").filter(|v| !v.is_null())
            }
            Some(_) => return Ok(Cow::Borrowed(params)),
        };
        let Some(extension) = extension else {
            if let Some(query) = query {
                self.check_plain(query)?;
            }
            return Ok(Cow::Borrowed(params));
        };
        let text = self.resolve(query, extension).await?;
        let mut resolved = params.clone();
        resolved.insert("query".into(), Value::String(text));
        if let Some(Value::Object(extensions)) = resolved.get_mut("extensions") {
            extensions.remove("persistedQuery");
            if extensions.is_empty() {
                resolved.remove("extensions");
            }
        }
        Ok(Cow::Owned(resolved))
    }

    /// A document sent without the extension.
    fn check_plain(&self, query: &str) -> Result<(), Refusal> {
        match self.inner.mode {
            Mode::Manifest if manifest_operation(&sha256_hex(query)).is_none() => {
                Err(Refusal::NotAllowed)
            }
            _ => Ok(()),
        }
    }

    /// The document of a request that carries `persistedQuery`.
    async fn resolve(&self, query: Option<&str>, extension: &Value) -> Result<String, Refusal> {
        if self.inner.mode == Mode::Off {
            return Err(Refusal::NotSupported);
        }
        let hash = hash_of(extension)?;
        let Some(query) = query else {
            return self.lookup(&hash).await.ok_or(Refusal::NotFound);
        };
        if sha256_hex(query) != hash {
            return Err(Refusal::HashMismatch);
        }
        match self.inner.mode {
            Mode::Manifest if manifest_operation(&hash).is_none() => Err(Refusal::NotAllowed),
            Mode::Manifest | Mode::Off => Ok(query.to_owned()),
            Mode::Apq => {
                if manifest_operation(&hash).is_none() && registrable(query) {
                    self.register(hash, query).await;
                }
                Ok(query.to_owned())
            }
        }
    }

    /// The document of a hash: the manifest's, then (APQ) this process's, then Redis's.
    async fn lookup(&self, hash: &str) -> Option<String> {
        if let Some(op) = manifest_operation(hash) {
            return Some(op.text.to_owned());
        }
        if self.inner.mode != Mode::Apq {
            return None;
        }
        if let Some(text) = self.local().get(hash) {
            return Some(text.to_string());
        }
        let (guard, prefix) = self.inner.redis.as_ref()?;
        let key = format!("{prefix}{hash}");
        let ttl = self.inner.ttl.as_secs().max(1);
        let text: Option<String> = guard
            .run("persisted query lookup", |mut connection| async move {
                // GETEX (Redis 6.2): a document in use gets its whole TTL again, so
                // only documents nobody sends expire.
                redis::cmd("GETEX")
                    .arg(key)
                    .arg("EX")
                    .arg(ttl)
                    .query_async::<Option<String>>(&mut connection)
                    .await
            })
            .await
            .flatten();
        // Redis is shared: a document is only taken if it is the hash's.
        let text = text.filter(|t| sha256_hex(t) == hash)?;
        self.local().put(hash.to_owned(), Arc::from(text.as_str()));
        Some(text)
    }

    /// Keeps a checked document here and, when configured, in Redis (a Redis that is
    /// down or slow is skipped: the document is then known to this process only).
    async fn register(&self, hash: String, text: &str) {
        self.local().put(hash.clone(), Arc::from(text));
        let Some((guard, prefix)) = &self.inner.redis else {
            return;
        };
        let key = format!("{prefix}{hash}");
        let hour = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() / 3600);
        let budget_key = format!("{prefix}budget:{hour}");
        let ttl = self.inner.ttl.as_secs().max(1);
        let text = text.to_owned();
        guard
            .run(
                "persisted query registration",
                |mut connection| async move {
                    // Counted first, across replicas: past the hour's budget nothing
                    // more is written (the counter itself expires with its hour).
                    let (written,): (u64,) = redis::pipe()
                        .atomic()
                        .incr(&budget_key, 1)
                        .expire(&budget_key, 3_700)
                        .ignore()
                        .query_async(&mut connection)
                        .await?;
                    if written > REDIS_REGISTRATIONS_PER_HOUR {
                        return Ok(());
                    }
                    redis::cmd("SET")
                        .arg(key)
                        .arg(text)
                        .arg("EX")
                        .arg(ttl)
                        .query_async::<()>(&mut connection)
                        .await
                },
            )
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(mode: Mode, entries: usize, bytes: usize) -> PersistedQueries {
        PersistedQueries::new(
            &Settings {
                mode,
                cache_entries: entries,
                cache_bytes: bytes,
                ttl: Duration::from_secs(60),
            },
            None,
            "test",
        )
    }

    fn params(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("an object"),
        }
    }

    fn hash_only(hash: &str) -> Map<String, Value> {
        params(json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }))
    }

    #[test]
    fn the_manifest_embeds_the_mobile_pages_operations_with_their_file_hashes() {
        let mobile = operations_for_client("mobile");
        let names: Vec<&str> = mobile.iter().map(|op| op.name).collect();
        for name in [
            "DeputyPage",
            "SubmitPetition",
            "TrackPetition",
            "RatePetition",
        ] {
            assert!(names.contains(&name), "{names:?}");
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for op in mobile {
            let bytes =
                std::fs::read(root.join(format!("assets/operations/mobile/{}.graphql", op.name)))
                    .expect("the file");
            assert_eq!(op.id, hex::encode(Sha256::digest(&bytes)));
            assert_eq!(manifest_operation(&op.id), Some(op));
        }
        assert!(operations_for_client("no-such-client").is_empty());
    }

    #[tokio::test]
    async fn a_hash_is_found_once_registered_with_its_document() {
        let apq = store(Mode::Apq, 10, 1 << 20);
        let query = "{ __typename }";
        let hash = sha256_hex(query);
        assert_eq!(
            apq.resolve_params(&hash_only(&hash)).await,
            Err(Refusal::NotFound)
        );
        let mut full = hash_only(&hash);
        full.insert("query".into(), json!(query));
        let resolved = apq.resolve_params(&full).await.expect("registered");
        assert_eq!(resolved["query"], query);
        assert!(resolved.get("extensions").is_none(), "{resolved:?}");
        let upper = hash_only(&hash.to_uppercase());
        let resolved = apq.resolve_params(&upper).await.expect("found");
        assert_eq!(resolved["query"], query);
    }

    #[tokio::test]
    async fn a_wrong_hash_an_unknown_version_or_a_bad_shape_is_refused() {
        let apq = store(Mode::Apq, 10, 1 << 20);
        let mut wrong = hash_only(&"0".repeat(64));
        wrong.insert("query".into(), json!("{ __typename }"));
        assert_eq!(apq.resolve_params(&wrong).await, Err(Refusal::HashMismatch));
        let v2 = params(
            json!({ "extensions": { "persistedQuery": { "version": 2, "sha256Hash": "0".repeat(64) } } }),
        );
        assert_eq!(apq.resolve_params(&v2).await, Err(Refusal::Version));
        for bad in [
            json!("x"),
            json!({ "version": 1 }),
            json!({ "version": 1, "sha256Hash": "abc" }),
        ] {
            let p = params(json!({ "extensions": { "persistedQuery": bad } }));
            assert_eq!(apq.resolve_params(&p).await, Err(Refusal::Malformed));
        }
        for code in [Refusal::HashMismatch, Refusal::Version, Refusal::Malformed] {
            assert_eq!(code.code(), "BAD_USER_INPUT");
        }
    }

    #[tokio::test]
    async fn documents_over_budget_or_that_do_not_parse_are_not_registered() {
        let apq = store(Mode::Apq, 10, 1 << 20);
        let deep = format!("{}{}", "{ a ".repeat(100), "}".repeat(100));
        for query in ["{ unclosed", deep.as_str()] {
            let hash = sha256_hex(query);
            let mut full = hash_only(&hash);
            full.insert("query".into(), json!(query));
            // Passed on (the pipeline answers its own error), but not kept.
            apq.resolve_params(&full).await.expect("passed on");
            assert_eq!(
                apq.resolve_params(&hash_only(&hash)).await,
                Err(Refusal::NotFound)
            );
        }
        assert_eq!(apq.local_usage(), (0, 0));
    }

    #[tokio::test]
    async fn the_local_cache_is_bounded_by_entries_and_bytes() {
        let apq = store(Mode::Apq, 3, 1 << 20);
        for i in 0..5 {
            let query = format!("{{ a{i}: __typename }}");
            let mut full = hash_only(&sha256_hex(&query));
            full.insert("query".into(), json!(query));
            apq.resolve_params(&full).await.expect("registered");
        }
        assert_eq!(apq.local_usage().0, 3);
        let oldest = sha256_hex("{ a0: __typename }");
        assert_eq!(
            apq.resolve_params(&hash_only(&oldest)).await,
            Err(Refusal::NotFound)
        );

        let small = store(Mode::Apq, 100, 64);
        for i in 0..10 {
            let query = format!("{{ field{i}: __typename }}");
            let mut full = hash_only(&sha256_hex(&query));
            full.insert("query".into(), json!(query));
            small.resolve_params(&full).await.expect("registered");
        }
        let (count, bytes) = small.local_usage();
        assert!(
            bytes <= 64 && count < 10,
            "{count} documents, {bytes} bytes"
        );
    }

    #[tokio::test]
    async fn manifest_mode_runs_only_the_manifest_by_hash_or_exact_text() {
        let strict = store(Mode::Manifest, 10, 1 << 20);
        let op = operations_for_client("mobile")[0];
        let by_hash = hash_only(&op.id);
        let resolved = strict.resolve_params(&by_hash).await.expect("by hash");
        assert_eq!(resolved["query"], op.text);
        let exact = params(json!({ "query": op.text }));
        assert!(strict.resolve_params(&exact).await.is_ok());
        let other = params(json!({ "query": "{ __typename }" }));
        assert_eq!(
            strict.resolve_params(&other).await,
            Err(Refusal::NotAllowed)
        );
        let mut registering = hash_only(&sha256_hex("{ __typename }"));
        registering.insert("query".into(), json!("{ __typename }"));
        assert_eq!(
            strict.resolve_params(&registering).await,
            Err(Refusal::NotAllowed)
        );
        assert_eq!(
            strict
                .resolve_params(&hash_only(&sha256_hex("{ __typename }")))
                .await,
            Err(Refusal::NotFound)
        );
    }

    #[tokio::test]
    async fn off_refuses_the_extension_and_passes_plain_documents() {
        let off = store(Mode::Off, 10, 1 << 20);
        let op = operations_for_client("mobile")[0];
        assert_eq!(
            off.resolve_params(&hash_only(&op.id)).await,
            Err(Refusal::NotSupported)
        );
        let plain = params(json!({ "query": "{ __typename }" }));
        assert!(matches!(
            off.resolve_params(&plain).await,
            Ok(Cow::Borrowed(_))
        ));
    }

    #[test]
    fn page_json_cannot_close_a_script_element() {
        let json = operations_json("mobile", &["DeputyPage"]);
        assert!(!json.contains('<'));
        let parsed: Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(
            parsed["DeputyPage"]["id"],
            operations_for_client("mobile")[0].id
        );
    }
}
