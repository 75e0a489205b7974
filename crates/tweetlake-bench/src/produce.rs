//! Fills the benchmark topic: an idempotent, zstd-compressing producer like `tweetlake produce`,
//! keyed by tweet id.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use crate::tweets::TweetFactory;

pub struct ProduceRun {
    pub messages: u64,
    pub elapsed: Duration,
}

pub fn produce_all(
    bootstrap: &str,
    topic: &str,
    factory: &TweetFactory,
    n: u64,
) -> Result<ProduceRun> {
    let started = Instant::now();
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "zstd")
        .set("linger.ms", "20")
        .set("batch.size", "1000000")
        .create()
        .context("creating the producer")?;
    for i in 0..n {
        let (id, value) = factory.tweet_for_run(i);
        let key = id.to_string();
        let mut record = BaseRecord::to(topic).key(&key).payload(&value);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    producer.poll(Duration::from_millis(20));
                }
                Err((e, _)) => return Err(e).context(format!("sending tweet {i}")),
            }
        }
        if i % 10_000 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer
        .flush(Duration::from_secs(300))
        .context("waiting for every delivery")?;
    Ok(ProduceRun {
        messages: n,
        elapsed: started.elapsed(),
    })
}
