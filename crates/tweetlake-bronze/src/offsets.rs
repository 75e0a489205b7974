//! Reads where each topic-partition stands in the Delta log: the offset of the last message committed
//! to the bronze table and to its quarantine table, from their `txn` application transactions.

use std::collections::HashMap;

use tweetlake_core::delta::{app_txn_version, open_table, txn_app_id};
use tweetlake_core::CoreError;
use url::Url;

use crate::chunk::TopicPartition;

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

/// Locations of the two tables whose logs hold a bronze table's offsets.
#[derive(Debug, Clone)]
pub struct OffsetStore {
    pub main_url: Url,
    pub quarantine_url: Url,
    pub storage_options: HashMap<String, String>,
    pub app_id: String,
}

impl OffsetStore {
    /// Reads the latest committed offsets of `tps` from both tables.
    pub async fn load(&self, tps: &[TopicPartition]) -> Result<Vec<PartitionStart>, CoreError> {
        let main = open_table(&self.main_url, &self.storage_options).await?;
        let quarantine = open_table(&self.quarantine_url, &self.storage_options).await?;
        let mut out = Vec::with_capacity(tps.len());
        for tp in tps {
            let app = txn_app_id(&self.app_id, &tp.topic, tp.partition);
            out.push(PartitionStart {
                tp: tp.clone(),
                main_txn: app_txn_version(&main, &app).await?,
                quarantine_txn: app_txn_version(&quarantine, &app).await?,
            });
        }
        Ok(out)
    }
}
