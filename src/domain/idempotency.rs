//! Idempotency keys: what a valid key looks like and the hash that tells a retry
//! (same arguments) from a reuse of the key for something else.
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

pub const MAX_KEY_LEN: usize = 128;
/// How long a key is remembered.
pub const RETENTION_HOURS: i64 = 24;

/// 1 to 128 characters of `A-Z a-z 0-9 _ - : .` (a UUID fits).
pub fn validate_key(field: &str, key: &str) -> AppResult<()> {
    let ok = (1..=MAX_KEY_LEN).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_input(
            field,
            "幂等键须为1-128个字母、数字或 _-:. (an idempotency key is 1 to 128 characters of A-Z a-z 0-9 _ - : .)",
        ))
    }
}

/// JSON with object keys sorted at every level, no insignificant whitespace.
pub fn canonical_json(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    write(&map[key], out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// sha256 (hex) of the operation name and the canonical JSON of its arguments.
pub fn request_hash(operation: &str, arguments: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(operation.as_bytes());
    hasher.update([0u8]);
    hasher.update(canonical_json(arguments).as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_bounded_and_plain() {
        assert!(validate_key("k", "0b6f1c1e-2f0a-4a39-9c1d-5f5e7d0c2a11").is_ok());
        assert!(validate_key("k", "a:b.c_d-1").is_ok());
        assert!(validate_key("k", &"x".repeat(128)).is_ok());
        assert!(validate_key("k", "").is_err());
        assert!(validate_key("k", &"x".repeat(129)).is_err());
        assert!(validate_key("k", "has space").is_err());
        assert!(validate_key("k", "键").is_err());
    }

    #[test]
    fn hash_ignores_key_order_but_not_values() {
        let a = request_hash("op", &json!({"a": 1, "b": {"y": [1, 2], "x": "s"}}));
        let b = request_hash("op", &json!({"b": {"x": "s", "y": [1, 2]}, "a": 1}));
        assert_eq!(a, b);
        assert_ne!(
            a,
            request_hash("op", &json!({"a": 2, "b": {"x": "s", "y": [1, 2]}}))
        );
        assert_ne!(
            a,
            request_hash("other", &json!({"a": 1, "b": {"y": [1, 2], "x": "s"}}))
        );
    }
}
