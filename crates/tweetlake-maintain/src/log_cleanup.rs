//! Which of a table's log files maintenance removes, decided from what its incremental readers
//! have consumed, apart from the listing and deletes that carry it out.
//!
//! Danger: silver and gold read a table's changes commit by commit from the version they consumed
//! (`tweetlake_core::delta::data_changes`). Delta's own cleanup (delta-rs `cleanup_metadata`, and
//! the hook after every commit, which tweetlake's writers turn off) removes every commit below the
//! newest checkpoint that is older than the log retention, whatever a reader has yet to read: a
//! layer stopped for longer than the retention came back to a log without its commits, read the
//! table's compacted files again as new (side tables counted twice), and vacuum refused the table
//! until that layer was rebuilt. Here the commits after the furthest-behind reader's consumed
//! version are kept whatever their age; what every reader has read goes once older than the
//! retention.
//!
//! Example: a checkpoint at version 500, the log retention 48 hours, silver has consumed bronze
//! up to version 430: commits older than 48 hours below the newest checkpoint at or before 431
//! are removed; 431 onwards stay until silver has read them.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::Lag;

/// The log cleanup to run on one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCleanupPlan {
    /// Commits from this version on are kept, whatever their age (delta-rs's `keep_version`:
    /// only commits below the newest checkpoint at or before it may go).
    pub keep_from: u64,
    /// Commits written after this are kept.
    pub cutoff: DateTime<Utc>,
    /// The reader that holds back commits the checkpoint alone would let go.
    pub held_by: Option<String>,
}

/// The cleanup of a table checkpointed at `checkpoint`, whose furthest-behind reader is `lag`,
/// keeping `retention` of log.
pub fn log_cleanup_plan(
    checkpoint: u64,
    lag: Option<&Lag>,
    retention: Duration,
    now: DateTime<Utc>,
) -> LogCleanupPlan {
    let cutoff = chrono::Duration::from_std(retention)
        .ok()
        .and_then(|r| now.checked_sub_signed(r))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    // The first commit a lagging reader has not read: from there on the log stays.
    let unread = lag.map(|lag| u64::try_from(lag.consumed.saturating_add(1)).unwrap_or(0));
    match unread {
        Some(unread) if unread < checkpoint => LogCleanupPlan {
            keep_from: unread,
            cutoff,
            held_by: lag.map(|lag| {
                format!(
                    "{} has consumed only up to version {}",
                    lag.reader, lag.consumed
                )
            }),
        },
        _ => LogCleanupPlan {
            keep_from: checkpoint,
            cutoff,
            held_by: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetlake_core::{Layer, TableName};

    const DAY: Duration = Duration::from_secs(86_400);

    fn lag(consumed: i64) -> Lag {
        Lag {
            reader: TableName::new(Layer::Silver, "tweets"),
            consumed,
        }
    }

    #[test]
    fn keeps_every_commit_a_reader_has_not_read() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let plan = log_cleanup_plan(500, Some(&lag(430)), 2 * DAY, now);
        assert_eq!(plan.keep_from, 431);
        assert_eq!(plan.cutoff, now - chrono::Duration::days(2));
        assert_eq!(
            plan.held_by.as_deref(),
            Some("silver.tweets has consumed only up to version 430")
        );
        // Read up to the checkpoint or beyond, or never read (no lag): the checkpoint decides.
        for lag in [Some(lag(499)), Some(lag(620)), None] {
            let plan = log_cleanup_plan(500, lag.as_ref(), 2 * DAY, now);
            assert_eq!((plan.keep_from, plan.held_by), (500, None), "{lag:?}");
        }
        // A reader that has read nothing (version -1 never occurs, but must not wrap).
        assert_eq!(log_cleanup_plan(500, Some(&lag(-1)), DAY, now).keep_from, 0);
        // A retention beyond the calendar keeps everything rather than failing.
        let forever = log_cleanup_plan(500, None, Duration::from_secs(u64::MAX), now);
        assert_eq!(forever.cutoff, DateTime::<Utc>::MIN_UTC);
    }
}
