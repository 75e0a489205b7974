//! Error types of the core crate.

use std::path::PathBuf;

/// A configuration problem, always naming where it came from and which key is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config in {origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("invalid config: `{key}` {reason} (from {origin})")]
    Invalid {
        key: String,
        reason: String,
        origin: String,
    },
}

/// Errors from lake and Delta helpers.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("invalid lake root `{root}`: {reason}")]
    LakeRoot { root: String, reason: String },
    #[error("delta table {uri}: {source}")]
    Delta {
        uri: String,
        #[source]
        source: Box<deltalake::DeltaTableError>,
    },
    #[error("{what}: {source}")]
    Catalog {
        what: String,
        #[source]
        source: Box<deltalake::DeltaTableError>,
    },
    #[error("{context}: the lake has no table `{name}`")]
    UnknownTable { name: String, context: String },
    #[error("{0}")]
    Query(String),
}

/// The first invalid key of a section and why, e.g. `bronze.flush.max_buffer_mb`, "must be
/// above 0"; [`Config::validate`] adds where the value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    pub key: String,
    pub reason: String,
}

impl KeyError {
    pub fn of(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            reason: reason.into(),
        }
    }
}
