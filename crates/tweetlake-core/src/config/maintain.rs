//! `[maintain]`: compaction, checkpoints, log cleanup and vacuum of every lake table.

use std::num::NonZeroU64;

use serde::{Deserialize, Serialize};

use super::{nonzero_bytes, KeyError};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaintainConfig {
    /// Compaction merges a partition's small files into files of about this size.
    pub target_file_size_mb: u64,
    /// Vacuum deletes data files a commit removed more than this long ago. Never below a table's
    /// `delta.deletedFileRetentionDuration` (7 days unless set), and raised for a table while a
    /// downstream layer has not yet consumed the versions that removed them.
    pub vacuum_retention_hours: u64,
    /// Run vacuum at all (compaction, checkpoints and log cleanup always run).
    pub vacuum: bool,
    /// Log cleanup removes commits older than this once a checkpoint covers them and every
    /// downstream layer has read them; time travel reaches back this far. Not set: each table's
    /// `delta.logRetentionDuration` (30 days unless set). A table written every second keeps
    /// 86,400 commits a day, and a local lake lists its whole log folder when it brings a table
    /// up to date, so a lake on local disk that `run` feeds for weeks wants a day or two here.
    pub log_retention_hours: Option<u64>,
}

impl Default for MaintainConfig {
    fn default() -> Self {
        Self {
            target_file_size_mb: 128,
            vacuum_retention_hours: 168,
            vacuum: true,
            log_retention_hours: None,
        }
    }
}

impl MaintainConfig {
    /// `target_file_size_mb` in bytes.
    pub fn target_file_size_bytes(&self) -> NonZeroU64 {
        nonzero_bytes(self.target_file_size_mb, 1024 * 1024)
    }

    pub fn validate(&self) -> Result<(), KeyError> {
        if self.target_file_size_mb == 0 {
            return Err(KeyError::of(
                "maintain.target_file_size_mb",
                "must be above 0",
            ));
        }
        Ok(())
    }
}
