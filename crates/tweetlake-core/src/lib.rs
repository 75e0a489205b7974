//! Shared foundation of tweetlake: the one typed [`Config`], the lake layout ([`Lake`], table URIs),
//! the contract between layers ([`tables`]: table and column names, time columns, who reads whom;
//! [`txn`]: the ids readers record), the catalog that registers every table for SQL, and the
//! helpers every layer uses to open Delta tables and read their application transactions.
//! It knows nothing of Kafka or of any layer's schema; those live in the layer crates above it.

pub mod catalog;
pub mod config;
pub mod delta;
pub mod error;
pub mod lake;
pub mod metrics_http;
pub mod metrics_text;
pub mod progress;
pub mod retry;
pub mod tables;
pub mod txn;

pub use catalog::{LakeCatalog, TimeTravel};
pub use config::{Config, ConfigSource, Overrides};
pub use error::{ConfigError, CoreError};
pub use lake::Lake;
pub use progress::{Progress, ProgressOutput};
pub use retry::{retry_on_conflict, RetryPolicy};
pub use tables::{Layer, TableName};

/// Re-exported so that every crate uses the one arrow/parquet/datafusion that deltalake pins.
pub use deltalake;
