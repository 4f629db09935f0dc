//! Login names: a phone number (normalised) or a username.
use crate::domain::phone::Phone;
use crate::error::{AppError, AppResult};

/// Normalises what a user typed as login: phone numbers to 11 digits, usernames to
/// lower case. Usernames are 3-32 of a-z 0-9 . _ - and start with a letter.
pub fn normalise(raw: &str) -> AppResult<String> {
    let trimmed = raw.trim();
    if trimmed
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '+')
    {
        return Phone::parse("login", trimmed).map(Phone::into_string);
    }
    let lower = trimmed.to_ascii_lowercase();
    let valid = (3..=32).contains(&lower.len())
        && lower.starts_with(|c: char| c.is_ascii_lowercase())
        && lower
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(lower)
    } else {
        Err(AppError::bad_input(
            "login",
            "登录名为手机号或3-32位字母数字 (a phone number or 3-32 letters/digits)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_phones() {
        assert_eq!(normalise(" Admin "), Ok("admin".into()));
        assert_eq!(normalise("+86 139 0000 1111"), Ok("13900001111".into()));
        for bad in ["ab", "9lives", "名字", "a b", &"x".repeat(33)] {
            assert!(normalise(bad).is_err(), "{bad}");
        }
    }
}
