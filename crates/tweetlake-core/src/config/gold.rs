//! `[gold]`: where the SQL models live.

use serde::{Deserialize, Serialize};

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
