//! The deployment's timers, as threads: promotions every few seconds (some killed with SIGKILL at
//! a random moment) and maintenance beside them, each run's outcome tallied.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{tweetlake_in, Dice};
use crate::support::*;

/// What happened during the run, for the summary and the checks.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) promotions: AtomicU64,
    pub(super) promotion_failures: Mutex<Vec<String>>,
    pub(super) promotions_killed: AtomicU64,
    pub(super) maintenances: AtomicU64,
    pub(super) maintenance_failures: Mutex<Vec<String>>,
    pub(super) compacted_files: AtomicU64,
    pub(super) conflict_retries: AtomicU64,
    pub(super) ingester_kills: AtomicU64,
    pub(super) freezes: AtomicU64,
}

/// Sums `N conflict retries` over a command's report lines.
fn conflict_retries(report: &str) -> u64 {
    report
        .lines()
        .filter_map(|l| l.strip_suffix(" conflict retries"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// `promote silver` then `promote gold`, every few seconds, as the timers run them; now and then
/// one is killed with SIGKILL at a random moment.
pub(super) fn promotion_loop(
    dir: PathBuf,
    env: Vec<(String, String)>,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
    kills: u64,
    seed: u64,
) {
    let mut dice = Dice(seed | 1);
    let mut kills_left = kills;
    while !stop.load(Ordering::Relaxed) {
        for layer in ["silver", "gold"] {
            let mut cmd = tweetlake_in(&dir, &env);
            cmd.args(["promote", layer])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn promote");
            let kill_at = (kills_left > 0 && dice.below(4) == 0)
                .then(|| Duration::from_millis(300 + dice.below(2500)));
            let started = Instant::now();
            let mut killed = false;
            while child.try_wait().unwrap().is_none() {
                if kill_at.is_some_and(|at| started.elapsed() >= at) {
                    let _ = child.kill();
                    killed = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let out = child.wait_with_output().unwrap();
            if killed && !out.status.success() {
                kills_left -= 1;
                tally.promotions_killed.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            tally.promotions.fetch_add(1, Ordering::Relaxed);
            let report = String::from_utf8_lossy(&out.stdout);
            tally
                .conflict_retries
                .fetch_add(conflict_retries(&report), Ordering::Relaxed);
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr).into_owned();
                // Before the ingester's (or silver's) first commit there is nothing to promote.
                if !err.contains("run `tweetlake ingest` first")
                    && !err.contains("which the lake does not have yet")
                {
                    tally.promotion_failures.lock().unwrap().push(err);
                }
            }
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// `maintain` every `every`, beside the promotions.
pub(super) fn maintenance_loop(
    dir: PathBuf,
    env: Vec<(String, String)>,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
    every: Duration,
) {
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        if last.elapsed() < every {
            continue;
        }
        last = Instant::now();
        let out = tweetlake_in(&dir, &env).arg("maintain").output().unwrap();
        tally.maintenances.fetch_add(1, Ordering::Relaxed);
        let report = String::from_utf8_lossy(&out.stdout);
        tally
            .conflict_retries
            .fetch_add(conflict_retries(&report), Ordering::Relaxed);
        let compacted = compacted_files(&report);
        tally
            .compacted_files
            .fetch_add(compacted, Ordering::Relaxed);
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            if !err.contains("the lake has no such table") {
                tally.maintenance_failures.lock().unwrap().push(err);
            }
        }
    }
}
