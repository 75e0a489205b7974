//! Runs a `tweetlake` command as a child process and measures it from outside: wall time, CPU
//! time from `wait4`, peak RSS from the child's own `VmHWM` ([`PeakWatch`]), with its stdout (the
//! report) captured.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
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
    let peak = PeakWatch::start(child.id());
    let out = read_stdout(&mut child)?;
    let (status, usage) = wait4(child.id())?;
    let elapsed = started.elapsed();
    let peak_rss_kb = peak.finish();
    if status != 0 {
        bail!("tweetlake exited with status {status}: {out}");
    }
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Measured {
        out,
        elapsed,
        cpu_seconds: cpu(usage.ru_utime) + cpu(usage.ru_stime),
        peak_rss_kb,
    })
}

/// Peak resident memory of a running child, polled from `/proc/PID/status` (`VmHWM`, the high-water
/// mark of its own address space). `wait4`'s `ru_maxrss` is not the child's: Linux folds the
/// address space an `exec` replaces into it, and a child spawned from this process starts in a
/// copy (or, with `vfork`, the very pages) of the bench's, whose own peak is the bare consumer's
/// prefetch it has just run — it reported the bench's ~480 MB as `ingest`'s peak. `VmHWM` starts again at each `exec` (also the
/// re-exec that `tweetlake` does for its runtime environment), so the maximum over the samples is
/// the peak of the images that ran; a new peak in the last 10 ms before exit would be missed.
pub struct PeakWatch {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<u64>,
}

impl PeakWatch {
    pub fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stop_seen = stop.clone();
        let thread = std::thread::spawn(move || {
            let path = format!("/proc/{pid}/status");
            let mut peak = 0;
            while !stop_seen.load(Ordering::Relaxed) {
                if let Some(kb) = std::fs::read_to_string(&path)
                    .ok()
                    .as_deref()
                    .and_then(vm_hwm_kb)
                {
                    peak = peak.max(kb);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            peak
        });
        Self { stop, thread }
    }

    /// The highest `VmHWM` seen, in KiB (0 when none could be read).
    pub fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or(0)
    }
}

/// `VmHWM:   306040 kB` → 306040.
fn vm_hwm_kb(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_high_water_mark() {
        let status =
            "Name:\ttweetlake\nVmPeak:\t 900 kB\nVmHWM:\t  306040 kB\nVmRSS:\t 194908 kB\n";
        assert_eq!(vm_hwm_kb(status), Some(306_040));
        assert_eq!(vm_hwm_kb("Name:\tzombie\nState:\tZ\n"), None);
    }

    #[test]
    fn watches_a_child_that_touches_memory() {
        // A child that holds 64 MiB resident for a moment: its peak is at least that, and not
        // this test process's.
        let mut child = Command::new("python3")
            .args([
                "-c",
                "import time; b = bytearray(64 << 20); time.sleep(0.3)",
            ])
            .spawn()
            .expect("python3 runs");
        let peak = PeakWatch::start(child.id());
        child.wait().expect("child exits");
        let kb = peak.finish();
        assert!(kb >= 64 * 1024, "peak {kb} KiB");
        assert!(kb < 256 * 1024, "peak {kb} KiB");
    }
}
