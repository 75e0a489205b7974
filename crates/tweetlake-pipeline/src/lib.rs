//! `tweetlake run`: the whole pipeline in one process, as a library that returns what it did. The
//! ingester runs continuously; silver is promoted as soon as it commits (`run.promote_on_commit`;
//! commits during a promotion add up to one more round) and gold as soon as silver has, each in its
//! own task so that neither waits for the other's round, and both at least every
//! `run.promote_every_seconds`; every table is compacted every `run.compact_every_seconds`
//! and maintained once a day at `run.maintain_hour_utc` (or every `run.maintain_every_seconds`),
//! beside the promotions (as a deployment's timers do: their commits may meet, and each side
//! retries a conflict); `serve` runs beside them when `run.serve` is on.
//!
//! One stop signal stops them all: the ingester commits what it buffered, a promotion under way
//! finishes its step. A failed promotion or maintenance is logged and tried again at its next
//! turn, as a timer would; only the ingester's or serve's failure ends the run.
//!
//! ```no_run
//! # async fn example(config: tweetlake_core::Config, lake: tweetlake_core::Lake) {
//! let report = tweetlake_pipeline::run(&config, &lake, tokio::signal::ctrl_c()).await;
//! # }
//! ```

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Timelike;
use tokio::sync::{watch, Notify};
use tracing::{error, info, info_span, Instrument};
use tweetlake_core::config::{Config, MaintainConfig};
use tweetlake_core::{Lake, Progress, ProgressOutput};
use tweetlake_maintain::CompactionTiers;
use tweetlake_silver::Promoter;

mod schedule;

pub use schedule::{Due, MaintenanceClock};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("ingest: {0}")]
    Ingest(#[from] tweetlake_bronze::BronzeError),
    #[error("serving the lake: {0}")]
    Serve(#[from] tweetlake_serve::ServeError),
    #[error("the {what} task stopped abnormally: {source}")]
    Task {
        what: &'static str,
        source: tokio::task::JoinError,
    },
}

/// What one `run` did until it stopped.
#[derive(Debug, Default)]
pub struct RunReport {
    pub ingest: tweetlake_bronze::IngestReport,
    /// Rounds in which silver was promoted, and those that failed (each logged; tried again next
    /// round).
    pub silver_rounds: u64,
    pub failed_silver_rounds: u64,
    /// Rounds in which every gold model was promoted, and those in which some failed.
    pub gold_rounds: u64,
    pub failed_gold_rounds: u64,
    /// Times every table was maintained.
    pub maintenances: u64,
    /// Maintenance runs in which some table failed (each logged; the others were maintained).
    pub failed_maintenances: u64,
    /// Compactions between maintenance runs, and those in which some table failed.
    pub compactions: u64,
    pub failed_compactions: u64,
}

#[derive(Default)]
struct Counters {
    silver_rounds: AtomicU64,
    failed_silver_rounds: AtomicU64,
    gold_rounds: AtomicU64,
    failed_gold_rounds: AtomicU64,
    maintenances: AtomicU64,
    failed_maintenances: AtomicU64,
    compactions: AtomicU64,
    failed_compactions: AtomicU64,
}

/// Runs the pipeline until `stop` resolves (or the ingester or serve fails).
pub async fn run(
    config: &Config,
    lake: &Lake,
    stop: impl Future + Send + 'static,
) -> Result<RunReport, PipelineError> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    let on_signal = stop_tx.clone();
    let signal = tokio::spawn(async move {
        stop.await;
        info!("stopping: the ingester commits what it holds, promotions finish their step");
        let _ = on_signal.send(true);
    });
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let counters = Arc::new(Counters::default());
    let committed = config
        .run
        .promote_on_commit
        .then(|| Arc::new(Notify::new()));
    let silver_committed = Arc::new(Notify::new());
    let silver = tokio::spawn(silver_promotions(
        config.clone(),
        lake.clone(),
        (stop_rx.clone(), committed.clone()),
        (silver_committed.clone(), counters.clone()),
    ));
    let gold = tokio::spawn(gold_promotions(
        config.clone(),
        lake.clone(),
        (stop_rx.clone(), silver_committed),
        counters.clone(),
    ));
    let maintenance = tokio::spawn(maintenance(
        config.clone(),
        lake.clone(),
        stop_rx.clone(),
        counters.clone(),
    ));
    let serve = config.run.serve.then(|| {
        let (config, lake, stop) = (config.serve.clone(), lake.clone(), stopped(stop_rx.clone()));
        tokio::spawn(async move { tweetlake_serve::serve(&config, &lake, stop).await })
    });
    let options = tweetlake_bronze::IngestOptions {
        until_caught_up: false,
        committed,
    };
    let ingested =
        tweetlake_bronze::ingest(config.into(), lake, options, stopped(stop_rx.clone())).await;
    // Whatever ended first, the others stop too.
    signal.abort();
    let _ = stop_tx.send(true);
    let task = |what| move |source| PipelineError::Task { what, source };
    silver.await.map_err(task("silver promotion"))?;
    gold.await.map_err(task("gold promotion"))?;
    maintenance.await.map_err(task("maintenance"))?;
    if let Some(serve) = serve {
        serve.await.map_err(task("serve"))??;
    }
    Ok(RunReport {
        ingest: ingested?,
        silver_rounds: counters.silver_rounds.load(Ordering::Relaxed),
        failed_silver_rounds: counters.failed_silver_rounds.load(Ordering::Relaxed),
        gold_rounds: counters.gold_rounds.load(Ordering::Relaxed),
        failed_gold_rounds: counters.failed_gold_rounds.load(Ordering::Relaxed),
        maintenances: counters.maintenances.load(Ordering::Relaxed),
        failed_maintenances: counters.failed_maintenances.load(Ordering::Relaxed),
        compactions: counters.compactions.load(Ordering::Relaxed),
        failed_compactions: counters.failed_compactions.load(Ordering::Relaxed),
    })
}

