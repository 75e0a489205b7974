//! Delivery into Kafka that survives broker outages: the idempotent producer while the brokers take
//! messages, the disk [`Spool`] while they do not, and an in-order replay of the spool when they return.
//!
//! Health comes from what the producer sees: a failed delivery, a full local queue, or messages in
//! flight with no delivery result for `stall_after` mark the brokers down; from then on new messages
//! go to the spool, and so do in-flight ones whose delivery fails. While down, a metadata request
//! every `probe_interval` looks for the brokers; when one answers, replay starts with a small batch,
//! and only successful deliveries of it bring the sink fully up again. Once anything is spooled, new
//! messages queue behind it in the spool, so the spool drains in the order it filled.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rdkafka::bindings::{rd_kafka_message_status, rd_kafka_msg_status_t};
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use tracing::{info, info_span, warn};

use crate::spool::{SegmentRecords, Spool, SpoolError, SpoolRecord, SpoolSettings};

/// One message for Kafka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub topic: String,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct SinkSettings {
    pub spool: SpoolSettings,
    /// Most messages handed to the producer and not yet acknowledged.
    pub max_in_flight: usize,
    /// In-flight messages without any delivery result for this long mean the brokers are down.
    pub stall_after: Duration,
    /// How often a down sink asks for metadata.
    pub probe_interval: Duration,
}

/// Counters of the producer, as `/metrics` shows them.
#[derive(Debug, Default)]
pub struct SinkMetrics {
    pub received: AtomicU64,
    /// Left out by `[produce.filter]` (never handed to the sink).
    pub filtered: AtomicU64,
    pub produced: AtomicU64,
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
    pub spooled: AtomicU64,
    pub replayed: AtomicU64,
    /// Messages sent again that the broker may already have had.
    pub possible_duplicates: AtomicU64,
    pub spool_bytes: AtomicU64,
    /// Outages recovered from.
    pub reconnects: AtomicU64,
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error("kafka ({context}): {source}")]
    Kafka { context: String, source: KafkaError },
}

/// Where an in-flight message came from.
#[derive(Debug)]
enum Origin {
    Live,
    Spool { segment: u64, index: u64 },
}

enum Delivery {
    Ok(Origin),
    Failed {
        origin: Origin,
        record: SpoolRecord,
        error: KafkaError,
    },
}

struct SinkContext {
    events: mpsc::Sender<Delivery>,
}

impl ClientContext for SinkContext {}

impl ProducerContext for SinkContext {
    type DeliveryOpaque = Box<Origin>;

