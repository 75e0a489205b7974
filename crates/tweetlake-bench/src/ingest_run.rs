//! Runs the real `tweetlake ingest --until-caught-up` as a child process and measures it from
//! outside: wall time, CPU time and peak RSS (from `wait4`), commits from its report, and files
//! and bytes from `tweetlake status --json`.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

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
    let started = Instant::now();
    let mut child = tweetlake(bin, bootstrap, topic, lake)
        .args(["ingest", "--until-caught-up"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        s.read_to_string(&mut out)?;
    }
    let (status, usage) = wait4(child.id())?;
    let elapsed = started.elapsed();
    if status != 0 {
        bail!("tweetlake ingest exited with status {status}: {out}");
    }
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
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(IngestRun {
        elapsed,
        cpu_seconds: cpu(usage.ru_utime) + cpu(usage.ru_stime),
        peak_rss_kb: usage.ru_maxrss.max(0) as u64,
        rows,
        quarantined,
        commits,
        files,
        file_bytes,
    })
}

/// Reaps `pid` and returns its exit status and resource usage (peak RSS in KiB on Linux).
pub fn wait4(pid: u32) -> Result<(i32, libc::rusage)> {
    let mut status = 0;
    // SAFETY: rusage is plain old data that wait4 fills in; zeroed is a valid value for it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet reaped; both pointers are valid for the call.
    let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    if r < 0 {
        return Err(std::io::Error::last_os_error()).context("wait4");
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Ok((code, usage))
}
