//! Counters and gauges of the ingester, rendered in the Prometheus text format for the endpoint in
//! `tweetlake_core::metrics_http`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::chunk::TopicPartition;

/// Metrics of one bronze table.
#[derive(Default)]
pub struct TableMetrics {
    pub table: String,
    pub consumed: AtomicU64,
    pub rows: AtomicU64,
    pub bytes: AtomicU64,
    pub quarantined: AtomicU64,
    pub commits: AtomicU64,
    pub commit_conflicts: AtomicU64,
    pub commit_micros: AtomicU64,
    pub buffered_bytes: AtomicU64,
    pub offset_gaps: AtomicU64,
    lag: Mutex<Vec<(TopicPartition, i64)>>,
}

impl TableMetrics {
    pub fn new(table: &str) -> Self {
        Self {
            table: table.to_string(),
            ..Default::default()
        }
    }

    pub fn set_lag(&self, lags: Vec<(TopicPartition, i64)>) {
        if let Ok(mut l) = self.lag.lock() {
            *l = lags;
        }
    }
}

/// A counter's name, help text and where each table keeps it.
type Counter = (&'static str, &'static str, fn(&TableMetrics) -> &AtomicU64);

/// All tables' metrics of one process.
#[derive(Default)]
pub struct Metrics {
    pub tables: Vec<Arc<TableMetrics>>,
}

impl Metrics {
    /// Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters: [Counter; 8] = [
            (
                "tweetlake_bronze_offset_gaps_total",
                "Times the broker skipped offsets after the expected one",
                |t| &t.offset_gaps,
            ),
            (
                "tweetlake_bronze_consumed_messages_total",
                "Messages consumed from Kafka",
                |t| &t.consumed,
            ),
            (
                "tweetlake_bronze_rows_total",
                "Rows committed to the bronze table",
                |t| &t.rows,
            ),
            (
                "tweetlake_bronze_bytes_total",
                "Payload bytes committed",
                |t| &t.bytes,
            ),
            (
                "tweetlake_bronze_quarantined_total",
                "Rows committed to the quarantine table",
                |t| &t.quarantined,
            ),
            ("tweetlake_bronze_commits_total", "Delta commits", |t| {
                &t.commits
            }),
            (
                "tweetlake_bronze_commit_conflicts_total",
                "Commits retried after a concurrent writer",
                |t| &t.commit_conflicts,
            ),
            (
                "tweetlake_bronze_buffered_bytes",
                "Bytes buffered and not yet committed",
                |t| &t.buffered_bytes,
            ),
        ];
        for (name, help, get) in counters {
            let kind = if name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for t in &self.tables {
                let _ = writeln!(
                    out,
                    "{name}{{table=\"{}\"}} {}",
                    t.table,
                    get(t).load(Ordering::Relaxed)
                );
            }
        }
        let name = "tweetlake_bronze_commit_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time spent in Delta commits\n# TYPE {name} summary"
        );
        for t in &self.tables {
            let micros = t.commit_micros.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_sum{{table=\"{}\"}} {}",
                t.table,
                micros as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "{name}_count{{table=\"{}\"}} {}",
                t.table,
                t.commits.load(Ordering::Relaxed)
            );
        }
        let name = "tweetlake_bronze_partition_lag";
        let _ = writeln!(
            out,
            "# HELP {name} Broker end offset minus next offset to ingest\n# TYPE {name} gauge"
        );
        for t in &self.tables {
            if let Ok(lags) = t.lag.lock() {
                for (tp, lag) in lags.iter() {
                    let _ = writeln!(
                        out,
                        "{name}{{table=\"{}\",topic=\"{}\",partition=\"{}\"}} {lag}",
                        t.table, tp.topic, tp.partition
                    );
                }
            }
        }
        out
    }
}
