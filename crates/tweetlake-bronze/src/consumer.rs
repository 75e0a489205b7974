//! The Kafka side of ingestion: one thread per bronze table that polls a consumer, classifies each
//! message into [`Chunk`]s per partition, and reports assignments, revocations and progress as
//! [`ConsumerEvent`]s, in order, to the writer. Offsets always come from the Delta log, never the group.

use std::sync::atomic::Ordering;
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::chunk::{Chunk, ChunkBuilder, KafkaMeta, TopicPartition};
use crate::extract::{check_headers, inspect};
use crate::fetch_position::{FetchPositions, STATISTICS_INTERVAL_MS};
use crate::kafka::raw_headers;
use crate::metrics::TableMetrics;
use crate::output::{PartitionStart, TableLocation};

/// What the consumer thread tells the writer, in the order it happened.
#[derive(Debug)]
pub enum ConsumerEvent {
    Assigned(Vec<PartitionStart>),
    Revoked(Vec<TopicPartition>),
    Chunk(Chunk),
    /// Every assigned partition reached the end it had when it was assigned.
    CaughtUp,
    /// All consumed messages have been sent; nothing more follows.
    Drained,
    Failed(String),
}

/// What the writer asks of the consumer thread.
#[derive(Debug)]
pub enum ConsumerCommand {
    /// Commit these next offsets to the consumer group (for lag tools; never read back).
    CommitGroup(Vec<(TopicPartition, i64)>),
    /// Another writer got ahead on this partition: reload its offsets and seek there.
    Reseek(TopicPartition),
    /// Send what is buffered, then [`ConsumerEvent::Drained`].
    Drain,
    Stop,
}

/// Limits and behaviour of one consumer thread.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    pub table: String,
    pub topics: Vec<String>,
    pub client: ClientConfig,
    pub max_message_bytes: usize,
    pub chunk_messages: usize,
    pub chunk_bytes: usize,
    pub emit_interval: Duration,
    pub until_caught_up: bool,
}

/// How long a partition must be quiet at its end before it counts as caught up; some brokers
/// report a high watermark inside the last batch, so reaching it alone is not enough.
const SETTLE: Duration = Duration::from_millis(750);

struct PartitionState {
    tp: TopicPartition,
    next: Option<i64>,
    quarantine_txn: Option<i64>,
    builder: ChunkBuilder,
    start_end: Option<i64>,
    last_message: Instant,
}

/// The consumer thread: owns the rdkafka consumer and the per-partition chunk builders.
pub struct ConsumerLoop {
    consumer: BaseConsumer<RebalanceContext>,
    state: LoopState,
}

type Kafka = BaseConsumer<RebalanceContext>;

/// Everything of the consumer thread but the consumer, so a polled message (which borrows the
/// consumer) can be handled while the state changes.
struct LoopState {
    settings: ConsumerSettings,
    events: mpsc::Sender<ConsumerEvent>,
    commands: std_mpsc::Receiver<ConsumerCommand>,
    metrics: Arc<TableMetrics>,
    partitions: Vec<PartitionState>,
    caught_up_sent: bool,
    draining: bool,
}

impl ConsumerLoop {
    /// Creates and subscribes the consumer; fails on bad librdkafka properties before consuming anything.
    pub fn new(
        mut settings: ConsumerSettings,
        store: TableLocation,
        runtime: Handle,
        events: mpsc::Sender<ConsumerEvent>,
        commands: std_mpsc::Receiver<ConsumerCommand>,
        metrics: Arc<TableMetrics>,
    ) -> Result<Self, KafkaError> {
        let context = RebalanceContext {
            store,
            runtime,
            notes: Mutex::new(Vec::new()),
            fetched: FetchPositions::default(),
            probe: probe_config(&settings.client),
        };
        if settings.until_caught_up {
            // The fetcher's position tells a partition that ends in control records apart from
            // one still being read.
            settings
                .client
                .set("statistics.interval.ms", STATISTICS_INTERVAL_MS);
        }
        let consumer: BaseConsumer<RebalanceContext> =
            settings.client.create_with_context(context)?;
        if !settings.until_caught_up {
            let topics: Vec<&str> = settings.topics.iter().map(String::as_str).collect();
            consumer.subscribe(&topics)?;
        }
        Ok(Self {
            consumer,
            state: LoopState {
                settings,
                events,
                commands,
                metrics,
                partitions: Vec::new(),
                caught_up_sent: false,
                draining: false,
            },
        })
    }

    /// Runs until [`ConsumerCommand::Stop`] or until the writer goes away.
    pub fn run(self) {
        let Self {
            consumer,
            mut state,
        } = self;
        if state.settings.until_caught_up {
            // A batch run takes every partition itself instead of joining the group: it must not
            // stop early because a crashed member still holds partitions until its session expires.
            // (Runs here, on the consumer thread, because reading offsets blocks on the runtime.)
            if let Err(e) = assign_all(&consumer, &state.settings.topics) {
                let _ = state.send(ConsumerEvent::Failed(format!("assigning partitions: {e}")));
                return;
            }
        }
        state.run(&consumer);
        consumer.unsubscribe();
        debug!(table = %state.settings.table, "consumer stopped");
    }
}

