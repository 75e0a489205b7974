//! The soak test: the deployed shape on one machine, with faults, checked against ground truth.
//!
//! The timers' commands side by side, as the Ansible role runs them: the ingester as a service,
//! `promote silver` then `promote gold` every few seconds, `maintain` every `maintain_every`,
//! `serve` with eight Postgres clients running the Grafana dashboard's queries every second, and
//! `produce --synthetic` at a steady rate with noise and a few messages whose header key is not
//! UTF-8. Faults at random moments: `kill -9` of the ingester and of a running promotion, and a
//! 30-second broker freeze. At the end gold must equal the generator's truth, every Kafka offset
//! must be stored once, silver's side tables must equal a count of what the topic holds, and no
//! promotion, maintenance or dashboard query may have failed.
//!
//! `TWEETLAKE_SOAK_MINUTES` (3 in the suite), `TWEETLAKE_SOAK_S3=1` for a lake on SeaweedFS,
//! `TWEETLAKE_SOAK_SEED`, and `TWEETLAKE_SOAK_REPORT=FILE` for the summary as JSON;
//! `scripts/soak.sh MINUTES` sets them.

use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::*;

mod checks;
mod timers;

use checks::{check_end_state, commits};
use timers::{maintenance_loop, promotion_loop, Tally};

/// Messages per second the producer sends, and tweets per second of `created_at` time.
const RATE: u64 = 12;
const POISON: usize = 3;

/// A child killed when the test lets go of it, however the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A small deterministic generator for fault times (the seed is printed).
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The config every command of the deployment shares.
fn write_config(dir: &Path, broker: &str, lake_root: &str, pg: u16, http: u16) {
    let config = format!(
        r#"[lake]
root = "{lake_root}"

[kafka]
bootstrap_servers = "{broker}"

[produce]
stall_after = "2s"
delivery_timeout = "5s"

[bronze.flush]
max_latency = "1s"

[silver.ner]
enabled = false

[gold]
models_dir = "{models}"

[serve]
pg_listen = "127.0.0.1:{pg}"
http_listen = "127.0.0.1:{http}"
refresh_seconds = 2
"#,
        models = repo_root().join("sql").display(),
    );
    std::fs::write(dir.join("tweetlake.toml"), config).unwrap();
}

fn tweetlake_in(dir: &Path, env: &[(String, String)]) -> Command {
    let mut c = tweetlake(dir);
    c.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    c
}

fn spawn_logged(mut cmd: Command, log: &Path) -> Child {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    cmd.stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .expect("spawn")
}

fn sql_csv(dir: &Path, env: &[(String, String)], query: &str) -> Vec<String> {
    sql_csv_rows(&mut tweetlake_in(dir, env), query)
}

fn send_poison(broker: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use rdkafka::producer::{FutureProducer, FutureRecord};
        let producer: FutureProducer = rdkafka::config::ClientConfig::new()
            .set("bootstrap.servers", broker)
            .create()
            .unwrap();
        for i in 0..POISON {
            let value = format!("{{\"poison\":{i}}}");
            producer
                .send(
                    FutureRecord::<[u8], [u8]>::to("tweets")
                        .payload(value.as_bytes())
                        .headers(raw_headers(&[(&[0xc3, 0x28], b"x")])),
                    Duration::from_secs(60),
                )
                .await
                .map_err(|(e, _)| e)
                .expect("poison delivery");
        }
    });
}

