//! Builds Arrow record batches for one topic-partition at a time: the bronze rows and the quarantine
//! rows of a contiguous offset range. A finished [`Chunk`] is the unit the consumer hands the writer.

use std::sync::Arc;

use tweetlake_core::deltalake::arrow::array::{
    Array, ArrayRef, BinaryBuilder, Date32Builder, Int32Builder, Int64Builder, ListArray,
    StringBuilder, StructArray, TimestampMicrosecondBuilder,
};
use tweetlake_core::deltalake::arrow::buffer::OffsetBuffer;
use tweetlake_core::deltalake::arrow::datatypes::{DataType, Field};
use tweetlake_core::deltalake::arrow::error::ArrowError;
use tweetlake_core::deltalake::arrow::record_batch::RecordBatch;

use crate::extract::{Extracted, Rejection};
use crate::schema::{bronze_schema, header_fields, quarantine_schema};

/// Kafka coordinates and metadata of one message.
pub struct KafkaMeta<'a> {
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    pub key: Option<&'a [u8]>,
    /// Raw header keys and values; a key that is not UTF-8 is stored with replacement characters
    /// (only a quarantined message has one: its error names the exact bytes).
    pub headers: &'a [(&'a [u8], Option<&'a [u8]>)],
}

impl KafkaMeta<'_> {
    /// Bytes of the key and headers, which buffers hold beside the value.
    pub fn size(&self) -> usize {
        self.key.map_or(0, <[u8]>::len)
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.map_or(0, <[u8]>::len))
                .sum::<usize>()
    }
}

/// A topic-partition, as the consumer and the writer both name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    pub topic: Arc<str>,
    pub partition: i32,
}

impl std::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.topic, self.partition)
    }
}

/// Rows of one contiguous offset range of one partition, ready to be written.
#[derive(Debug)]
pub struct Chunk {
    pub tp: TopicPartition,
    /// Last offset this chunk accounts for, whether it became a row, a quarantine row, or was
    /// already in quarantine from an earlier run.
    pub last_offset: i64,
    pub bronze: Option<RecordBatch>,
    pub quarantine: Option<RecordBatch>,
    /// Bytes of the chunk's messages: values, keys and headers.
    pub bytes: usize,
}

impl Chunk {
    pub fn rows(&self) -> usize {
        self.bronze.as_ref().map_or(0, RecordBatch::num_rows)
    }
    pub fn quarantined(&self) -> usize {
        self.quarantine.as_ref().map_or(0, RecordBatch::num_rows)
    }
}

/// Builders for the Kafka columns shared by both tables.
#[derive(Default)]
struct KafkaColumns {
    topic: StringBuilder,
    partition: Int32Builder,
    offset: Int64Builder,
    timestamp: TimestampMicrosecondBuilder,
    key: BinaryBuilder,
    header_offsets: Vec<i32>,
    header_keys: StringBuilder,
    header_values: BinaryBuilder,
    ingested_at: TimestampMicrosecondBuilder,
    ingest_date: Date32Builder,
}

impl KafkaColumns {
    fn append(&mut self, tp: &TopicPartition, meta: &KafkaMeta, now_us: i64) {
        if self.header_offsets.is_empty() {
            self.header_offsets.push(0);
        }
        self.topic.append_value(&tp.topic);
        self.partition.append_value(tp.partition);
        self.offset.append_value(meta.offset);
        self.timestamp
            .append_option(meta.timestamp_ms.and_then(|ms| ms.checked_mul(1000)));
        self.key.append_option(meta.key);
        for (k, v) in meta.headers {
            self.header_keys.append_value(String::from_utf8_lossy(k));
            self.header_values.append_option(*v);
        }
        let last = self.header_offsets.last().copied().unwrap_or(0);
        self.header_offsets.push(last + meta.headers.len() as i32);
        self.ingested_at.append_value(now_us);
        self.ingest_date
            .append_value(now_us.div_euclid(86_400_000_000) as i32);
    }

    /// The six Kafka columns, then `ingested_at` and `ingest_date` separately.
    fn finish(&mut self) -> Result<(Vec<ArrayRef>, ArrayRef, ArrayRef), ArrowError> {
        let headers_struct = StructArray::try_new(
            header_fields(),
            vec![
                Arc::new(self.header_keys.finish()) as ArrayRef,
                Arc::new(self.header_values.finish()),
            ],
            None,
        )?;
        let offsets = std::mem::take(&mut self.header_offsets);
        let offsets = if offsets.is_empty() { vec![0] } else { offsets };
        let headers = ListArray::try_new(
            Arc::new(Field::new(
                "element",
                DataType::Struct(header_fields()),
                false,
            )),
            OffsetBuffer::new(offsets.into()),
            Arc::new(headers_struct),
            None,
        )?;
        let kafka = vec![
            Arc::new(self.topic.finish()) as ArrayRef,
            Arc::new(self.partition.finish()),
            Arc::new(self.offset.finish()),
            Arc::new(self.timestamp.finish().with_timezone("UTC")),
            Arc::new(self.key.finish()),
            Arc::new(headers),
        ];
        let ingested = Arc::new(self.ingested_at.finish().with_timezone("UTC")) as ArrayRef;
        let date = Arc::new(self.ingest_date.finish()) as ArrayRef;
        Ok((kafka, ingested, date))
    }
}

