//! `[run]`: the all-in-one `tweetlake run` for small deployments.

use serde::{Deserialize, Serialize};

use super::KeyError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// Seconds between promotions of silver and then gold.
    pub promote_every_seconds: u64,
    /// The UTC hour at which `maintain` runs, once a day.
    pub maintain_hour_utc: u32,
    /// Maintain every this many seconds instead of daily (0: daily at `maintain_hour_utc`). For
    /// lakes that take many small commits, and for soak tests that want maintenance to meet the
    /// promotions often.
    pub maintain_every_seconds: u64,
    /// Serve the Postgres endpoint and the dashboard ([serve]) too.
    pub serve: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            promote_every_seconds: 60,
            maintain_hour_utc: 3,
            maintain_every_seconds: 0,
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
