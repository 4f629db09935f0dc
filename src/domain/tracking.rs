//! Tracking codes (查询码) citizens use to follow an item, and the follow secret an
//! anonymous submitter gets to follow and rate it without an account.
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{AppError, AppResult};

const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const PREFIX: &str = "HS";

/// `HS` + 10 characters, e.g. `HS7K2QD9MX4A`: short enough to read out, random enough
/// (about 50 bits) not to be guessed.
pub fn new_tracking_code() -> String {
    let mut rng = rand::thread_rng();
    let body: String = (0..10)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{PREFIX}{body}")
}

/// Deterministic codes for seeded data.
pub fn tracking_code_from(mut next: impl FnMut() -> u64) -> String {
    let body: String = (0..10)
        .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize] as char)
        .collect();
    format!("{PREFIX}{body}")
}

pub fn parse_tracking_code(raw: &str) -> AppResult<String> {
    let code: String = raw
        .trim()
        .chars()
        .filter(|c| *c != '-' && *c != ' ')
        .collect::<String>()
        .to_ascii_uppercase();
    let ok = code.len() == 12
        && code.starts_with(PREFIX)
        && code[2..].bytes().all(|b| ALPHABET.contains(&b));
    if ok {
        Ok(code)
    } else {
        Err(AppError::bad_input(
            "trackingCode",
            "查询码格式不正确 (malformed tracking code)",
        ))
    }
}

/// A follow secret: 128 random bits, shown once; only its hash is stored.
pub fn new_follow_secret() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill(&mut bytes);
    hex::encode(bytes)
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().as_bytes()))
}

/// Whether `secret` is the follow secret whose hash is `stored_hash`, compared in
/// constant time so that the time taken tells nothing about the stored hash.
pub fn secret_matches(secret: &str, stored_hash: &str) -> bool {
    hash_secret(secret)
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_and_normalise() {
        let code = new_tracking_code();
        assert_eq!(parse_tracking_code(&code.to_lowercase()), Ok(code.clone()));
        let dashed = format!("{}-{}", &code[..6], &code[6..]);
        assert_eq!(parse_tracking_code(&dashed), Ok(code));
        for bad in ["", "HS", "XX23456789AB", "HS23456789A0", "HS23456789ABC"] {
            assert!(parse_tracking_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_are_random_and_only_their_hash_is_kept() {
        let a = new_follow_secret();
        assert_ne!(a, new_follow_secret());
        assert_eq!(a.len(), 32);
        assert_eq!(hash_secret(&a), hash_secret(&format!(" {a} ")));
        assert!(secret_matches(&a, &hash_secret(&a)));
        assert!(secret_matches(&format!(" {a}\n"), &hash_secret(&a)));
        assert!(!secret_matches(&new_follow_secret(), &hash_secret(&a)));
        assert!(!secret_matches(&a, &hash_secret(&a)[..63]));
        assert!(!secret_matches(&a, ""));
        assert_ne!(hash_secret(&a), a);
    }
}
