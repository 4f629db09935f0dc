//! Scalars of our own.
use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

use crate::domain::calendar;

/// A calendar date, `YYYY-MM-DD` (China Standard Time where it matters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => {
                let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                    InputValueError::custom(format!(
                        "日期格式应为 YYYY-MM-DD (expected YYYY-MM-DD, got {s:?})"
                    ))
                })?;
                if !calendar::is_supported_date(date) {
                    return Err(InputValueError::custom(format!(
                        "日期须在 {}–{} 年之间 (dates must fall in the years {} to {}, got {s:?})",
                        calendar::FIRST_YEAR,
                        calendar::LAST_YEAR,
                        calendar::FIRST_YEAR,
                        calendar::LAST_YEAR
                    )));
                }
                Ok(Date(date))
            }
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}