impl LoopState {
    fn run(&mut self, consumer: &Kafka) {
        let mut last_emit = Instant::now();
        let mut last_lag = Instant::now();
        // `handle_commands` says false on Stop and errs when the writer is gone.
        while let Ok(true) = self.handle_commands(consumer) {
            let polled = consumer.poll(Duration::from_millis(50));
            if self.apply_notes(consumer).is_err() {
                break;
            }
            match polled {
                Some(Ok(msg)) if !self.draining => {
                    if self.on_message(&msg).is_err() {
                        break;
                    }
                }
                Some(Ok(_)) | None => {}
                Some(Err(KafkaError::PartitionEOF(_))) => {}
                Some(Err(e)) => warn!(table = %self.settings.table, error = %e, "consumer error"),
            }
            if last_emit.elapsed() >= self.settings.emit_interval && !self.draining {
                if self.emit_all().is_err() {
                    break;
                }
                last_emit = Instant::now();
            }
            if self.settings.until_caught_up
                && !self.caught_up_sent
                && self.all_caught_up(&consumer.context().fetched)
            {
                if self.emit_all().is_err() || self.send(ConsumerEvent::CaughtUp).is_err() {
                    break;
                }
                self.caught_up_sent = true;
            }
            if last_lag.elapsed() >= Duration::from_secs(5) {
                self.update_lag(consumer);
                last_lag = Instant::now();
            }
        }
    }

    fn send(&self, event: ConsumerEvent) -> Result<(), ()> {
        self.events.blocking_send(event).map_err(|_| ())
    }

    /// Ok(false) on Stop.
    fn handle_commands(&mut self, consumer: &Kafka) -> Result<bool, ()> {
        loop {
            let cmd = match self.commands.try_recv() {
                Ok(cmd) => cmd,
                Err(std_mpsc::TryRecvError::Empty) => return Ok(true),
                Err(std_mpsc::TryRecvError::Disconnected) => return Ok(false),
            };
            match cmd {
                ConsumerCommand::CommitGroup(offsets) => self.commit_group(consumer, &offsets),
                ConsumerCommand::Reseek(tp) => self.reseek(consumer, &tp)?,
                ConsumerCommand::Drain => {
                    self.emit_all()?;
                    self.draining = true;
                    self.send(ConsumerEvent::Drained)?;
                }
                ConsumerCommand::Stop => return Ok(false),
            }
        }
    }

