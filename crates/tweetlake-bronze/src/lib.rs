//! The bronze layer: Kafka → Delta, exactly once. Every message lands, byte for byte, in the bronze
//! table or its quarantine table, and each commit stores the partitions' offsets in the Delta log.
//! Owns the consumer, the per-partition Arrow chunks, the check-then-commit writer and `status`.

pub mod chunk;
pub mod consumer;
pub mod error;
pub mod extract;
pub mod ingest;
pub mod kafka;
pub mod metrics;
pub mod offsets;
pub mod schema;
pub mod status;
pub mod writer;

pub use error::BronzeError;
pub use ingest::{ingest, IngestOptions, IngestReport};
pub use status::{table_status, TableStatus};
