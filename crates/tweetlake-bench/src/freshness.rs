//! The freshness benchmark: the real `tweetlake run` (NER on, bronze flushing every second,
//! promotions on every commit) fed tweets in real time at a steady rate, and for every tweet the
//! time from its send to the commit that made it visible in bronze, silver and gold. The commits
//! say it themselves, in the Delta logs: bronze's records each partition's last offset (`txn`),
//! silver/tweets' the bronze version it read, gold's the silver version; each has its commit
//! time. So a tweet sent at `s` and stored at (partition, offset) is in bronze from the first
//! bronze commit whose offset for that partition reaches it, in silver from the first silver
//! commit that read that bronze version, in gold from the first gold commit that read that
//! silver version. Nothing is sampled, every tweet counts.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use rdkafka::config::ClientConfig;
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;

use crate::child::{read_stdout, wait4, PeakWatch};
use crate::tweets::TweetFactory;

/// One delivered tweet: when it was sent (ms since the epoch) and where Kafka stored it.
#[derive(Debug, Clone, Copy)]
struct Sent {
    at_ms: i64,
    partition: i32,
    offset: i64,
}

/// Collects where each tweet landed.
struct Deliveries(Mutex<Vec<(u64, i32, i64)>>);

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = Box<u64>;

    fn delivery(&self, result: &DeliveryResult<'_>, index: Self::DeliveryOpaque) {
        if let (Ok(m), Ok(mut out)) = (result, self.0.lock()) {
            out.push((*index, m.partition(), m.offset()));
        }
    }
}

/// One Delta commit, as far as freshness needs it.
#[derive(Debug, Clone)]
struct Commit {
    version: i64,
    at_ms: i64,
    /// `txn` actions: application id and version.
    txns: Vec<(String, i64)>,
}

/// Every commit of the table at `dir`, oldest first, and how many data files it holds now.
fn read_log(dir: &Path) -> Result<(Vec<Commit>, usize)> {
    let log = dir.join("_delta_log");
    let mut commits = Vec::new();
    let mut files = std::collections::BTreeSet::new();
    if !log.exists() {
        return Ok((commits, 0));
    }
    let mut paths: Vec<_> = std::fs::read_dir(&log)?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let Some(version) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse().ok())
        else {
            continue;
        };
        let mut commit = Commit {
            version,
            at_ms: 0,
            txns: Vec::new(),
        };
        let text = std::fs::read_to_string(&path)?;
        for line in text.lines() {
            let action: serde_json::Value = serde_json::from_str(line)
                .with_context(|| format!("{}: not JSON", path.display()))?;
            if let Some(t) = action["commitInfo"]["timestamp"].as_i64() {
                commit.at_ms = t;
            }
            if let (Some(app), Some(v)) = (
                action["txn"]["appId"].as_str(),
                action["txn"]["version"].as_i64(),
            ) {
                commit.txns.push((app.to_string(), v));
            }
            if let Some(p) = action["add"]["path"].as_str() {
                files.insert(p.to_string());
            }
            if let Some(p) = action["remove"]["path"].as_str() {
                files.remove(p);
            }
        }
        commits.push(commit);
    }
    Ok((commits, files.len()))
}

/// The first commit whose `txn` for an application id ending in `app_suffix` reaches `at_least`:
/// its version and time.
fn first_reaching(commits: &[Commit], app_suffix: &str, at_least: i64) -> Option<(i64, i64)> {
    commits
        .iter()
        .find(|c| {
            c.txns
                .iter()
                .any(|(app, v)| app.ends_with(app_suffix) && *v >= at_least)
        })
        .map(|c| (c.version, c.at_ms))
}

/// Lags of one layer, in ms, sorted.
pub struct Lags {
    pub layer: &'static str,
    pub ms: Vec<i64>,
}

impl Lags {
    pub fn percentile(&self, p: f64) -> Option<f64> {
        let n = self.ms.len();
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        let at = rank.clamp(1, n.max(1)) - 1;
        self.ms.get(at).map(|ms| *ms as f64 / 1000.0)
    }
}

