//! `tweetlake ingest`: one consumer thread and one writer task per bronze table, run until a
//! shutdown signal (continuous) or until every partition is caught up (`--until-caught-up`).

use std::future::Future;
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::Duration;

use tokio::sync::{mpsc, watch, Notify};
use tracing::{info, info_span, Instrument};
use tweetlake_core::config::BronzeTableConfig;
use tweetlake_core::{metrics_http, Lake};

use crate::buffer::WriterSettings;
use crate::config::IngestConfig;
use crate::consumer::{ConsumerCommand, ConsumerEvent, ConsumerLoop, ConsumerSettings};
use crate::error::BronzeError;
use crate::kafka::{consumer_config, validate, MetadataClient};
use crate::metrics::{Metrics, TableMetrics};
use crate::output::TableLocation;
use crate::writer::BronzeWriter;

/// How an ingest run behaves.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Stop once every assigned partition is written up to the end it had when it was assigned.
    pub until_caught_up: bool,
    /// Told after every commit that stored rows, in any table: what `run` promotes on. Told
    /// while nobody waits, it keeps one permit, so commits during a promotion add up to one more.
    pub committed: Option<Arc<Notify>>,
}

/// What one run stored, per table.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    pub tables: Vec<TableReport>,
}

#[derive(Debug, Clone, Default)]
pub struct TableReport {
    pub table: String,
    pub rows: u64,
    pub quarantined: u64,
    pub bytes: u64,
    pub commits: u64,
}

