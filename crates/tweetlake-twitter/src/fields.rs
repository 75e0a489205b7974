//! Reading a message's JSON fields the way both API versions write them (ids as strings or
//! numbers, times in either API's format), and the error that names a missing or bad one.

use serde_json::Value;

use crate::envelope::{millis_to_micros, parse_time};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("tweet without {0}")]
    Missing(&'static str),
    #[error("{field} is not a valid {what}: {value}")]
    Invalid {
        field: &'static str,
        what: &'static str,
        value: String,
    },
}

/// An id given as a string or a number.
pub(crate) fn id(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

pub(crate) fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// `"1617292351123"` (ms) → µs; `None` for a time µs cannot hold.
pub(crate) fn millis_text(v: &Value) -> Option<i64> {
    millis_to_micros(id(v)?)
}

/// A v1.1 (`Wed Oct 10 20:19:24 +0000 2018`) or RFC 3339 time in µs.
pub(crate) fn time_us(v: &Value) -> Result<i64, ParseError> {
    let s = v.as_str().ok_or(ParseError::Missing("created_at"))?;
    parse_time(s).ok_or_else(|| ParseError::Invalid {
        field: "created_at",
        what: "time",
        value: s.to_string(),
    })
}
