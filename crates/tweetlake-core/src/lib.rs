//! Shared foundation of tweetlake: the one typed [`Config`], the lake layout ([`Lake`], table URIs),
//! and the helpers every layer uses to open Delta tables and read their application transactions.
//! It knows nothing of Kafka or of any layer's schema; those live in the layer crates above it.

pub mod config;
pub mod delta;
pub mod error;
pub mod lake;
pub mod metrics_http;
pub mod progress;
pub mod retry;
pub mod txn;

pub use config::{Config, ConfigSource, Overrides};
pub use error::{ConfigError, CoreError};
pub use lake::{Lake, Layer};
pub use progress::{Progress, ProgressOutput};
pub use retry::{retry_on_conflict, RetryPolicy};

/// Re-exported so that every crate uses the one arrow/parquet/datafusion that deltalake pins.
pub use deltalake;
