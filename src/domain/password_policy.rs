//! What a password must be. The rules follow NIST SP 800-63B's spirit: length first,
//! a little variety, nothing obviously guessable.
use crate::error::{AppError, AppResult};

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 128;

const COMMON: &[&str] = &[
    "password",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "11111111",
    "88888888",
    "abc12345",
    "a1234567",
    "woaini1314",
    "iloveyou",
    "admin123",
    "password1",
    "1qaz2wsx",
];

pub fn check(password: &str, login: &str) -> AppResult<()> {
    let fail = |message: &str| Err(AppError::bad_input("password", message));
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return fail("密码至少10个字符 (at least 10 characters)");
    }
    if length > MAX_LENGTH {
        return fail("密码最多128个字符 (at most 128 characters)");
    }
    if password.chars().any(char::is_control) {
        return fail("密码不能包含控制字符 (no control characters)");
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|x| **x).count() < 2 {
        return fail(
            "密码需包含字母、数字、符号中的至少两类 (mix at least two of letters, digits, symbols)",
        );
    }
    let lower = password.to_lowercase();
    if !login.is_empty() && lower.contains(&login.to_lowercase()) {
        return fail("密码不能包含登录名 (must not contain the login name)");
    }
    if COMMON.iter().any(|c| lower.starts_with(c)) {
        return fail("密码过于常见 (too common)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_passwords_pass() {
        for p in [
            "Heshun-Demo-2025",
            "correct horse battery 9",
            "联络站2025abc",
        ] {
            assert_eq!(check(p, "zhang"), Ok(()), "{p}");
        }
    }

    #[test]
    fn each_rule_rejects() {
        let long = "a1".repeat(65);
        for p in [
            "short1A",
            "alllowercaseletters",
            "1234567890123",
            "Password12345",
            "zhangsan-2025",
            "abc\u{7}defgh12",
            long.as_str(),
        ] {
            let err = check(p, "zhangsan").expect_err(p);
            assert_eq!(err.code(), "BAD_USER_INPUT", "{p}");
        }
    }
}
