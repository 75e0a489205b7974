//! The start of the pipeline: getting tweets into Kafka. For now this is file replay (one message per
//! line, byte for byte); the X API stream, the synthetic generator and the disk spool build on it.
//! It depends only on `tweetlake-core`; nothing downstream is imported here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use tweetlake_core::config::KafkaConfig;

#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("kafka ({context}): {source}")]
    Kafka {
        context: String,
        source: rdkafka::error::KafkaError,
    },
}

/// How a file is replayed.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// Also send blank lines (stream keep-alives) as empty messages; off by default.
    pub include_blank: bool,
    /// Send only to this partition (default: the producer's partitioner).
    pub partition: Option<i32>,
}

/// What a replay sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    pub messages: u64,
    pub bytes: u64,
}

/// Producer settings: idempotent and acks=all so a replay neither loses nor duplicates on retry.
pub fn producer_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &kafka.bootstrap_servers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("compression.type", "zstd")
        .set("message.timeout.ms", "60000");
    for (k, v) in kafka.librdkafka_properties() {
        // Consumer-only properties would make the producer refuse to start.
        if !k.starts_with("group.") && !k.starts_with("session.") && !k.starts_with("heartbeat.") {
            c.set(k, v);
        }
    }
    c
}

/// Sends each line of `path` as one message to `topic`, waiting for every delivery.
pub async fn replay_file(
    kafka: &KafkaConfig,
    path: &Path,
    topic: &str,
    options: &ReplayOptions,
) -> Result<ReplayReport, ProduceError> {
    let data = std::fs::read(path).map_err(|source| ProduceError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let lines: Vec<&[u8]> = split_lines(&data)
        .filter(|l| options.include_blank || l.iter().any(|b| !b.is_ascii_whitespace()))
        .collect();
    send_all(kafka, topic, &lines, options.partition).await
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

/// Sends `messages` to `topic` in order and waits until the broker acknowledged all of them.
pub async fn send_all(
    kafka: &KafkaConfig,
    topic: &str,
    messages: &[&[u8]],
    partition: Option<i32>,
) -> Result<ReplayReport, ProduceError> {
    let producer: FutureProducer =
        producer_config(kafka)
            .create()
            .map_err(|source| ProduceError::Kafka {
                context: "creating the producer".into(),
                source,
            })?;
    let mut report = ReplayReport::default();
    for window in messages.chunks(10_000) {
        let sends = window.iter().map(|m| {
            let mut record = FutureRecord::<(), [u8]>::to(topic).payload(m);
            if let Some(p) = partition {
                record = record.partition(p);
            }
            producer.send(record, Duration::from_secs(60))
        });
        for result in futures::future::join_all(sends).await {
            result.map_err(|(source, _)| ProduceError::Kafka {
                context: format!("delivering to `{topic}`"),
                source,
            })?;
        }
        report.messages += window.len() as u64;
        report.bytes += window.iter().map(|m| m.len() as u64).sum::<u64>();
    }
    producer
        .flush(Duration::from_secs(30))
        .map_err(|source| ProduceError::Kafka {
            context: "flushing".into(),
            source,
        })?;
    Ok(report)
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
