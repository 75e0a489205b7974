//! Chunks waiting to be written, per topic-partition, and the flush triggers (rows, bytes, age).
//! Both outputs buffer through this without reaching into it: a flush takes each partition's
//! range, the output stores it, and [`ChunkBuffer::settle`] records what was stored.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::chunk::{Chunk, TopicPartition};
use crate::metrics::TableMetrics;
use crate::output::{PartitionRange, PartitionStart};

/// When a table flushes and how it writes files.
#[derive(Debug, Clone)]
pub struct WriterSettings {
    pub max_latency: Duration,
    pub max_rows: usize,
    pub max_buffer_bytes: usize,
    pub target_file_size: u64,
}

/// What a flush did: offsets now stored, and partitions another writer got ahead on.
#[derive(Debug, Default)]
pub struct FlushOutcome {
    pub committed: Vec<(TopicPartition, i64)>,
    pub reseek: Vec<TopicPartition>,
}

/// One partition's stored offsets and the chunks read after them.
#[derive(Default)]
struct PartitionBuffer {
    /// Last offset stored in the main table (every offset up to it is in one of the two tables).
    main_txn: Option<i64>,
    /// Last offset of the range whose quarantined rows are stored.
    quarantine_txn: Option<i64>,
    chunks: Vec<Chunk>,
}

/// Everything one table has read and not yet stored.
pub struct ChunkBuffer {
    table: String,
    settings: WriterSettings,
    partitions: HashMap<TopicPartition, PartitionBuffer>,
    rows: usize,
    bytes: usize,
    oldest: Option<Instant>,
    metrics: Arc<TableMetrics>,
}

impl ChunkBuffer {
    pub fn new(table: &str, settings: WriterSettings, metrics: Arc<TableMetrics>) -> Self {
        Self {
            table: table.to_string(),
            settings,
            partitions: HashMap::new(),
            rows: 0,
            bytes: 0,
            oldest: None,
            metrics,
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
    pub fn settings(&self) -> &WriterSettings {
        &self.settings
    }
    pub fn metrics(&self) -> &TableMetrics {
        &self.metrics
    }

    pub fn on_assigned(&mut self, starts: Vec<PartitionStart>) {
        for s in starts {
            let fresh = PartitionBuffer {
                main_txn: s.main_txn,
                quarantine_txn: s.quarantine_txn,
                chunks: Vec::new(),
            };
            if let Some(old) = self.partitions.insert(s.tp, fresh) {
                self.forget(&old.chunks);
            }
        }
    }

    /// Drops what was buffered for partitions that are no longer ours; their new owner re-reads it.
    pub fn on_revoked(&mut self, tps: &[TopicPartition]) {
        for tp in tps {
            self.remove(tp);
        }
    }

    pub fn on_chunk(&mut self, chunk: Chunk) {
        let Some(p) = self.partitions.get_mut(&chunk.tp) else {
            return; // sent before a revoke or a re-seek; it will be read again
        };
        self.rows += chunk.rows() + chunk.quarantined();
        self.bytes += chunk.bytes;
        self.oldest.get_or_insert_with(Instant::now);
        p.chunks.push(chunk);
        self.publish_buffered();
    }

    pub fn should_flush(&self) -> bool {
        self.rows >= self.settings.max_rows || self.bytes >= self.settings.max_buffer_bytes
    }

    /// When the oldest buffered message reaches the latency limit.
    pub fn deadline(&self) -> Option<Instant> {
        self.oldest.map(|t| t + self.settings.max_latency)
    }

    /// The buffered range of every partition that has one, in a stable order, for the output to
    /// store; restarts the latency clock. The chunks stay until [`ChunkBuffer::settle`].
    pub fn take_ranges(&mut self) -> Vec<PartitionRange> {
        self.oldest = None;
        let mut ranges: Vec<PartitionRange> = self
            .partitions
            .iter()
            .filter_map(|(tp, p)| {
                Some(PartitionRange {
                    stored: PartitionStart {
                        tp: tp.clone(),
                        main_txn: p.main_txn,
                        quarantine_txn: p.quarantine_txn,
                    },
                    end: p.chunks.last()?.last_offset,
                    main: p.chunks.iter().filter_map(|c| c.bronze.clone()).collect(),
                    quarantine: p
                        .chunks
                        .iter()
                        .filter_map(|c| c.quarantine.clone())
                        .collect(),
                })
            })
            .collect();
        ranges.sort_by(|a, b| a.stored.tp.cmp(&b.stored.tp));
        ranges
    }

    /// Stops tracking `tp` and drops its chunks; true when it was tracked.
    pub fn remove(&mut self, tp: &TopicPartition) -> bool {
        match self.partitions.remove(tp) {
            Some(p) => {
                self.forget(&p.chunks);
                true
            }
            None => false,
        }
    }

    /// Records the offsets the output stored for a partition, releases its chunks, counts them,
    /// and returns the partition's next offset to read for the consumer group commit.
    pub fn settle(&mut self, stored: PartitionStart) -> Option<i64> {
        let p = self.partitions.get_mut(&stored.tp)?;
        p.main_txn = stored.main_txn;
        p.quarantine_txn = stored.quarantine_txn;
        let chunks = std::mem::take(&mut p.chunks);
        let next = p.main_txn.map(|o| o + 1);
        let rows: usize = chunks.iter().map(Chunk::rows).sum();
        let quarantined: usize = chunks.iter().map(Chunk::quarantined).sum();
        let bytes: usize = chunks.iter().map(|c| c.bytes).sum();
        let m = &self.metrics;
        m.rows.fetch_add(rows as u64, Ordering::Relaxed);
        m.quarantined
            .fetch_add(quarantined as u64, Ordering::Relaxed);
        m.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.forget(&chunks);
        next
    }

    fn forget(&mut self, chunks: &[Chunk]) {
        for c in chunks {
            self.rows = self.rows.saturating_sub(c.rows() + c.quarantined());
            self.bytes = self.bytes.saturating_sub(c.bytes);
        }
        self.publish_buffered();
    }

    fn publish_buffered(&self) {
        self.metrics
            .buffered_bytes
            .store(self.bytes as u64, Ordering::Relaxed);
    }
}
