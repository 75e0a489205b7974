//! `maintain` on real local Delta tables: small files compacted without changing the data, a
//! checkpoint written, and vacuum held back while a gold table has not consumed the commits that
//! removed files, then allowed once it has.

// Helpers of a test may panic on what the test itself set up (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::Arc;

use tweetlake_core::config::{Config, LakeConfig};
use tweetlake_core::delta::open_table;
use tweetlake_core::deltalake::arrow::array::{Int64Array, RecordBatch};
use tweetlake_core::deltalake::arrow::datatypes::{DataType, Field, Schema};
use tweetlake_core::deltalake::kernel::transaction::CommitProperties;
use tweetlake_core::deltalake::kernel::Transaction;
use tweetlake_core::deltalake::DeltaTable;
use tweetlake_core::{Lake, Layer, TableName};
use tweetlake_maintain::{maintain, CompactionTiers, MaintainError, MaintainOptions, TableReport};

fn batch(ids: std::ops::Range<i64>) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "tweet_id",
        DataType::Int64,
        false,
    )]));
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from_iter_values(ids))]).unwrap()
}

async fn table(lake: &Lake, layer: Layer, name: &str) -> DeltaTable {
    open_table(&lake.table_url(layer, name), &HashMap::new())
        .await
        .unwrap()
}

async fn rows(t: &DeltaTable) -> (usize, i64) {
    let ctx = tweetlake_core::deltalake::datafusion::prelude::SessionContext::new();
    ctx.register_table("t", t.table_provider().await.unwrap())
        .unwrap();
    let out = ctx
        .sql("SELECT count(*), sum(tweet_id) FROM t")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let count = out[0]
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .value(0);
    let sum = out[0]
        .column(1)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .value(0);
    (count as usize, sum)
}

/// A config and lake rooted at `dir`, vacuuming files removed more than `hours` ago.
fn lake_at(dir: &std::path::Path, hours: u64) -> (Config, Lake) {
    let mut config = Config {
        lake: LakeConfig {
            root: format!("file://{}", dir.display()),
            ..Default::default()
        },
        ..Default::default()
    };
    config.maintain.vacuum_retention_hours = hours;
    let lake = Lake::from_config(&config.lake, dir).unwrap();
    (config, lake)
}

/// The table property that lets vacuum go down to zero hours.
fn zero_retention() -> (String, Option<String>) {
    (
        "delta.deletedFileRetentionDuration".to_string(),
        Some("interval 0 hours".to_string()),
    )
}

