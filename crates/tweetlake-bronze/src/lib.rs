//! The bronze layer: Kafka → Delta (or plain Parquet), exactly once. Every message lands, byte for
//! byte, in the bronze table or its quarantine table, with the partitions' offsets stored alongside.
//! Owns the consumer, the per-partition Arrow chunks, the buffer and writer, the two outputs
//! (`output`: Delta or plain Parquet, chosen there) and `status`.

pub mod broker_range;
pub mod buffer;
pub mod chunk;
pub mod config;
pub mod consumer;
pub mod error;
pub mod extract;
pub mod fetch_position;
pub mod ingest;
pub mod kafka;
pub mod metrics;
pub mod offset_reset;
pub mod output;
pub mod schema;
pub mod status;
pub mod writer;

pub use config::IngestConfig;
pub use error::BronzeError;
pub use ingest::{ingest, IngestOptions, IngestReport};
pub use offset_reset::{reset_offsets, OffsetMove, ResetRequest, ResetTarget};
pub use status::{table_status, TableStatus};
