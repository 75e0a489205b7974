//! Whether the broker still has what the lake says was stored, checked on every assignment.
//!
//! The Delta log records the last offset stored for each partition. When the broker's log ends
//! before it (the topic was deleted and recreated, the cluster rebuilt, an unclean leader election
//! lost the tail), the broker's offsets mean other messages now: resuming would skip every new
//! message below the stored offset, and a consumer reset would hide it. When the broker's log
//! starts after it (retention deleted messages before they were ingested), those messages are
//! gone. Either way ingestion stops and says so; `tweetlake offsets reset` moves the stored offset
//! on purpose.
//!
//! Some brokers report a high watermark below their real end (tansu: the start of the last batch
//! plus one), so a stored offset past the reported end is confirmed by fetching it before it
//! counts as lost.

use std::fmt;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::{Message, Offset, TopicPartitionList};
use tracing::warn;

use crate::output::PartitionStart;

/// How long to wait for the last stored message when the reported end is below it.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// A partition whose stored offset the broker's log does not reach, or no longer reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfRange {
    pub start: PartitionStart,
    /// The broker's first and next offsets, as it reports them.
    pub low: i64,
    pub high: i64,
}

impl fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tp = &self.start.tp;
        let stored = self.start.main_txn.unwrap_or(-1);
        let cause = if stored + 1 < self.low {
            format!(
                "the broker's log now starts at offset {}: messages {}..{} were deleted (retention) \
                 before they were ingested",
                self.low,
                stored + 1,
                self.low - 1
            )
        } else {
            format!(
                "the broker does not have offset {stored}, its range is {}..{}: the topic was \
                 deleted and recreated, the cluster rebuilt, or an unclean leader election lost \
                 messages, so its offsets now name other messages",
                self.low, self.high
            )
        };
        write!(
            f,
            "topic {} partition {}: the lake stored offsets up to {stored}, but {cause}. Nothing \
             was read. To go on from the broker's data, move the stored offset on purpose: \
             `tweetlake offsets reset --topic {} --partition {} --to-earliest` (or --to-latest, \
             --to-offset N, --to-datetime T)",
            tp.topic, tp.partition, tp.topic, tp.partition
        )
    }
}

/// Checks one partition's stored offset against the broker; `Ok` when nothing is stored yet or
/// the broker's log holds the offset after it. Unreachable watermarks are no verdict: the
/// consumer's own fetch will wait for the broker as usual.
pub fn check_start<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    probe: &ClientConfig,
    start: &PartitionStart,
) -> Result<(), OutOfRange> {
    let Some(resume) = start.resume_offset() else {
        return Ok(());
    };
    let tp = &start.tp;
    let (low, high) = match consumer.fetch_watermarks(
        &tp.topic,
        tp.partition,
        Duration::from_secs(10),
    ) {
        Ok(w) => w,
        Err(e) => {
            warn!(partition = %tp, error = %e, "cannot read the broker's offsets; not checking the stored one");
            return Ok(());
        }
    };
    let out = || OutOfRange {
        start: start.clone(),
        low,
        high,
    };
    if resume < low {
        return Err(out());
    }
    if resume <= high || broker_has(probe, start, resume - 1) {
        return Ok(());
    }
    Err(out())
}

/// Whether a message at `offset` or later can be fetched from the partition.
fn broker_has(probe: &ClientConfig, start: &PartitionStart, offset: i64) -> bool {
    let tp = &start.tp;
    let consumer: BaseConsumer = match probe.create() {
        Ok(c) => c,
        Err(e) => {
            warn!(partition = %tp, error = %e, "cannot create a probe consumer; trusting the stored offset");
            return true;
        }
    };
    let mut tpl = TopicPartitionList::new();
    if tpl
        .add_partition_offset(&tp.topic, tp.partition, Offset::Offset(offset))
        .is_err()
        || consumer.assign(&tpl).is_err()
    {
        return true;
    }
    let started = Instant::now();
    while started.elapsed() < PROBE_TIMEOUT {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(msg)) if msg.offset() >= offset => return true,
            _ => {}
        }
    }
    false
}
