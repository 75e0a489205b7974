//! `[gold]`: where the SQL models live.

use serde::{Deserialize, Serialize};

use super::KeyError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GoldConfig {
    /// The folder of `.sql` models, one per gold table, relative to the working directory.
    pub models_dir: String,
}

impl Default for GoldConfig {
    fn default() -> Self {
        Self {
            models_dir: "sql".into(),
        }
    }
}

impl GoldConfig {
    pub fn validate(&self) -> Result<(), KeyError> {
        if self.models_dir.trim().is_empty() {
            return Err(KeyError::of("gold.models_dir", "must not be empty"));
        }
        Ok(())
    }
}
