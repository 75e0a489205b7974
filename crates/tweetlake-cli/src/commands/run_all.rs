//! `tweetlake run`: the whole pipeline in one process. The ingester runs continuously; every
//! `run.promote_every_seconds` silver and then gold are promoted; once a day at
//! `run.maintain_hour_utc` (or every `run.maintain_every_seconds`) every table is maintained,
//! beside the promotions; `tweetlake serve` runs beside them. One
//! SIGTERM/SIGINT stops them all: the ingester commits what it buffered, a promotion under way
//! finishes its step. A failed promotion is logged and retried next time, as a timer would.

use std::time::Duration;

use anyhow::{Context, Result};
use chrono::Timelike;
use tokio::sync::watch;
use tracing::{error, info};
use tweetlake_core::config::Config;
use tweetlake_core::{Lake, ProgressOutput};

use super::{maintain, promote_gold, promote_silver, shutdown_signal};

pub async fn run(config: &Config, lake: &Lake) -> Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_tx = std::sync::Arc::new(stop_tx);
    let on_signal = stop_tx.clone();
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        info!("stopping: the ingester commits what it holds, promotions finish their step");
        let _ = on_signal.send(true);
    });
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let schedule = tokio::spawn(promotions(config.clone(), lake.clone(), stop_rx.clone()));
    let maintenance = tokio::spawn(maintenance(config.clone(), lake.clone(), stop_rx.clone()));
    let serve = config.run.serve.then(|| {
        let (config, lake, stop) = (config.serve.clone(), lake.clone(), stopped(stop_rx.clone()));
        tokio::spawn(async move { tweetlake_serve::serve(&config, &lake, stop).await })
    });
    let options = tweetlake_bronze::IngestOptions {
        until_caught_up: false,
    };
    let ingested = tweetlake_bronze::ingest(config, lake, options, stopped(stop_rx.clone()))
        .await
        .context("ingest failed");
    // Whatever ended first, the others stop too.
    signal.abort();
    let _ = stop_tx.send(true);
    schedule.await.context("the promotion schedule")?;
    maintenance.await.context("the maintenance schedule")?;
    if let Some(serve) = serve {
        serve.await.context("serve")?.context("serving the lake")?;
    }
    ingested.map(|_| ())
}

/// Promotes silver and gold on the schedule until told to stop.
async fn promotions(config: Config, lake: Lake, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_secs(config.run.promote_every_seconds);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if let Err(e) = promote_silver(&config, &lake, false, ProgressOutput::Log).await {
            let waiting = matches!(
                e.downcast_ref::<tweetlake_silver::SilverError>(),
                Some(tweetlake_silver::SilverError::NoBronze { .. })
            );
            match waiting {
                true => info!("waiting for the ingester's first commit"),
                false => error!("promote silver failed (retried next round): {e:#}"),
            }
            continue;
        }
        if let Err(e) = promote_gold(&config, &lake, Vec::new(), false, ProgressOutput::Log).await {
            error!("promote gold failed (retried next round): {e:#}");
        }
    }
}

/// Maintains every table once a day at `run.maintain_hour_utc`, or every
/// `run.maintain_every_seconds`, beside the promotions (as the timers of a deployment do: their
/// commits may meet, and each side retries a conflict).
async fn maintenance(config: Config, lake: Lake, mut stop: watch::Receiver<bool>) {
    let every = config.run.maintain_every_seconds;
    let tick = Duration::from_secs(if every > 0 { every } else { 60 });
    let mut maintained_on = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let now = chrono::Utc::now();
        let due = every > 0
            || (now.hour() == config.run.maintain_hour_utc
                && maintained_on != Some(now.date_naive()));
        if !due {
            continue;
        }
        maintained_on = Some(now.date_naive());
        // Before the ingester's first commit there is nothing to maintain.
        if let Err(e) = maintain(&config, &lake, Vec::new(), false, ProgressOutput::Log).await {
            error!("maintain failed (retried at the next run): {e:#}");
        }
    }
}
