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
}

impl Default for MaintainConfig {
    fn default() -> Self {
        Self {
            target_file_size_mb: 128,
            vacuum_retention_hours: 168,
            vacuum: true,
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