/// Runs ingestion for every configured bronze table. `shutdown` resolving starts a clean stop:
/// buffered rows are committed, then the consumers leave their groups.
pub async fn ingest(
    config: IngestConfig<'_>,
    lake: &Lake,
    options: IngestOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<IngestReport, BronzeError> {
    validate(config.kafka)?;
    if options.until_caught_up {
        let md = MetadataClient::new(config.kafka)?;
        for t in &config.bronze.tables {
            for topic in &t.topics {
                md.partitions(topic, Duration::from_secs(15))?;
            }
        }
    }
    let metrics = Arc::new(Metrics {
        tables: config
            .bronze
            .tables
            .iter()
            .map(|t| Arc::new(TableMetrics::new(&t.name)))
            .collect(),
    });
    let server = match &config.metrics.listen {
        Some(addr) => {
            let listener =
                metrics_http::bind(addr)
                    .await
                    .map_err(|source| BronzeError::Metrics {
                        addr: addr.clone(),
                        source,
                    })?;
            let render = metrics.clone();
            Some(tokio::spawn(metrics_http::serve(
                listener,
                Arc::new(move || render.render()),
            )))
        }
        None => None,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for (table, m) in config.bronze.tables.iter().zip(&metrics.tables) {
        let pipeline = TablePipeline::start(config, lake, table, &options, m.clone()).await?;
        tasks.push(tokio::spawn(pipeline.run(stop_rx.clone())));
    }
    let all = futures::future::join_all(tasks);
    tokio::pin!(all);
    let results = tokio::select! {
        r = &mut all => r,
        () = shutdown => {
            info!("shutting down: committing what is buffered");
            let _ = stop_tx.send(true);
            all.await
        }
    };
    if let Some(s) = server {
        s.abort();
    }
    let mut report = IngestReport::default();
    for r in results {
        let r = r.map_err(|e| BronzeError::Table {
            table: String::new(),
            message: format!("writer task failed: {e}"),
        })??;
        report.tables.push(r);
    }
    Ok(report)
}

/// One bronze table's consumer thread and writer.
struct TablePipeline {
    name: String,
    writer: BronzeWriter,
    events: mpsc::Receiver<ConsumerEvent>,
    commands: std_mpsc::Sender<ConsumerCommand>,
    thread: std::thread::JoinHandle<()>,
    metrics: Arc<TableMetrics>,
    committed: Option<Arc<Notify>>,
}

impl TablePipeline {
    async fn start(
        config: IngestConfig<'_>,
        lake: &Lake,
        table: &BronzeTableConfig,
        options: &IngestOptions,
        metrics: Arc<TableMetrics>,
    ) -> Result<Self, BronzeError> {
        let store = TableLocation::for_table(config.bronze.format, lake, &table.name);
        let flush = &config.bronze.flush;
        let writer_settings = WriterSettings {
            max_latency: flush.max_latency.get(),
            max_rows: flush.max_rows_per_file,
            max_buffer_bytes: flush.max_buffer_bytes(),
            target_file_size: flush.target_file_size_mb.saturating_mul(1024 * 1024),
        };
        let writer =
            BronzeWriter::open(&table.name, store.clone(), writer_settings, metrics.clone())
                .await?;
        let group = format!("{}.{}", config.kafka.group_id, table.name);
        let settings = ConsumerSettings {
            table: table.name.clone(),
            topics: table.topics.clone(),
            client: consumer_config(config.kafka, &group),
            max_message_bytes: config.bronze.max_message_bytes,
            chunk_messages: 4096.min(flush.max_rows_per_file),
            chunk_bytes: (4 << 20).min(flush.max_buffer_bytes() / 8).max(1),
            emit_interval: (flush.max_latency.get() / 4).min(Duration::from_millis(250)),
            until_caught_up: options.until_caught_up,
        };
        // Bounded: when the writer is busy committing, the consumer thread waits instead of buffering.
        let (event_tx, events) = mpsc::channel(8);
        let (commands, command_rx) = std_mpsc::channel();
        let consumer = ConsumerLoop::new(
            settings,
            store,
            tokio::runtime::Handle::current(),
            event_tx,
            command_rx,
            metrics.clone(),
        )
        .map_err(|source| BronzeError::Kafka {
            context: format!("creating the consumer of table `{}`", table.name),
            source,
        })?;
        let thread = std::thread::Builder::new()
            .name(format!("consume-{}", table.name))
            .spawn(move || consumer.run())
            .map_err(|e| BronzeError::Table {
                table: table.name.clone(),
                message: format!("cannot start consumer thread: {e}"),
            })?;
        info!(table = %table.name, topics = ?table.topics, group = %group, "ingesting");
        Ok(Self {
            name: table.name.clone(),
            writer,
            events,
            commands,
            thread,
            metrics,
            committed: options.committed.clone(),
        })
    }

    async fn run(mut self, mut stop: watch::Receiver<bool>) -> Result<TableReport, BronzeError> {
        let span = info_span!("table", table = %self.name);
        let result = self.drive(&mut stop).instrument(span).await;
        let _ = self.commands.send(ConsumerCommand::Stop);
        // Unblock a consumer thread waiting to send, then let it leave its group.
        self.events.close();
        while self.events.try_recv().is_ok() {}
        let _ = tokio::task::spawn_blocking(move || self.thread.join()).await;
        result.map(|()| {
            let m = &self.metrics;
            use std::sync::atomic::Ordering::Relaxed;
            TableReport {
                table: self.name.clone(),
                rows: m.rows.load(Relaxed),
                quarantined: m.quarantined.load(Relaxed),
                bytes: m.bytes.load(Relaxed),
                commits: m.commits.load(Relaxed),
            }
        })
    }

    async fn drive(&mut self, stop: &mut watch::Receiver<bool>) -> Result<(), BronzeError> {
        let mut draining = false;
        loop {
            let deadline = self.writer.deadline();
            tokio::select! {
                event = self.events.recv() => match event {
                    None => return Err(self.failed("the consumer thread stopped unexpectedly")),
                    Some(ConsumerEvent::Assigned(starts)) => self.writer.on_assigned(starts),
                    Some(ConsumerEvent::Revoked(tps)) => self.writer.on_revoked(&tps),
                    Some(ConsumerEvent::Chunk(chunk)) => {
                        self.writer.on_chunk(chunk);
                        if self.writer.should_flush() {
                            self.flush().await?;
                        }
                    }
                    Some(ConsumerEvent::CaughtUp) => {
                        info!(table = %self.name, "caught up");
                        draining = true;
                        let _ = self.commands.send(ConsumerCommand::Drain);
                    }
                    Some(ConsumerEvent::Drained) => {
                        self.flush().await?;
                        return Ok(());
                    }
                    Some(ConsumerEvent::Failed(msg)) => return Err(self.failed(&msg)),
                },
                () = sleep_until(deadline) => self.flush().await?,
                changed = stop.changed(), if !draining => {
                    if changed.is_err() || *stop.borrow() {
                        draining = true;
                        let _ = self.commands.send(ConsumerCommand::Drain);
                    }
                }
            }
        }
    }

    async fn flush(&mut self) -> Result<(), BronzeError> {
        let outcome = self.writer.flush().await?;
        if !outcome.committed.is_empty() {
            if let Some(committed) = &self.committed {
                committed.notify_one();
            }
            let _ = self
                .commands
                .send(ConsumerCommand::CommitGroup(outcome.committed));
        }
        for tp in outcome.reseek {
            let _ = self.commands.send(ConsumerCommand::Reseek(tp));
        }
        Ok(())
    }

    fn failed(&self, message: &str) -> BronzeError {
        BronzeError::Table {
            table: self.name.clone(),
            message: message.to_string(),
        }
    }
}

async fn sleep_until(deadline: Option<std::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
