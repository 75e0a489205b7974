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
}

impl Default for ProduceConfig {
    fn default() -> Self {
        Self {
            topic: "tweets".into(),
            delivery_timeout: "10s".into(),
            max_in_flight: 50_000,
            stall_after: "5s".into(),
            spool: SpoolConfig::default(),
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
        if self.spool.segment_mb == 0 || self.spool.max_mb < self.spool.segment_mb {
            return Err((
                "produce.spool.max_mb",
                "must be at least produce.spool.segment_mb, which must be above 0".into(),
            ));
        }
        Ok(())
    }
}
