//! The silver benchmark: `tweetlake promote silver --full-refresh` over the bronze table the ingest
//! run wrote, with NER off and on at 1 and 2 threads, measured from outside (wall, CPU, peak RSS);
//! and NER alone, from `tweetlake ner eval` over the held-back BTC sample of real tweets.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::ingest_run::wait4;

pub struct SilverRun {
    pub label: String,
    pub elapsed: Duration,
    pub cpu_seconds: f64,
    pub peak_rss_kb: u64,
    pub tweets: u64,
}

impl SilverRun {
    pub fn rate(&self) -> f64 {
        self.tweets as f64 / self.elapsed.as_secs_f64()
    }
}

/// `threads`: `None` runs without NER.
pub fn promote(
    bin: &Path,
    lake: &Path,
    topic: &str,
    model: &Path,
    threads: Option<usize>,
) -> Result<SilverRun> {
    let mut cmd = Command::new(bin);
    cmd.arg("--lake-root")
        .arg(lake)
        .args(["--table", &format!("tweets={topic}"), "--log-level", "warn"])
        .args(["promote", "silver", "--full-refresh"])
        .env(
            "TWEETLAKE_SILVER__NER__ENABLED",
            threads.is_some().to_string(),
        )
        .env("TWEETLAKE_SILVER__NER__MODEL", model)
        .env(
            "TWEETLAKE_SILVER__NER__THREADS",
            threads.unwrap_or(1).to_string(),
        );
    let label = match threads {
        None => "promote silver, NER off".to_string(),
        Some(n) => format!(
            "promote silver, NER on, {n} thread{}",
            if n > 1 { "s" } else { "" }
        ),
    };
    let (out, elapsed, cpu_seconds, peak_rss_kb) = measure(&mut cmd)?;
    // "... R rows read, T tweets inserted, ..."
    let tweets =
        number_before(&out, " tweets inserted").context("no `tweets inserted` in the report")?;
    Ok(SilverRun {
        label,
        elapsed,
        cpu_seconds,
        peak_rss_kb,
        tweets,
    })
}

/// NER alone: tags every sentence of a CoNLL file; `tweets` is the sentence count.
pub fn ner_alone(bin: &Path, model: &Path, conll: &Path, threads: usize) -> Result<SilverRun> {
    let mut cmd = Command::new(bin);
    cmd.args(["--log-level", "warn", "ner", "eval", "--model"])
        .arg(model)
        .arg(conll)
        .env("TWEETLAKE_SILVER__NER__THREADS", threads.to_string());
    let (out, _, cpu_seconds, peak_rss_kb) = measure(&mut cmd)?;
    // "tagged N sentences in S s"
    let tweets = number_before(&out, " sentences in").context("no timing line in ner eval")?;
    let secs: f64 = out
        .split("sentences in ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .context("no seconds in ner eval's timing line")?;
    Ok(SilverRun {
        label: format!(
            "NER alone, {threads} thread{}",
            if threads > 1 { "s" } else { "" }
        ),
        elapsed: Duration::from_secs_f64(secs),
        cpu_seconds,
        peak_rss_kb,
        tweets,
    })
}

fn measure(cmd: &mut Command) -> Result<(String, Duration, f64, u64)> {
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting tweetlake")?;
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        s.read_to_string(&mut out)?;
    }
    let (status, usage) = wait4(child.id())?;
    let elapsed = started.elapsed();
    if status != 0 {
        bail!("tweetlake exited with status {status}: {out}");
    }
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok((
        out,
        elapsed,
        cpu(usage.ru_utime) + cpu(usage.ru_stime),
        usage.ru_maxrss.max(0) as u64,
    ))
}

fn number_before(text: &str, marker: &str) -> Option<u64> {
    let head = &text[..text.find(marker)?];
    head.rsplit(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}
