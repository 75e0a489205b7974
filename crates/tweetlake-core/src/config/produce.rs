//! The `[produce]` section: where `tweetlake produce` sends tweets and how it rides out outages.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::parse_duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProduceConfig {
    /// Topic the tweets go to.
    pub topic: String,
    /// A message not acknowledged within this time fails and goes to the spool (`message.timeout.ms`).
    pub delivery_timeout: String,
    /// Most messages handed to the producer and not yet acknowledged.
    pub max_in_flight: usize,
    /// In-flight messages with no delivery result for this long mean the brokers are down.
    pub stall_after: String,
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
            delivery_timeout: "10s".into(),
            max_in_flight: 50_000,
            stall_after: "5s".into(),
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
    pub fsync: String,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("spool"),
            segment_mb: 64,
            max_mb: 10 * 1024,
            fsync: "1s".into(),
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
    pub stall_timeout: String,
    /// On every connection, the first after a restart too, ask for the minutes missed (1–5;
    /// accounts eligible for `backfill_minutes`), 0 = off.
    pub backfill_minutes: u32,
}

impl Default for XApiConfig {
    fn default() -> Self {
        Self {
            base_url: "https://api.x.com".into(),
            bearer_token: None,
            stall_timeout: "20s".into(),
            backfill_minutes: 0,
        }
    }
}

impl XApiConfig {
    pub fn stall_timeout(&self) -> Duration {
        parse_duration(&self.stall_timeout).unwrap_or(Duration::from_secs(20))
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

/// `spool.fsync` parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    Always,
    Interval(Duration),
    Never,
}

impl SpoolConfig {
    pub fn fsync_policy(&self) -> Option<Fsync> {
        match self.fsync.trim() {
            "always" => Some(Fsync::Always),
            "never" => Some(Fsync::Never),
            other => parse_duration(other).map(Fsync::Interval),
        }
    }
}

impl ProduceConfig {
    pub fn delivery_timeout(&self) -> Duration {
        parse_duration(&self.delivery_timeout).unwrap_or(Duration::from_secs(10))
    }
    pub fn stall_after(&self) -> Duration {
        parse_duration(&self.stall_after).unwrap_or(Duration::from_secs(5))
    }

    /// The first invalid key and why.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.topic.trim().is_empty() {
            return Err(("produce.topic", "must not be empty".into()));
        }
        for (key, value) in [
            ("produce.delivery_timeout", &self.delivery_timeout),
            ("produce.stall_after", &self.stall_after),
        ] {
            if parse_duration(value).is_none_or(|d| d.is_zero()) {
                return Err((
                    key,
                    format!("`{value}` is not a positive duration like `10s`"),
                ));
            }
        }
        if self.max_in_flight == 0 {
            return Err(("produce.max_in_flight", "must be above 0".into()));
        }
        if self.spool.fsync_policy().is_none() {
            return Err((
                "produce.spool.fsync",
                format!(
                    "`{}` is not `always`, `never` or a duration like `1s`",
                    self.spool.fsync
                ),
            ));
        }
        if parse_duration(&self.x_api.stall_timeout).is_none_or(|d| d.is_zero()) {
            return Err((
                "produce.x_api.stall_timeout",
                format!(
                    "`{}` is not a positive duration like `20s`",
                    self.x_api.stall_timeout
                ),
            ));
        }
        if self.x_api.backfill_minutes > 5 {
            return Err((
                "produce.x_api.backfill_minutes",
                "the API backfills at most 5 minutes".into(),
            ));
        }
        let known = |set: &String| KEYWORD_SETS.iter().any(|(name, _)| name == set);
        let sets = self.filter.keyword_sets.iter();
        if let Some(bad) = sets
            .chain(self.routes.iter().flat_map(|r| &r.keyword_sets))
            .find(|s| !known(s))
        {
            return Err((
                "produce.filter.keyword_sets",
                format!("unknown keyword set `{bad}`; known: ai"),
            ));
        }
        if let Some(r) = self.routes.iter().find(|r| r.topic.trim().is_empty()) {
            return Err((
                "produce.routes.topic",
                format!("a route ({:?}) has no topic", r.keywords),
            ));
        }
        if self.spool.segment_mb == 0 || self.spool.max_mb < self.spool.segment_mb {
            return Err((
                "produce.spool.max_mb",
                "must be at least produce.spool.segment_mb, which must be above 0".into(),
            ));
        }
        Ok(())
    }
}
