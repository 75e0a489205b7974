//! The tweet wire format's one classifier: what kind of stream message a payload is, which API
//! version sent it, and the tweet id and event time it carries, found in one serde pass that
//! skips everything else without building a value tree. Bronze stores its answer beside the raw
//! bytes (`event_kind`, `tweet_id`, `api_version`, `event_time`); [`crate::parse_message`] takes
//! the same answer and parses only the kind it names, so the two can never disagree.
//!
//! Rules, first match wins:
//! 1. `data` is an object (API v2): `delete`, `withheld`/`user_withheld`, `scrub_geo`,
//!    `user_delete`/`user_protect`/`user_suspend`/`drop` are compliance-stream events (no
//!    `text`); anything else under `data` is a tweet.
//! 2. v1.1 notices, by their key: `delete`, `scrub_geo`, `limit`, `status_withheld`,
//!    `user_withheld`, `warning`, `disconnect`.
//! 3. A v1.1 tweet: `text` or `full_text`, or a `user` with an `id`/`id_str`.
//! 4. A v2 batch-compliance result `{"id", "action", "created_at", "reason"}`: `delete` is a
//!    delete of that id; any other action is a compliance event.
//! 5. A v2 message with only `errors` is a disconnect (operational disconnect and the like).
//! 6. Any other JSON is `Other`; a JSON `null` counts as an absent key.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::model::ApiVersion;

/// What a stream message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    Tweet,
    Delete,
    ScrubGeo,
    Limit,
    Withheld,
    Warning,
    Disconnect,
    /// A compliance event that changes no stored tweet here (v2 user events, drops, batch
    /// results other than deletes).
    Compliance,
    Other,
}

/// The probe's answer for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    pub kind: MessageKind,
    /// `None` when the shape does not say (valid JSON of no known shape).
    pub api_version: Option<ApiVersion>,
    /// The tweet the message is about, when it names one that fits an i64.
    pub tweet_id: Option<i64>,
    /// When it happened by the message's own clock, µs since the epoch (UTC).
    pub event_time_us: Option<i64>,
}

impl Envelope {
    const OTHER: Envelope = Envelope {
        kind: MessageKind::Other,
        api_version: None,
        tweet_id: None,
        event_time_us: None,
    };
}

/// Classifies one payload; the error is serde_json's, for bytes that are not JSON at all.
pub fn probe(raw: &[u8]) -> Result<Envelope, serde_json::Error> {
    match serde_json::from_slice::<Loose<Top>>(raw) {
        Ok(top) => Ok(top.classify()),
        // Valid JSON that serde cannot take as a map (a duplicate key) is still a message.
        Err(_) => serde_json::from_slice::<IgnoredAny>(raw).map(|_| Envelope::OTHER),
    }
}

/// [`probe`] for text already known to be UTF-8 (bronze checks that first): ~10 % faster, as
/// serde_json need not check the strings it borrows again.
pub fn probe_str(text: &str) -> Result<Envelope, serde_json::Error> {
    match serde_json::from_str::<Loose<Top>>(text) {
        Ok(top) => Ok(top.classify()),
        Err(_) => serde_json::from_str::<IgnoredAny>(text).map(|_| Envelope::OTHER),
    }
}

impl Loose<Top<'_>> {
    fn classify(&self) -> Envelope {
        self.get().map_or(Envelope::OTHER, Top::classify)
    }
}

/// v1.1's `created_at` format, read once: parsing the format string at every call was a sixth
/// of the probe's time (what `ingest` and `produce` run on every message).
static V1_TIME: std::sync::LazyLock<Vec<chrono::format::Item<'static>>> =
    std::sync::LazyLock::new(|| chrono::format::StrftimeItems::new(V1_TIME_FORMAT).collect());
const V1_TIME_FORMAT: &str = "%a %b %d %H:%M:%S %z %Y";

/// v1.1 `created_at` (`Wed Jul 10 18:02:22 +0000 2019`) or RFC 3339 (v2), in µs.
pub fn parse_time(text: &str) -> Option<i64> {
    let v1 = || {
        let mut parsed = chrono::format::Parsed::new();
        chrono::format::parse(&mut parsed, text, V1_TIME.iter()).ok()?;
        parsed.to_datetime().ok()
    };
    let v2 = || chrono::DateTime::parse_from_rfc3339(text).ok();
    // RFC 3339 starts with the year, v1.1 with the weekday: try the likely one first.
    let time = match text.starts_with(|c: char| c.is_ascii_digit()) {
        true => v2().or_else(v1),
        false => v1().or_else(v2),
    };
    time.map(|t| t.timestamp_micros())
}

