//! The Delta side of ingestion: buffers [`Chunk`]s per partition and commits them to the bronze
//! table and its quarantine table, each commit carrying the partitions' last offsets as `txn` actions.
//!
//! Before each commit the writer checks, against the latest snapshot, that every partition's stored
//! offset is still the one it resumed from (check-then-commit). A partition where another writer got
//! ahead is dropped from the commit and re-seeked, so two ingesters never store one offset twice.
//! Quarantine commits first: after a crash between the two commits, resuming from the bronze table's
//! offset re-reads the quarantined messages, and the stored quarantine offset says to skip them.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{info_span, warn, Instrument};
use tweetlake_core::delta::{app_txn_version, open_table, txn_app_id};
use tweetlake_core::deltalake::arrow::datatypes::SchemaRef;
use tweetlake_core::deltalake::arrow::record_batch::RecordBatch;
use tweetlake_core::deltalake::kernel::transaction::{CommitProperties, TransactionError};
use tweetlake_core::deltalake::kernel::Transaction;
use tweetlake_core::deltalake::parquet::basic::{Compression, ZstdLevel};
use tweetlake_core::deltalake::parquet::file::properties::{EnabledStatistics, WriterProperties};
use tweetlake_core::deltalake::parquet::schema::types::ColumnPath;
use tweetlake_core::deltalake::protocol::SaveMode;
use tweetlake_core::deltalake::{DeltaTable, DeltaTableError};

use crate::chunk::{Chunk, TopicPartition};
use crate::error::BronzeError;
use crate::metrics::TableMetrics;
use crate::offsets::{OffsetStore, PartitionStart};
use crate::schema::{bronze_schema, quarantine_schema, PARTITION_COLUMN};

/// When the writer flushes and how it writes files.
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Main,
    Quarantine,
}

#[derive(Default)]
struct PartitionProgress {
    main_txn: Option<i64>,
    quarantine_txn: Option<i64>,
    chunks: Vec<Chunk>,
}

impl PartitionProgress {
    fn last_offset(&self) -> Option<i64> {
        self.chunks.last().map(|c| c.last_offset)
    }
    fn txn(&self, side: Side) -> Option<i64> {
        match side {
            Side::Main => self.main_txn,
            Side::Quarantine => self.quarantine_txn,
        }
    }
    fn has_quarantine(&self) -> bool {
        self.chunks.iter().any(|c| c.quarantine.is_some())
    }
}

/// Writes one bronze table and its quarantine table.
pub struct BronzeWriter {
    name: String,
    store: OffsetStore,
    settings: WriterSettings,
    main: DeltaTable,
    quarantine: DeltaTable,
    partitions: HashMap<TopicPartition, PartitionProgress>,
    buffered_rows: usize,
    buffered_bytes: usize,
    oldest: Option<Instant>,
    metrics: Arc<TableMetrics>,
}

impl BronzeWriter {
    pub async fn open(
        name: &str,
        store: OffsetStore,
        settings: WriterSettings,
        metrics: Arc<TableMetrics>,
    ) -> Result<Self, BronzeError> {
        let main = open_table(&store.main_url, &store.storage_options).await?;
        let quarantine = open_table(&store.quarantine_url, &store.storage_options).await?;
        Ok(Self {
            name: name.to_string(),
            store,
            settings,
            main,
            quarantine,
            partitions: HashMap::new(),
            buffered_rows: 0,
            buffered_bytes: 0,
            oldest: None,
            metrics,
        })
    }

    pub fn on_assigned(&mut self, starts: Vec<PartitionStart>) {
        for s in starts {
            let dropped = self.partitions.insert(
                s.tp,
                PartitionProgress {
                    main_txn: s.main_txn,
                    quarantine_txn: s.quarantine_txn,
                    chunks: Vec::new(),
                },
            );
            if let Some(old) = dropped {
                self.forget(&old.chunks);
            }
        }
    }

    /// Drops what was buffered for partitions that are no longer ours; their new owner re-reads it.
    pub fn on_revoked(&mut self, tps: &[TopicPartition]) {
        for tp in tps {
            if let Some(p) = self.partitions.remove(tp) {
                self.forget(&p.chunks);
            }
        }
    }

    pub fn on_chunk(&mut self, chunk: Chunk) {
        let Some(p) = self.partitions.get_mut(&chunk.tp) else {
            return; // sent before a revoke or a re-seek; it will be read again
        };
        self.buffered_rows += chunk.rows() + chunk.quarantined();
        self.buffered_bytes += chunk.bytes;
        self.oldest.get_or_insert_with(Instant::now);
        p.chunks.push(chunk);
        self.metrics
            .buffered_bytes
            .store(self.buffered_bytes as u64, Ordering::Relaxed);
    }

    pub fn should_flush(&self) -> bool {
        self.buffered_rows >= self.settings.max_rows
            || self.buffered_bytes >= self.settings.max_buffer_bytes
    }