    fn delivery(&self, result: &DeliveryResult<'_>, origin: Box<Origin>) {
        let event = match result {
            Ok(_) => Delivery::Ok(*origin),
            Err((error, msg)) => {
                // SAFETY: `msg` is the live message librdkafka hands to this callback.
                let status = unsafe { rd_kafka_message_status(msg.ptr()) };
                Delivery::Failed {
                    origin: *origin,
                    record: SpoolRecord {
                        topic: msg.topic().to_string(),
                        key: msg.key().map(<[u8]>::to_vec),
                        value: msg.payload().map(<[u8]>::to_vec).unwrap_or_default(),
                        possibly_delivered: status
                            != rd_kafka_msg_status_t::RD_KAFKA_MSG_STATUS_NOT_PERSISTED,
                    },
                    error: error.clone(),
                }
            }
        };
        let _ = self.events.send(event);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Health {
    Up,
    /// A replay batch is out to test the brokers; its deliveries decide.
    Probing,
    Down,
}

/// A segment being replayed: which of its records are out, and which came back.
struct Replay {
    records: SegmentRecords,
    exhausted: bool,
    /// Records `< prefix` are all delivered.
    prefix: u64,
    acked: BTreeSet<u64>,
    sent: u64,
    /// Records `< reserved` may be sent: the cursor says so before they are, so a restart after a
    /// crash counts them as possible duplicates when it sends them again.
    reserved: u64,
    /// While probing: the batch ends here, and its full delivery brings the sink up.
    probe_until: Option<u64>,
}

/// Records a replay reserves in the cursor at a time (one small atomic write each).
const RESERVE: u64 = 1024;

/// The producer, its spool and the health state between them.
pub struct KafkaSink {
    producer: ThreadedProducer<SinkContext>,
    client: ClientConfig,
    events_tx: mpsc::Sender<Delivery>,
    events: mpsc::Receiver<Delivery>,
    spool: Spool,
    settings: SinkSettings,
    metrics: Arc<SinkMetrics>,
    health: Health,
    in_flight: usize,
    last_result: Instant,
    last_probe: Instant,
    replay: Option<Replay>,
    /// The broker fenced our producer id (e.g. after timed-out batches): only a new producer can send.
    fenced: bool,
}

const PROBE_BATCH: u64 = 100;

fn create_producer(
    client: &ClientConfig,
    events: &mpsc::Sender<Delivery>,
) -> Result<ThreadedProducer<SinkContext>, SinkError> {
    client
        .create_with_context(SinkContext {
            events: events.clone(),
        })
        .map_err(|source| SinkError::Kafka {
            context: "creating the producer".into(),
            source,
        })
}

impl KafkaSink {
    pub fn new(
        client: &ClientConfig,
        settings: SinkSettings,
        metrics: Arc<SinkMetrics>,
    ) -> Result<Self, SinkError> {
        let (events_tx, events) = mpsc::channel();
        let producer = create_producer(client, &events_tx)?;
        let spool = Spool::open(settings.spool.clone())?;
        metrics.spool_bytes.store(spool.bytes(), Ordering::Relaxed);
        let health = if spool.is_empty() {
            Health::Up
        } else {
            info!(
                bytes = spool.bytes(),
                "spool holds messages from an earlier run; replaying them first"
            );
            Health::Down
        };
        Ok(Self {
            producer,
            client: client.clone(),
            events_tx,
            events,
            spool,
            settings,
            metrics,
            health,
            in_flight: 0,
            last_result: Instant::now(),
            last_probe: Instant::now() - Duration::from_secs(3600),
            replay: None,
            fenced: false,
        })
    }

    /// Whether the caller may hand over another message now (false while the spool is at its cap
    /// or too much is in flight: the source should wait, never drop).
    pub fn ready(&self) -> bool {
        if self.spooling() {
            !self.spool.is_full()
        } else {
            self.in_flight < self.settings.max_in_flight
        }
    }

    fn spooling(&self) -> bool {
        self.health != Health::Up || !self.spool.is_empty() || self.replay.is_some()
    }

    /// Takes one message: to the producer when the brokers are up and nothing is spooled, else to
    /// the spool.
    pub fn send(&mut self, msg: Outgoing) -> Result<(), SinkError> {
        self.metrics.received.fetch_add(1, Ordering::Relaxed);
        if self.spooling() {
            return self.spool_record(SpoolRecord {
                topic: msg.topic,
                key: msg.key,
                value: msg.value,
                possibly_delivered: false,
            });
        }
        match self.produce(&msg.topic, msg.key.as_deref(), &msg.value, Origin::Live) {
            Ok(()) => Ok(()),
            Err(e) => {
                warn!(error = %e, "the producer cannot take messages; spooling");
                self.set_health(Health::Down);
                self.spool_record(SpoolRecord {
                    topic: msg.topic,
                    key: msg.key,
                    value: msg.value,
                    possibly_delivered: false,
                })
            }
        }
    }

    fn produce(
        &mut self,
        topic: &str,
        key: Option<&[u8]>,
        value: &[u8],
        origin: Origin,
    ) -> Result<(), KafkaError> {
        let mut record =
            BaseRecord::<[u8], [u8], Box<Origin>>::with_opaque_to(topic, Box::new(origin))
                .payload(value);
        if let Some(k) = key {
            record = record.key(k);
        }
        match self.producer.send(record) {
            Ok(()) => {
                if self.in_flight == 0 {
                    self.last_result = Instant::now();
                }
                self.in_flight += 1;
                self.metrics.produced.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err((e, _)) => Err(e),
        }
    }

    fn spool_record(&mut self, record: SpoolRecord) -> Result<(), SinkError> {
        self.spool.append(&record)?;
        self.metrics.spooled.fetch_add(1, Ordering::Relaxed);
        self.metrics
            .spool_bytes
            .store(self.spool.bytes(), Ordering::Relaxed);
        Ok(())
    }

    fn set_health(&mut self, health: Health) {
        if self.health != health {
            match health {
                Health::Down => warn!("brokers unreachable: spooling to disk"),
                Health::Probing => info!("a broker answers: replaying the spool"),
                Health::Up => {
                    info!("brokers back: delivering live");
                    self.metrics.reconnects.fetch_add(1, Ordering::Relaxed);
                }
            }
            self.health = health;
        }
    }

    /// Handles delivery results, health changes and spool replay; call it often (it does not block
    /// longer than `wait`).
    pub fn tick(&mut self, wait: Duration) -> Result<(), SinkError> {
        let deadline = Instant::now() + wait;
        let mut first = true;
        loop {
            let event = if first {
                first = false;
                self.events
                    .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                    .ok()
            } else {
                self.events.try_recv().ok()
            };
            match event {
                Some(e) => self.on_delivery(e)?,
                None => break,
            }
        }
        if let Some((code, reason)) = self.producer.client().fatal_error() {
            self.replace_producer(code, &reason)?;
        } else if std::mem::take(&mut self.fenced) {
            self.replace_producer(RDKafkaErrorCode::ProducerFenced, "delivery failed")?;
        }
        if self.in_flight > 0
            && self.health == Health::Up
            && self.last_result.elapsed() >= self.settings.stall_after
        {
            warn!(
                in_flight = self.in_flight,
                "no delivery result for {:?}", self.settings.stall_after
            );
            self.set_health(Health::Down);
        }
        if self.health == Health::Down && self.last_probe.elapsed() >= self.settings.probe_interval
        {
            self.last_probe = Instant::now();
            if self.brokers_answer() {
                self.set_health(Health::Probing);
            }
        }
        self.replay_step()?;
        self.spool.sync_due()?;
        self.metrics
            .spool_bytes
            .store(self.spool.bytes(), Ordering::Relaxed);
        Ok(())
    }

    /// An idempotent producer whose timed-out messages cannot be reconciled with the broker raises a
    /// fatal error and takes no more messages. Its queued and in-flight messages are purged (their
    /// failures land in the spool as usual) and a fresh producer, with a new producer id, takes over.
    fn replace_producer(&mut self, code: RDKafkaErrorCode, reason: &str) -> Result<(), SinkError> {
        warn!(%code, reason, "producer failed fatally; replacing it");
        self.producer
            .purge(rdkafka::producer::PurgeConfig::default().queue().inflight());
        let _ = self.producer.flush(Duration::from_secs(2));
        self.producer = create_producer(&self.client, &self.events_tx)?;
        self.set_health(Health::Down);
        Ok(())
    }

    fn brokers_answer(&self) -> bool {
        self.producer
            .client()
            .fetch_metadata(None, Duration::from_millis(500))
            .is_ok_and(|md| !md.brokers().is_empty())
    }

    fn on_delivery(&mut self, event: Delivery) -> Result<(), SinkError> {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.last_result = Instant::now();
        match event {
            Delivery::Ok(origin) => {
                self.metrics.delivered.fetch_add(1, Ordering::Relaxed);
                if let Origin::Spool { segment, index } = origin {
                    self.acked(segment, index);
                }
            }
            Delivery::Failed {
                origin,
                record,
                error,
            } => {
                self.metrics.failed.fetch_add(1, Ordering::Relaxed);
                self.fenced |= matches!(
                    error.rdkafka_error_code(),
                    Some(
                        RDKafkaErrorCode::ProducerFenced
                            | RDKafkaErrorCode::InvalidProducerEpoch
                            | RDKafkaErrorCode::UnknownProducerId
                            | RDKafkaErrorCode::OutOfOrderSequenceNumber
                    )
                );
                if !matches!(self.health, Health::Down) {
                    warn!(error = %error, "delivery failed");
                }
                self.set_health(Health::Down);
                match origin {
                    // Still in its segment; the replay stops and resumes from the cursor.
                    Origin::Spool { .. } => self.abandon_replay()?,
                    Origin::Live => self.spool_record(record)?,
                }
            }
        }
        Ok(())
    }

    fn acked(&mut self, segment: u64, index: u64) {
        let Some(r) = self
            .replay
            .as_mut()
            .filter(|r| r.records.segment == segment)
        else {
            return; // from a replay that was abandoned; counted when it is sent again
        };
        r.acked.insert(index);
        while r.acked.remove(&r.prefix) {
            r.prefix += 1;
        }
    }

    /// Stops the current replay; its delivered prefix is remembered so a restart skips it, and
    /// what it sent beyond, so the next replay counts those as possible duplicates.
    fn abandon_replay(&mut self) -> Result<(), SinkError> {
        if let Some(r) = self.replay.take() {
            self.spool
                .set_delivered(r.records.segment, r.prefix, r.sent)?;
        }
        Ok(())
    }

    /// Sends the next spooled records while the brokers take them; removes finished segments.
    fn replay_step(&mut self) -> Result<(), SinkError> {
        if self.health == Health::Down {
            return Ok(());
        }
        loop {
            if self.replay.is_none() {
                match self.spool.oldest()? {
                    Some(records) => {
                        let prefix = records.index;
                        let span = info_span!("replay", segment = records.segment);
                        let _enter = span.enter();
                        self.replay = Some(Replay {
                            records,
                            exhausted: false,
                            prefix,
                            acked: BTreeSet::new(),
                            sent: prefix,
                            reserved: prefix,
                            probe_until: None,
                        });
                    }
                    None => {
                        if self.health == Health::Probing {
                            self.set_health(Health::Up);
                        }
                        return Ok(());
                    }
                }
            }
            let Some(r) = self.replay.as_mut() else {
                return Ok(());
            };
            if r.exhausted {
                if r.prefix < r.sent {
                    return Ok(()); // waiting for the last deliveries of this segment
                }
                let segment = r.records.segment;
                self.replay = None;
                self.spool.remove(segment)?;
                if self.health == Health::Probing {
                    self.set_health(Health::Up);
                }
                continue;
            }
            let limit = if self.health == Health::Probing {
                let until = *r.probe_until.get_or_insert(r.prefix + PROBE_BATCH);
                if r.prefix >= until {
                    // The whole probe batch was delivered: the brokers are back.
                    r.probe_until = None;
                    self.set_health(Health::Up);
                    continue;
                }
                until
            } else {
                u64::MAX
            };
            if r.sent >= limit || self.in_flight >= self.settings.max_in_flight {
                return Ok(());
            }
            let Some((index, record)) = r.records.next_record()? else {
                r.exhausted = true;
                continue;
            };
            r.sent = index + 1;
            let segment = r.records.segment;
            if index >= r.reserved {
                r.reserved = index + RESERVE;
                self.spool.set_delivered(segment, r.prefix, r.reserved)?;
            }
            // Sent before a restart or an abandoned replay, or timed out after it was sent.
            if record.possibly_delivered || index < r.records.possibly_sent_until {
                self.metrics
                    .possible_duplicates
                    .fetch_add(1, Ordering::Relaxed);
            }
            let sent = self.produce(
                &record.topic,
                record.key.as_deref(),
                &record.value,
                Origin::Spool { segment, index },
            );
            match sent {
                Ok(()) => {
                    self.metrics.replayed.fetch_add(1, Ordering::Relaxed);
                }
                Err(KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)) => {
                    // Not sent: re-read it next time from the cursor.
                    self.set_health(Health::Down);
                    return self.abandon_replay();
                }
                Err(e) => {
                    return Err(SinkError::Kafka {
                        context: format!("replaying spool segment {segment}"),
                        source: e,
                    })
                }
            }
        }
    }

    /// Whether everything handed over was delivered and the spool is empty.
    pub fn idle(&self) -> bool {
        self.in_flight == 0 && self.spool.is_empty() && self.replay.is_none()
    }

    /// Waits up to `timeout` for in-flight messages; failures go to the spool. Spooled messages stay
    /// for the next run.
    pub fn close(mut self, timeout: Duration) -> Result<(), SinkError> {
        let deadline = Instant::now() + timeout;
        while self.in_flight > 0 && Instant::now() < deadline {
            self.tick(Duration::from_millis(100))?;
        }
        self.abandon_replay()?;
        self.spool.sync()?;
        if self.in_flight > 0 {
            warn!(
                in_flight = self.in_flight,
                "closing with messages still in flight"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
