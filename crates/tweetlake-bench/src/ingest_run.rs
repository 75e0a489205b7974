//! Runs the real `tweetlake ingest --until-caught-up` as a child process and measures it from
//! outside (crate::child): wall time, CPU time and peak RSS, commits from its report, and files
//! and bytes from `tweetlake status --json`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::child::measure;

pub struct IngestRun {
    pub elapsed: Duration,
    pub cpu_seconds: f64,
    pub peak_rss_kb: u64,
    pub rows: u64,
    pub quarantined: u64,
    pub commits: u64,
    pub files: u64,
    pub file_bytes: u64,
}

fn tweetlake(bin: &Path, bootstrap: &str, topic: &str, lake: &Path) -> Command {
    let mut c = Command::new(bin);
    c.args(["--bootstrap-servers", bootstrap])
        .arg("--lake-root")
        .arg(lake)
        .args(["--table", &format!("tweets={topic}")])
        .args(["--group-id", &format!("bench-{}", std::process::id())])
        .args(["--log-level", "warn"]);
    c
}

pub fn run(bin: &Path, bootstrap: &str, topic: &str, lake: &Path) -> Result<IngestRun> {
    let m = measure(tweetlake(bin, bootstrap, topic, lake).args(["ingest", "--until-caught-up"]))
        .context("tweetlake ingest")?;
    let out = &m.out;
    // "bronze/tweets: R rows, Q quarantined, B bytes, C commits"
    let numbers: Vec<u64> = out
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse().ok())
        .collect();
    let [rows, quarantined, _bytes, commits] = numbers[..] else {
        bail!("unexpected ingest report: {out}");
    };
    let status = tweetlake(bin, bootstrap, topic, lake)
        .args(["status", "--json", "--offline"])
        .output()
        .context("tweetlake status")?;
    let tables: serde_json::Value =
        serde_json::from_slice(&status.stdout).context("parsing tweetlake status --json")?;
    let (mut files, mut file_bytes) = (0, 0);
    for t in tables.as_array().into_iter().flatten() {
        files += t["files"].as_u64().unwrap_or(0);
        file_bytes += t["size_bytes"].as_u64().unwrap_or(0);
    }
    Ok(IngestRun {
        elapsed: m.elapsed,
        cpu_seconds: m.cpu_seconds,
        peak_rss_kb: m.peak_rss_kb,
        rows,
        quarantined,
        commits,
        files,
        file_bytes,
    })
}