pub struct Freshness {
    pub sent: usize,
    pub seconds: f64,
    pub layers: Vec<Lags>,
    /// Data files each table holds at the end.
    pub files: Vec<(&'static str, usize)>,
    pub cpu_seconds: f64,
    pub peak_rss_kb: u64,
    pub report: String,
}

/// The tables whose commits are read.
const BRONZE: &str = "bronze/tweets";
const SILVER: &str = "silver/tweets";
const GOLD: &str = "gold/tweets_per_city_5m";

/// When (ms since the epoch) a tweet became visible in bronze, silver and gold; `None`: not yet.
type Visible = [Option<i64>; 3];

/// When each sent tweet became visible in each layer, and each table's data files.
fn visibility(lake: &Path, topic: &str, sent: &[Sent]) -> Result<(Vec<Visible>, Vec<usize>)> {
    let (bronze, bronze_files) = read_log(&lake.join(BRONZE))?;
    let (silver, silver_files) = read_log(&lake.join(SILVER))?;
    let (gold, gold_files) = read_log(&lake.join(GOLD))?;
    let seen = sent
        .iter()
        .map(|s| {
            let partition = format!("-{topic}-{}", s.partition);
            let Some((bronze_version, in_bronze)) = first_reaching(&bronze, &partition, s.offset)
            else {
                return [None, None, None];
            };
            let in_silver = first_reaching(&silver, "-silver-tweets", bronze_version);
            let in_gold = in_silver.and_then(|(silver_version, _)| {
                first_reaching(&gold, "-gold-silver.tweets", silver_version)
            });
            [
                Some(in_bronze),
                in_silver.map(|(_, at)| at),
                in_gold.map(|(_, at)| at),
            ]
        })
        .collect();
    Ok((seen, vec![bronze_files, silver_files, gold_files]))
}

/// The tweet as a live stream sends it: created now (a retweet's original keeps its own time).
fn created_now(json: &[u8]) -> Vec<u8> {
    let Ok(mut tweet) = serde_json::from_slice::<serde_json::Value>(json) else {
        return json.to_vec();
    };
    let now = chrono::Utc::now();
    if let Some(data) = tweet.get_mut("data").filter(|d| d.is_object()) {
        data["created_at"] = now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string().into();
    } else if tweet.get("created_at").is_some() {
        tweet["created_at"] = now.format("%a %b %d %H:%M:%S +0000 %Y").to_string().into();
        if tweet.get("timestamp_ms").is_some() {
            tweet["timestamp_ms"] = now.timestamp_millis().to_string().into();
        }
    }
    serde_json::to_vec(&tweet).unwrap_or_else(|_| json.to_vec())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `tweetlake run` over `lake`, reading `topic`, with NER from `model` and gold from `sql/`; its
/// log (info) goes to `log`.
fn start_run(
    bin: &Path,
    bootstrap: &str,
    topic: &str,
    lake: &Path,
    (model, log): (&Path, &Path),
) -> Result<Child> {
    let log = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    Command::new(bin)
        .args(["--bootstrap-servers", bootstrap])
        .arg("--lake-root")
        .arg(lake)
        .args(["--table", &format!("tweets={topic}")])
        .args(["--group-id", &format!("bench-fresh-{}", std::process::id())])
        .args(["--log-level", "info", "run"])
        .env("TWEETLAKE_RUN__SERVE", "false")
        .env("TWEETLAKE_BRONZE__FLUSH__MAX_LATENCY", "1s")
        .env("TWEETLAKE_SILVER__NER__MODEL", model)
        .env("TWEETLAKE_GOLD__MODELS_DIR", "sql")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .context("starting tweetlake run")
}

/// Sends `n` tweets at `rate` per second, each stamped with its send time; where each landed.
fn send_steadily(
    bootstrap: &str,
    topic: &str,
    factory: &TweetFactory,
    n: u64,
    rate: f64,
) -> Result<Vec<Sent>> {
    let producer: BaseProducer<Deliveries> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "zstd")
        .set("linger.ms", "5")
        .create_with_context(Deliveries(Mutex::new(Vec::new())))
        .context("creating the producer")?;
    let started = Instant::now();
    let mut sent_at = Vec::with_capacity(n as usize);
    for i in 0..n {
        let due = started + Duration::from_secs_f64(i as f64 / rate);
        while Instant::now() < due {
            producer.poll(
                due.saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(5)),
            );
        }
        let (id, value) = factory.tweet_for_run(i);
        let key = id.to_string();
        let value = created_now(&value);
        sent_at.push(now_ms());
        let record = BaseRecord::with_opaque_to(topic, Box::new(i))
            .key(&key)
            .payload(&value);
        if let Err((e, _)) = producer.send(record) {
            return Err(e).context(format!("sending tweet {i}"));
        }
        producer.poll(Duration::ZERO);
    }
    producer
        .flush(Duration::from_secs(60))
        .context("waiting for every delivery")?;
    let delivered = std::mem::take(
        &mut *producer
            .context()
            .0
            .lock()
            .map_err(|_| anyhow::anyhow!("delivery list poisoned"))?,
    );
    if delivered.len() as u64 != n {
        bail!("{} of {n} tweets delivered", delivered.len());
    }
    let mut sent: Vec<Option<Sent>> = vec![None; n as usize];
    for (i, partition, offset) in delivered {
        let at_ms = sent_at.get(i as usize).copied().unwrap_or_default();
        if let Some(slot) = sent.get_mut(i as usize) {
            *slot = Some(Sent {
                at_ms,
                partition,
                offset,
            });
        }
    }
    Ok(sent.into_iter().flatten().collect())
}

