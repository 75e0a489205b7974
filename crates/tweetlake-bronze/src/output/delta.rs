//! The Delta output of ingestion: commits buffered chunks to the bronze table and its quarantine
//! table, each commit carrying the partitions' last offsets as `txn` actions.
//!
//! Before each commit the writer checks, against the latest snapshot, that every partition's stored
//! offset is still the one it resumed from (check-then-commit). A partition where another writer got
//! ahead is dropped from the commit and re-seeked, so two ingesters never store one offset twice.
//! Quarantine commits first: after a crash between the two commits, resuming from the bronze table's
//! offset re-reads the quarantined messages, and the stored quarantine offset says to skip them.

use std::num::NonZeroU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{info_span, warn, Instrument};
use tweetlake_core::delta::{app_txn_version, open_table};
use tweetlake_core::deltalake::arrow::datatypes::SchemaRef;
use tweetlake_core::deltalake::arrow::record_batch::RecordBatch;
use tweetlake_core::deltalake::kernel::transaction::CommitProperties;
use tweetlake_core::deltalake::kernel::Transaction;
use tweetlake_core::deltalake::protocol::SaveMode;
use tweetlake_core::deltalake::{DeltaTable, DeltaTableError};
use tweetlake_core::txn::Consumer;

use crate::buffer::{ChunkBuffer, FlushOutcome, PartitionBuffer};
use crate::chunk::TopicPartition;
use crate::error::BronzeError;
use crate::metrics::TableMetrics;
use crate::offsets::OffsetStore;
use crate::schema::{bronze_schema, parquet_properties, quarantine_schema, PARTITION_COLUMN};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Main,
    Quarantine,
}

fn txn_of(p: &PartitionBuffer, side: Side) -> Option<i64> {
    match side {
        Side::Main => p.main_txn,
        Side::Quarantine => p.quarantine_txn,
    }
}

/// Writes one bronze table and its quarantine table as Delta tables.
pub struct DeltaOutput {
    store: OffsetStore,
    main: DeltaTable,
    quarantine: DeltaTable,
    metrics: Arc<TableMetrics>,
}

impl DeltaOutput {
    pub async fn open(store: OffsetStore, metrics: Arc<TableMetrics>) -> Result<Self, BronzeError> {
        let main = open_table(&store.main_url, &store.storage_options).await?;
        let quarantine = open_table(&store.quarantine_url, &store.storage_options).await?;
        Ok(Self {
            store,
            main,
            quarantine,
            metrics,
        })
    }

    /// Commits everything buffered: quarantine rows first, then bronze rows with every partition's offset.
    pub async fn flush(&mut self, buffer: &mut ChunkBuffer) -> Result<FlushOutcome, BronzeError> {
        let mut outcome = FlushOutcome::default();
        let pending = buffer.take_pending();
        if pending.is_empty() {
            return Ok(outcome);
        }
        let span = info_span!("flush", table = %buffer.table(), partitions = pending.len());
        async {
            let with_q: Vec<_> = pending
                .iter()
                .filter(|tp| buffer.get(tp).is_some_and(PartitionBuffer::has_quarantine))
                .cloned()
                .collect();
            let lost = self.commit_side(buffer, Side::Quarantine, &with_q).await?;
            drop_lost(buffer, &lost, &mut outcome);
            let main: Vec<_> = pending
                .into_iter()
                .filter(|tp| buffer.get(tp).is_some())
                .collect();
            let lost = self.commit_side(buffer, Side::Main, &main).await?;
            drop_lost(buffer, &lost, &mut outcome);
            for tp in main.into_iter().filter(|tp| !lost.contains(tp)) {
                if let Some(next) = buffer.settle(&tp) {
                    outcome.committed.push((tp, next));
                }
            }
            Ok(outcome)
        }
        .instrument(span)
        .await
    }