/// Milliseconds since the epoch in µs; `None` for a time µs cannot hold.
pub fn millis_to_micros(ms: i64) -> Option<i64> {
    ms.checked_mul(1000)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Top<'a> {
    #[serde(borrow)]
    data: Option<Loose<V2Data<'a>>>,
    delete: Option<Loose<V1Delete<'a>>>,
    scrub_geo: Option<IgnoredAny>,
    limit: Option<IgnoredAny>,
    status_withheld: Option<Loose<IdHolder<'a>>>,
    user_withheld: Option<IgnoredAny>,
    warning: Option<IgnoredAny>,
    disconnect: Option<IgnoredAny>,
    text: Option<IgnoredAny>,
    full_text: Option<IgnoredAny>,
    user: Option<IgnoredAny>,
    id_str: Option<Scalar<'a>>,
    id: Option<Scalar<'a>>,
    created_at: Option<Scalar<'a>>,
    action: Option<Scalar<'a>>,
    errors: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct V1Delete<'a> {
    #[serde(borrow)]
    status: Option<Loose<IdHolder<'a>>>,
    timestamp_ms: Option<Scalar<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IdHolder<'a> {
    #[serde(borrow)]
    id_str: Option<Scalar<'a>>,
    id: Option<Scalar<'a>>,
}

impl IdHolder<'_> {
    fn id(&self) -> Option<i64> {
        [&self.id_str, &self.id]
            .into_iter()
            .flatten()
            .find_map(Scalar::as_i64)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct V2Data<'a> {
    #[serde(borrow)]
    id: Option<Scalar<'a>>,
    created_at: Option<Scalar<'a>>,
    text: Option<IgnoredAny>,
    delete: Option<Loose<V2Event<'a>>>,
    withheld: Option<Loose<V2Event<'a>>>,
    user_withheld: Option<Loose<V2Event<'a>>>,
    scrub_geo: Option<Loose<V2Event<'a>>>,
    user_delete: Option<Loose<V2Event<'a>>>,
    user_protect: Option<Loose<V2Event<'a>>>,
    user_suspend: Option<Loose<V2Event<'a>>>,
    drop: Option<Loose<V2Event<'a>>>,
}

/// A v2 compliance-stream event: `{"tweet": {"id": ..}, "event_at": ..}`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct V2Event<'a> {
    #[serde(borrow)]
    tweet: Option<Loose<IdHolder<'a>>>,
    event_at: Option<Scalar<'a>>,
}

impl Top<'_> {
    fn classify(&self) -> Envelope {
        let v1 = |kind, tweet_id, event_time_us| Envelope {
            kind,
            api_version: Some(ApiVersion::V1),
            tweet_id,
            event_time_us,
        };
        let v2 = |kind, tweet_id, event_time_us| Envelope {
            kind,
            api_version: Some(ApiVersion::V2),
            tweet_id,
            event_time_us,
        };
        if let Some(Loose(Some(data))) = &self.data {
            return data.classify();
        }
        if let Some(delete) = &self.delete {
            let delete = delete.get();
            let id = delete.and_then(|d| d.status.as_ref()?.get()?.id());
            let at = delete.and_then(|d| d.timestamp_ms.as_ref()?.as_i64());
            return v1(MessageKind::Delete, id, at.and_then(millis_to_micros));
        }
        let notices = [
            (self.scrub_geo.is_some(), MessageKind::ScrubGeo),
            (self.limit.is_some(), MessageKind::Limit),
            (self.status_withheld.is_some(), MessageKind::Withheld),
            (self.user_withheld.is_some(), MessageKind::Withheld),
            (self.warning.is_some(), MessageKind::Warning),
            (self.disconnect.is_some(), MessageKind::Disconnect),
        ];
        if let Some((_, kind)) = notices.into_iter().find(|(present, _)| *present) {
            let id = match kind {
                MessageKind::Withheld => self.status_withheld.as_ref().and_then(|w| w.get()?.id()),
                _ => None,
            };
            return v1(kind, id, None);
        }
        let id = [&self.id_str, &self.id]
            .into_iter()
            .flatten()
            .find_map(Scalar::as_i64);
        let has_id = self.id_str.is_some() || self.id.is_some();
        if self.text.is_some() || self.full_text.is_some() || (self.user.is_some() && has_id) {
            let at = self
                .created_at
                .as_ref()
                .and_then(|t| parse_time(t.as_str()?));
            return v1(MessageKind::Tweet, id, at);
        }
        if let Some(action) = &self.action {
            let at = self
                .created_at
                .as_ref()
                .and_then(|t| parse_time(t.as_str()?));
            return match action.as_str() {
                Some("delete") => v2(MessageKind::Delete, id, at),
                _ => v2(MessageKind::Compliance, None, at),
            };
        }
        if self.errors.is_some() {
            return v2(MessageKind::Disconnect, None, None);
        }
        Envelope::OTHER
    }
}

