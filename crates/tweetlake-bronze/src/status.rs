//! `tweetlake status` for bronze: each table's version, rows, files and size (from its Delta log, or
//! from the files' footers for plain Parquet), and each partition's stored offset next to the
//! broker's end offset.

use std::time::Duration;

use tweetlake_core::config::{Config, OutputFormat};
use tweetlake_core::delta::open_table;
use tweetlake_core::deltalake::DeltaTable;
use tweetlake_core::{tables, Lake};

use crate::chunk::TopicPartition;
use crate::error::BronzeError;
use crate::kafka::MetadataClient;
use crate::offsets::OffsetStore;

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
    config: &Config,
    lake: &Lake,
    broker_timeout: Option<Duration>,
) -> Result<Vec<TableStatus>, BronzeError> {
    let md = broker_timeout.and_then(|_| MetadataClient::new(&config.kafka).ok());
    let timeout = broker_timeout.unwrap_or(Duration::from_secs(5));
    let mut out = Vec::new();
    for t in &config.bronze.tables {
        let store = OffsetStore::for_table(config, lake, &t.name);
        let q_name = tables::bronze::quarantine_of(&t.name);
        let (mut main_status, q_status) = match store.format {
            OutputFormat::Delta => {
                let main = open_table(&store.main_url, lake.storage_options()).await?;
                let quarantine = open_table(&store.quarantine_url, lake.storage_options()).await?;
                (describe(&t.name, &main)?, describe(&q_name, &quarantine)?)
            }
            OutputFormat::Parquet => (
                crate::parquet_output::describe(&t.name, &store.main_url, lake.storage_options())
                    .await?,
                crate::parquet_output::describe(
                    &q_name,
                    &store.quarantine_url,
                    lake.storage_options(),
                )
                .await?,
            ),
        };
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
        for (start, end) in store.load(&tps).await?.into_iter().zip(ends) {
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

fn describe(name: &str, table: &DeltaTable) -> Result<TableStatus, BronzeError> {
    let mut s = TableStatus {
        name: name.to_string(),
        uri: table.table_url().to_string(),
        version: table.version(),
        ..Default::default()
    };
    if s.version.is_none() {
        return Ok(s);
    }
    let state = table.snapshot().map_err(|source| BronzeError::Delta {
        uri: s.uri.clone(),
        source: Box::new(source),
    })?;
    for f in state.log_data().iter() {
        s.files += 1;
        s.size_bytes += f.size().max(0) as u64;
        s.rows += f.num_records().unwrap_or(0) as u64;
    }
    Ok(s)
}
