//! [`BronzeWriter`]: one table's buffered chunks and the output they are flushed to. The writer
//! drains the buffer into partition ranges, the output stores them (`crate::output`), and the
//! writer settles the buffer with what was stored.

use std::sync::Arc;
use std::time::Instant;

use tracing::{info_span, warn, Instrument};

use crate::buffer::{ChunkBuffer, FlushOutcome, WriterSettings};
use crate::chunk::{Chunk, TopicPartition};
use crate::error::BronzeError;
use crate::metrics::TableMetrics;
use crate::output::{Output, PartitionStart, TableLocation};

/// Buffers one bronze table's chunks and flushes them to its output.
pub struct BronzeWriter {
    buffer: ChunkBuffer,
    output: Output,
}

impl BronzeWriter {
    pub async fn open(
        name: &str,
        location: TableLocation,
        settings: WriterSettings,
        metrics: Arc<TableMetrics>,
    ) -> Result<Self, BronzeError> {
        let output = Output::open(location, settings.target_file_size, metrics.clone()).await?;
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

    /// Stores everything buffered, quarantine rows before the rows and offsets that cover them;
    /// partitions another writer stored first are dropped and re-seeked.
    pub async fn flush(&mut self) -> Result<FlushOutcome, BronzeError> {
        let mut outcome = FlushOutcome::default();
        let ranges = self.buffer.take_ranges();
        if ranges.is_empty() {
            return Ok(outcome);
        }
        let span = info_span!("flush", table = %self.buffer.table(), partitions = ranges.len());
        let committed = self.output.commit(ranges).instrument(span).await?;
        for tp in committed.lost {
            if self.buffer.remove(&tp) {
                warn!(table = %self.buffer.table(), partition = %tp, "another writer stored this partition first; dropping buffered rows and re-seeking");
                outcome.reseek.push(tp);
            }
        }
        for stored in committed.stored {
            let tp = stored.tp.clone();
            if let Some(next) = self.buffer.settle(stored) {
                outcome.committed.push((tp, next));
            }
        }
        Ok(outcome)
    }
}