    /// When the oldest buffered message reaches the latency limit.
    pub fn deadline(&self) -> Option<Instant> {
        self.oldest.map(|t| t + self.settings.max_latency)
    }

    fn forget(&mut self, chunks: &[Chunk]) {
        for c in chunks {
            self.buffered_rows = self
                .buffered_rows
                .saturating_sub(c.rows() + c.quarantined());
            self.buffered_bytes = self.buffered_bytes.saturating_sub(c.bytes);
        }
        self.metrics
            .buffered_bytes
            .store(self.buffered_bytes as u64, Ordering::Relaxed);
    }

    /// Commits everything buffered: quarantine rows first, then bronze rows with every partition's offset.
    pub async fn flush(&mut self) -> Result<FlushOutcome, BronzeError> {
        let mut outcome = FlushOutcome::default();
        let pending: Vec<TopicPartition> = self
            .partitions
            .iter()
            .filter(|(_, p)| !p.chunks.is_empty())
            .map(|(tp, _)| tp.clone())
            .collect();
        self.oldest = None;
        if pending.is_empty() {
            return Ok(outcome);
        }
        let span = info_span!("flush", table = %self.name, partitions = pending.len());
        async {
            let with_q: Vec<_> = pending
                .iter()
                .filter(|tp| {
                    self.partitions
                        .get(tp)
                        .is_some_and(PartitionProgress::has_quarantine)
                })
                .cloned()
                .collect();
            let lost = self.commit_side(Side::Quarantine, &with_q).await?;
            self.drop_lost(&lost, &mut outcome);
            let main: Vec<_> = pending
                .into_iter()
                .filter(|tp| self.partitions.contains_key(tp))
                .collect();
            let lost = self.commit_side(Side::Main, &main).await?;
            self.drop_lost(&lost, &mut outcome);
            for tp in main.into_iter().filter(|tp| !lost.contains(tp)) {
                if let Some(p) = self.partitions.get_mut(&tp) {
                    let chunks = std::mem::take(&mut p.chunks);
                    let rows: usize = chunks.iter().map(Chunk::rows).sum();
                    let quarantined: usize = chunks.iter().map(Chunk::quarantined).sum();
                    let bytes: usize = chunks.iter().map(|c| c.bytes).sum();
                    self.metrics.rows.fetch_add(rows as u64, Ordering::Relaxed);
                    self.metrics
                        .quarantined
                        .fetch_add(quarantined as u64, Ordering::Relaxed);
                    self.metrics
                        .bytes
                        .fetch_add(bytes as u64, Ordering::Relaxed);
                    if let Some(next) = p.main_txn.map(|o| o + 1) {
                        outcome.committed.push((tp, next));
                    }
                    self.forget(&chunks);
                }
            }
            Ok(outcome)
        }
        .instrument(span)
        .await
    }

    fn drop_lost(&mut self, lost: &[TopicPartition], outcome: &mut FlushOutcome) {
        for tp in lost {
            if let Some(p) = self.partitions.remove(tp) {
                warn!(table = %self.name, partition = %tp, "another writer stored this partition first; dropping buffered rows and re-seeking");
                self.forget(&p.chunks);
                outcome.reseek.push(tp.clone());
            }
        }
    }

