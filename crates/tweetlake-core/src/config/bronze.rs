//! `[bronze]`: what `ingest` writes, when it flushes, and which topics feed which table.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{HumanDuration, KeyError};
use crate::tables::is_identifier;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BronzeConfig {
    /// Messages larger than this go to quarantine (raw bytes kept) instead of the normal table.
    pub max_message_bytes: usize,
    /// `delta` (default): Delta tables with offsets in the log. `parquet`: plain Hive-style Parquet
    /// files under `<lake>/parquet/<table>/`, offsets recovered from the files themselves.
    pub format: OutputFormat,
    pub flush: FlushConfig,
    pub tables: Vec<BronzeTableConfig>,
}

impl BronzeConfig {
    /// The bronze tables' names, in the config's order: what silver promotes from.
    pub fn table_names(&self) -> Vec<&str> {
        self.tables.iter().map(|t| t.name.as_str()).collect()
    }
}

impl Default for BronzeConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: 1024 * 1024,
            format: OutputFormat::Delta,
            flush: FlushConfig::default(),
            tables: vec![BronzeTableConfig {
                name: "tweets".into(),
                topics: vec!["tweets".into()],
            }],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlushConfig {
    /// Longest a consumed message waits before it is committed, e.g. `"5s"`, `"500ms"`, `"1m"`.
    pub max_latency: HumanDuration,
    /// Target size of each data file written.
    pub target_file_size_mb: u64,
    /// A flush happens once this many rows are buffered for one table.
    pub max_rows_per_file: usize,
    /// Cap on buffered bytes per table; consumption pauses while a flush at the cap runs.
    pub max_buffer_mb: u64,
}

impl Default for FlushConfig {
    fn default() -> Self {
        Self {
            max_latency: HumanDuration::from_secs(5),
            target_file_size_mb: 128,
            max_rows_per_file: 1_000_000,
            max_buffer_mb: 24,
        }
    }
}

impl FlushConfig {
    pub fn max_buffer_bytes(&self) -> usize {
        (self.max_buffer_mb as usize).saturating_mul(1024 * 1024)
    }
}

/// What `ingest` writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    #[default]
    Delta,
    Parquet,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BronzeTableConfig {
    pub name: String,
    pub topics: Vec<String>,
}

impl BronzeConfig {
    /// The first invalid key and why.
    pub fn validate(&self) -> Result<(), KeyError> {
        if self.max_message_bytes == 0 {
            return Err(KeyError::of("bronze.max_message_bytes", "must be above 0"));
        }
        let flush = &self.flush;
        let above_zero = [
            (
                "bronze.flush.max_latency",
                flush.max_latency.get().as_millis() as u64,
            ),
            (
                "bronze.flush.target_file_size_mb",
                flush.target_file_size_mb,
            ),
            (
                "bronze.flush.max_rows_per_file",
                flush.max_rows_per_file as u64,
            ),
            ("bronze.flush.max_buffer_mb", flush.max_buffer_mb),
        ];
        if let Some((key, _)) = above_zero.iter().find(|(_, v)| *v == 0) {
            return Err(KeyError::of(*key, "must be above 0"));
        }
        self.validate_tables()
    }

    fn validate_tables(&self) -> Result<(), KeyError> {
        if self.tables.is_empty() {
            return Err(KeyError::of("bronze.tables", "needs at least one table"));
        }
        let mut topic_owner: BTreeMap<&str, &str> = BTreeMap::new();
        let mut names = BTreeSet::new();
        for (i, table) in self.tables.iter().enumerate() {
            let key = |field: &str| format!("bronze.tables[{i}].{field}");
            if !is_identifier(&table.name, false) {
                return Err(KeyError::of(
                    key("name"),
                    format!("`{}` must be lower_snake_case (a-z, 0-9, _)", table.name),
                ));
            }
            if crate::tables::bronze::is_quarantine(&table.name) {
                return Err(KeyError::of(
                    key("name"),
                    format!("`{}` must not end in `_quarantine`", table.name),
                ));
            }
            if !names.insert(table.name.as_str()) {
                return Err(KeyError::of(
                    key("name"),
                    format!("`{}` is used twice", table.name),
                ));
            }
            if table.topics.is_empty() {
                return Err(KeyError::of(key("topics"), "needs at least one topic"));
            }
            for topic in &table.topics {
                if !is_identifier(topic, true) {
                    return Err(KeyError::of(
                        key("topics"),
                        format!("`{topic}` is not a valid Kafka topic name"),
                    ));
                }
                if let Some(other) = topic_owner.insert(topic, &table.name) {
                    return Err(KeyError::of(
                        key("topics"),
                        format!(
                            "topic `{topic}` is mapped to both `{other}` and `{}`",
                            table.name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}
