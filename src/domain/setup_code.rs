//! One-time set-password codes for accounts created without a password (by an
//! import): twelve characters of an alphabet without look-alikes (60 bits), shown as
//! `XXXX-XXXX-XXXX`; only their sha256 is stored.
use rand::Rng;
use sha2::{Digest, Sha256};

/// A-Z and 2-9 without I, O, 0 and 1 (32 symbols: 5 bits each).
const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const LENGTH: usize = 12;

/// How long a code stays valid.
pub const VALID_DAYS: i64 = 14;

/// A fresh code from the operating system's generator.
pub fn generate() -> String {
    let mut rng = rand::rngs::OsRng;
    let raw: String = (0..LENGTH)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..])
}

/// The stored form of a code as typed (case, spaces and dashes ignored): its sha256,
/// hex; `None` for something that cannot be a code.
pub fn digest(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid = code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b));
    valid.then(|| hex::encode(Sha256::digest(code.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_read_back_however_it_is_typed() {
        let code = generate();
        assert_eq!(code.len(), 14);
        let stored = digest(&code).expect("valid");
        assert_eq!(digest(&code.to_lowercase().replace('-', " ")), Some(stored));
        assert_ne!(generate(), code);
    }

    #[test]
    fn look_alikes_and_wrong_lengths_are_no_code() {
        assert_eq!(digest("ABCD-EFGH-JKL0"), None);
        assert_eq!(digest("ABCD-EFGH-JK"), None);
        assert_eq!(digest(""), None);
    }
}
