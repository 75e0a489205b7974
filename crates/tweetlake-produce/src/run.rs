//! Drives a [`Source`] into Kafka through the [`KafkaSink`]: filters and routes, pacing, a progress
//! line on a terminal, and a clean stop that leaves nothing behind but the spool.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{info, info_span};
use tweetlake_core::config::{KafkaConfig, ProduceConfig};

use crate::pace::Pacer;
use crate::select::{Selector, Verdict};
use crate::sink::{KafkaSink, SinkMetrics, SinkSettings};
use crate::source::{Next, Source};
use crate::spool::SpoolSettings;
use crate::{producer_config, ProduceError};

/// How a run paces its source.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The topic when no route matches (`--topic`, else `produce.topic`).
    pub topic: String,
    /// Messages per second; unlimited when `None`.
    pub rate: Option<f64>,
    /// Replay at the pace of `created_at`, this many times faster.
    pub speedup: Option<f64>,
}

/// What a run did (the sink's counters at the end).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProduceReport {
    pub received: u64,
    pub filtered: u64,
    pub delivered: u64,
    pub spooled: u64,
    pub replayed: u64,
    pub possible_duplicates: u64,
    /// Bytes still in the spool at exit (sent on the next run).
    pub spool_bytes: u64,
}

/// The sink settings from the config; relative spool paths are taken from the working directory.
pub fn sink_settings(p: &ProduceConfig) -> SinkSettings {
    let fsync = p.spool.fsync;
    SinkSettings {
        spool: SpoolSettings {
            dir: p.spool.dir.clone(),
            segment_bytes: p.spool.segment_mb.saturating_mul(1 << 20),
            max_bytes: p.spool.max_mb.saturating_mul(1 << 20),
            fsync,
        },
        max_in_flight: p.max_in_flight,
        stall_after: p.stall_after.get(),
        probe_interval: Duration::from_secs(1),
    }
}

/// Sends `source` into Kafka through the filters and routes until it ends or `stop` is set, then
/// waits until everything is delivered — or, on `stop`, leaves what is undelivered in the spool.
pub fn run(
    kafka: &KafkaConfig,
    config: &ProduceConfig,
    source: &mut dyn Source,
    options: &RunOptions,
    stop: &AtomicBool,
    metrics: Arc<SinkMetrics>,
) -> Result<ProduceReport, ProduceError> {
    let mut sink = KafkaSink::new(
        &producer_config(kafka, config),
        sink_settings(config),
        metrics.clone(),
    )?;
    let selector = Selector::new(config, &options.topic);
    let mut pacer = Pacer::new(options.rate, options.speedup);
    let mut progress = Progress::new(std::io::stderr().is_terminal());
    let mut sent = 0u64;
    let span = info_span!("produce", topic = %options.topic);
    let _enter = span.enter();
    while !stop.load(Ordering::Relaxed) {
        if !sink.ready() {
            sink.tick(Duration::from_millis(10))?;
            continue;
        }
        let mut msg = match source.next(Duration::from_millis(50))? {
            Next::End => break,
            Next::Idle => {
                sink.tick(Duration::ZERO)?;
                progress.show(sent, source.progress(), &metrics);
                continue;
            }
            Next::Message(m) => m,
        };
        match selector.select(&msg.value) {
            Verdict::Filtered => {
                metrics.filtered.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            Verdict::Send(topic) if topic != msg.topic => msg.topic = topic.to_string(),
            Verdict::Send(_) => {}
        }
        if let Some(due) = pacer.due(&msg.value) {
            while Instant::now() < due && !stop.load(Ordering::Relaxed) {
                sink.tick(due.saturating_duration_since(Instant::now()))?;
            }
        }
        sink.send(msg)?;
        sent += 1;
        if sent.is_multiple_of(512) {
            sink.tick(Duration::ZERO)?;
            progress.show(sent, source.progress(), &metrics);
        }
    }
    info!(sent, "source finished; waiting for every delivery");
    while !sink.idle() && !stop.load(Ordering::Relaxed) {
        sink.tick(Duration::from_millis(100))?;
        progress.show(sent, None, &metrics);
    }
    progress.done();
    sink.close(config.delivery_timeout.get() + Duration::from_secs(5))?;
    let m = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    Ok(ProduceReport {
        received: m(&metrics.received),
        filtered: m(&metrics.filtered),
        delivered: m(&metrics.delivered),
        spooled: m(&metrics.spooled),
        replayed: m(&metrics.replayed),
        possible_duplicates: m(&metrics.possible_duplicates),
        spool_bytes: m(&metrics.spool_bytes),
    })
}

/// One line on a terminal, rewritten at most every 250 ms.
struct Progress {
    enabled: bool,
    started: Instant,
    last: Instant,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Self {
            enabled,
            started: Instant::now(),
            last: Instant::now(),
        }
    }

    fn show(&mut self, sent: u64, done_of: Option<(u64, u64)>, m: &SinkMetrics) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(250) {
            return;
        }
        self.last = Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let delivered = m.delivered.load(Ordering::Relaxed);
        let spool = m.spool_bytes.load(Ordering::Relaxed);
        let eta = match done_of {
            Some((done, total)) if done > 0 && total >= done => {
                let left = secs * (total - done) as f64 / done as f64;
                format!(
                    ", {:.0}%, ETA {}:{:02}",
                    100.0 * done as f64 / total.max(1) as f64,
                    left as u64 / 60,
                    left as u64 % 60
                )
            }
            _ => String::new(),
        };
        eprint!(
            "\r{sent} sent, {delivered} delivered, {:.0}/s, spool {:.1} MB{eta}   ",
            delivered as f64 / secs,
            spool as f64 / 1048576.0
        );
    }

    fn done(&self) {
        if self.enabled {
            eprintln!();
        }
    }
}
