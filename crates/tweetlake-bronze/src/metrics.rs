//! Counters and gauges of the ingester, rendered in the Prometheus text format for the endpoint in
//! `tweetlake_core::metrics_http`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tweetlake_core::metrics_text::{Exposition, Kind};

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
        let mut e = Exposition::default();
        for (name, help, get) in counters {
            let kind = if name.ends_with("_total") {
                Kind::Counter
            } else {
                Kind::Gauge
            };
            e.family(name, kind, help);
            for t in &self.tables {
                e.sample(name, &[("table", &t.table)], get(t).load(Ordering::Relaxed));
            }
        }
        let name = "tweetlake_bronze_commit_seconds";
        e.family(name, Kind::Summary, "Time spent in Delta commits");
        for t in &self.tables {
            let micros = t.commit_micros.load(Ordering::Relaxed);
            let table = [("table", t.table.as_str())];
            e.sample(&format!("{name}_sum"), &table, micros as f64 / 1e6)
                .sample(
                    &format!("{name}_count"),
                    &table,
                    t.commits.load(Ordering::Relaxed),
                );
        }
        let name = "tweetlake_bronze_partition_lag";
        e.family(
            name,
            Kind::Gauge,
            "Broker end offset minus next offset to ingest",
        );
        for t in &self.tables {
            if let Ok(lags) = t.lag.lock() {
                for (tp, lag) in lags.iter() {
                    let partition = tp.partition.to_string();
                    e.sample(
                        name,
                        &[
                            ("table", &t.table),
                            ("topic", &tp.topic),
                            ("partition", &partition),
                        ],
                        lag,
                    );
                }
            }
        }
        e.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_renders_per_table() {
        let t = TableMetrics::new("tweets");
        t.rows.store(5, Ordering::Relaxed);
        t.commits.store(3, Ordering::Relaxed);
        t.commit_micros.store(1_500_000, Ordering::Relaxed);
        t.buffered_bytes.store(64, Ordering::Relaxed);
        let tp = TopicPartition {
            topic: "t".into(),
            partition: 2,
        };
        t.set_lag(vec![(tp, 7)]);
        let text = Metrics {
            tables: vec![Arc::new(t)],
        }
        .render();
        for line in [
            "# HELP tweetlake_bronze_rows_total Rows committed to the bronze table\n\
             # TYPE tweetlake_bronze_rows_total counter\n\
             tweetlake_bronze_rows_total{table=\"tweets\"} 5\n",
            "# TYPE tweetlake_bronze_buffered_bytes gauge\ntweetlake_bronze_buffered_bytes{table=\"tweets\"} 64\n",
            "# TYPE tweetlake_bronze_commit_seconds summary\n\
             tweetlake_bronze_commit_seconds_sum{table=\"tweets\"} 1.5\n\
             tweetlake_bronze_commit_seconds_count{table=\"tweets\"} 3\n",
            "tweetlake_bronze_partition_lag{table=\"tweets\",topic=\"t\",partition=\"2\"} 7\n",
        ] {
            assert!(text.contains(line), "{line}\nnot in\n{text}");
        }
        assert_eq!(text.matches("# TYPE").count(), 10);
    }
}
