//! `tweetlake-bench`: produces N realistic tweets to a topic, reads them back with a bare rdkafka
//! consumer (the ceiling), then times `tweetlake ingest --until-caught-up` into a fresh local lake
//! and prints tweets/s, MB/s, files, commits, peak RSS and the ratio to the ceiling.
//! Run it through `scripts/bench.sh`, which builds release binaries and starts the broker.

mod ceiling;
mod child;
mod freshness;
mod ingest_run;
mod produce;
mod produce_run;
mod silver_run;
mod tweets;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use silver_run::NerSetting;

#[derive(Debug, Parser)]
#[command(name = "tweetlake-bench", about)]
struct Args {
    /// Kafka bootstrap servers of a broker holding `--topic` (created beforehand).
    #[arg(long)]
    bootstrap_servers: String,
    /// Topic to fill and read back.
    #[arg(long, default_value = "bench")]
    topic: String,
    /// Number of tweets to produce.
    #[arg(long, default_value_t = 200_000)]
    messages: u64,
    /// The `tweetlake` binary to measure.
    #[arg(long)]
    tweetlake: PathBuf,
    /// Scratch folder for the lake (emptied first).
    #[arg(long)]
    work: PathBuf,
    /// Skip producing: the topic already holds exactly `--messages` tweets.
    #[arg(long)]
    no_produce: bool,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// `ingest` (Kafka → bronze) or `produce` (file → Kafka, and the disk spool; needs topics
    /// `<topic>.produce` and `<topic>.spool` and the broker's pid in `<work>/broker.pid`).
    /// `silver`: after the ingest run, `promote silver` with NER off and on (1 and 2 threads),
    /// and NER alone over `--ner-sample`. `freshness`: `tweetlake run` fed `--messages` tweets
    /// at `--rate` per second into `<topic>.fresh`; the lag of each layer.
    #[arg(long, default_value = "ingest", value_parser = ["ingest", "produce", "silver", "freshness"])]
    mode: String,
    /// `--mode silver`: tweets without `entities` objects, so silver extracts them from the text.
    #[arg(long)]
    without_entities: bool,
    /// `--mode silver`: only the promotion without NER.
    #[arg(long)]
    ner_off_only: bool,
    /// Tweets per second sent in real time, for `--mode freshness`.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// NER model directory for `--mode silver`.
    #[arg(long, default_value = "models/tweetlake-ner")]
    ner_model: PathBuf,
    /// CoNLL file of real tweets for the NER-alone figure.
    #[arg(long, default_value = "tests/fixtures/ner/btc-h-dev.conll")]
    ner_sample: PathBuf,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut factory = tweets::TweetFactory::from_fixtures()?;
    if args.mode == "silver" || args.mode == "freshness" {
        factory = factory.with_unique_texts();
    }
    if args.without_entities {
        factory = factory.without_entities();
    }
    if args.mode == "produce" {
        return produce_bench(&args, &factory);
    }
    if args.mode == "freshness" {
        return freshness_bench(&args, &factory);
    }
    let produced = if args.no_produce {
        None
    } else {
        eprintln!(
            "producing {} tweets ({} real templates, fresh ids) to `{}`…",
            args.messages,
            factory.templates(),
            args.topic
        );
        Some(produce::produce_all(
            &args.bootstrap_servers,
            &args.topic,
            &factory,
            args.messages,
        )?)
    };
    eprintln!("bare consumer (ceiling)…");
    let ceiling = ceiling::consume_all(&args.bootstrap_servers, &args.topic, args.messages)?;
    eprintln!("tweetlake ingest --until-caught-up…");
    let lake = args.work.join("lake");
    if lake.exists() {
        std::fs::remove_dir_all(&lake).with_context(|| format!("emptying {}", lake.display()))?;
    }
    let ingest = ingest_run::run(&args.tweetlake, &args.bootstrap_servers, &args.topic, &lake)?;
    if ingest.rows + ingest.quarantined != args.messages {
        anyhow::bail!(
            "ingest stored {} rows + {} quarantined, expected {}",
            ingest.rows,
            ingest.quarantined,
            args.messages
        );
    }
    if args.mode == "silver" {
        return silver_bench(&args, &lake);
    }
    let report = Report {
        messages: args.messages,
        produced,
        ceiling,
        ingest,
    };
    if args.json {
        println!("{}", report.json());
    } else {
        report.print();
    }
    Ok(())
}

