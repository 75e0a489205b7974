//! [`BronzeWriter`]: one table's buffered chunks and the output they are flushed to — Delta tables
//! (offsets in the log) or plain Parquet files (offsets in the files' footers).

use std::sync::Arc;
use std::time::Instant;

use tweetlake_core::config::OutputFormat;

use crate::buffer::{ChunkBuffer, FlushOutcome, WriterSettings};
use crate::chunk::{Chunk, TopicPartition};
use crate::delta_output::DeltaOutput;
use crate::error::BronzeError;
use crate::metrics::TableMetrics;
use crate::offsets::{OffsetStore, PartitionStart};
use crate::parquet_output::ParquetOutput;

enum Output {
    Delta(DeltaOutput),
    Parquet(ParquetOutput),
}

/// Buffers one bronze table's chunks and flushes them to its output.
pub struct BronzeWriter {
    buffer: ChunkBuffer,
    output: Output,
}

impl BronzeWriter {
    pub async fn open(
        name: &str,
        store: OffsetStore,
        settings: WriterSettings,
        metrics: Arc<TableMetrics>,
    ) -> Result<Self, BronzeError> {
        let output = match store.format {
            OutputFormat::Delta => Output::Delta(DeltaOutput::open(store, metrics.clone()).await?),
            OutputFormat::Parquet => Output::Parquet(ParquetOutput::open(store)?),
        };
        Ok(Self {
            buffer: ChunkBuffer::new(name, settings, metrics),
            output,
        })
    }

    pub fn on_assigned(&mut self, starts: Vec<PartitionStart>) {
        self.buffer.on_assigned(starts);
    }
    pub fn on_revoked(&mut self, tps: &[TopicPartition]) {
        self.buffer.on_revoked(tps);
    }
    pub fn on_chunk(&mut self, chunk: Chunk) {
        self.buffer.on_chunk(chunk);
    }
    pub fn should_flush(&self) -> bool {
        self.buffer.should_flush()
    }
    pub fn deadline(&self) -> Option<Instant> {
        self.buffer.deadline()
    }

    /// Stores everything buffered, quarantine rows before the rows and offsets that cover them.
    pub async fn flush(&mut self) -> Result<FlushOutcome, BronzeError> {
        match &mut self.output {
            Output::Delta(d) => d.flush(&mut self.buffer).await,
            Output::Parquet(p) => p.flush(&mut self.buffer).await,
        }
    }
}