    /// One side's check-then-commit loop. Returns the partitions another writer got ahead on.
    async fn commit_side(
        &mut self,
        side: Side,
        tps: &[TopicPartition],
    ) -> Result<Vec<TopicPartition>, BronzeError> {
        let mut conflicts = 0u32;
        let mut failures = 0u32;
        loop {
            let table = match side {
                Side::Main => &mut self.main,
                Side::Quarantine => &mut self.quarantine,
            };
            refresh(table).await?;
            let mut lost = Vec::new();
            let mut ok = Vec::new();
            for tp in tps {
                let Some(p) = self.partitions.get(tp) else {
                    continue;
                };
                let app = txn_app_id(&self.store.app_id, &tp.topic, tp.partition);
                let stored = app_txn_version(table, &app).await?;
                if stored == p.txn(side) {
                    ok.push(tp.clone());
                } else {
                    lost.push(tp.clone());
                }
            }
            if ok.is_empty() {
                return Ok(lost);
            }
            let (batches, txns) = self.collect(side, &ok);
            let started = Instant::now();
            let table = match side {
                Side::Main => self.main.clone(),
                Side::Quarantine => self.quarantine.clone(),
            };
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            let span =
                info_span!("commit", table = %self.name, side = ?side, rows, partitions = ok.len());
            match write(
                table,
                batches,
                txns.clone(),
                self.settings.target_file_size,
                side,
            )
            .instrument(span)
            .await
            {
                Ok(table) => {
                    self.metrics.commits.fetch_add(1, Ordering::Relaxed);
                    self.metrics
                        .commit_micros
                        .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
                    match side {
                        Side::Main => self.main = table,
                        Side::Quarantine => self.quarantine = table,
                    }
                    for (tp, txn) in ok.iter().zip(&txns) {
                        if let Some(p) = self.partitions.get_mut(tp) {
                            match side {
                                Side::Main => p.main_txn = Some(txn.version),
                                Side::Quarantine => p.quarantine_txn = Some(txn.version),
                            }
                        }
                    }
                    return Ok(lost);
                }
                Err(e) if is_conflict(&e) && conflicts < 50 => {
                    conflicts += 1;
                    self.metrics
                        .commit_conflicts
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(table = %self.name, error = %e, "concurrent commit; re-checking");
                }
                Err(e) if failures < 4 => {
                    failures += 1;
                    let wait = Duration::from_millis(500 << failures);
                    warn!(table = %self.name, error = %e, retry_in = ?wait, "commit failed; retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    return Err(BronzeError::Delta {
                        uri: self.store.main_url.to_string(),
                        source: e,
                    })
                }
            }
        }
    }

    /// The side's batches of `tps` and one `txn` per partition at its last buffered offset.
    fn collect(&self, side: Side, tps: &[TopicPartition]) -> (Vec<RecordBatch>, Vec<Transaction>) {
        let mut batches = Vec::new();
        let mut txns = Vec::new();
        for tp in tps {
            let Some(p) = self.partitions.get(tp) else {
                continue;
            };
            for c in &p.chunks {
                let b = match side {
                    Side::Main => &c.bronze,
                    Side::Quarantine => &c.quarantine,
                };
                batches.extend(b.iter().cloned());
            }
            if let Some(last) = p.last_offset() {
                let app = txn_app_id(&self.store.app_id, &tp.topic, tp.partition);
                txns.push(Transaction::new_with_last_update(
                    app,
                    last,
                    Some(chrono::Utc::now().timestamp_millis()),
                ));
            }
        }
        if batches.is_empty() {
            // An offset-only commit (all messages of the range went to the other table).
            let schema: SchemaRef = match side {
                Side::Main => bronze_schema(),
                Side::Quarantine => quarantine_schema(),
            };
            batches.push(RecordBatch::new_empty(schema));
        }
        (batches, txns)
    }
}

async fn refresh(table: &mut DeltaTable) -> Result<(), BronzeError> {
    let res = if table.version().is_some() {
        table.update_state().await
    } else {
        table.load().await
    };
    match res {
        Ok(()) | Err(DeltaTableError::NotATable(_)) => Ok(()),
        Err(source) => Err(BronzeError::Delta {
            uri: table.table_url().to_string(),
            source,
        }),
    }
}

fn writer_properties() -> WriterProperties {
    let zstd = ZstdLevel::try_new(1)
        .map(Compression::ZSTD)
        .unwrap_or(Compression::SNAPPY);
    WriterProperties::builder()
        .set_compression(zstd)
        // Statistics of multi-kilobyte raw payloads are useless and bloat the footer.
        .set_column_statistics_enabled(ColumnPath::from("raw_value"), EnabledStatistics::None)
        .set_column_statistics_enabled(ColumnPath::from("raw_bytes"), EnabledStatistics::None)
        .set_column_statistics_enabled(ColumnPath::from("error_message"), EnabledStatistics::None)
        .build()
}

async fn write(
    table: DeltaTable,
    batches: Vec<RecordBatch>,
    txns: Vec<Transaction>,
    target_file_size: u64,
    side: Side,
) -> Result<DeltaTable, DeltaTableError> {
    let creating = table.version().is_none();
    let mut builder = table
        .write(batches)
        .with_save_mode(SaveMode::Append)
        .with_partition_columns([PARTITION_COLUMN])
        .with_target_file_size(NonZeroU64::new(target_file_size))
        .with_writer_properties(writer_properties())
        .with_commit_properties(
            CommitProperties::default()
                .with_application_transactions(txns)
                .with_max_retries(15),
        );
    if creating {
        // Data skipping on the small columns only; never on the raw payload.
        let stats = match side {
            Side::Main => "kafka_topic,kafka_partition,kafka_offset,kafka_timestamp,ingested_at,tweet_id,event_kind,api_version,event_time",
            Side::Quarantine => "kafka_topic,kafka_partition,kafka_offset,kafka_timestamp,ingested_at,error_kind",
        };
        builder = builder.with_configuration([(
            "delta.dataSkippingStatsColumns".to_string(),
            Some(stats.to_string()),
        )]);
    }
    builder.await
}

fn is_conflict(e: &DeltaTableError) -> bool {
    matches!(
        e,
        DeltaTableError::VersionAlreadyExists(_)
            | DeltaTableError::Transaction {
                source: TransactionError::CommitConflict(_)
                    | TransactionError::MaxCommitAttempts(_)
                    | TransactionError::VersionAlreadyExists(_)
            }
    )
}
