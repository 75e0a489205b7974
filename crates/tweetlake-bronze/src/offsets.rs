//! Reads where each topic-partition stands: the offset of the last message stored in the bronze table
//! and in its quarantine table — from their Delta `txn` application transactions, or for plain-Parquet
//! output from the footers of the newest files.

use std::collections::HashMap;

use tweetlake_core::config::{Config, OutputFormat};
use tweetlake_core::delta::{app_txn_version, open_table};
use tweetlake_core::txn::Consumer;
use tweetlake_core::{tables, Lake, Layer};
use url::Url;

use crate::chunk::TopicPartition;
use crate::error::BronzeError;

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

/// Locations of a bronze table and its quarantine table, which hold its offsets.
#[derive(Debug, Clone)]
pub struct OffsetStore {
    pub format: OutputFormat,
    pub main_url: Url,
    pub quarantine_url: Url,
    pub storage_options: HashMap<String, String>,
    pub app_id: String,
}

impl OffsetStore {
    /// Where bronze table `name` and its quarantine table live in `lake`, for the configured format.
    pub fn for_table(config: &Config, lake: &Lake, name: &str) -> Self {
        let quarantine = tables::bronze::quarantine_of(name);
        let (main_url, quarantine_url) = match config.bronze.format {
            OutputFormat::Delta => (
                lake.table_url(Layer::Bronze, name),
                lake.table_url(Layer::Bronze, &quarantine),
            ),
            OutputFormat::Parquet => (lake.parquet_url(name), lake.parquet_url(&quarantine)),
        };
        Self {
            format: config.bronze.format,
            main_url,
            quarantine_url,
            storage_options: lake.storage_options().clone(),
            app_id: config.lake.app_id.clone(),
        }
    }

    /// Reads the latest committed offsets of `tps` from both tables.
    pub async fn load(&self, tps: &[TopicPartition]) -> Result<Vec<PartitionStart>, BronzeError> {
        if self.format == OutputFormat::Parquet {
            return crate::parquet_output::load_starts(self, tps).await;
        }
        let main = open_table(&self.main_url, &self.storage_options).await?;
        let quarantine = open_table(&self.quarantine_url, &self.storage_options).await?;
        let mut out = Vec::with_capacity(tps.len());
        for tp in tps {
            let app = Consumer::Ingest {
                topic: &tp.topic,
                partition: tp.partition,
            }
            .app_id(&self.app_id);
            out.push(PartitionStart {
                tp: tp.clone(),
                main_txn: app_txn_version(&main, &app).await?,
                quarantine_txn: app_txn_version(&quarantine, &app).await?,
            });
        }
        Ok(out)
    }
}
