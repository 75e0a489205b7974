//! The Delta output of ingestion: commits partition ranges to the bronze table and its quarantine
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
use tweetlake_core::deltalake::kernel::Transaction;
use tweetlake_core::deltalake::protocol::SaveMode;
use tweetlake_core::deltalake::{DeltaTable, DeltaTableError};
use tweetlake_core::txn::Consumer;

use super::{CommitOutcome, Description, PartitionRange, PartitionStart, TableLocation};
use crate::chunk::TopicPartition;
use crate::error::BronzeError;
use crate::metrics::TableMetrics;
use crate::schema::{bronze_schema, parquet_properties, quarantine_schema, PARTITION_COLUMN};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Main,
    Quarantine,
}

impl Side {
    fn stored(self, start: &PartitionStart) -> Option<i64> {
        match self {
            Side::Main => start.main_txn,
            Side::Quarantine => start.quarantine_txn,
        }
    }

    fn record(self, start: &mut PartitionStart, offset: i64) {
        match self {
            Side::Main => start.main_txn = Some(offset),
            Side::Quarantine => start.quarantine_txn = Some(offset),
        }
    }

    fn batches(self, range: &PartitionRange) -> &[RecordBatch] {
        match self {
            Side::Main => &range.main,
            Side::Quarantine => &range.quarantine,
        }
    }
}

/// The `txn` application id of one topic-partition's ingester.
fn ingest_app_id(location: &TableLocation, tp: &TopicPartition) -> String {
    Consumer::Ingest {
        topic: &tp.topic,
        partition: tp.partition,
    }
    .app_id(&location.app_id)
}

/// Writes one bronze table and its quarantine table as Delta tables.
pub struct DeltaOutput {
    location: TableLocation,
    target_file_size: u64,
    main: DeltaTable,
    quarantine: DeltaTable,
    metrics: Arc<TableMetrics>,
}

impl DeltaOutput {
    pub async fn open(
        location: TableLocation,
        target_file_size: u64,
        metrics: Arc<TableMetrics>,
    ) -> Result<Self, BronzeError> {
        let main = open_table(&location.main_url, &location.storage_options).await?;
        let quarantine = open_table(&location.quarantine_url, &location.storage_options).await?;
        Ok(Self {
            location,
            target_file_size,
            main,
            quarantine,
            metrics,
        })
    }

    /// Commits `ranges`: quarantine rows first, then bronze rows with every partition's offset.
    pub async fn commit(
        &mut self,
        mut ranges: Vec<PartitionRange>,
    ) -> Result<CommitOutcome, BronzeError> {
        let mut lost = self
            .commit_side(Side::Quarantine, &mut ranges, |r| !r.quarantine.is_empty())
            .await?;
        ranges.retain(|r| !lost.contains(&r.stored.tp));
        let lost_main = self.commit_side(Side::Main, &mut ranges, |_| true).await?;
        ranges.retain(|r| !lost_main.contains(&r.stored.tp));
        lost.extend(lost_main);
        Ok(CommitOutcome {
            stored: ranges.into_iter().map(|r| r.stored).collect(),
            lost,
        })
    }

    fn table(&mut self, side: Side) -> &mut DeltaTable {
        match side {
            Side::Main => &mut self.main,
            Side::Quarantine => &mut self.quarantine,
        }
    }

