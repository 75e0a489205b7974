//! Drives a source into Kafka through the [`KafkaSink`]: rate control, looping, a progress line on
//! a terminal, and a clean stop that leaves nothing behind but the spool.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{info, info_span};
use tweetlake_core::config::{Config, Fsync};

use crate::file_source::FileSource;
use crate::sink::{KafkaSink, SinkMetrics, SinkSettings};
use crate::spool::{FsyncPolicy, SpoolSettings};
use crate::{producer_config, ProduceError};

/// How a replay runs.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    pub files: Vec<PathBuf>,
    /// Defaults to `produce.topic`.
    pub topic: Option<String>,
    /// Also send blank lines (stream keep-alives) as empty messages.
    pub include_blank: bool,
    /// Messages per second; unlimited when `None`.
    pub rate: Option<f64>,
    /// Start over at the end, until stopped.
    pub repeat: bool,
}

/// What a run did (the sink's counters at the end).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProduceReport {
    pub received: u64,
    pub delivered: u64,
    pub spooled: u64,
    pub replayed: u64,
    pub possible_duplicates: u64,
    /// Bytes still in the spool at exit (sent on the next run).
    pub spool_bytes: u64,
}

/// The sink settings from the config; relative spool paths are taken from the working directory.
pub fn sink_settings(config: &Config) -> SinkSettings {
    let p = &config.produce;
    let fsync = match p.spool.fsync_policy() {
        Some(Fsync::Always) => FsyncPolicy::Always,
        Some(Fsync::Never) => FsyncPolicy::Never,
        Some(Fsync::Interval(d)) => FsyncPolicy::Interval(d),
        None => FsyncPolicy::Interval(Duration::from_secs(1)),
    };
    SinkSettings {
        spool: SpoolSettings {
            dir: p.spool.dir.clone(),
            segment_bytes: p.spool.segment_mb.saturating_mul(1 << 20),
            max_bytes: p.spool.max_mb.saturating_mul(1 << 20),
            fsync,
        },
        max_in_flight: p.max_in_flight,
        stall_after: p.stall_after(),
        probe_interval: Duration::from_secs(1),
    }
}

/// Replays files into Kafka until they end (or forever with `repeat`) or `stop` is set, then waits
/// until everything is delivered — or, on `stop`, leaves what is undelivered in the spool.
pub fn replay(
    config: &Config,
    options: &ReplayOptions,
    stop: &AtomicBool,
    metrics: Arc<SinkMetrics>,
) -> Result<ProduceReport, ProduceError> {
    let topic = options.topic.as_deref().unwrap_or(&config.produce.topic);
    let mut sink = KafkaSink::new(
        &producer_config(&config.kafka, &config.produce),
        sink_settings(config),
        metrics.clone(),
    )?;
    let mut progress = Progress::new(std::io::stderr().is_terminal());
    let started = Instant::now();
    let mut sent = 0u64;
    'files: loop {
        for path in &options.files {
            let span = info_span!("replay", file = %path.display());
            let _enter = span.enter();
            let mut source = FileSource::open(path, topic, options.include_blank)?;
            while let Some(msg) = source.next_message()? {
                if let Some(rate) = options.rate {
                    let due = started + Duration::from_secs_f64(sent as f64 / rate);
                    while Instant::now() < due && !stop.load(Ordering::Relaxed) {
                        sink.tick(due.saturating_duration_since(Instant::now()))?;
                    }
                }
                while !sink.ready() && !stop.load(Ordering::Relaxed) {
                    sink.tick(Duration::from_millis(10))?;
                }
                if stop.load(Ordering::Relaxed) {
                    break 'files;
                }
                sink.send(msg)?;
                sent += 1;
                if sent.is_multiple_of(512) {
                    sink.tick(Duration::ZERO)?;
                    progress.show(sent, &metrics);
                }
            }
        }
        if !options.repeat {
            break;
        }
    }
    info!(sent, "source finished; waiting for every delivery");
    while !sink.idle() && !stop.load(Ordering::Relaxed) {
        sink.tick(Duration::from_millis(100))?;
        progress.show(sent, &metrics);
    }
    progress.done();
    sink.close(config.produce.delivery_timeout() + Duration::from_secs(5))?;
    let m = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    Ok(ProduceReport {
        received: m(&metrics.received),
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

    fn show(&mut self, sent: u64, m: &SinkMetrics) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(250) {
            return;
        }
        self.last = Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let delivered = m.delivered.load(Ordering::Relaxed);
        let spool = m.spool_bytes.load(Ordering::Relaxed);
        eprint!(
            "\r{sent} read, {delivered} delivered, {:.0}/s, spool {:.1} MB   ",
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
