//! `tweetlake status` for bronze: each table's version, rows, files and size (from its Delta log, or
//! from the files' footers for plain Parquet), and each partition's stored offset next to the
//! broker's end offset.

use std::time::Duration;

use tweetlake_core::{tables, Lake};

use crate::chunk::TopicPartition;
use crate::config::IngestConfig;
use crate::error::BronzeError;
use crate::kafka::MetadataClient;
use crate::output::{self, Description, TableLocation};

/// The state of one table (`version` is `None` for plain Parquet).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TableStatus {
    pub name: String,
    pub uri: String,
    pub version: Option<u64>,
    pub rows: u64,
    pub files: u64,
    pub size_bytes: u64,
    pub partitions: Vec<PartitionStatus>,
}

/// Where one topic-partition stands.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PartitionStatus {
    pub topic: String,
    pub partition: i32,
    /// Last offset stored in the bronze table (its `txn` version, or the newest file's range end).
    pub stored_offset: Option<i64>,
    /// Last offset stored in the quarantine table.
    pub quarantine_offset: Option<i64>,
    /// The broker's high watermark, when it could be reached.
    pub end_offset: Option<i64>,
}

/// Status of every bronze table and its quarantine table. Kafka is asked for partitions and end
/// offsets only when `broker_timeout` is given and the broker answers; otherwise offsets still show.
pub async fn table_status(
    config: IngestConfig<'_>,
    lake: &Lake,
    broker_timeout: Option<Duration>,
) -> Result<Vec<TableStatus>, BronzeError> {
    let md = broker_timeout.and_then(|_| MetadataClient::new(config.kafka).ok());
    let timeout = broker_timeout.unwrap_or(Duration::from_secs(5));
    let mut out = Vec::new();
    for t in &config.bronze.tables {
        let location = TableLocation::for_table(config.bronze.format, lake, &t.name);
        let (main, quarantine) = output::describe(&location).await?;
        let mut main_status = TableStatus::of(&t.name, main);
        let q_status = TableStatus::of(&tables::bronze::quarantine_of(&t.name), quarantine);
        let mut tps = Vec::new();
        let mut ends = Vec::new();
        for topic in &t.topics {
            let partitions = match &md {
                Some(md) => md.partitions(topic, timeout).unwrap_or_default(),
                None => Vec::new(),
            };
            for p in partitions {
                tps.push(TopicPartition {
                    topic: topic.as_str().into(),
                    partition: p,
                });
                ends.push(
                    md.as_ref()
                        .and_then(|md| md.watermarks(topic, p, timeout).ok())
                        .map(|(_, high)| high),
                );
            }
        }
        for (start, end) in output::load_starts(&location, &tps)
            .await?
            .into_iter()
            .zip(ends)
        {
            main_status.partitions.push(PartitionStatus {
                topic: start.tp.topic.to_string(),
                partition: start.tp.partition,
                stored_offset: start.main_txn,
                quarantine_offset: start.quarantine_txn,
                end_offset: end,
            });
        }
        out.push(main_status);
        out.push(q_status);
    }
    Ok(out)
}

impl TableStatus {
    fn of(name: &str, d: Description) -> TableStatus {
        TableStatus {
            name: name.to_string(),
            uri: d.uri,
            version: d.version,
            rows: d.rows,
            files: d.files,
            size_bytes: d.size_bytes,
            partitions: Vec::new(),
        }
    }
}