    /// One side's check-then-commit loop over the ranges `include` picks; records the new stored
    /// offset in each range it stored. Returns the partitions another writer got ahead on.
    async fn commit_side(
        &mut self,
        side: Side,
        ranges: &mut [PartitionRange],
        include: impl Fn(&PartitionRange) -> bool,
    ) -> Result<Vec<TopicPartition>, BronzeError> {
        let mut conflicts = 0u32;
        let mut failures = 0u32;
        loop {
            let table = self.table(side);
            refresh(table).await?;
            let table = table.clone();
            let mut lost = Vec::new();
            let mut ok = Vec::new();
            for (i, range) in ranges.iter().enumerate().filter(|(_, r)| include(r)) {
                let app = ingest_app_id(&self.location, &range.stored.tp);
                if app_txn_version(&table, &app).await? == side.stored(&range.stored) {
                    ok.push(i);
                } else {
                    lost.push(range.stored.tp.clone());
                }
            }
            if ok.is_empty() {
                return Ok(lost);
            }
            let (batches, txns) = self.collect(side, ok.iter().filter_map(|&i| ranges.get(i)));
            let started = Instant::now();
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            let table_name = self.metrics.table.clone();
            let span = info_span!("commit", table = %table_name, side = ?side, rows, partitions = ok.len());
            let target = self.target_file_size;
            match write(table, batches, txns, target, side)
                .instrument(span)
                .await
            {
                Ok(table) => {
                    self.metrics.commits.fetch_add(1, Ordering::Relaxed);
                    self.metrics
                        .commit_micros
                        .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
                    *self.table(side) = table;
                    for (i, range) in ranges.iter_mut().enumerate() {
                        if ok.contains(&i) {
                            side.record(&mut range.stored, range.end);
                        }
                    }
                    return Ok(lost);
                }
                Err(e) if tweetlake_core::delta::is_commit_conflict(&e) && conflicts < 50 => {
                    conflicts += 1;
                    self.metrics
                        .commit_conflicts
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(table = %table_name, error = %e, "concurrent commit; re-checking");
                }
                Err(e) if failures < 4 => {
                    failures += 1;
                    let wait = Duration::from_millis(500 << failures);
                    warn!(table = %table_name, error = %e, retry_in = ?wait, "commit failed; retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    let url = match side {
                        Side::Main => &self.location.main_url,
                        Side::Quarantine => &self.location.quarantine_url,
                    };
                    return Err(BronzeError::Delta {
                        uri: url.to_string(),
                        source: Box::new(e),
                    });
                }
            }
        }
    }

    /// The side's batches of `ranges` and one `txn` per partition at its range's end.
    fn collect<'a>(
        &self,
        side: Side,
        ranges: impl Iterator<Item = &'a PartitionRange>,
    ) -> (Vec<RecordBatch>, Vec<Transaction>) {
        let mut batches = Vec::new();
        let mut txns = Vec::new();
        for range in ranges {
            batches.extend(side.batches(range).iter().cloned());
            txns.push(Transaction::new_with_last_update(
                ingest_app_id(&self.location, &range.stored.tp),
                range.end,
                Some(chrono::Utc::now().timestamp_millis()),
            ));
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

/// Reads the latest stored offsets of `tps` from both tables' `txn` actions.
pub async fn load_starts(
    location: &TableLocation,
    tps: &[TopicPartition],
) -> Result<Vec<PartitionStart>, BronzeError> {
    let main = open_table(&location.main_url, &location.storage_options).await?;
    let quarantine = open_table(&location.quarantine_url, &location.storage_options).await?;
    let mut out = Vec::with_capacity(tps.len());
    for tp in tps {
        let app = ingest_app_id(location, tp);
        out.push(PartitionStart {
            tp: tp.clone(),
            main_txn: app_txn_version(&main, &app).await?,
            quarantine_txn: app_txn_version(&quarantine, &app).await?,
        });
    }
    Ok(out)
}

/// Version, rows, files and size of both tables, from their Delta logs.
pub async fn describe(location: &TableLocation) -> Result<(Description, Description), BronzeError> {
    let main = open_table(&location.main_url, &location.storage_options).await?;
    let quarantine = open_table(&location.quarantine_url, &location.storage_options).await?;
    Ok((describe_table(&main)?, describe_table(&quarantine)?))
}

fn describe_table(table: &DeltaTable) -> Result<Description, BronzeError> {
    let mut d = Description {
        uri: table.table_url().to_string(),
        version: table.version(),
        ..Default::default()
    };
    if d.version.is_none() {
        return Ok(d);
    }
    let state = table.snapshot().map_err(|source| BronzeError::Delta {
        uri: d.uri.clone(),
        source: Box::new(source),
    })?;
    for f in state.log_data().iter() {
        d.files += 1;
        d.size_bytes += f.size().max(0) as u64;
        d.rows += f.num_records().unwrap_or(0) as u64;
    }
    Ok(d)
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
            tweetlake_core::delta::commit_properties()
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
        let mut properties = tweetlake_core::delta::new_table_properties();
        properties.push(("delta.dataSkippingStatsColumns".to_string(), Some(stats)));
        builder = builder.with_configuration(properties);
    }
    builder.await
}
