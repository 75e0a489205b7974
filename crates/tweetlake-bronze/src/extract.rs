//! Classifies one Kafka message for bronze: either a row with a few cheaply extracted fields
//! (tweet id, event kind, API version, event time) or a [`Rejection`] that sends it to quarantine.
//!
//! One serde pass over the text validates the JSON and picks out only the fields named below;
//! everything else is skipped without building a value tree.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, IgnoredAny, Visitor};
use serde::Deserialize;

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
    match serde_json::from_str::<Envelope>(text) {
        Ok(env) => Ok((text, env.classify())),
        // Valid JSON of an unexpected shape (an array, a duplicate key) is still kept as a row.
        Err(_) => match serde_json::from_str::<IgnoredAny>(text) {
            Ok(_) => Ok((
                text,
                Extracted {
                    tweet_id: None,
                    kind: EventKind::Other,
                    api_version: None,
                    event_time_us: None,
                },
            )),
            Err(e) => Err(Rejection::NotJson {
                message: e.to_string(),
            }),
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Envelope<'a> {
    #[serde(borrow)]
    id_str: Option<Cow<'a, str>>,
    id: Option<Id>,
    #[serde(borrow)]
    created_at: Option<Cow<'a, str>>,
    text: Option<IgnoredAny>,
    full_text: Option<IgnoredAny>,
    #[serde(borrow)]
    delete: Option<V1Delete<'a>>,
    limit: Option<IgnoredAny>,
    status_withheld: Option<V1Withheld>,
    user_withheld: Option<IgnoredAny>,
    scrub_geo: Option<IgnoredAny>,
    disconnect: Option<IgnoredAny>,
    warning: Option<IgnoredAny>,
    #[serde(borrow)]
    data: Option<V2Data<'a>>,
    errors: Option<IgnoredAny>,
    action: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct V1Delete<'a> {
    status: Option<IdHolder>,
    #[serde(borrow)]
    timestamp_ms: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IdHolder {
    id_str: Option<Id>,
    id: Option<Id>,
}

impl IdHolder {
    fn id(&self) -> Option<i64> {
        self.id_str.or(self.id).and_then(|i| i.0)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct V1Withheld {
    id: Option<Id>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct V2Data<'a> {
    id: Option<Id>,
    #[serde(borrow)]
    created_at: Option<Cow<'a, str>>,
    text: Option<IgnoredAny>,
    #[serde(borrow)]
    delete: Option<V2Event<'a>>,
    #[serde(borrow)]
    withheld: Option<V2Event<'a>>,
    #[serde(borrow)]
    user_withheld: Option<V2Event<'a>>,
    #[serde(borrow)]
    scrub_geo: Option<V2Event<'a>>,
    #[serde(borrow)]
    user_delete: Option<V2Event<'a>>,
    #[serde(borrow)]
    user_protect: Option<V2Event<'a>>,
    #[serde(borrow)]
    user_suspend: Option<V2Event<'a>>,
    #[serde(borrow)]
    drop: Option<V2Event<'a>>,
}

/// A v2 compliance-stream event: `{"tweet": {"id": ..}, "event_at": ..}`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct V2Event<'a> {
    tweet: Option<IdHolder>,
    #[serde(borrow)]
    event_at: Option<Cow<'a, str>>,
}

/// A tweet id given as a JSON number or string; `None` inside when it does not fit an i64.
#[derive(Clone, Copy, Default)]
struct Id(Option<i64>);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a tweet id")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(i64::try_from(v).ok()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(Some(v)))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Id, E> {
                Ok(Id(None))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(Id(v.parse().ok()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Id, E> {
                Ok(Id(None))
            }
        }
        d.deserialize_any(IdVisitor)
    }
}

impl Envelope<'_> {
    fn classify(&self) -> Extracted {
        let mk = |kind, api, id, t| Extracted {
            tweet_id: id,
            kind,
            api_version: Some(api),
            event_time_us: t,
        };
        if let Some(data) = &self.data {
            return data.classify();
        }
        if let Some(del) = &self.delete {
            let id = del.status.as_ref().and_then(IdHolder::id);
            return mk(
                EventKind::Delete,
                API_V1,
                id,
                del.timestamp_ms.as_deref().and_then(millis),
            );
        }
        if self.text.is_some() || self.full_text.is_some() {
            let id = self
                .id_str
                .as_deref()
                .and_then(|s| s.parse().ok())
                .or(self.id.and_then(|i| i.0));
            let t = self.created_at.as_deref().and_then(v1_time);
            return mk(EventKind::Tweet, API_V1, id, t);
        }
        if self.limit.is_some() {
            return mk(EventKind::Limit, API_V1, None, None);
        }
        if let Some(w) = &self.status_withheld {
            return mk(EventKind::Withheld, API_V1, w.id.and_then(|i| i.0), None);
        }
        if self.user_withheld.is_some() {
            return mk(EventKind::Withheld, API_V1, None, None);
        }
        if self.scrub_geo.is_some() {
            return mk(EventKind::Compliance, API_V1, None, None);
        }
        if self.action.is_some() {
            // Output of a v2 batch compliance job: {"id", "action", "created_at", "reason"}. Tweet and
            // user jobs share this shape, so the id is not known to be a tweet's and is left out.
            return mk(
                EventKind::Compliance,
                API_V2,
                None,
                self.created_at.as_deref().and_then(v2_time),
            );
        }
        if self.errors.is_some() {
            return mk(EventKind::Other, API_V2, None, None);
        }
        let api = if self.disconnect.is_some() || self.warning.is_some() {
            Some(API_V1)
        } else {
            None
        };
        Extracted {
            tweet_id: None,
            kind: EventKind::Other,
            api_version: api,
            event_time_us: None,
        }
    }
}

impl V2Data<'_> {
    fn classify(&self) -> Extracted {
        let event = |kind, e: &V2Event| Extracted {
            tweet_id: e.tweet.as_ref().and_then(IdHolder::id),
            kind,
            api_version: Some(API_V2),
            event_time_us: e.event_at.as_deref().and_then(v2_time),
        };
        // A tweet may carry its own `withheld` attribute; compliance events never have text.
        if self.text.is_some() {
            return Extracted {
                tweet_id: self.id.and_then(|i| i.0),
                kind: EventKind::Tweet,
                api_version: Some(API_V2),
                event_time_us: self.created_at.as_deref().and_then(v2_time),
            };
        }
        if let Some(e) = &self.delete {
            return event(EventKind::Delete, e);
        }
        if let Some(e) = self.withheld.as_ref().or(self.user_withheld.as_ref()) {
            return event(EventKind::Withheld, e);
        }
        let compliance = [
            &self.scrub_geo,
            &self.user_delete,
            &self.user_protect,
            &self.user_suspend,
            &self.drop,
        ];
        if let Some(e) = compliance.into_iter().flatten().next() {
            return event(EventKind::Compliance, e);
        }
        Extracted {
            tweet_id: self.id.and_then(|i| i.0),
            kind: EventKind::Other,
            api_version: Some(API_V2),
            event_time_us: self.created_at.as_deref().and_then(v2_time),
        }
    }
}

/// v1.1 `created_at`: `Wed Jul 10 18:02:22 +0000 2019`.
fn v1_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_str(s, "%a %b %d %H:%M:%S %z %Y")
        .ok()
        .map(|t| t.timestamp_micros())
}

/// v2 times: RFC 3339, `2021-04-01T15:52:31.000Z`.
fn v2_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_micros())
}

fn millis(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().and_then(|ms| ms.checked_mul(1000))
}

#[cfg(test)]
mod tests;
