//! The tweet model of tweetlake: any stream message — API v1.1 (compat or extended mode) or v2
//! (`data` + `includes`) — classified by one cheap [`probe`] (which bronze stores too) and parsed
//! into one typed [`Message`], a [`Tweet`] or a control notice.
//! Also the text rules silver relies on: cleaning, and entity extraction per twitter-text.

mod entities;
pub mod envelope;
mod extract;
mod fields;
mod message;
mod model;
mod place;
mod text;
mod v1;
mod v2;

pub use envelope::{probe, probe_str, Envelope, MessageKind};
pub use extract::{
    extract_cashtags, extract_entities, extract_hashtags, extract_mentions, extract_urls,
    Extracted, TextEntities,
};
pub use fields::ParseError;
pub use message::{parse_message, Message};
pub use model::{ApiVersion, Coordinates, Metrics, Place, Rule, Tweet, UrlEntity};
pub use place::city_region;
pub use text::clean_text;

#[cfg(test)]
mod tests;
