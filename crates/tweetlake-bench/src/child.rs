//! Runs a `tweetlake` command as a child process and measures it from outside: wall time, and
//! CPU time and peak RSS from `wait4`, with its stdout (the report) captured.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub struct Measured {
    pub out: String,
    pub elapsed: Duration,
    pub cpu_seconds: f64,
    pub peak_rss_kb: u64,
}

/// Runs `cmd` to the end; a non-zero exit is an error that carries its report.
pub fn measure(cmd: &mut Command) -> Result<Measured> {
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting tweetlake")?;
    let out = read_stdout(&mut child)?;
    let (status, usage) = wait4(child.id())?;
    let elapsed = started.elapsed();
    if status != 0 {
        bail!("tweetlake exited with status {status}: {out}");
    }
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Measured {
        out,
        elapsed,
        cpu_seconds: cpu(usage.ru_utime) + cpu(usage.ru_stime),
        peak_rss_kb: usage.ru_maxrss.max(0) as u64,
    })
}

pub fn read_stdout(child: &mut Child) -> Result<String> {
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        s.read_to_string(&mut out)?;
    }
    Ok(out)
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
