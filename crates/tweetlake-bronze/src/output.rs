//! The bronze output: where a bronze table and its quarantine table are stored, and the one
//! interface both kinds of storage offer — open, load where each partition resumes, commit a
//! range of offsets, describe. The choice between them (`bronze.format`) is made here and
//! nowhere else:
//!
//! - [`delta`]: two Delta tables; each commit carries the partitions' last offsets as `txn`
//!   actions, checked against the latest snapshot before it commits (another writer that got
//!   ahead wins, and this one re-seeks).
//! - [`parquet`]: plain Parquet files, one per partition range, the range's end in each
//!   file's footer.
//!
//! Both store a range's quarantined rows before its rows, so after a crash between the two the
//! range is read again and the stored quarantine offset says which of its messages to skip.

use std::collections::HashMap;
use std::sync::Arc;

use tweetlake_core::config::OutputFormat;
use tweetlake_core::deltalake::arrow::record_batch::RecordBatch;
use tweetlake_core::{tables, Lake, Layer};
use url::Url;

use crate::chunk::TopicPartition;
use crate::error::BronzeError;
use crate::metrics::TableMetrics;

pub mod delta;
pub mod parquet;

/// Where a bronze table and its quarantine table live, and the id their offsets are stored under.
#[derive(Debug, Clone)]
pub struct TableLocation {
    pub format: OutputFormat,
    pub main_url: Url,
    pub quarantine_url: Url,
    pub storage_options: HashMap<String, String>,
    pub app_id: String,
}

impl TableLocation {
    /// Where bronze table `name` and its quarantine table live in `lake`, in `format`.
    pub fn for_table(format: OutputFormat, lake: &Lake, name: &str) -> Self {
        let quarantine = tables::bronze::quarantine_of(name);
        let (main_url, quarantine_url) = match format {
            OutputFormat::Delta => (
                lake.table_url(Layer::Bronze, name),
                lake.table_url(Layer::Bronze, &quarantine),
            ),
            OutputFormat::Parquet => (lake.parquet_url(name), lake.parquet_url(&quarantine)),
        };
        Self {
            format,
            main_url,
            quarantine_url,
            storage_options: lake.storage_options().clone(),
            app_id: lake.app_id().to_string(),
        }
    }
}

/// Where one partition resumes: everything up to `main_txn` is in bronze or quarantine, and every
/// quarantined offset of it is at most `quarantine_txn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionStart {
    pub tp: TopicPartition,
    pub main_txn: Option<i64>,
    pub quarantine_txn: Option<i64>,
}

impl PartitionStart {
    /// First offset not yet stored, or `None` to start at the beginning of the partition.
    pub fn resume_offset(&self) -> Option<i64> {
        self.main_txn.map(|o| o + 1)
    }
}

/// One partition's messages read since its stored offsets, up to `end`, split by table.
#[derive(Debug, Clone)]
pub struct PartitionRange {
    /// The partition and the offsets stored when the range was read (what a commit checks).
    pub stored: PartitionStart,
    /// The range's last offset.
    pub end: i64,
    pub main: Vec<RecordBatch>,
    pub quarantine: Vec<RecordBatch>,
}

/// What a commit did: the new stored offsets of the partitions it stored, and the partitions
/// another writer stored first (their ranges are not stored by this one; re-read them).
#[derive(Debug, Default)]
pub struct CommitOutcome {
    pub stored: Vec<PartitionStart>,
    pub lost: Vec<TopicPartition>,
}

/// Size of a stored table, for `tweetlake status` (`version` is `None` for plain Parquet).
#[derive(Debug, Clone, Default)]
pub struct Description {
    pub uri: String,
    pub version: Option<u64>,
    pub rows: u64,
    pub files: u64,
    pub size_bytes: u64,
}

/// One bronze table's storage, opened.
pub enum Output {
    Delta(delta::DeltaOutput),
    Parquet(parquet::ParquetOutput),
}

impl Output {
    /// Opens the tables at `location`; Delta files are cut at `target_file_size` bytes.
    pub async fn open(
        location: TableLocation,
        target_file_size: u64,
        metrics: Arc<TableMetrics>,
    ) -> Result<Output, BronzeError> {
        Ok(match location.format {
            OutputFormat::Delta => {
                Output::Delta(delta::DeltaOutput::open(location, target_file_size, metrics).await?)
            }
            OutputFormat::Parquet => {
                Output::Parquet(parquet::ParquetOutput::open(location, metrics)?)
            }
        })
    }

    /// Stores `ranges`: each partition's quarantined rows, then its rows and offsets.
    pub async fn commit(
        &mut self,
        ranges: Vec<PartitionRange>,
    ) -> Result<CommitOutcome, BronzeError> {
        match self {
            Output::Delta(d) => d.commit(ranges).await,
            Output::Parquet(p) => p.commit(ranges).await,
        }
    }
}

/// Where each of `tps` resumes, read from what `location` stores.
pub async fn load_starts(
    location: &TableLocation,
    tps: &[TopicPartition],
) -> Result<Vec<PartitionStart>, BronzeError> {
    match location.format {
        OutputFormat::Delta => delta::load_starts(location, tps).await,
        OutputFormat::Parquet => parquet::load_starts(location, tps).await,
    }
}

/// The bronze table's and its quarantine table's sizes.
pub async fn describe(location: &TableLocation) -> Result<(Description, Description), BronzeError> {
    match location.format {
        OutputFormat::Delta => delta::describe(location).await,
        OutputFormat::Parquet => parquet::describe(location).await,
    }
}
