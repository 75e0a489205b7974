//! Classifies one Kafka message for bronze: either a row with a few cheaply extracted fields
//! (tweet id, event kind, API version, event time) or a [`Rejection`] that sends it to quarantine.
//!
//! The fields come from the tweet wire format's one classifier, `tweetlake_twitter::probe_str` (one
//! serde pass that skips what it does not need), the same one silver parses by, so a row's
//! `event_kind` never contradicts what silver makes of it. Bronze's column keeps a coarser
//! vocabulary than the probe's kinds (below).

use std::fmt;

use tweetlake_twitter::{probe_str, ApiVersion, Envelope, MessageKind};

/// What a message is, as far as bronze can tell without a full parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Tweet,
    Delete,
    Limit,
    Withheld,
    Compliance,
    Other,
}

impl EventKind {
    /// Bronze's name for a probed kind: scrub_geo is a compliance event here, and warnings and
    /// disconnects are `other`, as they have been since the first bronze table.
    pub fn of(kind: MessageKind) -> EventKind {
        match kind {
            MessageKind::Tweet => EventKind::Tweet,
            MessageKind::Delete => EventKind::Delete,
            MessageKind::Limit => EventKind::Limit,
            MessageKind::Withheld => EventKind::Withheld,
            MessageKind::ScrubGeo | MessageKind::Compliance => EventKind::Compliance,
            MessageKind::Warning | MessageKind::Disconnect | MessageKind::Other => EventKind::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Tweet => "tweet",
            EventKind::Delete => "delete",
            EventKind::Limit => "limit",
            EventKind::Withheld => "withheld",
            EventKind::Compliance => "compliance",
            EventKind::Other => "other",
        }
    }
}

pub const API_V1: &str = "v1.1";
pub const API_V2: &str = "v2";

/// Fields extracted from a valid message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub tweet_id: Option<i64>,
    pub kind: EventKind,
    pub api_version: Option<&'static str>,
    /// Microseconds since the Unix epoch, UTC.
    pub event_time_us: Option<i64>,
}

/// Why a message cannot be a normal bronze row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    Empty,
    TooLarge {
        size: usize,
        limit: usize,
    },
    NotUtf8 {
        valid_up_to: usize,
    },
    NotJson {
        message: String,
    },
    /// A Kafka header key that is not UTF-8: bronze stores header keys as strings.
    HeaderKeyNotUtf8 {
        index: usize,
        key: Vec<u8>,
    },
}

impl Rejection {
    /// Short machine-readable kind stored in `error_kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Rejection::Empty => "empty",
            Rejection::TooLarge { .. } => "too_large",
            Rejection::NotUtf8 { .. } => "not_utf8",
            Rejection::NotJson { .. } => "not_json",
            Rejection::HeaderKeyNotUtf8 { .. } => "header_key_not_utf8",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Empty => write!(f, "message value is empty or only whitespace"),
            Rejection::TooLarge { size, limit } => {
                write!(f, "message value is {size} bytes, over the {limit}-byte limit (bronze.max_message_bytes)")
            }
            Rejection::NotUtf8 { valid_up_to } => {
                write!(
                    f,
                    "message value is not valid UTF-8 (first bad byte at {valid_up_to})"
                )
            }
            Rejection::NotJson { message } => {
                write!(f, "message value is not valid JSON: {message}")
            }
            Rejection::HeaderKeyNotUtf8 { index, key } => {
                let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
                write!(
                    f,
                    "Kafka header {index} has a key that is not UTF-8 (hex {hex}); bronze \
                     stores header keys as text, so the message is kept here whole"
                )
            }
        }
    }
}

/// Every header key must be UTF-8 for the message to be a bronze row.
pub fn check_headers(headers: &[(&[u8], Option<&[u8]>)]) -> Result<(), Rejection> {
    match headers
        .iter()
        .enumerate()
        .find(|(_, (key, _))| std::str::from_utf8(key).is_err())
    {
        Some((index, (key, _))) => Err(Rejection::HeaderKeyNotUtf8 {
            index,
            key: key.to_vec(),
        }),
        None => Ok(()),
    }
}

/// Checks one message value and extracts its fields, or says why it belongs in quarantine.
pub fn inspect(value: Option<&[u8]>, max_bytes: usize) -> Result<(&str, Extracted), Rejection> {
    let bytes = value.unwrap_or_default();
    if bytes.len() > max_bytes {
        return Err(Rejection::TooLarge {
            size: bytes.len(),
            limit: max_bytes,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| Rejection::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    if text.trim().is_empty() {
        return Err(Rejection::Empty);
    }
    let envelope = probe_str(text).map_err(|e| Rejection::NotJson {
        message: e.to_string(),
    })?;
    Ok((text, Extracted::from(envelope)))
}

impl From<Envelope> for Extracted {
    fn from(e: Envelope) -> Extracted {
        Extracted {
            tweet_id: e.tweet_id,
            kind: EventKind::of(e.kind),
            api_version: e.api_version.map(|v| match v {
                ApiVersion::V1 => API_V1,
                ApiVersion::V2 => API_V2,
            }),
            event_time_us: e.event_time_us,
        }
    }
}

#[cfg(test)]
mod tests;
