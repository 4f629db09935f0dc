//! Mainland China mobile numbers: validated and normalised to 11 digits.
use crate::error::{AppError, AppResult};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// An optional number as stored: absent stays absent, present must parse.
    pub fn parse_optional(field: &str, raw: Option<&str>) -> AppResult<Option<String>> {
        raw.map(|p| Phone::parse(field, p))
            .transpose()
            .map(|phone| phone.map(Phone::into_string))
    }

    /// Accepts spaces, dashes and a +86 / 0086 / 86 prefix; stores the 11 digits.
    pub fn parse(field: &str, raw: &str) -> AppResult<Phone> {
        let digits: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
            .or_else(|| {
                if digits.len() == 13 {
                    digits.strip_prefix("86")
                } else {
                    None
                }
            })
            .unwrap_or(&digits);
        let valid = digits.len() == 11
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits.starts_with('1')
            && matches!(digits.as_bytes()[1], b'3'..=b'9');
        if valid {
            Ok(Phone(digits.to_owned()))
        } else {
            Err(AppError::bad_input(
                field,
                "手机号码格式不正确 (not a valid mobile number)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_normalised() {
        for raw in [
            "13812345678",
            "138 1234 5678",
            "+86 138-1234-5678",
            "008613812345678",
            "8613812345678",
        ] {
            assert_eq!(
                Phone::parse("phone", raw).map(Phone::into_string),
                Ok("13812345678".into()),
                "{raw}"
            );
        }
    }

    #[test]
    fn invalid_numbers_are_rejected() {
        for raw in [
            "",
            "1381234567",
            "138123456789",
            "12812345678",
            "23812345678",
            "1381234567a",
            "+1 212 555 0100",
        ] {
            let err = Phone::parse("phone", raw).expect_err(raw);
            assert_eq!(err.code(), "BAD_USER_INPUT");
        }
    }
}