/// Accumulates the rows of one partition until the consumer cuts a [`Chunk`].
pub struct ChunkBuilder {
    tp: TopicPartition,
    last_offset: Option<i64>,
    bytes: usize,
    rows: usize,
    bronze_kafka: KafkaColumns,
    raw_value: StringBuilder,
    tweet_id: Int64Builder,
    event_kind: StringBuilder,
    api_version: StringBuilder,
    event_time: TimestampMicrosecondBuilder,
    quarantine_rows: usize,
    q_kafka: KafkaColumns,
    raw_bytes: BinaryBuilder,
    error_kind: StringBuilder,
    error_message: StringBuilder,
}

impl ChunkBuilder {
    pub fn new(tp: TopicPartition) -> Self {
        Self {
            tp,
            last_offset: None,
            bytes: 0,
            rows: 0,
            bronze_kafka: KafkaColumns::default(),
            raw_value: StringBuilder::new(),
            tweet_id: Int64Builder::new(),
            event_kind: StringBuilder::new(),
            api_version: StringBuilder::new(),
            event_time: TimestampMicrosecondBuilder::new(),
            quarantine_rows: 0,
            q_kafka: KafkaColumns::default(),
            raw_bytes: BinaryBuilder::new(),
            error_kind: StringBuilder::new(),
            error_message: StringBuilder::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.last_offset.is_none()
    }
    pub fn bytes(&self) -> usize {
        self.bytes
    }
    pub fn messages(&self) -> usize {
        self.rows + self.quarantine_rows
    }

    pub fn push_row(&mut self, meta: &KafkaMeta, text: &str, ex: &Extracted, now_us: i64) {
        self.bronze_kafka.append(&self.tp, meta, now_us);
        self.raw_value.append_value(text);
        self.tweet_id.append_option(ex.tweet_id);
        self.event_kind.append_value(ex.kind.as_str());
        self.api_version.append_option(ex.api_version);
        self.event_time.append_option(ex.event_time_us);
        self.rows += 1;
        self.bytes += text.len() + meta.size();
        self.last_offset = Some(meta.offset);
    }

    pub fn push_quarantine(
        &mut self,
        meta: &KafkaMeta,
        value: Option<&[u8]>,
        why: &Rejection,
        now_us: i64,
    ) {
        self.q_kafka.append(&self.tp, meta, now_us);
        self.raw_bytes.append_option(value);
        self.error_kind.append_value(why.kind());
        self.error_message.append_value(why.to_string());
        self.quarantine_rows += 1;
        self.bytes += value.map_or(0, <[u8]>::len) + meta.size();
        self.last_offset = Some(meta.offset);
    }

    /// Accounts for an offset without a row: it is already stored in quarantine by an earlier run.
    pub fn skip(&mut self, offset: i64) {
        self.last_offset = Some(offset);
    }

    /// Cuts the rows so far into a chunk and starts over; `None` when nothing was pushed.
    pub fn finish(&mut self) -> Result<Option<Chunk>, ArrowError> {
        let Some(last_offset) = self.last_offset.take() else {
            return Ok(None);
        };
        let bronze = if self.rows > 0 {
            let (mut cols, ingested, date) = self.bronze_kafka.finish()?;
            let mut all: Vec<ArrayRef> = vec![Arc::new(fitted(self.raw_value.finish()))];
            all.append(&mut cols);
            all.extend([
                ingested,
                Arc::new(self.tweet_id.finish()) as ArrayRef,
                Arc::new(self.event_kind.finish()),
                Arc::new(self.api_version.finish()),
                Arc::new(self.event_time.finish().with_timezone("UTC")),
                date,
            ]);
            Some(RecordBatch::try_new(bronze_schema(), all)?)
        } else {
            None
        };
        let quarantine = if self.quarantine_rows > 0 {
            let (mut cols, ingested, date) = self.q_kafka.finish()?;
            let mut all: Vec<ArrayRef> = vec![Arc::new(fitted(self.raw_bytes.finish()))];
            all.append(&mut cols);
            all.extend([
                ingested,
                Arc::new(self.error_kind.finish()) as ArrayRef,
                Arc::new(self.error_message.finish()),
                date,
            ]);
            Some(RecordBatch::try_new(quarantine_schema(), all)?)
        } else {
            None
        };
        let chunk = Chunk {
            tp: self.tp.clone(),
            last_offset,
            bronze,
            quarantine,
            bytes: self.bytes,
        };
        self.bytes = 0;
        self.rows = 0;
        self.quarantine_rows = 0;
        Ok(Some(chunk))
    }
}

/// The payload column without the spare capacity its builder grew by doubling: chunks wait in the
/// writer's buffer, which counts payload bytes, so unused capacity would be memory nobody counts.
fn fitted<A: Array>(mut array: A) -> A {
    array.shrink_to_fit();
    array
}
