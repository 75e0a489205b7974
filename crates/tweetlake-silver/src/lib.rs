//! The silver layer: bronze rows parsed into one typed `silver/tweets` table for both API
//! versions — deduplicated, deletes and edits honoured, lineage back to bronze — promoted
//! incrementally and idempotently, with named entities, sentiment and data-quality expectations;
//! beside it `deletes`, `notices`, `tweets_quarantine`, `stream_events` and `quality`.

mod bronze_read;
pub mod enrich;
pub mod expect;
pub mod notices;
mod parallel;
pub mod promote;
pub mod rows;
pub mod schema;
pub mod side_tables;

use tweetlake_core::deltalake::arrow::error::ArrowError;
use tweetlake_core::deltalake::DeltaTableError;
use tweetlake_core::CoreError;

pub use promote::{promote, promote_all, PromoteOptions, PromoteReport, Promoter};
pub use rows::{Lineage, TweetRows};
pub use schema::{tweets_schema, PARTITION_COLUMN};

#[derive(Debug, thiserror::Error)]
pub enum SilverError {
    #[error("no bronze table at {uri}: run `tweetlake ingest` first")]
    NoBronze { uri: String },
    #[error("{what}: {source}")]
    Delta {
        what: &'static str,
        source: Box<DeltaTableError>,
    },
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("building silver rows: {0}")]
    Arrow(#[from] ArrowError),
    #[error("named entities: {0}")]
    Ner(String),
    #[error("silver.expectations rule `{rule}`: {reason}")]
    Expectation { rule: String, reason: String },
    #[error("promoting bronze/{table} to silver: {source}")]
    Table {
        table: String,
        source: Box<SilverError>,
    },
    #[error("expectation `{rule}` failed for {failed} of {checked} tweets (first: tweet {example}); its action is `fail`, so nothing was committed")]
    ExpectationFailed {
        rule: String,
        failed: u64,
        checked: u64,
        example: i64,
    },
}

impl SilverError {
    /// Whether the run found no bronze table yet: before the ingester's first commit, a
    /// scheduler waits instead of reporting a failure.
    pub fn is_waiting_for_bronze(&self) -> bool {
        match self {
            SilverError::NoBronze { .. } => true,
            SilverError::Table { source, .. } => source.is_waiting_for_bronze(),
            _ => false,
        }
    }

    /// Whether another writer's commit to the same table made this run's commit fail; running it
    /// again on the new snapshot redoes only what did not commit.
    pub fn is_commit_conflict(&self) -> bool {
        match self {
            SilverError::Delta { source, .. } => tweetlake_core::delta::is_commit_conflict(source),
            SilverError::Core(CoreError::Delta { source, .. }) => {
                tweetlake_core::delta::is_commit_conflict(source)
            }
            _ => false,
        }
    }
}