/// The freshness benchmark: real-time tweets into `tweetlake run`, the lag of every layer.
fn freshness_bench(args: &Args, factory: &tweets::TweetFactory) -> Result<()> {
    if args.rate.is_nan() || args.rate <= 0.0 {
        anyhow::bail!("--rate must be above 0");
    }
    let lake = args.work.join("lake-fresh");
    if lake.exists() {
        std::fs::remove_dir_all(&lake).with_context(|| format!("emptying {}", lake.display()))?;
    }
    eprintln!(
        "tweetlake run, {} tweets at {}/s into `{}.fresh`…",
        args.messages, args.rate, args.topic
    );
    let result = freshness::run(
        &args.tweetlake,
        &args.bootstrap_servers,
        &format!("{}.fresh", args.topic),
        &lake,
        &args.ner_model,
        (factory, args.messages, args.rate),
    )?;
    result.print();
    Ok(())
}

/// The produce benchmark: bare producer (ceiling), `tweetlake produce --file`, the spool.
fn produce_bench(args: &Args, factory: &tweets::TweetFactory) -> Result<()> {
    use std::io::Write;
    let file = args.work.join("tweets.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
    let mut bytes = 0u64;
    for i in 0..args.messages {
        let (_, json) = factory.tweet(i);
        bytes += json.len() as u64;
        out.write_all(&json)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    drop(out);
    let pid: i32 = std::fs::read_to_string(args.work.join("broker.pid"))
        .context("reading <work>/broker.pid")?
        .trim()
        .parse()
        .context("broker.pid")?;
    eprintln!("bare producer (ceiling)…");
    let bare = produce::produce_all(&args.bootstrap_servers, &args.topic, factory, args.messages)?;
    eprintln!("tweetlake produce --file…");
    let topic = |suffix: &str| format!("{}.{suffix}", args.topic);
    let (bin, broker) = (&args.tweetlake, &args.bootstrap_servers);
    let replay = produce_run::replay(bin, broker, &topic("produce"), &file, &args.work)?;
    eprintln!("spool: broker stopped, then back…");
    let spool = produce_run::spool(
        bin,
        broker,
        &topic("spool"),
        &file,
        &args.work,
        pid,
        args.messages,
    )?;
    std::fs::remove_file(&file)?;
    let n = args.messages as f64;
    let mb = bytes as f64 / MB;
    let rate = |d: std::time::Duration| (n / d.as_secs_f64(), mb / d.as_secs_f64());
    let rows = [
        ("bare producer (ceiling)", rate(bare.elapsed)),
        ("tweetlake produce", rate(replay.elapsed)),
        ("spool write (broker down)", rate(spool.write)),
        ("spool replay (broker back)", rate(spool.replay)),
    ];
    if args.json {
        let mut j = serde_json::json!({
            "messages": args.messages, "payload_mb": mb,
            "ratio_to_ceiling": rows[1].1 .0 / rows[0].1 .0,
            "produce_cpu_seconds": replay.cpu_seconds,
            "produce_peak_rss_mb": replay.peak_rss_kb as f64 / 1024.0,
            "spooled_messages": spool.messages,
        });
        for (name, (tps, mbps)) in rows {
            let key = name.split(' ').take(2).collect::<Vec<_>>().join("_");
            j[format!("{key}_tweets_per_s")] = serde_json::json!(tps);
            j[format!("{key}_mb_per_s")] = serde_json::json!(mbps);
        }
        println!("{j}");
        return Ok(());
    }
    println!(
        "messages                    {:>10}  ({mb:.1} MB, {:.0} B/tweet)",
        args.messages,
        bytes as f64 / n
    );
    for (name, (tps, mbps)) in rows {
        println!("{name:<27} {tps:>10.0} tweets/s {mbps:>8.1} MB/s");
    }
    println!(
        "ratio to ceiling            {:>10.0} %",
        100.0 * rows[1].1 .0 / rows[0].1 .0
    );
    println!(
        "tweetlake produce           {:>10.1} s CPU, peak RSS {:.1} MB",
        replay.cpu_seconds,
        replay.peak_rss_kb as f64 / 1024.0
    );
    Ok(())
}

fn silver_bench(args: &Args, lake: &std::path::Path) -> Result<()> {
    let (bin, model) = (&args.tweetlake, &args.ner_model);
    let mut runs = Vec::new();
    let ner = |threads, precision| NerSetting { threads, precision };
    let settings = match args.ner_off_only {
        true => Vec::new(),
        false => vec![ner(2, "float32"), ner(1, "bfloat16"), ner(2, "bfloat16")],
    };
    for setting in std::iter::once(None).chain(settings.iter().copied().map(Some)) {
        eprintln!("promote silver --full-refresh, NER {setting:?}…");
        runs.push(silver_run::promote(bin, lake, &args.topic, model, setting)?);
    }
    for setting in settings {
        eprintln!("NER alone, {setting:?}…");
        runs.push(silver_run::ner_alone(
            bin,
            model,
            &args.ner_sample,
            setting,
        )?);
    }
    if args.json {
        let rows: Vec<_> = runs
            .iter()
            .map(|r| {
                serde_json::json!({"run": r.label, "tweets": r.tweets, "seconds": r.elapsed.as_secs_f64(),
                    "tweets_per_s": r.rate(), "cpu_seconds": r.cpu_seconds, "tweets_per_cpu_s": r.rate_per_cpu_second(), "peak_rss_mb": r.peak_rss_kb as f64 / 1024.0})
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(());
    }
    println!(
        "{:<46} {:>8} {:>9} {:>10} {:>9} {:>11} {:>12}",
        "run", "tweets", "seconds", "tweets/s", "CPU s", "per CPU s", "peak RSS MB"
    );
    for r in &runs {
        println!(
            "{:<46} {:>8} {:>9.1} {:>10.0} {:>9.1} {:>11.0} {:>12.0}",
            r.label,
            r.tweets,
            r.elapsed.as_secs_f64(),
            r.rate(),
            r.cpu_seconds,
            r.rate_per_cpu_second(),
            r.peak_rss_kb as f64 / 1024.0
        );
    }
    Ok(())
}

struct Report {
    messages: u64,
    produced: Option<produce::ProduceRun>,
    ceiling: ceiling::CeilingRun,
    ingest: ingest_run::IngestRun,
}

const MB: f64 = 1024.0 * 1024.0;

impl Report {
    fn ceiling_rate(&self) -> f64 {
        self.ceiling.messages as f64 / self.ceiling.elapsed.as_secs_f64()
    }
    fn ingest_rate(&self) -> f64 {
        self.messages as f64 / self.ingest.elapsed.as_secs_f64()
    }
    fn mean_file_mb(&self) -> f64 {
        self.ingest.file_bytes as f64 / MB / self.ingest.files.max(1) as f64
    }

    fn json(&self) -> serde_json::Value {
        let i = &self.ingest;
        serde_json::json!({
            "messages": self.messages,
            "payload_mb": self.ceiling.bytes as f64 / MB,
            "produce_tweets_per_s": self.produced.as_ref().map(|p| p.messages as f64 / p.elapsed.as_secs_f64()),
            "ceiling_tweets_per_s": self.ceiling_rate(),
            "ceiling_mb_per_s": self.ceiling.bytes as f64 / MB / self.ceiling.elapsed.as_secs_f64(),
            "ingest_seconds": i.elapsed.as_secs_f64(),
            "ingest_tweets_per_s": self.ingest_rate(),
            "ingest_mb_per_s": self.ceiling.bytes as f64 / MB / i.elapsed.as_secs_f64(),
            "ratio_to_ceiling": self.ingest_rate() / self.ceiling_rate(),
            "files": i.files,
            "mean_file_mb": self.mean_file_mb(),
            "lake_mb": i.file_bytes as f64 / MB,
            "commits": i.commits,
            "peak_rss_mb": i.peak_rss_kb as f64 / 1024.0,
            "cpu_seconds": i.cpu_seconds,
        })
    }

    fn print(&self) {
        let i = &self.ingest;
        let payload_mb = self.ceiling.bytes as f64 / MB;
        println!("messages            {:>12}", self.messages);
        println!(
            "payload             {:>12.1} MB ({:.0} B/tweet)",
            payload_mb,
            self.ceiling.bytes as f64 / self.messages as f64
        );
        if let Some(p) = &self.produced {
            println!(
                "produce             {:>12.0} tweets/s",
                p.messages as f64 / p.elapsed.as_secs_f64()
            );
        }
        println!(
            "ceiling (bare)      {:>12.0} tweets/s {:>8.1} MB/s",
            self.ceiling_rate(),
            payload_mb / self.ceiling.elapsed.as_secs_f64()
        );
        println!(
            "tweetlake ingest    {:>12.0} tweets/s {:>8.1} MB/s  ({:.1} s wall, {:.1} s CPU)",
            self.ingest_rate(),
            payload_mb / i.elapsed.as_secs_f64(),
            i.elapsed.as_secs_f64(),
            i.cpu_seconds
        );
        println!(
            "ratio to ceiling    {:>12.0} %",
            100.0 * self.ingest_rate() / self.ceiling_rate()
        );
        println!(
            "files               {:>12} (mean {:.1} MB, lake {:.1} MB)",
            i.files,
            self.mean_file_mb(),
            i.file_bytes as f64 / MB
        );
        println!("commits             {:>12}", i.commits);
        println!(
            "peak RSS            {:>12.1} MB",
            i.peak_rss_kb as f64 / 1024.0
        );
    }
}
