//! The ceiling: a bare rdkafka consumer that reads every message of the topic and does nothing
//! with it, configured like the ingester's consumer.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

/// What the bare consumer read and how long it took (from creating it to the last message).
pub struct CeilingRun {
    pub messages: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

pub fn consume_all(bootstrap: &str, topic: &str, expected: u64) -> Result<CeilingRun> {
    let started = Instant::now();
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("bench-ceiling-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        // The same prefetch the ingester asks for (tweetlake_bronze::kafka::consumer_config).
        .set("queued.max.messages.kbytes", "4096")
        .set("fetch.queue.backoff.ms", "100")
        .set("fetch.max.bytes", "16777216")
        .create()
        .context("creating the bare consumer")?;
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .context("topic metadata")?;
    let partitions = md
        .topics()
        .first()
        .map(|t| t.partitions().len())
        .unwrap_or(0);
    if partitions == 0 {
        bail!("topic `{topic}` has no partitions");
    }
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions as i32 {
        tpl.add_partition_offset(topic, p, Offset::Beginning)?;
    }
    consumer.assign(&tpl)?;
    let (mut messages, mut bytes) = (0u64, 0u64);
    let mut last_progress = Instant::now();
    while messages < expected {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                messages += 1;
                bytes += m.payload().map_or(0, <[u8]>::len) as u64;
                last_progress = Instant::now();
            }
            Some(Err(e)) => eprintln!("bare consumer: {e}"),
            None if last_progress.elapsed() > Duration::from_secs(30) => {
                bail!("bare consumer stalled at {messages} of {expected} messages")
            }
            None => {}
        }
    }
    Ok(CeilingRun {
        messages,
        bytes,
        elapsed: started.elapsed(),
    })
}
