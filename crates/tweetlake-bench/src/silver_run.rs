//! The silver benchmark: `tweetlake promote silver --full-refresh` over the bronze table the ingest
//! run wrote, with NER off and on per worker count and precision, measured from outside (wall,
//! CPU, peak RSS); and NER alone, from `tweetlake ner eval` over the held-back BTC sample.

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

    /// Tweets per CPU second: unlike the wall rate, not lowered by time a shared machine steals.
    pub fn rate_per_cpu_second(&self) -> f64 {
        self.tweets as f64 / self.cpu_seconds.max(f64::EPSILON)
    }
}

/// How NER runs: worker threads and `silver.ner.precision`.
#[derive(Debug, Clone, Copy)]
pub struct NerSetting {
    pub threads: usize,
    pub precision: &'static str,
}

impl NerSetting {
    fn label(&self) -> String {
        let s = if self.threads > 1 { "s" } else { "" };
        format!("{} thread{s}, {}", self.threads, self.precision)
    }

    fn apply(&self, cmd: &mut Command) {
        cmd.env("TWEETLAKE_SILVER__NER__THREADS", self.threads.to_string())
            .env("TWEETLAKE_SILVER__NER__PRECISION", self.precision);
    }
}

/// `ner`: `None` runs without NER.
pub fn promote(
    bin: &Path,
    lake: &Path,
    topic: &str,
    model: &Path,
    ner: Option<NerSetting>,
) -> Result<SilverRun> {
    let mut cmd = Command::new(bin);
    cmd.arg("--lake-root")
        .arg(lake)
        .args(["--table", &format!("tweets={topic}"), "--log-level", "warn"])
        .args(["promote", "silver", "--full-refresh"])
        .env("TWEETLAKE_SILVER__NER__ENABLED", ner.is_some().to_string())
        .env("TWEETLAKE_SILVER__NER__MODEL", model);
    let label = match ner {
        None => "promote silver, NER off".to_string(),
        Some(n) => {
            n.apply(&mut cmd);
            format!("promote silver, NER {}", n.label())
        }
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
pub fn ner_alone(bin: &Path, model: &Path, conll: &Path, ner: NerSetting) -> Result<SilverRun> {
    let mut cmd = Command::new(bin);
    cmd.args(["--log-level", "warn", "ner", "eval", "--model"])
        .arg(model)
        .arg(conll);
    ner.apply(&mut cmd);
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
        label: format!("NER alone, {}", ner.label()),
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
