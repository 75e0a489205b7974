//! `[run]`: the all-in-one `tweetlake run` for small deployments.

use std::num::NonZeroU64;

use serde::{Deserialize, Serialize};

use super::{nonzero_bytes, KeyError};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// Promote silver as soon as the ingester commits, and gold as soon as silver has (commits
    /// during a round add up to one more), so a tweet reaches the dashboard seconds after bronze
    /// has it.
    pub promote_on_commit: bool,
    /// The longest wait between two silver promotions (gold follows each): the only trigger when
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
    /// the daily maintenance runs (0: only those). Each promotion round's cost grows with the files
    /// it meets: at 100 tweets/s, p95 tweet → silver over ten minutes was 15.8 s compacting every
    /// 600 s and 10.0 s every 60 s (docs/benchmarks.md).
    pub compact_every_seconds: u64,
    /// Most of those compactions merge only files below this size; every 8th merges files below
    /// 8 times that, every 64th below 64 times, and so on up to `maintain.target_file_size_mb`
    /// (the first compaction after `run` starts, too). A file is so rewritten about once per
    /// tier, where merging every file below the target each time rewrites a growing partition
    /// whole every minute until it reaches the target.
    pub compact_first_tier_kb: u64,
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
            compact_every_seconds: 60,
            compact_first_tier_kb: 4096,
            serve: true,
        }
    }
}

impl RunConfig {
    /// `compact_first_tier_kb` in bytes.
    pub fn compact_first_tier_bytes(&self) -> NonZeroU64 {
        nonzero_bytes(self.compact_first_tier_kb, 1024)
    }

    pub fn validate(&self) -> Result<(), KeyError> {
        if self.promote_every_seconds == 0 {
            return Err(KeyError::of("run.promote_every_seconds", "must be above 0"));
        }
        if self.compact_first_tier_kb == 0 {
            return Err(KeyError::of("run.compact_first_tier_kb", "must be above 0"));
        }
        if self.maintain_hour_utc > 23 {
            return Err(KeyError::of("run.maintain_hour_utc", "must be 0 to 23"));
        }
        Ok(())
    }
}
