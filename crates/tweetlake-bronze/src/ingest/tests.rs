//! `ingest` against librdkafka's in-process mock cluster: fast, inside `cargo test`, with a broker
//! whose high watermarks are right (tansu's are not) and with injected fetch errors.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use tweetlake_core::config::{Config, OutputFormat};
use tweetlake_core::deltalake::arrow::array::{Array, Int32Array, Int64Array};
use tweetlake_core::deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReader;

use super::*;
use crate::chunk::TopicPartition;

const PARTITIONS: i32 = 4;
const MESSAGES: usize = 3_000;

/// Every 97th message is not JSON and every 211th is empty; the rest are small v2 tweets.
fn message(i: usize) -> Vec<u8> {
    if i.is_multiple_of(211) {
        Vec::new()
    } else if i.is_multiple_of(97) {
        format!("{{\"truncated\": {i}").into_bytes()
    } else {
        format!(
            "{{\"data\":{{\"id\":\"{}\",\"text\":\"mock {i}\"}}}}",
            10_000 + i
        )
        .into_bytes()
    }
}

fn is_bad(i: usize) -> bool {
    i.is_multiple_of(211) || i.is_multiple_of(97)
}

async fn produce_all(servers: &str) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", servers)
        .set("enable.idempotence", "true")
        .create()
        .unwrap();
    let sends = (0..MESSAGES).map(|i| {
        let value = message(i);
        let key = i.to_string();
        let producer = &producer;
        async move {
            producer
                .send(
                    FutureRecord::to("tweets")
                        .payload(&value)
                        .key(&key)
                        .partition((i % PARTITIONS as usize) as i32),
                    Duration::from_secs(10),
                )
                .await
                .map_err(|(e, _)| e)
                .unwrap();
        }
    });
    futures::future::join_all(sends).await;
}

fn config(servers: &str, root: &Path, format: OutputFormat) -> (Config, Lake) {
    let mut config = Config::default();
    config.kafka.bootstrap_servers = servers.to_string();
    config.lake.root = root.display().to_string();
    config.bronze.format = format;
    config.bronze.flush.max_rows_per_file = 400; // several commits per partition
    config.bronze.flush.max_latency = tweetlake_core::config::HumanDuration::from_millis(300);
    let lake = Lake::from_config(&config.lake, root).unwrap();
    (config, lake)
}

/// (partition, offset) of every row in the Parquet files under `dir`, and how many rows.
fn rows_in(files: impl Iterator<Item = std::path::PathBuf>) -> Vec<(i32, i64)> {
    let mut out = Vec::new();
    for f in files {
        let reader =
            ParquetRecordBatchReader::try_new(std::fs::File::open(f).unwrap(), 4096).unwrap();
        for b in reader {
            let b = b.unwrap();
            let col = |name: &str| b.column_by_name(name).unwrap().clone();
            let (p, o) = (col("kafka_partition"), col("kafka_offset"));
            let p = p.as_any().downcast_ref::<Int32Array>().unwrap();
            let o = o.as_any().downcast_ref::<Int64Array>().unwrap();
            out.extend((0..b.num_rows()).map(|i| (p.value(i), o.value(i))));
        }
    }
    out
}

fn parquet_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(parquet_files(&p));
            } else if p.extension().is_some_and(|x| x == "parquet") {
                out.push(p);
            }
        }
    }
    out
}

async fn delta_files(url: &url::Url) -> Vec<std::path::PathBuf> {
    let table = tweetlake_core::delta::open_table(url, &Default::default())
        .await
        .unwrap();
    if table.version().is_none() {
        return Vec::new();
    }
    table
        .get_file_uris()
        .unwrap()
        .map(|u| match url::Url::parse(&u) {
            Ok(url) => url.to_file_path().unwrap(),
            Err(_) => std::path::PathBuf::from(u), // local tables list plain paths
        })
        .collect()
}

/// One run to the end of the topic, and whether it told its commit listener anything.
async fn run_once(config: &Config, lake: &Lake) -> (IngestReport, bool) {
    let committed = Arc::new(Notify::new());
    let options = IngestOptions {
        until_caught_up: true,
        committed: Some(committed.clone()),
    };
    let report = tokio::time::timeout(
        Duration::from_secs(60),
        ingest(config.into(), lake, options, std::future::pending()),
    )
    .await
    .expect("caught up within a minute")
    .unwrap();
    // A permit is kept for the next waiter when a commit told the listener.
    let told = tokio::time::timeout(Duration::ZERO, committed.notified())
        .await
        .is_ok();
    (report, told)
}

async fn every_offset_lands_once(format: OutputFormat) {
    let mock = MockCluster::new(3).unwrap();
    mock.create_topic("tweets", PARTITIONS, 3).unwrap();
    let servers = mock.bootstrap_servers();
    produce_all(&servers).await;
    // Transient fetch failures the consumer must ride through without losing its place.
    mock.request_errors(
        RDKafkaApiKey::Fetch,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT; 3],
    );
    let dir = tempfile::tempdir().unwrap();
    let (config, lake) = config(&servers, dir.path(), format);
    let (report, told) = run_once(&config, &lake).await;
    assert!(told, "a commit that stored rows tells the listener");
    let t = &report.tables[0];
    let bad = (0..MESSAGES).filter(|i| is_bad(*i)).count() as u64;
    assert_eq!((t.rows, t.quarantined), (MESSAGES as u64 - bad, bad));
    assert!(t.commits >= 2, "{} commits", t.commits);

    let store = TableLocation::for_table(config.bronze.format, &lake, "tweets");
    let (main, quarantine) = match format {
        OutputFormat::Delta => (
            rows_in(delta_files(&store.main_url).await.into_iter()),
            rows_in(delta_files(&store.quarantine_url).await.into_iter()),
        ),
        OutputFormat::Parquet => (
            rows_in(parquet_files(&store.main_url.to_file_path().unwrap()).into_iter()),
            rows_in(parquet_files(&store.quarantine_url.to_file_path().unwrap()).into_iter()),
        ),
    };
    assert_eq!(quarantine.len() as u64, bad);
    let all: BTreeSet<(i32, i64)> = main.iter().chain(&quarantine).copied().collect();
    assert_eq!(all.len(), MESSAGES, "no offset twice, none missing");
    assert_eq!(main.len() + quarantine.len(), MESSAGES);
    // The stored offsets are each partition's last offset (the mock's high watermark - 1).
    let tps: Vec<TopicPartition> = (0..PARTITIONS)
        .map(|partition| TopicPartition {
            topic: "tweets".into(),
            partition,
        })
        .collect();
    let per_partition = MESSAGES as i64 / PARTITIONS as i64;
    for s in crate::output::load_starts(&store, &tps).await.unwrap() {
        assert_eq!(s.main_txn, Some(per_partition - 1), "{}", s.tp);
    }

    // Nothing new: a second run stores nothing.
    let (again, told) = run_once(&config, &lake).await;
    assert_eq!((again.tables[0].rows, again.tables[0].quarantined), (0, 0));
    assert!(!told, "nothing stored, nothing to promote");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_cluster_delta_output_stores_every_offset_once() {
    every_offset_lands_once(OutputFormat::Delta).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_cluster_parquet_output_stores_every_offset_once() {
    every_offset_lands_once(OutputFormat::Parquet).await;
}
