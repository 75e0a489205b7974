//! librdkafka client settings: tweetlake's defaults, then every `kafka.*` property from the config.

use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use tweetlake_core::config::KafkaConfig;

use crate::error::BronzeError;

/// Consumer settings for one bronze table's group. User properties win over the defaults here.
pub fn consumer_config(kafka: &KafkaConfig, group_id: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &kafka.bootstrap_servers)
        .set("group.id", group_id)
        // Offsets live in the Delta log; the group only mirrors them for lag tools.
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500")
        // librdkafka's prefetch, per partition: 4 MB of messages queued ahead of the consumer
        // thread (the writer has its own cap). Once a partition's queue is over that, librdkafka
        // waits `fetch.queue.backoff.ms` (1 s by default) before fetching it again, which held
        // ingest to ~10k tweets/s against a broker that serves 28k; 100 ms keeps the queue fed.
        // docs/benchmarks.md has the measurements.
        .set("queued.max.messages.kbytes", "4096")
        .set("fetch.queue.backoff.ms", "100")
        .set("fetch.max.bytes", "16777216")
        .set("enable.partition.eof", "false");
    for (k, v) in kafka.librdkafka_properties() {
        c.set(k, v);
    }
    c
}

/// Checks every pass-through property with librdkafka itself, naming the bad key.
pub fn validate(kafka: &KafkaConfig) -> Result<(), BronzeError> {
    match consumer_config(kafka, "tweetlake-validate").create::<BaseConsumer>() {
        Ok(_) => Ok(()),
        Err(KafkaError::ClientConfig(_, desc, key, _)) => Err(BronzeError::KafkaConfig {
            key: if key.is_empty() { "?".into() } else { key },
            reason: desc,
        }),
        Err(e) => Err(BronzeError::KafkaConfig {
            key: "?".into(),
            reason: e.to_string(),
        }),
    }
}

/// A group-less client for metadata and watermarks (never subscribes, so it never joins a group).
pub struct MetadataClient {
    consumer: BaseConsumer,
    servers: String,
}

impl MetadataClient {
    pub fn new(kafka: &KafkaConfig) -> Result<Self, BronzeError> {
        let consumer = consumer_config(kafka, "tweetlake-metadata")
            .create()
            .map_err(|source| BronzeError::Kafka {
                context: "creating a metadata client".into(),
                source,
            })?;
        Ok(Self {
            consumer,
            servers: kafka.bootstrap_servers.clone(),
        })
    }

    /// Partition ids of `topic`, or an error naming the topic when the broker does not have it.
    pub fn partitions(&self, topic: &str, timeout: Duration) -> Result<Vec<i32>, BronzeError> {
        let md = self
            .consumer
            .fetch_metadata(Some(topic), timeout)
            .map_err(|source| BronzeError::Kafka {
                context: format!("fetching metadata of topic `{topic}` from {}", self.servers),
                source,
            })?;
        let topic_md = md.topics().iter().find(|t| t.name() == topic);
        let Some(t) = topic_md.filter(|t| t.error().is_none() && !t.partitions().is_empty()) else {
            return Err(BronzeError::TopicMissing {
                topic: topic.to_string(),
                servers: self.servers.clone(),
            });
        };
        let mut ids: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// The group-less consumer, for offset look-ups.
    pub fn consumer(&self) -> &BaseConsumer {
        &self.consumer
    }

    /// Low and high watermarks of one partition as the broker reports them.
    pub fn watermarks(
        &self,
        topic: &str,
        partition: i32,
        timeout: Duration,
    ) -> Result<(i64, i64), BronzeError> {
        self.consumer
            .fetch_watermarks(topic, partition, timeout)
            .map_err(|source| BronzeError::Kafka {
                context: format!("watermarks of {topic}/{partition}"),
                source,
            })
    }
}

/// A consumed message's headers as raw bytes, in order. rdkafka's `Headers::iter`/`get` turn
/// each key into `&str` with an `unwrap`, so one header key that is not UTF-8 (the protocol allows
/// any bytes, and non-Java clients send them) would panic the consumer thread on every restart at
/// the same offset. This reads them through librdkafka's own accessors instead.
pub fn raw_headers<'m>(
    msg: &'m rdkafka::message::BorrowedMessage<'_>,
) -> Vec<(&'m [u8], Option<&'m [u8]>)> {
    use rdkafka::bindings::{
        rd_kafka_header_get_all, rd_kafka_headers_t, rd_kafka_message_headers,
    };
    use rdkafka::types::RDKafkaRespErr;
    let mut headers: *mut rd_kafka_headers_t = std::ptr::null_mut();
    // SAFETY: `msg.ptr()` is the live librdkafka message `msg` borrows; librdkafka only writes
    // the message's own headers pointer (or nothing) into `headers`.
    let err = unsafe { rd_kafka_message_headers(msg.ptr(), &mut headers) };
    if err != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR || headers.is_null() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for index in 0.. {
        let mut name: *const std::ffi::c_char = std::ptr::null();
        let mut value: *const std::ffi::c_void = std::ptr::null();
        let mut size = 0usize;
        // SAFETY: `headers` belongs to the message and lives as long as it; librdkafka answers an
        // index past the end with an error and writes nothing.
        let err =
            unsafe { rd_kafka_header_get_all(headers, index, &mut name, &mut value, &mut size) };
        if err != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR || name.is_null() {
            break;
        }
        // SAFETY: librdkafka keeps each header name NUL-terminated and each value `size` bytes
        // long, both owned by the message, which outlives `'m`.
        let key = unsafe { std::ffi::CStr::from_ptr(name) }.to_bytes();
        let value = (!value.is_null())
            .then(|| unsafe { std::slice::from_raw_parts(value.cast::<u8>(), size) });
        out.push((key, value));
    }
    out
}