/// Waits for `trigger` (when there is one), the longest wait (when there is one), or the stop
/// signal; false on stop. A [`Notify`] keeps one permit, so commits during a round add up to one
/// more round.
async fn next_round(
    trigger: Option<&Notify>,
    every: Option<Duration>,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let triggered = async {
        match trigger {
            Some(trigger) => trigger.notified().await,
            None => std::future::pending().await,
        }
    };
    let waited = async {
        match every {
            Some(every) => tokio::time::sleep(every).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = triggered => true,
        () = waited => true,
        _ = stop.wait_for(|s| *s) => false,
    }
}

/// Promotes silver when bronze commits (`committed`, when promoting on commit) or the longest wait
/// has passed, until told to stop; tells the gold task after each round that promoted.
async fn silver_promotions(
    config: Config,
    lake: Lake,
    (mut stop, committed): (watch::Receiver<bool>, Option<Arc<Notify>>),
    (silver_committed, counters): (Arc<Notify>, Arc<Counters>),
) {
    let every = Duration::from_secs(config.run.promote_every_seconds);
    // Loaded at the first round and kept: a round then costs its rows, not a model load.
    let mut promoter = None;
    while next_round(committed.as_deref(), Some(every), &mut stop).await {
        let round = promote_silver(&config, &lake, &mut promoter)
            .instrument(info_span!("promotion", layer = "silver"));
        let counter = match round.await {
            Ok(SilverRound::Promoted) => {
                silver_committed.notify_one();
                &counters.silver_rounds
            }
            Ok(SilverRound::WaitingForBronze) => continue,
            Err(()) => &counters.failed_silver_rounds,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Promotes every gold model each time silver has been promoted (silver's own timer stands for
/// gold's, and gold never runs before silver has a commit), until told to stop; a model with a
/// `refresh` interval only once that has passed. Beside the silver task, so that silver's next
/// round does not wait for gold's.
async fn gold_promotions(
    config: Config,
    lake: Lake,
    (mut stop, silver_committed): (watch::Receiver<bool>, Arc<Notify>),
    counters: Arc<Counters>,
) {
    let mut rounds = tweetlake_gold::GoldRounds::default();
    while next_round(Some(&silver_committed), None, &mut stop).await {
        let round = promote_gold(&config, &lake, &mut rounds)
            .instrument(info_span!("promotion", layer = "gold"));
        let counter = match round.await {
            Ok(()) => &counters.gold_rounds,
            Err(()) => &counters.failed_gold_rounds,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

enum SilverRound {
    Promoted,
    /// No bronze table has a commit yet: nothing to promote, not a failure.
    WaitingForBronze,
}

/// Silver from every bronze table, each report logged. `promoter` is loaded on the first round
/// that needs it (and again after a failed load).
async fn promote_silver(
    config: &Config,
    lake: &Lake,
    promoter: &mut Option<Promoter>,
) -> Result<SilverRound, ()> {
    let promoter = match promoter {
        Some(loaded) => loaded,
        None => match Promoter::load(&config.silver).await {
            Ok(loaded) => promoter.insert(loaded),
            Err(e) => {
                error!("promote silver cannot start (retried next round): {e}");
                return Err(());
            }
        },
    };
    let progress = Progress::new("promote silver", ProgressOutput::Log);
    let bronze_tables = config.bronze.table_names();
    let silver = promoter.promote_all(&bronze_tables, lake, false, progress, |r| info!("{r}"));
    match silver.await {
        Ok(_) => Ok(SilverRound::Promoted),
        Err(e) if e.is_waiting_for_bronze() => {
            info!("waiting for the ingester's first commit");
            Ok(SilverRound::WaitingForBronze)
        }
        Err(e) => {
            error!("promote silver failed (retried next round): {e}");
            Err(())
        }
    }
}

/// Every gold model that is due, each report logged.
async fn promote_gold(
    config: &Config,
    lake: &Lake,
    rounds: &mut tweetlake_gold::GoldRounds,
) -> Result<(), ()> {
    let options = tweetlake_gold::GoldOptions {
        models: Vec::new(),
        full_refresh: false,
        progress: Progress::new("promote gold", ProgressOutput::Log),
    };
    match tweetlake_gold::promote_gold_due(&config.gold, lake, &options, rounds).await {
        Ok(reports) => {
            reports.iter().for_each(|r| info!("{r}"));
            Ok(())
        }
        Err(e) => {
            error!("promote gold failed (retried next round): {e}");
            Err(())
        }
    }
}

/// Maintains or compacts every table when the clock says it is due, beside the promotions.
async fn maintenance(
    config: Config,
    lake: Lake,
    mut stop: watch::Receiver<bool>,
    counters: Arc<Counters>,
) {
    let mut clock = MaintenanceClock::new(&config.run);
    let tiers = CompactionTiers::new(
        config.run.compact_first_tier_bytes(),
        config.maintain.target_file_size_bytes(),
    );
    let mut compactions = 0u64;
    let mut asked = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(clock.tick()) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let now = chrono::Utc::now();
        let due = clock.due(now.hour(), now.date_naive(), asked.elapsed());
        asked = Instant::now();
        let Some(due) = due else { continue };
        let (section, compact_below, what, done, failed) = match due {
            Due::Maintain => (
                config.maintain.clone(),
                None,
                "maintenance",
                &counters.maintenances,
                &counters.failed_maintenances,
            ),
            Due::Compact => (
                MaintainConfig {
                    vacuum: false,
                    ..config.maintain.clone()
                },
                Some(tiers.below(compactions)),
                "compaction",
                &counters.compactions,
                &counters.failed_compactions,
            ),
        };
        let options = tweetlake_maintain::MaintainOptions {
            compact_below,
            // A compaction every minute leaves the log to the daily maintenance: cleaning lists
            // each table's whole log.
            keep_logs: due == Due::Compact,
            progress: Progress::new(what, ProgressOutput::Log),
            ..Default::default()
        };
        let below_kib = compact_below.map(|b| b.get() / 1024);
        let maintained = tweetlake_maintain::maintain(&section, &lake, &options)
            .instrument(info_span!("maintenance", what, below_kib))
            .await;
        if due == Due::Compact {
            compactions += 1;
        }
        // The next interval counts from the end of this run.
        asked = Instant::now();
        done.fetch_add(1, Ordering::Relaxed);
        let failures = match maintained {
            // Before the ingester's first commit there is nothing to maintain.
            Ok(reports) => reports
                .iter()
                .filter_map(|r| r.error.as_ref().map(|e| (&r.table, e)))
                .inspect(|(table, e)| {
                    error!("{what} of {table} failed (retried at the next run): {e}")
                })
                .count(),
            Err(e) => {
                error!("{what} failed (retried at the next run): {e}");
                1
            }
        };
        if failures > 0 {
            failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}
