//! `tweetlake status` for bronze: each table's version, rows, files and size from its Delta log, and
//! each partition's stored offset next to the broker's end offset.

use std::time::Duration;

use tweetlake_core::config::Config;
use tweetlake_core::delta::{app_txn_version, open_table, txn_app_id};
use tweetlake_core::deltalake::DeltaTable;
use tweetlake_core::{Lake, Layer};

use crate::error::BronzeError;
use crate::kafka::MetadataClient;

/// The state of one Delta table.
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
    /// Last offset stored in the bronze table (its `txn` version).
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
        let main_url = lake.table_url(Layer::Bronze, &t.name);
        let q_name = format!("{}_quarantine", t.name);
        let q_url = lake.table_url(Layer::Bronze, &q_name);
        let main = open_table(&main_url, lake.storage_options()).await?;
        let quarantine = open_table(&q_url, lake.storage_options()).await?;
        let mut main_status = describe(&t.name, &main)?;
        for topic in &t.topics {
            let partitions = match &md {
                Some(md) => md.partitions(topic, timeout).unwrap_or_default(),
                None => Vec::new(),
            };
            for p in partitions {
                let app = txn_app_id(&config.bronze.app_id, topic, p);
                let end = md
                    .as_ref()
                    .and_then(|md| md.watermarks(topic, p, timeout).ok())
                    .map(|(_, high)| high);
                main_status.partitions.push(PartitionStatus {
                    topic: topic.clone(),
                    partition: p,
                    stored_offset: app_txn_version(&main, &app).await?,
                    quarantine_offset: app_txn_version(&quarantine, &app).await?,
                    end_offset: end,
                });
            }
        }
        out.push(main_status);
        out.push(describe(&q_name, &quarantine)?);
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
        source,
    })?;
    for f in state.log_data().iter() {
        s.files += 1;
        s.size_bytes += f.size().max(0) as u64;
        s.rows += f.num_records().unwrap_or(0) as u64;
    }
    Ok(s)
}
