//! The `[produce]` section: where `tweetlake produce` sends tweets and how it rides out outages.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{HumanDuration, KeyError, DURATION_FORMS};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProduceConfig {
    /// Topic the tweets go to.
    pub topic: String,
    /// A message not acknowledged within this time fails and goes to the spool (`message.timeout.ms`).
    pub delivery_timeout: HumanDuration,
    /// Most messages handed to the producer and not yet acknowledged.
    pub max_in_flight: usize,
    /// In-flight messages with no delivery result for this long mean the brokers are down.
    pub stall_after: HumanDuration,
    pub spool: SpoolConfig,
    pub x_api: XApiConfig,
    pub filter: FilterConfig,
    /// Where a tweet goes other than `topic`: the first route that matches it wins.
    pub routes: Vec<RouteConfig>,
}

impl Default for ProduceConfig {
    fn default() -> Self {
        Self {
            topic: "tweets".into(),
            delivery_timeout: HumanDuration::from_secs(10),
            max_in_flight: 50_000,
            stall_after: HumanDuration::from_secs(5),
            spool: SpoolConfig::default(),
            x_api: XApiConfig::default(),
            filter: FilterConfig::default(),
            routes: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpoolConfig {
    /// Directory of the disk spool (relative paths are relative to the working directory).
    pub dir: PathBuf,
    /// Size of each segment file.
    pub segment_mb: u64,
    /// Cap on the spool; at the cap the producer stops reading its source (it never drops).
    pub max_mb: u64,
    /// When appends are forced to disk: `always`, a duration such as `1s`, or `never` (left to the OS;
    /// survives a producer crash, not a machine crash).
    pub fsync: Fsync,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("spool"),
            segment_mb: 64,
            max_mb: 10 * 1024,
            fsync: Fsync::Interval(Duration::from_secs(1)),
        }
    }
}

/// The X API v2 filtered stream (`tweetlake produce --x-stream`, `tweetlake rules`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct XApiConfig {
    /// Base URL of the API (a recorded-replay server in tests).
    pub base_url: String,
    /// App-only bearer token. Set it through `TWEETLAKE_PRODUCE__X_API__BEARER_TOKEN` rather than
    /// the file; it is never logged or printed.
    pub bearer_token: Option<Secret>,
    /// No byte, not even a keep-alive newline (sent every 20 s), for this long: reconnect.
    pub stall_timeout: HumanDuration,
    /// On every connection, the first after a restart too, ask for the minutes missed (1–5;
    /// accounts eligible for `backfill_minutes`), 0 = off.
    pub backfill_minutes: u32,
}

impl Default for XApiConfig {
    fn default() -> Self {
        Self {
            base_url: "https://api.x.com".into(),
            bearer_token: None,
            stall_timeout: HumanDuration::from_secs(20),
            backfill_minutes: 0,
        }
    }
}

/// A value that must not show up in logs, `Debug` output or printed config.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<redacted>")
    }
}

/// Which tweets every source sends; the rest are counted as filtered. Control messages (deletes,
/// limits, withholdings, compliance) always pass: the lake needs them to honour deletes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilterConfig {
    /// Keep tweets that contain one of these (case-insensitive): a word or phrase (`superbowl`,
    /// `big data`) matches text and hashtags, a `#tag` matches only that hashtag. Empty: no filter.
    pub keywords: Vec<String>,
    /// Built-in keyword sets added to `keywords`: `ai` (AI, data science, big data).
    pub keyword_sets: Vec<String>,
    /// Keep tweets in these languages (`en`, `es`…). Empty: any.
    pub lang: Vec<String>,
    /// Keep tweets with at least this many likes (a retweet counts its original's).
    pub min_likes: u64,
}

/// Sends matching tweets to `topic`: any of the keywords (or sets), or a v2 stream rule tag.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RouteConfig {
    pub topic: String,
    pub keywords: Vec<String>,
    pub keyword_sets: Vec<String>,
    /// Tags of the filtered-stream rules a tweet matched (`matching_rules`).
    pub rule_tags: Vec<String>,
}

/// The built-in keyword sets, by name.
pub const KEYWORD_SETS: &[(&str, &[&str])] = &[(
    "ai",
    &[
        "ai",
        "artificial intelligence",
        "machine learning",
        "deep learning",
        "neural network",
        "neural networks",
        "data science",
        "data scientist",
        "big data",
        "datascience",
        "bigdata",
        "machinelearning",
        "deeplearning",
        "artificialintelligence",
        "ml",
        "llm",
        "llms",
        "genai",
        "generative ai",
        "chatgpt",
        "openai",
        "nlp",
        "computer vision",
        "data engineering",
        "analytics",
        "hadoop",
        "apache spark",
        "tensorflow",
        "pytorch",
    ],
)];

/// When spooled records are forced to disk (`spool.fsync`): `always`, `never`, or a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// After every append: nothing lost even on power failure; slowest.
    Always,
    /// At most this long after an append (and on segment roll and close).
    Interval(Duration),
    /// Left to the OS: survives a crash of the producer, not of the machine.
    Never,
}

impl Serialize for Fsync {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Fsync::Always => s.serialize_str("always"),
            Fsync::Never => s.serialize_str("never"),
            Fsync::Interval(d) => s.collect_str(&HumanDuration::from_millis(d.as_millis() as u64)),
        }
    }
}

impl<'de> Deserialize<'de> for Fsync {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.trim() {
            "always" => Ok(Fsync::Always),
            "never" => Ok(Fsync::Never),
            other => HumanDuration::parse(other)
                .map(|d| Fsync::Interval(d.get()))
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "`{text}` is not `always`, `never` or {DURATION_FORMS}"
                    ))
                }),
        }
    }
}

impl ProduceConfig {
    /// The first invalid key and why.
    pub fn validate(&self) -> Result<(), KeyError> {
        if self.topic.trim().is_empty() {
            return Err(KeyError::of("produce.topic", "must not be empty"));
        }
        for (key, value) in [
            ("produce.delivery_timeout", self.delivery_timeout),
            ("produce.stall_after", self.stall_after),
            ("produce.x_api.stall_timeout", self.x_api.stall_timeout),
        ] {
            if value.is_zero() {
                return Err(KeyError::of(key, "must be above 0"));
            }
        }
        if self.max_in_flight == 0 {
            return Err(KeyError::of("produce.max_in_flight", "must be above 0"));
        }
        if self.x_api.backfill_minutes > 5 {
            return Err(KeyError::of(
                "produce.x_api.backfill_minutes",
                "the API backfills at most 5 minutes",
            ));
        }
        let known = |set: &String| KEYWORD_SETS.iter().any(|(name, _)| name == set);
        let sets = self.filter.keyword_sets.iter();
        if let Some(bad) = sets
            .chain(self.routes.iter().flat_map(|r| &r.keyword_sets))
            .find(|s| !known(s))
        {
            return Err(KeyError::of(
                "produce.filter.keyword_sets",
                format!("unknown keyword set `{bad}`; known: ai"),
            ));
        }
        if let Some(r) = self.routes.iter().find(|r| r.topic.trim().is_empty()) {
            return Err(KeyError::of(
                "produce.routes.topic",
                format!("a route ({:?}) has no topic", r.keywords),
            ));
        }
        if self.spool.segment_mb == 0 || self.spool.max_mb < self.spool.segment_mb {
            return Err(KeyError::of(
                "produce.spool.max_mb",
                "must be at least produce.spool.segment_mb, which must be above 0",
            ));
        }
        Ok(())
    }
}