/// Runs the benchmark: `n` tweets at `rate` per second into a fresh `run`, then up to two
/// minutes for gold to hold them all.
pub fn run(
    bin: &Path,
    bootstrap: &str,
    topic: &str,
    lake: &Path,
    model: &Path,
    (factory, n, rate): (&TweetFactory, u64, f64),
) -> Result<Freshness> {
    let log = std::env::temp_dir().join("tweetlake-freshness-run.log");
    eprintln!("`tweetlake run` logs to {}", log.display());
    let mut child = start_run(bin, bootstrap, topic, lake, (model, &log))?;
    let peak = PeakWatch::start(child.id());
    // The ingester joins its group and the models load before the clock starts.
    std::thread::sleep(Duration::from_secs(10));
    let started = Instant::now();
    let sent = send_steadily(bootstrap, topic, factory, n, rate);
    let seconds = started.elapsed().as_secs_f64();
    let sent = match sent {
        Ok(sent) => sent,
        Err(e) => {
            let _ = child.kill();
            return Err(e);
        }
    };
    eprintln!(
        "sent {} tweets in {seconds:.1} s; waiting for gold…",
        sent.len()
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let (seen, files) = loop {
        let (seen, files) = visibility(lake, topic, &sent)?;
        let counts: Vec<usize> = (0..3)
            .map(|k| seen.iter().filter(|s| s[k].is_some()).count())
            .collect();
        eprintln!(
            "visible in bronze, silver, gold: {counts:?} of {}",
            sent.len()
        );
        if seen.iter().all(|s| s[2].is_some()) || Instant::now() > deadline {
            break (seen, files);
        }
        std::thread::sleep(Duration::from_secs(5));
    };
    eprintln!("stopping `tweetlake run`…");
    // SAFETY: our own child; SIGTERM asks it to stop cleanly.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let report = read_stdout(&mut child)?;
    let (status, usage) = wait4(child.id())?;
    let peak_rss_kb = peak.finish();
    if status != 0 {
        bail!("tweetlake run exited with status {status}: {report}");
    }
    let layers = ["tweet → bronze", "tweet → silver", "tweet → gold"]
        .into_iter()
        .enumerate()
        .map(|(k, layer)| {
            let mut ms: Vec<i64> = seen
                .iter()
                .zip(&sent)
                .filter_map(|(s, sent)| Some(s.get(k).copied()?? - sent.at_ms))
                .collect();
            ms.sort_unstable();
            Lags { layer, ms }
        })
        .collect();
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Freshness {
        sent: sent.len(),
        seconds,
        layers,
        files: [BRONZE, SILVER, GOLD].into_iter().zip(files).collect(),
        cpu_seconds: cpu(usage.ru_utime) + cpu(usage.ru_stime),
        peak_rss_kb,
        report,
    })
}

impl Freshness {
    pub fn print(&self) {
        println!(
            "{} tweets sent in {:.0} s ({:.0}/s) into `tweetlake run`",
            self.sent,
            self.seconds,
            self.sent as f64 / self.seconds
        );
        println!("| lag | tweets | p50 s | p95 s | max s |");
        println!("|---|---|---|---|---|");
        for l in &self.layers {
            let p = |q| l.percentile(q).map_or("—".into(), |s| format!("{s:.1}"));
            println!(
                "| {} | {} | {} | {} | {} |",
                l.layer,
                l.ms.len(),
                p(50.0),
                p(95.0),
                p(100.0)
            );
        }
        let files: Vec<String> = self.files.iter().map(|(t, n)| format!("{t} {n}")).collect();
        println!("data files at the end: {}", files.join(", "));
        println!(
            "run: {:.1} CPU s, peak RSS {} MB; {}",
            self.cpu_seconds,
            self.peak_rss_kb / 1024,
            self.report.trim()
        );
    }
}