/// A gold commit recording that it consumed `silver.tweets` at `version`.
async fn gold_consumed(lake: &Lake, version: i64) {
    let props = CommitProperties::default().with_application_transactions(vec![Transaction::new(
        "tweetlake-gold-silver.tweets",
        version,
    )]);
    table(lake, Layer::Gold, "model")
        .await
        .write(vec![batch(0..1)])
        .with_commit_properties(props)
        .with_configuration([zero_retention()])
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compacts_and_vacuums_only_what_no_consumer_needs() {
    let dir = tempfile::tempdir().unwrap();
    let (config, lake) = lake_at(dir.path(), 0);
    // Five small commits; the table lets vacuum go down to zero hours, so only the guard holds.
    let mut silver = table(&lake, Layer::Silver, "tweets").await;
    for i in 0..5 {
        let write = silver.clone().write(vec![batch(i * 100..(i + 1) * 100)]);
        let write = match i {
            0 => write.with_configuration([zero_retention()]),
            _ => write,
        };
        silver = write.await.unwrap();
    }
    gold_consumed(&lake, 2).await;
    let before = rows(&silver).await;
    assert_eq!(before, (500, (0..500).sum()));

    let reports = maintain(&config.maintain, &lake, &MaintainOptions::default())
        .await
        .unwrap();
    let report = reports.iter().find(|r| r.table == "silver.tweets").unwrap();
    assert_eq!(
        (
            report.files_before,
            report.files_compacted,
            report.files_written
        ),
        (5, 5, 1)
    );
    assert_eq!(
        report.files_vacuumed, 0,
        "gold still needs the compacted files: {report:?}"
    );
    assert_eq!(report.vacuum_retention_hours, Some(1));
    assert!(report
        .retention_raised_by
        .as_deref()
        .unwrap()
        .contains("gold.model"));
    let silver = table(&lake, Layer::Silver, "tweets").await;
    assert_eq!(rows(&silver).await, before);
    // A table written before tweetlake turned Delta's log cleanup on commit off gets the
    // property first (version 5), then the compaction (6).
    let properties = std::fs::read_to_string(
        dir.path()
            .join("silver/tweets/_delta_log/00000000000000000005.json"),
    )
    .unwrap();
    assert!(
        properties.contains(r#""delta.enableExpiredLogCleanup":"false""#),
        "{properties}"
    );
    assert_eq!(report.checkpoint_version, Some(6));
    assert!(dir
        .path()
        .join("silver/tweets/_delta_log/00000000000000000006.checkpoint.parquet")
        .exists());
    // The compaction says it changed no data.
    let log = std::fs::read_to_string(
        dir.path()
            .join("silver/tweets/_delta_log/00000000000000000006.json"),
    )
    .unwrap();
    assert!(
        log.contains("\"dataChange\":false") && !log.contains("\"dataChange\":true"),
        "{log}"
    );
    let parquet_files = || {
        std::fs::read_dir(dir.path().join("silver/tweets"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "parquet")
            })
            .count()
    };
    assert_eq!(parquet_files(), 6);

    // Gold catches up: now nothing needs the old files. A dry run counts them and keeps them.
    gold_consumed(&lake, 6).await;
    let only_silver = MaintainOptions {
        tables: vec![TableName::new(Layer::Silver, "tweets")],
        dry_run: true,
        ..Default::default()
    };
    let dry = maintain(&config.maintain, &lake, &only_silver)
        .await
        .unwrap();
    assert_eq!(
        (dry.len(), dry[0].files_vacuumed, dry[0].files_compacted),
        (1, 5, 0)
    );
    assert_eq!(parquet_files(), 6);
    let wet = MaintainOptions {
        dry_run: false,
        ..only_silver
    };
    let done = maintain(&config.maintain, &lake, &wet).await.unwrap();
    assert_eq!(done[0].files_vacuumed, 5);
    assert_eq!(done[0].retention_raised_by, None);
    assert_eq!(parquet_files(), 1);
    assert_eq!(
        rows(&table(&lake, Layer::Silver, "tweets").await).await,
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_retention_below_the_tables_own() {
    let dir = tempfile::tempdir().unwrap();
    let (config, lake) = lake_at(dir.path(), 24);
    let written = table(&lake, Layer::Bronze, "tweets")
        .await
        .write(vec![batch(0..10)])
        .await
        .unwrap()
        .write(vec![batch(10..20)])
        .await
        .unwrap();
    let err = maintain(&config.maintain, &lake, &MaintainOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, MaintainError::Refused { .. }), "{err}");
    // Refused before anything was done: the two small files were not compacted.
    let after = table(&lake, Layer::Bronze, "tweets").await;
    assert_eq!(after.version(), written.version());
    let text = err.to_string();
    assert!(
        text.contains("bronze.tweets") && text.contains("168 h"),
        "{text}"
    );
    let err = maintain(
        &config.maintain,
        &lake,
        &MaintainOptions {
            tables: vec![TableName::new(Layer::Gold, "nope")],
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("gold.nope"), "{err}");
}

/// A compaction planned on a snapshot that a promotion's delete has changed since fails with the
/// error `is_commit_conflict` recognises, the one `maintain` and the promotions retry.
#[tokio::test]
async fn a_compaction_that_lost_the_race_is_a_commit_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let (_, lake) = lake_at(dir.path(), 168);
    let written = table(&lake, Layer::Silver, "tweets")
        .await
        .write(vec![batch(0..10)])
        .await
        .unwrap()
        .write(vec![batch(10..20)])
        .await
        .unwrap();
    let stale = written.clone();
    written
        .delete()
        .with_predicate("tweet_id < 5")
        .await
        .unwrap();
    let err = stale.optimize().await.unwrap_err();
    assert!(tweetlake_core::delta::is_commit_conflict(&err), "{err}");
    let wrapped = MaintainError::Delta {
        table: "silver.tweets".into(),
        what: "compacting",
        source: Box::new(err),
    };
    assert!(wrapped.is_commit_conflict());
    // Run again on the table as it is now, the compaction goes through.
    let fresh = table(&lake, Layer::Silver, "tweets").await;
    let (compacted, _) = fresh.optimize().await.unwrap();
    assert_eq!(rows(&compacted).await, (15, (5..20).sum()));
}

/// One table that cannot be maintained (a data file its log names is gone) is reported; every
/// other table is still compacted and checkpointed.
#[tokio::test]
async fn a_failing_table_leaves_the_others_maintained() {
    let dir = tempfile::tempdir().unwrap();
    let (config, lake) = lake_at(dir.path(), 168);
    let mut broken = table(&lake, Layer::Bronze, "tweets").await;
    let mut fine = table(&lake, Layer::Silver, "tweets").await;
    for i in 0..3 {
        broken = broken
            .write(vec![batch(i * 10..(i + 1) * 10)])
            .await
            .unwrap();
        fine = fine.write(vec![batch(i * 10..(i + 1) * 10)]).await.unwrap();
    }
    let lost = broken.get_files_by_partitions(&[]).await.unwrap()[0].clone();
    std::fs::remove_file(dir.path().join("bronze/tweets").join(lost.as_ref())).unwrap();

    let reports = maintain(&config.maintain, &lake, &MaintainOptions::default())
        .await
        .unwrap();
    let failed = reports.iter().find(|r| r.table == "bronze.tweets").unwrap();
    assert!(
        failed
            .error
            .as_deref()
            .is_some_and(|e| e.contains("compacting")),
        "{failed:?}"
    );
    let done = reports.iter().find(|r| r.table == "silver.tweets").unwrap();
    assert_eq!(done.error, None);
    assert_eq!((done.files_compacted, done.files_written), (3, 1));
    assert!(done.checkpoint_version.is_some());
    assert_eq!(
        rows(&table(&lake, Layer::Silver, "tweets").await).await,
        (30, (0..30).sum())
    );
}

/// Ids spread over 40 bits, so each file of a thousand is about 8 KB whatever the compression.
fn scattered(ids: std::ops::Range<i64>) -> RecordBatch {
    let batch = batch(ids);
    let spread = batch
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .iter()
        .map(|id| (id.unwrap() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 24)
        .map(|id| id as i64);
    RecordBatch::try_new(
        batch.schema(),
        vec![Arc::new(Int64Array::from_iter_values(spread))],
    )
    .unwrap()
}

/// `run`'s compactions merge in size tiers: a table that grows by a few small files between
/// compactions is not rewritten whole each time, as merging everything below the target does,
/// and no row is lost or doubled either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiered_compactions_rewrite_what_arrived_not_the_whole_table() {
    const KIB: u64 = 1024;
    let dir = tempfile::tempdir().unwrap();
    let (mut config, lake) = lake_at(dir.path(), 168);
    config.maintain.vacuum = false;
    config.maintain.target_file_size_mb = 1;
    let first = NonZeroU64::new(32 * KIB).unwrap();
    let tiers = CompactionTiers::new(first, config.maintain.target_file_size_bytes());
    let tiered = TableName::new(Layer::Silver, "tweets");
    let whole = TableName::new(Layer::Bronze, "tweets");
    let compact = |name: &TableName, below: Option<NonZeroU64>| {
        let options = MaintainOptions {
            tables: vec![name.clone()],
            compact_below: below,
            ..Default::default()
        };
        let config = config.maintain.clone();
        let lake = &lake;
        async move {
            let mut reports = maintain(&config, lake, &options).await.unwrap();
            let report: TableReport = reports.pop().unwrap();
            assert_eq!(report.error, None);
            report
        }
    };
    let (mut tiered_bytes, mut whole_bytes) = (Vec::new(), Vec::new());
    let mut files = 0;
    for round in 0..20u64 {
        for name in [&tiered, &whole] {
            let mut t = table(&lake, name.layer, &name.table).await;
            for i in 0..3 {
                let start = (round as i64 * 3 + i) * 1000;
                t = t.write(vec![scattered(start..start + 1000)]).await.unwrap();
            }
        }
        let report = compact(&tiered, Some(tiers.below(round))).await;
        tiered_bytes.push(report.bytes_compacted);
        files = report.files_before;
        whole_bytes.push(compact(&whole, None).await.bytes_compacted);
        let want = rows(&table(&lake, Layer::Bronze, "tweets").await).await;
        assert_eq!(want.0, (round as usize + 1) * 3000);
        assert_eq!(
            rows(&table(&lake, Layer::Silver, "tweets").await).await,
            want
        );
        // Rounds of the first tier merge what arrived since the last round, never more than
        // the tier.
        if tiers.below(round) == first {
            assert!(
                tiered_bytes[round as usize] <= first.get(),
                "{tiered_bytes:?}"
            );
        }
    }
    // Merging everything below the target rewrote the whole table in the last round (20 rounds
    // of ~27 KB); the tiers rewrote what arrived, and now and then a tier's worth.
    eprintln!(
        "bytes compacted per round, tiered {tiered_bytes:?}, below the target {whole_bytes:?}"
    );
    let last = whole_bytes.last().copied().unwrap();
    assert!(last > 400 * KIB, "{whole_bytes:?}");
    let (tiered_total, whole_total): (u64, u64) =
        (tiered_bytes.iter().sum(), whole_bytes.iter().sum());
    assert!(
        tiered_total * 3 < whole_total,
        "{tiered_bytes:?} {whole_bytes:?}"
    );
    // And the files stay few: fewer than a tier's factor per tier.
    assert!(files <= 16, "{files} files");
}
