//! The producer's counters in the Prometheus text format, for `tweetlake_core::metrics_http`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::sink::SinkMetrics;
use crate::xapi::stream::StreamMetrics;

/// Everything a produce run counts: the sink's, and the stream connection's when there is one.
#[derive(Clone, Default)]
pub struct ProduceMetrics {
    pub sink: Arc<SinkMetrics>,
    pub stream: Option<Arc<StreamMetrics>>,
}

type Line<'a> = (&'static str, &'static str, &'static str, &'a AtomicU64);

impl ProduceMetrics {
    pub fn render(&self) -> String {
        let s = &self.sink;
        let mut lines: Vec<Line> = vec![
            (
                "received_total",
                "counter",
                "Messages taken from the source after the filters",
                &s.received,
            ),
            (
                "filtered_total",
                "counter",
                "Messages left out by produce.filter",
                &s.filtered,
            ),
            (
                "produced_total",
                "counter",
                "Messages handed to the Kafka producer",
                &s.produced,
            ),
            (
                "delivered_total",
                "counter",
                "Messages the brokers acknowledged",
                &s.delivered,
            ),
            (
                "failed_total",
                "counter",
                "Deliveries that failed (then spooled)",
                &s.failed,
            ),
            (
                "spooled_total",
                "counter",
                "Messages written to the disk spool",
                &s.spooled,
            ),
            (
                "replayed_total",
                "counter",
                "Messages sent again from the spool",
                &s.replayed,
            ),
            (
                "possible_duplicates_total",
                "counter",
                "Replayed messages the broker may already have had",
                &s.possible_duplicates,
            ),
            (
                "spool_bytes",
                "gauge",
                "Bytes in the disk spool",
                &s.spool_bytes,
            ),
            (
                "broker_reconnects_total",
                "counter",
                "Times the brokers came back",
                &s.reconnects,
            ),
        ];
        if let Some(x) = &self.stream {
            lines.extend::<[Line; 7]>([
                (
                    "stream_connects_total",
                    "counter",
                    "X API stream connections",
                    &x.connects,
                ),
                (
                    "stream_reconnects_total",
                    "counter",
                    "X API stream reconnects",
                    &x.reconnects,
                ),
                (
                    "stream_stalls_total",
                    "counter",
                    "Streams silent past stall_timeout",
                    &x.stalls,
                ),
                (
                    "stream_keep_alives_total",
                    "counter",
                    "Keep-alive newlines",
                    &x.keep_alives,
                ),
                (
                    "stream_truncated_total",
                    "counter",
                    "Lines cut off by a disconnect",
                    &x.truncated,
                ),
                (
                    "stream_http_errors_total",
                    "counter",
                    "Retried HTTP errors",
                    &x.http_errors,
                ),
                (
                    "stream_rate_limited_total",
                    "counter",
                    "HTTP 429 replies",
                    &x.rate_limited,
                ),
            ]);
        }
        let mut out = String::new();
        for (name, kind, help, value) in lines {
            let _ = writeln!(out, "# HELP tweetlake_produce_{name} {help}");
            let _ = writeln!(out, "# TYPE tweetlake_produce_{name} {kind}");
            let _ = writeln!(
                out,
                "tweetlake_produce_{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        out
    }
}
