//! The produce benchmark: the real `tweetlake produce --file` replaying the benchmark tweets,
//! measured from outside (wall, CPU, peak RSS), and its disk spool: with the broker paused
//! (SIGSTOP) every tweet goes to the spool; on SIGCONT the spool is replayed into Kafka. Both rates
//! are read from the producer's own `/metrics` counters.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::child::{measure, read_stdout, wait4};

pub struct ReplayRun {
    pub elapsed: Duration,
    pub cpu_seconds: f64,
    pub peak_rss_kb: u64,
}

pub struct SpoolRun {
    /// From the first spooled message to the last.
    pub write: Duration,
    /// From the broker's return to the last replayed message.
    pub replay: Duration,
    pub messages: u64,
}

fn produce(bin: &Path, bootstrap: &str, topic: &str, file: &Path, spool: &Path) -> Command {
    let mut c = Command::new(bin);
    c.args(["--bootstrap-servers", bootstrap, "--log-level", "warn"])
        .args(["produce", "--topic", topic, "--file"])
        .arg(file)
        .arg("--spool-dir")
        .arg(spool)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    c
}

/// Times a plain replay of `file` into `topic`.
pub fn replay(
    bin: &Path,
    bootstrap: &str,
    topic: &str,
    file: &Path,
    work: &Path,
) -> Result<ReplayRun> {
    let m = measure(&mut produce(
        bin,
        bootstrap,
        topic,
        file,
        &work.join("spool-replay"),
    ))
    .context("tweetlake produce")?;
    if !m.out.contains("0 bytes left in the spool") {
        bail!("tweetlake produce left tweets in the spool: {}", m.out);
    }
    Ok(ReplayRun {
        elapsed: m.elapsed,
        cpu_seconds: m.cpu_seconds,
        peak_rss_kb: m.peak_rss_kb,
    })
}

/// Spools all of `file` while the broker (`broker_pid`) is stopped, then replays it.
pub fn spool(
    bin: &Path,
    bootstrap: &str,
    topic: &str,
    file: &Path,
    work: &Path,
    broker_pid: i32,
    messages: u64,
) -> Result<SpoolRun> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    signal(broker_pid, libc::SIGSTOP)?;
    let child = produce(bin, bootstrap, topic, file, &work.join("spool-outage"))
        .args(["--metrics-listen", &format!("127.0.0.1:{port}")])
        .env("TWEETLAKE_PRODUCE__DELIVERY_TIMEOUT", "2s")
        .env("TWEETLAKE_PRODUCE__STALL_AFTER", "1s")
        .spawn();
    let result = child
        .context("starting tweetlake produce")
        .and_then(|mut child| measure_spool(&mut child, port, broker_pid, messages));
    // The broker must run again whatever happened.
    signal(broker_pid, libc::SIGCONT)?;
    result
}

fn measure_spool(child: &mut Child, port: u16, broker_pid: i32, messages: u64) -> Result<SpoolRun> {
    let first = wait_for(port, "spooled_total", |n| n > 0, Duration::from_secs(120))?;
    let all = wait_for(
        port,
        "spooled_total",
        |n| n >= messages,
        Duration::from_secs(600),
    )?;
    signal(broker_pid, libc::SIGCONT)?;
    let back = Instant::now();
    let replayed = wait_for(
        port,
        "replayed_total",
        |n| n >= messages,
        Duration::from_secs(600),
    )?;
    let out = read_stdout(child)?;
    let (status, _) = wait4(child.id())?;
    if status != 0 {
        bail!("tweetlake produce exited with status {status}: {out}");
    }
    Ok(SpoolRun {
        write: all - first,
        replay: replayed - back,
        messages,
    })
}

fn signal(pid: i32, sig: i32) -> Result<()> {
    // SAFETY: kill only sends a signal to the broker process this benchmark started.
    if unsafe { libc::kill(pid, sig) } != 0 {
        return Err(std::io::Error::last_os_error()).context(format!("signalling broker {pid}"));
    }
    Ok(())
}

/// Polls `tweetlake_produce_<counter>` every 50 ms until `done`; returns when it became true.
fn wait_for(
    port: u16,
    counter: &str,
    done: impl Fn(u64) -> bool,
    limit: Duration,
) -> Result<Instant> {
    let started = Instant::now();
    let name = format!("tweetlake_produce_{counter} ");
    while started.elapsed() < limit {
        if let Some(n) = scrape(port, &name) {
            if done(n) {
                return Ok(Instant::now());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("{counter} did not reach its target within {limit:?}")
}

fn scrape(port: u16, name: &str) -> Option<u64> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nhost: bench\r\n\r\n")
        .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    body.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().parse().ok())
}