impl V2Data<'_> {
    fn classify(&self) -> Envelope {
        let event = |kind, e: &Loose<V2Event>| Envelope {
            kind,
            api_version: Some(ApiVersion::V2),
            tweet_id: e.get().and_then(|e| e.tweet.as_ref()?.get()?.id()),
            event_time_us: e
                .get()
                .and_then(|e| parse_time(e.event_at.as_ref()?.as_str()?)),
        };
        // A tweet may carry its own `withheld` attribute; compliance events never have text.
        if self.text.is_none() {
            let events = [
                (&self.delete, MessageKind::Delete),
                (&self.withheld, MessageKind::Withheld),
                (&self.user_withheld, MessageKind::Withheld),
                (&self.scrub_geo, MessageKind::ScrubGeo),
                (&self.user_delete, MessageKind::Compliance),
                (&self.user_protect, MessageKind::Compliance),
                (&self.user_suspend, MessageKind::Compliance),
                (&self.drop, MessageKind::Compliance),
            ];
            if let Some((Some(e), kind)) = events.into_iter().find(|(e, _)| e.is_some()) {
                return event(kind, e);
            }
        }
        Envelope {
            kind: MessageKind::Tweet,
            api_version: Some(ApiVersion::V2),
            tweet_id: self.id.as_ref().and_then(Scalar::as_i64),
            event_time_us: self
                .created_at
                .as_ref()
                .and_then(|t| parse_time(t.as_str()?)),
        }
    }
}

/// A JSON string or number, kept as written (borrowed where it can be); any other value is
/// skipped, so an odd type in one field never costs the message its classification.
#[derive(Debug, Clone, PartialEq)]
enum Scalar<'a> {
    Text(Cow<'a, str>),
    Int(i64),
    /// A number that is not an i64 (too large, or a float): no id or time.
    OtherNumber,
    /// true/false, a list or an object: neither an id nor a time.
    Ignored,
}

impl Scalar<'_> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Text(t) => Some(t),
            _ => None,
        }
    }

    /// An id or a count given as a number or a decimal string; `None` when it does not fit.
    fn as_i64(&self) -> Option<i64> {
        match self {
            Scalar::Text(t) => t.parse().ok(),
            Scalar::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ScalarVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for ScalarVisitor<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Text(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'a>, E> {
                Ok(i64::try_from(v).map_or(Scalar::OtherNumber, Scalar::Int))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::OtherNumber)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Ignored)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Ignored)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Ignored)
            }
        }
        d.deserialize_any(ScalarVisitor(PhantomData))
    }
}

/// An object read as `T`; any other JSON value is skipped as `None`, so a field of an odd type
/// (`"delete": 5`) still says the key is there without failing the whole message.
struct Loose<T>(Option<T>);

impl<T> Loose<T> {
    fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Loose<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct LooseVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for LooseVisitor<T> {
            type Value = Loose<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Loose<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Loose(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Loose(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Loose<T>, E> {
                Ok(Loose(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Loose<T>, E> {
                Ok(Loose(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Loose<T>, E> {
                Ok(Loose(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Loose<T>, E> {
                Ok(Loose(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Loose<T>, E> {
                Ok(Loose(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Loose<T>, E> {
                Ok(Loose(None))
            }
        }
        d.deserialize_any(LooseVisitor(PhantomData))
    }
}

#[cfg(test)]
#[path = "envelope_tests.rs"]
mod tests;