    fn commit_group(&self, consumer: &Kafka, offsets: &[(TopicPartition, i64)]) {
        let mut tpl = TopicPartitionList::new();
        for (tp, next) in offsets {
            if let Err(e) = tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*next))
            {
                warn!(partition = %tp, error = %e, "cannot add offset");
            }
        }
        if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
            warn!(table = %self.settings.table, error = %e, "consumer-group commit failed (offsets stay safe in the Delta log)");
        }
    }

    fn reseek(&mut self, consumer: &Kafka, tp: &TopicPartition) -> Result<(), ()> {
        let Some(idx) = self.partitions.iter().position(|p| &p.tp == tp) else {
            return Ok(());
        };
        let ctx = consumer.context();
        let start = match ctx.runtime.block_on(crate::output::load_starts(
            &ctx.store,
            std::slice::from_ref(tp),
        )) {
            Ok(mut s) if !s.is_empty() => s.remove(0),
            Ok(_) => return Ok(()),
            Err(e) => {
                return self.send(ConsumerEvent::Failed(format!(
                    "reloading offsets of {tp}: {e}"
                )))
            }
        };
        let offset = start
            .resume_offset()
            .map_or(Offset::Beginning, Offset::Offset);
        if let Err(e) = consumer.seek(&tp.topic, tp.partition, offset, Duration::from_secs(10)) {
            return self.send(ConsumerEvent::Failed(format!(
                "seeking {tp} to {offset:?}: {e}"
            )));
        }
        info!(partition = %tp, offset = ?offset, "re-seeked after another writer moved ahead");
        let state = &mut self.partitions[idx];
        state.builder = ChunkBuilder::new(tp.clone());
        state.next = start.resume_offset();
        state.quarantine_txn = start.quarantine_txn;
        self.send(ConsumerEvent::Assigned(vec![start]))
    }

    fn apply_notes(&mut self, consumer: &Kafka) -> Result<(), ()> {
        let notes = match consumer.context().notes.lock() {
            Ok(mut n) => std::mem::take(&mut *n),
            Err(_) => return Err(()),
        };
        for note in notes {
            match note {
                Note::Assigned(starts) => {
                    for s in &starts {
                        self.partitions.retain(|p| p.tp != s.tp);
                        let (low, high) = consumer
                            .fetch_watermarks(&s.tp.topic, s.tp.partition, Duration::from_secs(10))
                            .unwrap_or((0, -1));
                        self.partitions.push(PartitionState {
                            tp: s.tp.clone(),
                            next: s.resume_offset().or(Some(low)),
                            quarantine_txn: s.quarantine_txn,
                            builder: ChunkBuilder::new(s.tp.clone()),
                            start_end: (high >= 0).then_some(high),
                            last_message: Instant::now(),
                        });
                    }
                    self.caught_up_sent = false;
                    self.send(ConsumerEvent::Assigned(starts))?;
                }
                Note::Revoked(tps) => {
                    self.partitions.retain(|p| !tps.contains(&p.tp));
                    self.send(ConsumerEvent::Revoked(tps))?;
                }
                Note::Failed(msg) => self.send(ConsumerEvent::Failed(msg))?,
            }
        }
        Ok(())
    }

    fn on_message(&mut self, msg: &rdkafka::message::BorrowedMessage<'_>) -> Result<(), ()> {
        let topic = msg.topic();
        let partition = msg.partition();
        let Some(idx) = self
            .partitions
            .iter()
            .position(|p| p.tp.partition == partition && &*p.tp.topic == topic)
        else {
            return Ok(()); // from a partition no longer ours
        };
        let offset = msg.offset();
        let max_bytes = self.settings.max_message_bytes;
        let state = &mut self.partitions[idx];
        // Any message, even one already stored, shows the partition is still being read: a broker
        // that answers a seek past its (misreported) end with a rewind must not look caught up.
        state.last_message = Instant::now();
        if state.next.is_some_and(|n| offset < n) {
            return Ok(()); // already stored; seen again after a seek or a rewind
        }
        if let Some(expected) = state.next.filter(|n| offset > *n) {
            // Kafka leaves gaps only for compaction and transaction markers; anything else is a
            // broker that skipped records, so say so loudly.
            warn!(partition = %state.tp, expected, got = offset, "offset gap");
            self.metrics.offset_gaps.fetch_add(1, Ordering::Relaxed);
        }
        state.next = Some(offset + 1);
        let header_list = raw_headers(msg);
        let meta = KafkaMeta {
            offset,
            timestamp_ms: msg.timestamp().to_millis(),
            key: msg.key(),
            headers: &header_list,
        };
        let now_us = chrono::Utc::now().timestamp_micros();
        let value = msg.payload();
        match check_headers(&header_list).and_then(|()| inspect(value, max_bytes)) {
            Ok((text, extracted)) => state.builder.push_row(&meta, text, &extracted, now_us),
            Err(_) if state.quarantine_txn.is_some_and(|q| offset <= q) => {
                state.builder.skip(offset)
            }
            Err(why) => state.builder.push_quarantine(&meta, value, &why, now_us),
        }
        self.metrics.consumed.fetch_add(1, Ordering::Relaxed);
        if state.builder.messages() >= self.settings.chunk_messages
            || state.builder.bytes() >= self.settings.chunk_bytes
        {
            return self.emit(idx);
        }
        Ok(())
    }

    fn emit(&mut self, idx: usize) -> Result<(), ()> {
        match self.partitions[idx].builder.finish() {
            Ok(Some(chunk)) => self.send(ConsumerEvent::Chunk(chunk)),
            Ok(None) => Ok(()),
            Err(e) => self.send(ConsumerEvent::Failed(format!("building a batch: {e}"))),
        }
    }

    fn emit_all(&mut self) -> Result<(), ()> {
        for idx in 0..self.partitions.len() {
            if !self.partitions[idx].builder.is_empty() {
                self.emit(idx)?;
            }
        }
        Ok(())
    }

    /// Every partition is quiet and read to the end it had at the start: its next message
    /// offset is there, or, where the partition ends in offsets no message carries (transaction
    /// markers, a compacted tail), the fetcher is past them with nothing left to hand over.
    fn all_caught_up(&self, fetched: &FetchPositions) -> bool {
        !self.partitions.is_empty()
            && self.partitions.iter().all(|p| {
                let Some(end) = p.start_end else {
                    return false;
                };
                let reached = p.next.is_some_and(|next| next >= end)
                    || fetched
                        .get(&p.tp.topic, p.tp.partition)
                        .is_some_and(|f| f.reached(end));
                reached && p.last_message.elapsed() >= SETTLE
            })
    }

    fn update_lag(&self, consumer: &Kafka) {
        let mut lags = Vec::with_capacity(self.partitions.len());
        for p in &self.partitions {
            if let Ok((_, high)) =
                consumer.fetch_watermarks(&p.tp.topic, p.tp.partition, Duration::from_secs(1))
            {
                let next = p.next.unwrap_or(0);
                lags.push((p.tp.clone(), (high - next).max(0)));
            }
        }
        self.metrics.set_lag(lags);
    }
}

mod rebalance;

use rebalance::{assign_all, probe_config, Note, RebalanceContext};
