//! The silver benchmark: `tweetlake promote silver --full-refresh` over the bronze table the ingest
//! run wrote, with NER off and on at 1 and 2 threads, measured from outside (wall, CPU, peak RSS);
//! and NER alone, from `tweetlake ner eval` over the held-back BTC sample of real tweets.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::child::measure;

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
    let m = measure(&mut cmd)?;
    // "... R rows read, T tweets inserted, ..."
    let tweets =
        number_before(&m.out, " tweets inserted").context("no `tweets inserted` in the report")?;
    Ok(SilverRun {
        label,
        elapsed: m.elapsed,
        cpu_seconds: m.cpu_seconds,
        peak_rss_kb: m.peak_rss_kb,
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
    let m = measure(&mut cmd)?;
    let out = &m.out;
    // "tagged N sentences in S s"
    let tweets = number_before(out, " sentences in").context("no timing line in ner eval")?;
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
        cpu_seconds: m.cpu_seconds,
        peak_rss_kb: m.peak_rss_kb,
        tweets,
    })
}

fn number_before(text: &str, marker: &str) -> Option<u64> {
    let head = &text[..text.find(marker)?];
    head.rsplit(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}