    /// One side's check-then-commit loop. Returns the partitions another writer got ahead on.
    async fn commit_side(
        &mut self,
        buffer: &mut ChunkBuffer,
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
                let Some(p) = buffer.get(tp) else {
                    continue;
                };
                let app = Consumer::Ingest {
                    topic: &tp.topic,
                    partition: tp.partition,
                }
                .app_id(&self.store.app_id);
                let stored = app_txn_version(table, &app).await?;
                if stored == txn_of(p, side) {
                    ok.push(tp.clone());
                } else {
                    lost.push(tp.clone());
                }
            }
            if ok.is_empty() {
                return Ok(lost);
            }
            let (batches, txns) = self.collect(buffer, side, &ok);
            let started = Instant::now();
            let table = match side {
                Side::Main => self.main.clone(),
                Side::Quarantine => self.quarantine.clone(),
            };
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            let span = info_span!("commit", table = %buffer.table(), side = ?side, rows, partitions = ok.len());
            match write(
                table,
                batches,
                txns.clone(),
                buffer.settings().target_file_size,
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
                        if let Some(p) = buffer.get_mut(tp) {
                            match side {
                                Side::Main => p.main_txn = Some(txn.version),
                                Side::Quarantine => p.quarantine_txn = Some(txn.version),
                            }
                        }
                    }
                    return Ok(lost);
                }
                Err(e) if tweetlake_core::delta::is_commit_conflict(&e) && conflicts < 50 => {
                    conflicts += 1;
                    self.metrics
                        .commit_conflicts
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(table = %buffer.table(), error = %e, "concurrent commit; re-checking");
                }
                Err(e) if failures < 4 => {
                    failures += 1;
                    let wait = Duration::from_millis(500 << failures);
                    warn!(table = %buffer.table(), error = %e, retry_in = ?wait, "commit failed; retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    let url = match side {
                        Side::Main => &self.store.main_url,
                        Side::Quarantine => &self.store.quarantine_url,
                    };
                    return Err(BronzeError::Delta {
                        uri: url.to_string(),
                        source: Box::new(e),
                    });
                }
            }
        }
    }

    /// The side's batches of `tps` and one `txn` per partition at its last buffered offset.
    fn collect(
        &self,
        buffer: &ChunkBuffer,
        side: Side,
        tps: &[TopicPartition],
    ) -> (Vec<RecordBatch>, Vec<Transaction>) {
        let mut batches = Vec::new();
        let mut txns = Vec::new();
        for tp in tps {
            let Some(p) = buffer.get(tp) else {
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
                let app = Consumer::Ingest {
                    topic: &tp.topic,
                    partition: tp.partition,
                }
                .app_id(&self.store.app_id);
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

fn drop_lost(buffer: &mut ChunkBuffer, lost: &[TopicPartition], outcome: &mut FlushOutcome) {
    for tp in lost {
        if buffer.remove(tp) {
            warn!(table = %buffer.table(), partition = %tp, "another writer stored this partition first; dropping buffered rows and re-seeking");
            outcome.reseek.push(tp.clone());
        }
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
            source: Box::new(source),
        }),
    }
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
        .with_writer_properties(parquet_properties().build())
        .with_commit_properties(
            CommitProperties::default()
                .with_application_transactions(txns)
                .with_max_retries(15),
        );
    if creating {
        // Data skipping on the small columns only; never on the raw payload.
        use tweetlake_core::tables::bronze::columns as col;
        let kafka = [
            col::KAFKA_TOPIC,
            col::KAFKA_PARTITION,
            col::KAFKA_OFFSET,
            col::KAFKA_TIMESTAMP,
            col::INGESTED_AT,
        ];
        let side_columns: &[&str] = match side {
            Side::Main => &[
                col::TWEET_ID,
                col::EVENT_KIND,
                col::API_VERSION,
                col::EVENT_TIME,
            ],
            Side::Quarantine => &[col::ERROR_KIND],
        };
        let stats = [kafka.as_slice(), side_columns].concat().join(",");
        builder = builder
            .with_configuration([("delta.dataSkippingStatsColumns".to_string(), Some(stats))]);
    }
    builder.await
}
