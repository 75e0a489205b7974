//! The recovery rules of the plain-Parquet output, on a local directory: what a restart reads back
//! after complete ranges, a crash between the quarantine file and the main file, and a range of
//! quarantined messages only.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tweetlake_core::config::OutputFormat;

use super::*;
use crate::buffer::{ChunkBuffer, WriterSettings};
use crate::chunk::Chunk;
use crate::chunk::{ChunkBuilder, KafkaMeta};
use crate::extract::inspect;
use crate::metrics::TableMetrics;

#[test]
fn file_names_round_trip_and_sort_by_offset() {
    let name = file_name("tweets.ai-v2", 7, 1234);
    assert_eq!(name, "tweets.ai-v2+7+00000000000000001234.parquet");
    assert_eq!(parse_file_name(&name), Some(("tweets.ai-v2", 7, 1234)));
    assert!(file_name("t", 0, 99) < file_name("t", 0, 100));
    assert_eq!(parse_file_name("t+0+12.parquet#1"), None);
    assert_eq!(parse_file_name("+0+12.parquet"), None);
    assert_eq!(parse_file_name("t+x+12.parquet"), None);
    assert_eq!(parse_file_name("part-0001.parquet"), None);
}

fn tp() -> TopicPartition {
    TopicPartition {
        topic: "tweets".into(),
        partition: 0,
    }
}

fn store(dir: &std::path::Path) -> TableLocation {
    let url = |name: &str| Url::from_directory_path(dir.join(name)).unwrap();
    TableLocation {
        format: OutputFormat::Parquet,
        main_url: url("t"),
        quarantine_url: url("t_quarantine"),
        storage_options: HashMap::new(),
        app_id: "tweetlake".into(),
    }
}

/// Messages at `offsets` as the consumer would chunk them: `good` JSON, anything else quarantined,
/// and offsets up to `skip_upto` that fail skipped as already quarantined.
fn chunk(messages: &[(i64, &str)], skip_upto: Option<i64>) -> Chunk {
    let mut b = ChunkBuilder::new(tp());
    for (offset, value) in messages {
        let meta = KafkaMeta {
            offset: *offset,
            timestamp_ms: Some(1_700_000_000_000),
            key: None,
            headers: &[],
        };
        match inspect(Some(value.as_bytes()), 1 << 20) {
            Ok((text, ex)) => b.push_row(&meta, text, &ex, 1_700_000_000_000_000),
            Err(_) if skip_upto.is_some_and(|q| *offset <= q) => b.skip(*offset),
            Err(why) => {
                b.push_quarantine(&meta, Some(value.as_bytes()), &why, 1_700_000_000_000_000)
            }
        }
    }
    b.finish().unwrap().unwrap()
}

/// Loads the stored starts, buffers `c` after them and flushes; returns the starts it resumed from.
async fn write_range(store: &TableLocation, c: Chunk) -> PartitionStart {
    let start = load_starts(store, &[tp()]).await.unwrap().remove(0);
    let settings = WriterSettings {
        max_latency: Duration::from_secs(1),
        max_rows: 1000,
        max_buffer_bytes: 1 << 20,
        target_file_size: 1 << 20,
    };
    let mut buffer = ChunkBuffer::new("t", settings, Arc::new(TableMetrics::new("t")));
    buffer.on_assigned(vec![start.clone()]);
    buffer.on_chunk(c);
    let metrics = Arc::new(TableMetrics::new("t"));
    let mut out = ParquetOutput::open(store.clone(), metrics).unwrap();
    let stored = out.commit(buffer.take_ranges()).await.unwrap();
    assert_eq!((stored.stored.len(), stored.lost.len()), (1, 0));
    start
}

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = walk(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect();
    names.sort();
    names
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn restarts_resume_from_the_files_and_never_store_an_offset_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let (good, bad) = (r#"{"id":1,"text":"hi"}"#, "not json");

    // Nothing stored: start at the beginning.
    let s = write_range(&store, chunk(&[(0, good), (1, bad), (2, good)], None)).await;
    assert_eq!((s.main_txn, s.quarantine_txn), (None, None));
    let s = load_starts(&store, &[tp()]).await.unwrap().remove(0);
    assert_eq!((s.main_txn, s.quarantine_txn), (Some(2), Some(2)));

    // A crash after the quarantine file of [3, 4] and before its main file.
    write_range(&store, chunk(&[(3, bad), (4, good)], None)).await;
    let date = std::fs::read_dir(dir.path().join("t"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .file_name();
    let main_4 = dir
        .path()
        .join("t")
        .join(&date)
        .join(file_name("tweets", 0, 4));
    std::fs::remove_file(&main_4).unwrap();
    let s = load_starts(&store, &[tp()]).await.unwrap().remove(0);
    assert_eq!(
        (s.main_txn, s.quarantine_txn),
        (Some(2), Some(4)),
        "resume at 3, knowing offset 3 is already quarantined"
    );

    // The re-read range skips offset 3 and writes 4's main file again, under the same name.
    write_range(&store, chunk(&[(3, bad), (4, good)], s.quarantine_txn)).await;
    assert!(main_4.exists());
    let s = load_starts(&store, &[tp()]).await.unwrap().remove(0);
    assert_eq!((s.main_txn, s.quarantine_txn), (Some(4), Some(4)));

    // A range of quarantined messages only is complete with its quarantine file.
    write_range(&store, chunk(&[(5, bad), (6, "")], None)).await;
    let s = load_starts(&store, &[tp()]).await.unwrap().remove(0);
    assert_eq!((s.main_txn, s.quarantine_txn), (Some(6), Some(6)));

    let d = date.to_string_lossy();
    assert_eq!(
        files(dir.path()),
        vec![
            format!("t/{d}/tweets+0+00000000000000000000.parquet"),
            format!("t/{d}/tweets+0+00000000000000000004.parquet"),
            format!("t_quarantine/{d}/tweets+0+00000000000000000001.parquet"),
            format!("t_quarantine/{d}/tweets+0+00000000000000000003.parquet"),
            format!("t_quarantine/{d}/tweets+0+00000000000000000005.parquet"),
        ]
    );
    assert!(d.starts_with("ingest_date="), "{d}");

    // Rows: 0, 2, 4 once each in the main files; 1, 3, 5, 6 once each in quarantine.
    let offsets = |table: &str| {
        let mut all = Vec::new();
        for p in walk(&dir.path().join(table)) {
            let file = std::fs::File::open(p).unwrap();
            let reader =
                tweetlake_core::deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
                    file, 1024,
                )
                .unwrap();
            for b in reader {
                let b = b.unwrap();
                assert!(
                    b.column_by_name(PARTITION_COLUMN).is_none(),
                    "the directory names it"
                );
                let col = b.column_by_name("kafka_offset").unwrap();
                let o = col.as_any().downcast_ref::<Int64Array>().unwrap();
                all.extend(o.values().iter().copied());
            }
        }
        all.sort();
        all
    };
    assert_eq!(offsets("t"), vec![0, 2, 4]);
    assert_eq!(offsets("t_quarantine"), vec![1, 3, 5, 6]);
}
