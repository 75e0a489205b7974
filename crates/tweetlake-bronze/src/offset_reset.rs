//! `tweetlake offsets reset`: moves the stored offset of a partition on purpose, as
//! `kafka-consumer-groups --reset-offsets` does for a group, but in the Delta log where bronze
//! keeps its offsets. The move is a commit like any other (no rows, the partition's `txn` actions
//! in both the bronze table and its quarantine table), so it is exactly-once with ingestion: an
//! ingester that runs meanwhile sees the stored offset change at its next commit and seeks there.
//!
//! Danger: moving forward skips messages for good; moving back stores offsets again (silver
//! de-duplicates tweets by id, not bronze rows by offset).
//!
//! ```text
//! tweetlake offsets reset --topic tweets --partition 0 --to-earliest --dry-run
//! ```

use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::{Offset, TopicPartitionList};
use tweetlake_core::config::OutputFormat;
use tweetlake_core::delta::{app_txn_version, exists, open_table};
use tweetlake_core::deltalake::arrow::array::RecordBatch;
use tweetlake_core::deltalake::kernel::Transaction;
use tweetlake_core::deltalake::protocol::SaveMode;
use tweetlake_core::txn::Consumer as TxnConsumer;
use tweetlake_core::Lake;

use crate::config::IngestConfig;
use crate::error::BronzeError;
use crate::kafka::MetadataClient;
use crate::output::TableLocation;
use crate::schema::{bronze_schema, quarantine_schema};

/// Where a partition should resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetTarget {
    /// The broker's first offset.
    Earliest,
    /// The broker's end: everything up to now is skipped.
    Latest,
    /// This offset is the next one read.
    Offset(i64),
    /// The first message at or after this time (milliseconds since the epoch).
    Datetime(i64),
}

/// One partition's move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetMove {
    pub topic: String,
    pub partition: i32,
    /// The last stored offset before and after (-1: nothing stored, resume at 0).
    pub stored_before: Option<i64>,
    pub stored_after: i64,
}

/// What to reset: a bronze table's partitions of one topic.
#[derive(Debug, Clone)]
pub struct ResetRequest {
    /// The bronze table; the one that reads `topic` when not given.
    pub table: Option<String>,
    pub topic: String,
    /// Every partition of the topic when not given.
    pub partition: Option<i32>,
    pub target: ResetTarget,
    pub dry_run: bool,
}

/// Plans the moves (reading the broker and the lake), then commits them unless `dry_run`.
pub async fn reset_offsets(
    config: IngestConfig<'_>,
    lake: &Lake,
    request: &ResetRequest,
) -> Result<(String, Vec<OffsetMove>), BronzeError> {
    let invalid = |message: String| BronzeError::Table {
        table: request.table.clone().unwrap_or_default(),
        message,
    };
    if config.bronze.format != OutputFormat::Delta {
        return Err(invalid(
            "offsets reset works on Delta bronze only (plain-Parquet output keeps offsets in file footers)"
                .into(),
        ));
    }
    let table = config
        .bronze
        .tables
        .iter()
        .find(|t| match &request.table {
            Some(name) => &t.name == name,
            None => t.topics.contains(&request.topic),
        })
        .ok_or_else(|| {
            invalid(format!(
                "no bronze table {} (bronze.tables)",
                match &request.table {
                    Some(name) => format!("named `{name}`"),
                    None => format!("reads topic `{}`", request.topic),
                }
            ))
        })?;
    if !table.topics.contains(&request.topic) {
        return Err(invalid(format!(
            "bronze table `{}` does not read topic `{}`",
            table.name, request.topic
        )));
    }
    let metadata = MetadataClient::new(config.kafka)?;
    let partitions = metadata.partitions(&request.topic, Duration::from_secs(15))?;
    let partitions: Vec<i32> = match request.partition {
        Some(p) if partitions.contains(&p) => vec![p],
        Some(p) => {
            return Err(invalid(format!(
                "topic `{}` has no partition {p} (it has {partitions:?})",
                request.topic
            )))
        }
        None => partitions,
    };
    let store = TableLocation::for_table(config.bronze.format, lake, &table.name);
    let mut main = open_table(&store.main_url, lake.storage_options()).await?;
    let mut quarantine = open_table(&store.quarantine_url, lake.storage_options()).await?;
    let mut moves = Vec::new();
    for partition in partitions {
        let next = target_offset(&metadata, &request.topic, partition, request.target)?;
        let app = TxnConsumer::Ingest {
            topic: &request.topic,
            partition,
        }
        .app_id(lake.app_id());
        moves.push(OffsetMove {
            topic: request.topic.clone(),
            partition,
            stored_before: app_txn_version(&main, &app).await?,
            stored_after: next - 1,
        });
    }
    if request.dry_run {
        return Ok((table.name.clone(), moves));
    }
    let txns: Vec<Transaction> = moves
        .iter()
        .map(|m| {
            Transaction::new_with_last_update(
                TxnConsumer::Ingest {
                    topic: &m.topic,
                    partition: m.partition,
                }
                .app_id(lake.app_id()),
                m.stored_after,
                Some(chrono::Utc::now().timestamp_millis()),
            )
        })
        .collect();
    // Quarantine first, as ingestion commits: its offsets must never be ahead of the main table's
    // meaning, or a re-read offset would be skipped as "already quarantined".
    for (t, empty) in [
        (&mut quarantine, quarantine_schema()),
        (&mut main, bronze_schema()),
    ] {
        if !exists(t) {
            continue;
        }
        let metadata = [(
            "tweetlake.offsets_reset".to_string(),
            serde_json::json!(format!("{:?}", request.target)),
        )];
        let written = t
            .clone()
            .write(vec![RecordBatch::new_empty(empty)])
            .with_save_mode(SaveMode::Append)
            .with_commit_properties(
                tweetlake_core::delta::commit_properties()
                    .with_application_transactions(txns.clone())
                    .with_metadata(metadata),
            )
            .await
            .map_err(|source| BronzeError::Delta {
                uri: t.table_url().to_string(),
                source: Box::new(source),
            })?;
        *t = written;
    }
    Ok((table.name.clone(), moves))
}

/// The next offset to read for `target`, from the broker.
fn target_offset(
    metadata: &MetadataClient,
    topic: &str,
    partition: i32,
    target: ResetTarget,
) -> Result<i64, BronzeError> {
    match target {
        ResetTarget::Offset(n) => Ok(n.max(0)),
        ResetTarget::Earliest => Ok(metadata
            .watermarks(topic, partition, Duration::from_secs(10))?
            .0),
        ResetTarget::Latest => Ok(metadata
            .watermarks(topic, partition, Duration::from_secs(10))?
            .1),
        ResetTarget::Datetime(ms) => {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(topic, partition, Offset::Offset(ms))
                .map_err(|source| kafka_err(topic, partition, source))?;
            let found = metadata
                .consumer()
                .offsets_for_times(tpl, Duration::from_secs(10))
                .map_err(|source| kafka_err(topic, partition, source))?;
            let offset = found.find_partition(topic, partition).map(|e| e.offset());
            match offset {
                Some(Offset::Offset(n)) => Ok(n),
                // No message at or after that time: resume at the end.
                _ => Ok(metadata
                    .watermarks(topic, partition, Duration::from_secs(10))?
                    .1),
            }
        }
    }
}

fn kafka_err(topic: &str, partition: i32, source: rdkafka::error::KafkaError) -> BronzeError {
    BronzeError::Kafka {
        context: format!("offsets of {topic}/{partition}"),
        source,
    }
}
