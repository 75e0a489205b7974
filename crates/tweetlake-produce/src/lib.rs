//! The start of the pipeline: getting tweets into Kafka without losing any. A [`Source`] (file
//! replay, the X API filtered stream, the synthetic generator) feeds the [`sink::KafkaSink`], which
//! spools to disk while no broker can take messages. Depends only on `tweetlake-core`.

pub mod file_source;
pub mod metrics;
pub mod pace;
pub mod run;
pub mod select;
pub mod sink;
pub mod source;
pub mod spool;
pub mod synthetic;
pub mod xapi;

use rdkafka::config::ClientConfig;
use tweetlake_core::config::{KafkaConfig, ProduceConfig};

pub use file_source::FilesSource;
pub use metrics::ProduceMetrics;
pub use run::{run, ProduceReport, RunOptions};
pub use sink::SinkMetrics;
pub use source::{Next, Source};

#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    #[error(transparent)]
    Source(#[from] file_source::SourceError),
    #[error(transparent)]
    Sink(#[from] sink::SinkError),
    #[error(transparent)]
    XApi(#[from] xapi::XApiError),
    #[error(transparent)]
    Synthetic(#[from] synthetic::SyntheticError),
}

/// Producer settings: idempotent and acks=all so a retry neither loses nor duplicates; the
/// delivery timeout decides how soon an unreachable broker's messages fall back to the spool.
pub fn producer_config(kafka: &KafkaConfig, produce: &ProduceConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &kafka.bootstrap_servers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("compression.type", "zstd")
        .set(
            "message.timeout.ms",
            produce.delivery_timeout.get().as_millis().to_string(),
        )
        .set(
            "queue.buffering.max.messages",
            (produce.max_in_flight + 1000).to_string(),
        );
    for (k, v) in kafka.librdkafka_properties() {
        // Consumer-only properties would make the producer refuse to start.
        if !k.starts_with("group.") && !k.starts_with("session.") && !k.starts_with("heartbeat.") {
            c.set(k, v);
        }
    }
    c
}

/// Lines without their `\n` (and a `\r` before it); a last line without newline counts too.
pub fn split_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let trimmed = data.strip_suffix(b"\n").unwrap_or(data);
    let empty = data.is_empty();
    trimmed
        .split(|b| *b == b'\n')
        .filter(move |_| !empty)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

#[cfg(test)]
mod tests {
    use super::split_lines;

    #[test]
    fn lines_keep_bytes_and_blank_lines() {
        let lines: Vec<&[u8]> = split_lines(b"a\r\n\nb\xff\nc").collect();
        assert_eq!(lines, vec![&b"a"[..], b"", b"b\xff", b"c"]);
        assert_eq!(split_lines(b"").count(), 0);
        assert_eq!(split_lines(b"x\n").count(), 1);
    }
}
