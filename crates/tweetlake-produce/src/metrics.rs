//! The producer's counters in the Prometheus text format, for `tweetlake_core::metrics_http`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tweetlake_core::metrics_text::{Exposition, Kind};

use crate::sink::SinkMetrics;
use crate::xapi::stream::StreamMetrics;

/// Everything a produce run counts: the sink's, and the stream connection's when there is one.
#[derive(Clone, Default)]
pub struct ProduceMetrics {
    pub sink: Arc<SinkMetrics>,
    pub stream: Option<Arc<StreamMetrics>>,
}

type Line<'a> = (&'static str, Kind, &'static str, &'a AtomicU64);

impl ProduceMetrics {
    pub fn render(&self) -> String {
        let s = &self.sink;
        let mut lines: Vec<Line> = vec![
            (
                "received_total",
                Kind::Counter,
                "Messages taken from the source after the filters",
                &s.received,
            ),
            (
                "filtered_total",
                Kind::Counter,
                "Messages left out by produce.filter",
                &s.filtered,
            ),
            (
                "produced_total",
                Kind::Counter,
                "Messages handed to the Kafka producer",
                &s.produced,
            ),
            (
                "delivered_total",
                Kind::Counter,
                "Messages the brokers acknowledged",
                &s.delivered,
            ),
            (
                "failed_total",
                Kind::Counter,
                "Deliveries that failed (then spooled)",
                &s.failed,
            ),
            (
                "spooled_total",
                Kind::Counter,
                "Messages written to the disk spool",
                &s.spooled,
            ),
            (
                "replayed_total",
                Kind::Counter,
                "Messages sent again from the spool",
                &s.replayed,
            ),
            (
                "possible_duplicates_total",
                Kind::Counter,
                "Replayed messages the broker may already have had",
                &s.possible_duplicates,
            ),
            (
                "spool_bytes",
                Kind::Gauge,
                "Bytes in the disk spool",
                &s.spool_bytes,
            ),
            (
                "broker_reconnects_total",
                Kind::Counter,
                "Times the brokers came back",
                &s.reconnects,
            ),
        ];
        if let Some(x) = &self.stream {
            lines.extend::<[Line; 7]>([
                (
                    "stream_connects_total",
                    Kind::Counter,
                    "X API stream connections",
                    &x.connects,
                ),
                (
                    "stream_reconnects_total",
                    Kind::Counter,
                    "X API stream reconnects",
                    &x.reconnects,
                ),
                (
                    "stream_stalls_total",
                    Kind::Counter,
                    "Streams silent past stall_timeout",
                    &x.stalls,
                ),
                (
                    "stream_keep_alives_total",
                    Kind::Counter,
                    "Keep-alive newlines",
                    &x.keep_alives,
                ),
                (
                    "stream_truncated_total",
                    Kind::Counter,
                    "Lines cut off by a disconnect",
                    &x.truncated,
                ),
                (
                    "stream_http_errors_total",
                    Kind::Counter,
                    "Retried HTTP errors",
                    &x.http_errors,
                ),
                (
                    "stream_rate_limited_total",
                    Kind::Counter,
                    "HTTP 429 replies",
                    &x.rate_limited,
                ),
            ]);
        }
        let mut e = Exposition::default();
        for (name, kind, help, value) in lines {
            e.single(
                &format!("tweetlake_produce_{name}"),
                kind,
                help,
                value.load(Ordering::Relaxed),
            );
        }
        e.finish()
    }
}
