//! Any stream message, parsed: a tweet (either API version) or one of the control notices a real
//! stream carries, of the kind [`crate::envelope::probe`] finds. A payload that is not JSON, or a tweet without an id or a time, is an
//! error naming what is missing, so silver can quarantine it with the reason.

use serde_json::Value;

use crate::envelope::{probe, Envelope, MessageKind};
use crate::fields::{id, millis_text, strings, ParseError};
use crate::model::{ApiVersion, Tweet};
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
    /// A compliance event that changes no stored tweet (v2 user events and drops, batch
    /// results other than deletes): counted, not applied.
    Compliance,
    /// Valid JSON of no known shape.
    Other,
}

/// Parses one raw stream message: [`probe`] says what it is, then only that kind is read.
pub fn parse_message(raw: &[u8]) -> Result<Message, ParseError> {
    let envelope = probe(raw).map_err(|e| ParseError::Json(e.to_string()))?;
    let v: Value = serde_json::from_slice(raw).map_err(|e| ParseError::Json(e.to_string()))?;
    parse_kind(&envelope, &v)
}

fn parse_kind(envelope: &Envelope, v: &Value) -> Result<Message, ParseError> {
    let v2 = envelope.api_version == Some(ApiVersion::V2);
    let data = &v["data"];
    Ok(match envelope.kind {
        MessageKind::Tweet if v2 => Message::Tweet(Box::new(v2::tweet(v, data)?)),
        MessageKind::Tweet => Message::Tweet(Box::new(v1::tweet(v)?)),
        MessageKind::Delete => delete(envelope, v)?,
        MessageKind::ScrubGeo if v2 => {
            // {"data":{"scrub_geo":{"user":{"id"},"up_to_tweet_id","event_at"}}}
            let s = &data["scrub_geo"];
            Message::ScrubGeo {
                user_id: id(&s["user"]["id"])
                    .ok_or(ParseError::Missing("data.scrub_geo.user.id"))?,
                up_to_tweet_id: id(&s["up_to_tweet_id"])
                    .ok_or(ParseError::Missing("data.scrub_geo.up_to_tweet_id"))?,
            }
        }
        MessageKind::ScrubGeo => {
            let s = &v["scrub_geo"];
            Message::ScrubGeo {
                user_id: id(&s["user_id_str"])
                    .or_else(|| id(&s["user_id"]))
                    .ok_or(ParseError::Missing("scrub_geo.user_id"))?,
                up_to_tweet_id: id(&s["up_to_status_id_str"])
                    .or_else(|| id(&s["up_to_status_id"]))
                    .ok_or(ParseError::Missing("scrub_geo.up_to_status_id"))?,
            }
        }
        MessageKind::Limit => {
            let l = &v["limit"];
            Message::Limit {
                track: l["track"].as_i64().unwrap_or(0),
                at_us: millis_text(&l["timestamp_ms"]),
            }
        }
        MessageKind::Withheld => withheld(envelope, v),
        MessageKind::Warning => Message::Warning {
            code: v["warning"]["code"].as_str().map(str::to_string),
        },
        MessageKind::Disconnect if v2 => Message::Disconnect {
            reason: v["errors"][0]["title"]
                .as_str()
                .unwrap_or("errors")
                .to_string(),
        },
        MessageKind::Disconnect => Message::Disconnect {
            reason: v["disconnect"]["reason"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        },
        MessageKind::Compliance => Message::Compliance,
        MessageKind::Other => Message::Other,
    })
}

/// v1.1 `delete`, a v2 compliance-stream delete, or a v2 batch-compliance `"action":"delete"`.
fn delete(envelope: &Envelope, v: &Value) -> Result<Message, ParseError> {
    let (tweet_id, user_id, field) = if let Some(d) = v.get("delete") {
        let status = &d["status"];
        let user = id(&status["user_id_str"]).or_else(|| id(&status["user_id"]));
        (envelope.tweet_id, user, "delete.status.id")
    } else if v["data"].is_object() {
        let user = id(&v["data"]["delete"]["tweet"]["author_id"]);
        (envelope.tweet_id, user, "data.delete.tweet.id")
    } else {
        (envelope.tweet_id, None, "id")
    };
    Ok(Message::Delete {
        tweet_id: tweet_id.ok_or(ParseError::Missing(field))?,
        user_id,
        at_us: envelope.event_time_us,
    })
}

/// v1.1 `status_withheld` / `user_withheld`, or their v2 compliance-stream forms.
fn withheld(envelope: &Envelope, v: &Value) -> Message {
    let data = &v["data"];
    let (event, user_id) = if let Some(w) = v.get("status_withheld") {
        (w, id(&w["user_id"]))
    } else if let Some(w) = v.get("user_withheld") {
        (w, id(&w["id"]))
    } else if let Some(w) = data.get("withheld") {
        (w, id(&w["tweet"]["author_id"]))
    } else {
        let w = &data["user_withheld"];
        (w, id(&w["user"]["id"]))
    };
    Message::Withheld {
        tweet_id: envelope.tweet_id,
        user_id,
        countries: strings(&event["withheld_in_countries"]),
    }
}
