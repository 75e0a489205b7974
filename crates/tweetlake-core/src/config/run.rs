//! `[run]`: the all-in-one `tweetlake run` for small deployments.

use serde::{Deserialize, Serialize};

use super::KeyError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// Promote silver and then gold as soon as the ingester commits (commits during a promotion
    /// add up to one more round), so a tweet reaches the dashboard seconds after bronze has it.
    pub promote_on_commit: bool,
    /// The longest wait between two promotions of silver and then gold: the only trigger when
    /// `promote_on_commit` is off, and how commits of an ingester in another process are seen.
    pub promote_every_seconds: u64,
    /// The UTC hour at which `maintain` runs, once a day.
    pub maintain_hour_utc: u32,
    /// Maintain every this many seconds instead of daily (0: daily at `maintain_hour_utc`). For
    /// lakes that take many small commits, and for soak tests that want maintenance to meet the
    /// promotions often.
    pub maintain_every_seconds: u64,
    /// Compact every table (with checkpoints and log cleanup; no vacuum) every this many seconds, beside
    /// the promotions, so the small files that commits every few seconds make stay few between
    /// the daily maintenance runs (0: only those).
    pub compact_every_seconds: u64,
    /// Serve the Postgres endpoint and the dashboard ([serve]) too.
    pub serve: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            promote_on_commit: true,
            promote_every_seconds: 60,
            maintain_hour_utc: 3,
            maintain_every_seconds: 0,
            compact_every_seconds: 600,
            serve: true,
        }
    }
}

impl RunConfig {
    pub fn validate(&self) -> Result<(), KeyError> {
        if self.promote_every_seconds == 0 {
            return Err(KeyError::of("run.promote_every_seconds", "must be above 0"));
        }
        if self.maintain_hour_utc > 23 {
            return Err(KeyError::of("run.maintain_hour_utc", "must be 0 to 23"));
        }
        Ok(())
    }
}
