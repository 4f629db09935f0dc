//! A deputy's public code (专属二维码 carries it): short, unambiguous when read aloud
//! or typed, and not derivable from database ids.
use rand::Rng;

use crate::error::{AppError, AppResult};

/// Crockford-style alphabet without 0/O, 1/I/L: nothing a citizen could misread.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
pub const CODE_LENGTH: usize = 8;

/// A fresh random code from the OS-seeded thread RNG.
pub fn generate() -> String {
    let mut rng = rand::thread_rng();
    from_fn(|| rng.gen::<u64>())
}

/// A code from a caller-supplied stream of random numbers (deterministic seeds).
pub fn from_fn(mut next: impl FnMut() -> u64) -> String {
    (0..CODE_LENGTH)
        .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize] as char)
        .collect()
}

/// Normalises user input (case, spaces) and checks the shape.
pub fn parse(raw: &str) -> AppResult<String> {
    let code: String = raw.trim().to_ascii_uppercase();
    if code.len() == CODE_LENGTH && code.bytes().all(|b| ALPHABET.contains(&b)) {
        Ok(code)
    } else {
        Err(AppError::bad_input(
            "code",
            "代表编码格式不正确 (malformed deputy code)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_parse_and_differ() {
        let a = generate();
        let b = generate();
        assert_eq!(parse(&a), Ok(a.clone()));
        assert_ne!(a, b);
    }

    #[test]
    fn parsing_normalises_case_and_rejects_ambiguous_letters() {
        assert_eq!(parse(" ab23cd45 "), Ok("AB23CD45".into()));
        assert!(parse("AB23CD4O").is_err(), "O is not in the alphabet");
        assert!(parse("AB23").is_err());
        assert!(parse("AB23CD45X").is_err());
    }
}
