//! Freshness and replay protection for `/wechat/callback`.
//!
//! A signed request is only as good as its `(timestamp, nonce)`: in plain mode (and for
//! the GET verification) the signature is `sha1(sort(token, timestamp, nonce))` and
//! covers **no part of the body**, so whoever sees one signed URL can post any body with
//! it. Two rules close that:
//!
//! * **Freshness** ([`is_fresh`]): the signed `timestamp` must lie within the window
//!   (`WECHAT_TIMESTAMP_WINDOW_SECS`, default ±300 s) of our clock.
//! * **One message per `(timestamp, nonce)`** (`limits::replay::ReplayGuard`): the first request
//!   that passes the signature check claims its pair for the message it carries (a
//!   fingerprint of the parsed message, or of `echostr` for the GET). The same pair
//!   with the same message again is a retry and goes on (the delivery dedupe answers
//!   it with the stored reply); the same pair with anything else is refused.
//!
//! Why not refuse every repeated pair: WeChat retries a push three times when it gets
//! no answer within 5 s, and its documentation does not promise fresh signature
//! parameters per attempt; a retry must still get its passive reply. Why the pair and
//! not the `(timestamp, nonce, signature)` triple or `msg_signature`: for a checked
//! request the plain signature is a function of the pair (so the triple names the same
//! thing), while keying safe mode on `msg_signature` would leave the plain `signature`
//! WeChat sends beside it reusable for a forged plain-mode POST in the same window.
//! Keyed on the pair, a safe-mode push and a plain-mode forgery collide and the second
//! is refused. A retry re-encrypted with a fresh random prefix has the same decrypted
//! message, so the fingerprint is taken after decryption and parsing.
//!
//! Claims live for twice the window (a pair whose timestamp is up to a window in the
//! future stays claimed until that timestamp is a window old), in Redis when configured
//! so that every replica shares them, and always in a bounded in-process cache too,
//! which answers alone while Redis is slow or down (Redis is reached through the
//! `RedisGuard`: a short timeout and a circuit breaker shared with the rate limiter).
//!
//! This module holds the protocol's half (freshness, keys and fingerprints, no I/O);
//! the claims themselves are kept by `limits::replay`, beside the rate limiter.
use sha2::{Digest, Sha256};

/// Whether the signed `timestamp` (decimal seconds) is within `window_secs` of `now`,
/// either way (clocks drift). Anything but 1 to 12 digits is not fresh.
pub fn is_fresh(timestamp: &str, now: i64, window_secs: u64) -> bool {
    if timestamp.is_empty()
        || timestamp.len() > 12
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    match timestamp.parse::<i64>() {
        Ok(ts) => now.abs_diff(ts) <= window_secs,
        Err(_) => false,
    }
}

/// A 32-byte digest (the claim's key, or the message's fingerprint).
pub type Hash = [u8; 32];

fn digest(parts: &[&str]) -> Hash {
    let mut hasher = Sha256::new();
    for part in parts {
        // Length-prefixed, so that no two different part lists hash the same input.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().into()
}

/// The claim's key: the signed request's `(timestamp, nonce)`.
pub fn request_key(timestamp: &str, nonce: &str) -> Hash {
    digest(&["wechat-request", timestamp, nonce])
}

/// Fingerprint of a POSTed message ([`crate::wechat::message::Inbound::canonical`]).
pub fn message_fingerprint(canonical: &str) -> Hash {
    digest(&["message", canonical])
}

/// Fingerprint of a GET verification (its `echostr`, which the signature does not cover).
pub fn echo_fingerprint(echostr: &str) -> Hash {
    digest(&["echo", echostr])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_window() {
        let now = 1_750_000_000;
        assert!(is_fresh("1750000000", now, 300));
        assert!(is_fresh("1749999700", now, 300));
        assert!(is_fresh("1750000300", now, 300));
        assert!(!is_fresh("1749999699", now, 300));
        assert!(!is_fresh("1750000301", now, 300));
        // Two years old.
        assert!(!is_fresh("1686928000", now, 300));
        for bad in [
            "",
            "abc",
            "-1",
            "+1750000000",
            " 1750000000",
            "1e9",
            "9999999999999",
        ] {
            assert!(!is_fresh(bad, now, 300), "{bad:?}");
        }
    }

    #[test]
    fn keys_and_fingerprints_are_unambiguous() {
        assert_ne!(request_key("12", "3"), request_key("1", "23"));
        assert_ne!(message_fingerprint("x"), echo_fingerprint("x"));
        assert_eq!(request_key("1", "2"), request_key("1", "2"));
    }
}
