//! Any stream message, classified: a tweet (either API version) or one of the control notices a
//! real stream carries. A payload that is not JSON, or a tweet without an id or a time, is an
//! error naming what is missing, so silver can quarantine it with the reason.

use chrono::DateTime;
use serde_json::Value;

use crate::model::Tweet;
use crate::{v1, v2};

#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Tweet(Box<Tweet>),
    /// v1.1 `delete`, or a v2 compliance delete (stream or batch): the tweet must go.
    Delete {
        tweet_id: i64,
        user_id: Option<i64>,
        at_us: Option<i64>,
    },
    /// v1.1 `scrub_geo`: remove location from this user's tweets up to this id.
    ScrubGeo {
        user_id: i64,
        up_to_tweet_id: i64,
    },
    /// v1.1 `limit`: `track` tweets matched but not delivered so far.
    Limit {
        track: i64,
        at_us: Option<i64>,
    },
    /// `status_withheld` / `user_withheld`.
    Withheld {
        tweet_id: Option<i64>,
        user_id: Option<i64>,
        countries: Vec<String>,
    },
    /// `warning` (stall warnings, too many follows).
    Warning {
        code: Option<String>,
    },
    /// `disconnect`, or a v2 errors-only message (operational disconnect…).
    Disconnect {
        reason: String,
    },
    /// Valid JSON of no known shape.
    Other,
}

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

/// Parses one raw stream message.
pub fn parse_message(raw: &[u8]) -> Result<Message, ParseError> {
    let v: Value = serde_json::from_slice(raw).map_err(|e| ParseError::Json(e.to_string()))?;
    classify(&v)
}

fn classify(v: &Value) -> Result<Message, ParseError> {
    if let Some(d) = v.get("delete") {
        let status = &d["status"];
        return Ok(Message::Delete {
            tweet_id: id(&status["id_str"])
                .or_else(|| id(&status["id"]))
                .ok_or(ParseError::Missing("delete.status.id"))?,
            user_id: id(&status["user_id_str"]).or_else(|| id(&status["user_id"])),
            at_us: millis_text(&d["timestamp_ms"]),
        });
    }
    if let Some(s) = v.get("scrub_geo") {
        return Ok(Message::ScrubGeo {
            user_id: id(&s["user_id_str"])
                .or_else(|| id(&s["user_id"]))
                .ok_or(ParseError::Missing("scrub_geo.user_id"))?,
            up_to_tweet_id: id(&s["up_to_status_id_str"])
                .or_else(|| id(&s["up_to_status_id"]))
                .ok_or(ParseError::Missing("scrub_geo.up_to_status_id"))?,
        });
    }
    if let Some(l) = v.get("limit") {
        return Ok(Message::Limit {
            track: l["track"].as_i64().unwrap_or(0),
            at_us: millis_text(&l["timestamp_ms"]),
        });
    }
    if let Some(w) = v.get("status_withheld") {
        return Ok(Message::Withheld {
            tweet_id: id(&w["id"]),
            user_id: id(&w["user_id"]),
            countries: strings(&w["withheld_in_countries"]),
        });
    }
    if let Some(w) = v.get("user_withheld") {
        return Ok(Message::Withheld {
            tweet_id: None,
            user_id: id(&w["id"]),
            countries: strings(&w["withheld_in_countries"]),
        });
    }
    if let Some(w) = v.get("warning") {
        return Ok(Message::Warning {
            code: w["code"].as_str().map(str::to_string),
        });
    }
    if let Some(d) = v.get("disconnect") {
        return Ok(Message::Disconnect {
            reason: d["reason"].as_str().unwrap_or_default().to_string(),
        });
    }
    if let Some(data) = v.get("data").filter(|d| d.is_object()) {
        if let Some(del) = data.get("delete") {
            // v2 compliance stream: {"data":{"delete":{"tweet":{"id","author_id"},"event_at"}}}
            return Ok(Message::Delete {
                tweet_id: id(&del["tweet"]["id"])
                    .ok_or(ParseError::Missing("data.delete.tweet.id"))?,
                user_id: id(&del["tweet"]["author_id"]),
                at_us: time_us(&del["event_at"]).ok(),
            });
        }
        return v2::tweet(v, data).map(|t| Message::Tweet(Box::new(t)));
    }
    if v["action"] == "delete" {
        // v2 batch compliance result: {"id","action":"delete","created_at","reason"}
        return Ok(Message::Delete {
            tweet_id: id(&v["id"]).ok_or(ParseError::Missing("id"))?,
            user_id: None,
            at_us: time_us(&v["created_at"]).ok(),
        });
    }
    if v.get("errors").is_some() {
        let reason = v["errors"][0]["title"].as_str().unwrap_or("errors");
        return Ok(Message::Disconnect {
            reason: reason.to_string(),
        });
    }
    if v.get("user").is_some() && (v.get("id_str").is_some() || v.get("id").is_some()) {
        return v1::tweet(v).map(|t| Message::Tweet(Box::new(t)));
    }
    Ok(Message::Other)
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
fn millis_text(v: &Value) -> Option<i64> {
    let ms: i64 = match v {
        Value::String(s) => s.parse().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    ms.checked_mul(1000)
}

/// A v1.1 (`Wed Oct 10 20:19:24 +0000 2018`) or RFC 3339 time in µs.
pub(crate) fn time_us(v: &Value) -> Result<i64, ParseError> {
    let s = v.as_str().ok_or(ParseError::Missing("created_at"))?;
    DateTime::parse_from_str(s, "%a %b %d %H:%M:%S %z %Y")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .map(|t| t.timestamp_micros())
        .map_err(|_| ParseError::Invalid {
            field: "created_at",
            what: "time",
            value: s.to_string(),
        })
}
