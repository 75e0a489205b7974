//! What one `promote silver` run of a bronze table did, and how it is said.

use crate::expect::RuleCount;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromoteReport {
    pub bronze_table: String,
    pub from_version: Option<i64>,
    pub to_version: i64,
    pub bronze_rows: u64,
    pub tweets_inserted: u64,
    pub duplicates: u64,
    pub deleted: u64,
    pub quarantined: u64,
    /// Of the quarantined, the tweets a `drop` expectation removed.
    pub dropped: u64,
    pub control_messages: u64,
    /// Every expectation's counts in this run.
    pub quality: Vec<RuleCount>,
    /// Times the run started again because another writer (a compaction) committed first.
    pub conflict_retries: u32,
}

/// The summary `promote silver` prints and `run` logs: one line, then one per expectation that
/// failed for some tweets.
impl std::fmt::Display for PromoteReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let from = self
            .from_version
            .map_or("start".to_string(), |v| format!("v{v}"));
        write!(
            f,
            "silver/tweets from bronze/{} {from}..v{}: {} rows read, {} tweets inserted, {} duplicates, {} deleted, {} quarantined ({} by expectations), {} control messages, {} conflict retries",
            self.bronze_table, self.to_version, self.bronze_rows, self.tweets_inserted, self.duplicates, self.deleted, self.quarantined, self.dropped, self.control_messages, self.conflict_retries
        )?;
        for q in self.quality.iter().filter(|q| q.failed > 0) {
            write!(
                f,
                "\n  expectation {} ({}): {} of {} tweets failed",
                q.rule,
                q.action.as_str(),
                q.failed,
                q.checked
            )?;
        }
        Ok(())
    }
}

impl PromoteReport {
    /// Adds one slice's counts.
    pub(super) fn add(&mut self, slice: PromoteReport) {
        self.bronze_rows += slice.bronze_rows;
        self.tweets_inserted += slice.tweets_inserted;
        self.duplicates += slice.duplicates;
        self.deleted += slice.deleted;
        self.quarantined += slice.quarantined;
        self.dropped += slice.dropped;
        self.control_messages += slice.control_messages;
        for count in slice.quality {
            match self.quality.iter_mut().find(|q| q.rule == count.rule) {
                Some(q) => {
                    q.checked += count.checked;
                    q.failed += count.failed;
                }
                None => self.quality.push(count),
            }
        }
    }
}
