//! `tweetlake produce` and `tweetlake rules`: checks every flag, then builds the one source asked
//! for and runs it into Kafka on a blocking thread, stopping cleanly on SIGINT/SIGTERM.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use tweetlake_core::config::Config;
use tweetlake_core::metrics_http;
use tweetlake_produce::synthetic::{Noise, SyntheticOptions, SyntheticSource};
use tweetlake_produce::xapi::source::XStreamSource;
use tweetlake_produce::xapi::stream::{StreamMetrics, StreamSettings};
use tweetlake_produce::xapi::XApiClient;
use tweetlake_produce::{FilesSource, ProduceMetrics, RunOptions, Source};

use super::shutdown_signal;
use crate::cli::{ProduceArgs, RulesAction, SyntheticArgs};

pub async fn produce(config: Config, args: ProduceArgs) -> Result<()> {
    let positive = |flag: &str, v: Option<f64>| match v {
        Some(x) if !(x.is_finite() && x > 0.0) => bail!("{flag} {x}: must be above 0"),
        _ => Ok(()),
    };
    positive("--rate", args.rate)?;
    positive("--speedup", args.speedup)?;
    let topic = args.topic.clone().unwrap_or(config.produce.topic.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let mut metrics = ProduceMetrics::default();
    // Every source is built (files opened, token and options checked) before anything is sent.
    let mut source: Box<dyn Source> = if !args.source.file.is_empty() {
        for f in &args.source.file {
            if !f.is_file() {
                bail!("--file {}: no such file", f.display());
            }
        }
        Box::new(FilesSource::new(
            &args.source.file,
            &topic,
            args.include_blank,
            args.repeat,
        )?)
    } else if let Some(count) = args.source.synthetic {
        let opts = synthetic_options(count, &args.synthetic)?;
        Box::new(SyntheticSource::new(
            opts,
            &topic,
            args.synthetic.truth.clone(),
        )?)
    } else {
        let x = &config.produce.x_api;
        let client = XApiClient::new(x).context("produce --x-stream")?;
        let settings = StreamSettings {
            stall_timeout: x.stall_timeout.get(),
            backfill_minutes: x.backfill_minutes,
            backoff: Default::default(),
        };
        let stream_metrics = Arc::new(StreamMetrics::default());
        metrics.stream = Some(stream_metrics.clone());
        Box::new(XStreamSource::start(
            client,
            settings,
            stream_metrics,
            stop.clone(),
            &topic,
        )?)
    };
    let _server = match &config.metrics.listen {
        Some(addr) => {
            let listener = metrics_http::bind(addr)
                .await
                .with_context(|| format!("metrics.listen {addr}"))?;
            let m = metrics.clone();
            Some(tokio::spawn(metrics_http::serve(
                listener,
                Arc::new(move || m.render()),
            )))
        }
        None => None,
    };
    let options = RunOptions {
        topic,
        rate: args.rate,
        speedup: args.speedup,
    };
    let worker = {
        let stop = stop.clone();
        let sink_metrics = metrics.sink.clone();
        tokio::task::spawn_blocking(move || {
            let (kafka, produce) = (&config.kafka, &config.produce);
            tweetlake_produce::run(
                kafka,
                produce,
                source.as_mut(),
                &options,
                &stop,
                sink_metrics,
            )
        })
    };
    tokio::pin!(worker);
    let report = tokio::select! {
        r = &mut worker => r,
        () = shutdown_signal() => {
            stop.store(true, Ordering::Relaxed);
            worker.await
        }
    }
    .context("producer thread failed")?
    .context("produce failed")?;
    println!(
        "produced {} messages ({} filtered out): {} delivered, {} spooled, {} replayed from the spool, {} possible duplicates, {} bytes left in the spool",
        report.received,
        report.filtered,
        report.delivered,
        report.spooled,
        report.replayed,
        report.possible_duplicates,
        report.spool_bytes
    );
    Ok(())
}

fn synthetic_options(count: u64, a: &SyntheticArgs) -> Result<SyntheticOptions> {
    let start = chrono::DateTime::parse_from_rfc3339(&a.start)
        .with_context(|| format!("--start {}: not an RFC 3339 time", a.start))?;
    let noise = Noise::parse(&a.noise).map_err(|e| anyhow::anyhow!("--noise: {e}"))?;
    let opts = SyntheticOptions {
        seed: a.seed,
        count,
        start_ms: start.timestamp_millis(),
        per_second: a.per_second,
        users: a.users,
        geo_share: a.geo_share,
        retweet_share: a.retweet_share,
        noise,
        ..Default::default()
    };
    opts.check().map_err(anyhow::Error::msg)?;
    if let Some(parent) = a.truth.as_ref().and_then(|p| p.parent()) {
        if !parent.as_os_str().is_empty() && !parent.is_dir() {
            bail!("--truth: no directory {}", parent.display());
        }
    }
    Ok(opts)
}

pub async fn rules(config: &Config, action: RulesAction) -> Result<()> {
    let client = XApiClient::new(&config.produce.x_api).context("tweetlake rules")?;
    match action {
        RulesAction::List { json } => {
            let rules = client.list_rules().await?;
            for r in &rules {
                if json {
                    let v = serde_json::json!({"id": r.id, "value": r.value, "tag": r.tag});
                    println!("{v}");
                } else {
                    println!("{}\t{}\t{}", r.id, r.tag.as_deref().unwrap_or("-"), r.value);
                }
            }
            if !json {
                eprintln!("{} rules", rules.len());
            }
        }
        RulesAction::Add {
            values,
            tag,
            dry_run,
        } => {
            let rules: Vec<_> = values.into_iter().map(|v| (v, tag.clone())).collect();
            let change = client.add_rules(&rules, dry_run).await?;
            for r in &change.rules {
                println!("{}\t{}\t{}", r.id, r.tag.as_deref().unwrap_or("-"), r.value);
            }
            report_change(&change, dry_run)?;
        }
        RulesAction::Delete { ids, dry_run } => {
            let change = client.delete_rules(&ids, dry_run).await?;
            report_change(&change, dry_run)?;
        }
    }
    Ok(())
}

fn report_change(change: &tweetlake_produce::xapi::RulesChange, dry_run: bool) -> Result<()> {
    let what = if dry_run { "dry run" } else { "done" };
    eprintln!("{what}: {}", change.summary);
    if !change.errors.is_empty() {
        bail!(
            "the API rejected part of the request: {}",
            change.errors.join("; ")
        );
    }
    Ok(())
}