#[test]
fn soak_the_deployed_pipeline_with_faults() {
    let minutes: f64 = env_or("TWEETLAKE_SOAK_MINUTES", 3.0);
    let seed: u64 = env_or("TWEETLAKE_SOAK_SEED", chrono::Utc::now().timestamp() as u64);
    let on_s3 = std::env::var("TWEETLAKE_SOAK_S3").is_ok_and(|v| v == "1");
    let total = Duration::from_secs_f64(minutes * 60.0);
    eprintln!(
        "soak: {minutes} minutes, seed {seed}, lake on {}",
        if on_s3 { "S3" } else { "local disk" }
    );

    let svc = Services::broker();
    svc.topic("tweets", 3);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().to_path_buf();
    eprintln!("soak: working in {}", dir.display());
    // Kept for a look at the logs when asked.
    let _work = match std::env::var("TWEETLAKE_SOAK_KEEP").is_ok_and(|v| v == "1") {
        true => {
            let _ = work.keep();
            None
        }
        false => Some(work),
    };
    let mut env: Vec<(String, String)> = Vec::new();
    let lake_root = if on_s3 {
        let endpoint = svc.s3();
        for (k, v) in [
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "tweetlake"),
            ("AWS_SECRET_ACCESS_KEY", "tweetlake-secret"),
        ] {
            env.push((k.into(), v.into()));
        }
        "s3://lake/soak".to_string()
    } else {
        "file://./lake".to_string()
    };
    let (pg, http) = (free_port(), free_port());
    write_config(&dir, &svc.broker, &lake_root, pg, http);
    let truth = dir.join("truth.csv");
    // Production ends a little before the run does, so the last tweets are promoted in time.
    let tweets = ((total.as_secs_f64() * 0.8) as u64 * RATE).max(200);
    let producer = Running(spawn_logged(
        {
            let mut c = tweetlake_in(&dir, &env);
            c.args([
                "produce",
                "--synthetic",
                &tweets.to_string(),
                "--seed",
                &seed.to_string(),
            ])
            .args([
                "--per-second",
                &RATE.to_string(),
                "--rate",
                &RATE.to_string(),
            ])
            .args(["--geo-share", "0.5", "--start", "2026-01-01T12:00:00Z"])
            .args([
                "--noise",
                "deletes=0.03,duplicates=0.03,late=0.05,malformed=0.01,limits=0.01",
            ])
            .arg("--truth")
            .arg(&truth);
            c
        },
        &dir.join("produce.log"),
    ));
    send_poison(&svc.broker);
    let ingest_cmd = || {
        let mut c = tweetlake_in(&dir, &env);
        c.arg("ingest");
        c
    };
    let mut ingester = Running(spawn_logged(ingest_cmd(), &dir.join("ingest.log")));
    let _server = Running(spawn_logged(
        {
            let mut c = tweetlake_in(&dir, &env);
            c.arg("serve");
            c
        },
        &dir.join("serve.log"),
    ));

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let mut dice = Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let kills = ((minutes / 1.5).ceil() as u64).max(2);
    let promoter = {
        let (dir, env, stop, tally) = (dir.clone(), env.clone(), stop.clone(), tally.clone());
        let seed = dice.below(u64::MAX);
        std::thread::spawn(move || promotion_loop(dir, env, stop, tally, kills, seed))
    };
    let maintainer = {
        let (dir, env, stop, tally) = (dir.clone(), env.clone(), stop.clone(), tally.clone());
        let every = Duration::from_secs(if minutes <= 5.0 { 30 } else { 60 });
        std::thread::spawn(move || maintenance_loop(dir, env, stop, tally, every))
    };
    // Clients start once serve shows the first gold tables, as a dashboard is set up after the
    // pipeline's first run; from then on every query must answer.
    // The generated tweets' day.
    let queries = dashboard_queries("2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z");
    assert!(queries.len() >= 5, "{queries:?}");
    assert!(
        wait_until(Duration::from_secs(120), || queries
            .iter()
            .all(|q| psql_once(pg, q))),
        "the dashboard's queries never answered"
    );
    let clients: Vec<_> = (0..8)
        .map(|i| {
            let (queries, stop, log) = (
                queries.clone(),
                stop.clone(),
                dir.join(format!("psql-{i}.log")),
            );
            std::thread::spawn(move || dashboard_client(pg, "", queries, stop, log))
        })
        .collect();

    // Faults at random moments of the middle of the run.
    let started = Instant::now();
    let window = total.as_secs().saturating_sub(60).max(30);
    let mut faults: Vec<(u64, &str)> = (0..kills)
        .map(|_| (15 + dice.below(window), "kill ingester"))
        .collect();
    faults.push((
        15 + dice.below(window.saturating_sub(30).max(1)),
        "freeze broker",
    ));
    faults.sort();
    for (at, fault) in faults {
        let at = Duration::from_secs(at);
        if let Some(wait) = at.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        match fault {
            "kill ingester" => {
                let _ = ingester.0.kill();
                let _ = ingester.0.wait();
                tally.ingester_kills.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(500 + dice.below(2000)));
                ingester = Running(spawn_logged(ingest_cmd(), &dir.join("ingest.log")));
            }
            _ => {
                svc.pause_broker();
                std::thread::sleep(Duration::from_secs(30));
                svc.resume_broker();
                tally.freezes.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    if let Some(rest) = total.checked_sub(started.elapsed()) {
        std::thread::sleep(rest);
    }
    stop.store(true, Ordering::Relaxed);
    promoter.join().unwrap();
    maintainer.join().unwrap();
    let (mut sent, mut answered, mut query_errors) = (0, 0, 0);
    for c in clients {
        let (s, a, e) = c.join().unwrap();
        sent += s;
        answered += a;
        query_errors += e;
    }

    // The producer must have delivered everything (its spool replayed after the freeze).
    let mut producer = producer;
    assert!(
        wait_until(Duration::from_secs(180), || producer
            .0
            .try_wait()
            .unwrap()
            .is_some()),
        "the producer did not finish"
    );
    let produced = std::fs::read_to_string(dir.join("produce.log")).unwrap_or_default();
    assert!(
        produced.contains(" 0 bytes left in the spool"),
        "{produced}"
    );
    // Stop the service ingester as systemd would, then catch up and promote one last time.
    let _ = Command::new("kill")
        .args(["-TERM", &ingester.0.id().to_string()])
        .status();
    let _ = ingester.0.wait();
    run_ok(tweetlake_in(&dir, &env).args(["ingest", "--until-caught-up"]));
    run_ok(tweetlake_in(&dir, &env).args(["promote", "silver"]));
    run_ok(tweetlake_in(&dir, &env).args(["promote", "gold"]));

    let topic = consume_all(&svc.broker, "tweets", 1, Duration::from_secs(60));
    check_end_state(&dir, &env, &lake_root, &truth, &topic, on_s3);
    let failures = (
        tally.promotion_failures.lock().unwrap().clone(),
        tally.maintenance_failures.lock().unwrap().clone(),
    );
    let summary = serde_json::json!({
        "minutes": minutes,
        "seed": seed,
        "lake": if on_s3 { "s3" } else { "local" },
        "messages": topic.len(),
        "tweets_generated": tweets,
        "faults": {
            "ingester_kill9": tally.ingester_kills.load(Ordering::Relaxed),
            "promotion_kill9": tally.promotions_killed.load(Ordering::Relaxed),
            "broker_freezes_30s": tally.freezes.load(Ordering::Relaxed),
            "poison_messages": POISON,
        },
        "promotions": tally.promotions.load(Ordering::Relaxed),
        "maintenances": tally.maintenances.load(Ordering::Relaxed),
        "files_compacted": tally.compacted_files.load(Ordering::Relaxed),
        "conflict_retries": tally.conflict_retries.load(Ordering::Relaxed),
        "commits": if on_s3 { serde_json::Value::Null } else { commits(&dir) },
        "dashboard_queries": {"sent": sent, "answered": answered, "errors": query_errors},
        "failures": {"promotions": failures.0.len(), "maintenance": failures.1.len()},
        "lost": 0,
        "duplicated": 0,
    });
    eprintln!("soak summary: {summary}");
    if let Ok(path) = std::env::var("TWEETLAKE_SOAK_REPORT") {
        std::fs::write(path, serde_json::to_string_pretty(&summary).unwrap()).unwrap();
    }
    assert!(
        failures.0.is_empty(),
        "promotions failed: {:#?}",
        failures.0
    );
    assert!(
        failures.1.is_empty(),
        "maintenance failed: {:#?}",
        failures.1
    );
    assert!(tally.maintenances.load(Ordering::Relaxed) >= 2);
    assert!(
        sent > 0 && answered == sent,
        "dashboard: {sent} sent, {answered} answered"
    );
    assert_eq!(query_errors, 0, "dashboard queries failed (see psql-*.err)");
}
