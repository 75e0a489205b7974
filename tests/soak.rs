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
//! `scripts/soak.sh MINUTES` sets them. (Compiled into the `bronze` test binary.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;

/// Messages per second the producer sends, and tweets per second of `created_at` time.
const RATE: u64 = 12;
const POISON: usize = 3;

/// What happened during the run, for the summary and the checks.
#[derive(Default)]
struct Tally {
    promotions: AtomicU64,
    promotion_failures: Mutex<Vec<String>>,
    promotions_killed: AtomicU64,
    maintenances: AtomicU64,
    maintenance_failures: Mutex<Vec<String>>,
    compacted_files: AtomicU64,
    conflict_retries: AtomicU64,
    ingester_kills: AtomicU64,
    freezes: AtomicU64,
}

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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
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
fn promotion_loop(
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
fn maintenance_loop(
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
        let compacted: u64 = report
            .lines()
            .filter_map(|l| {
                l.split(" compacted")
                    .next()?
                    .rsplit(' ')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum();
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

/// One dashboard client: a long-lived `psql` session (as a pool connection is) that runs every
/// dashboard query once a second. Returns (queries sent, answered, errors).
fn dashboard_client(
    pg: u16,
    queries: Vec<String>,
    stop: Arc<AtomicBool>,
    log: PathBuf,
) -> (u64, u64, u64) {
    let err_log = log.with_extension("err");
    let mut psql = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &pg.to_string(),
            "-U",
            "tweetlake",
            "-d",
            "tweetlake",
        ])
        .args(["-X", "-A", "-t", "-q"])
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(&err_log).unwrap())
        .spawn()
        .expect("psql");
    let mut stdin = psql.stdin.take().unwrap();
    let mut sent = 0;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        for q in &queries {
            if writeln!(stdin, "{q};\n\\echo __answered__").is_err() {
                break;
            }
            sent += 1;
        }
        let _ = stdin.flush();
        std::thread::sleep(Duration::from_secs(1).saturating_sub(started.elapsed()));
    }
    drop(stdin);
    let _ = psql.wait();
    let answered = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .matches("__answered__")
        .count() as u64;
    let errors = std::fs::read_to_string(&err_log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("FATAL") || l.contains("connection"))
        .count() as u64;
    (sent, answered, errors)
}

/// Whether one query answers (a fresh connection).
fn psql_once(pg: u16, sql: &str) -> bool {
    Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &pg.to_string(),
            "-U",
            "tweetlake",
            "-d",
            "tweetlake",
        ])
        .args(["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .env("PGCONNECT_TIMEOUT", "5")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The dashboard's queries with Grafana's `$__timeFilter` over the generated tweets' day.
fn dashboard_queries() -> Vec<String> {
    let dashboard: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("docs/grafana-dashboard.json")).unwrap(),
    )
    .unwrap();
    dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["targets"][0]["rawSql"].as_str())
        .map(|sql| {
            let mut out = sql.trim().trim_end_matches(';').to_string();
            while let Some(at) = out.find("$__timeFilter(") {
                let close = at + out[at..].find(')').unwrap();
                let column = out[at + "$__timeFilter(".len()..close].to_string();
                out.replace_range(
                    at..=close,
                    &format!("{column} BETWEEN '2026-01-01T00:00:00Z' AND '2026-01-03T00:00:00Z'"),
                );
            }
            out.replace('\n', " ")
        })
        .collect()
}

fn sql_csv(dir: &Path, env: &[(String, String)], query: &str) -> Vec<String> {
    run_ok(
        tweetlake_in(dir, env)
            .args(["sql", "--output-format", "csv"])
            .arg(query),
    )
    .lines()
    .skip(1)
    .map(str::to_string)
    .collect()
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
    let queries = dashboard_queries();
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
            std::thread::spawn(move || dashboard_client(pg, queries, stop, log))
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

/// Commits per layer of a local lake (the commit files its logs hold; log cleanup keeps 30 days).
fn commits(dir: &Path) -> serde_json::Value {
    let mut commits = serde_json::Map::new();
    for layer in ["bronze", "silver", "gold"] {
        let mut n = 0;
        for table in std::fs::read_dir(dir.join("lake").join(layer))
            .into_iter()
            .flatten()
            .flatten()
        {
            let log = table.path().join("_delta_log");
            n += std::fs::read_dir(log)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.ends_with(".json") && !name.contains("checkpoint")
                })
                .count();
        }
        commits.insert(layer.to_string(), n.into());
    }
    commits.into()
}

/// Gold equals the truth; every offset is stored once; silver's side tables equal a count of the
/// topic's own messages.
fn check_end_state(
    dir: &Path,
    env: &[(String, String)],
    lake_root: &str,
    truth: &Path,
    topic: &[(Option<Vec<u8>>, Vec<u8>)],
    on_s3: bool,
) {
    // Every offset of every partition, once, in bronze or its quarantine.
    let per_partition = sql_csv(
        dir,
        env,
        "SELECT kafka_partition, count(*), count(DISTINCT kafka_offset), max(kafka_offset) + 1 \
         FROM (SELECT kafka_partition, kafka_offset FROM bronze.tweets UNION ALL \
               SELECT kafka_partition, kafka_offset FROM bronze.tweets_quarantine) \
         GROUP BY 1 ORDER BY 1",
    );
    let mut stored = 0;
    for line in &per_partition {
        let n: Vec<i64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        assert_eq!(
            (n[1], n[2]),
            (n[3], n[3]),
            "partition {}: rows, distinct offsets, end",
            n[0]
        );
        stored += n[1];
    }
    assert_eq!(
        stored as usize,
        topic.len(),
        "bronze holds every message of the topic"
    );

    // Silver's side tables against what the topic holds.
    let json: Vec<serde_json::Value> = topic
        .iter()
        .filter_map(|(_, v)| serde_json::from_slice(v).ok())
        .collect();
    let not_json = topic.len() - json.len();
    let deletes = json.iter().filter(|v| v.get("delete").is_some()).count();
    let limits = json.iter().filter(|v| v.get("limit").is_some()).count();
    let quarantined = sql_csv(dir, env, "SELECT count(*) FROM bronze.tweets_quarantine");
    assert_eq!(quarantined, [(not_json + POISON).to_string()]);
    assert_eq!(
        sql_csv(dir, env, "SELECT count(*) FROM silver.deletes"),
        [deletes.to_string()]
    );
    assert_eq!(
        sql_csv(
            dir,
            env,
            "SELECT coalesce(sum(messages), 0) FROM silver.stream_events WHERE kind = 'limit'"
        ),
        [limits.to_string()]
    );
    for table in ["tweets_quarantine", "deletes", "notices"] {
        let rows = sql_csv(
            dir,
            env,
            &format!(
                "SELECT count(*) - count(DISTINCT (bronze_topic, bronze_partition, bronze_offset)) \
                 FROM silver.{table}"
            ),
        );
        assert_eq!(rows, ["0"], "silver.{table} holds a bronze row twice");
    }

    // Gold against the generator's truth, read by the independent checker.
    if !on_s3 {
        let lake = dir.join(lake_root.trim_start_matches("file://./"));
        let check = run_python_reader(
            "gold_check.py",
            &[lake.display().to_string(), truth.display().to_string()],
        );
        assert_eq!(check["truth_equal"], true, "{check}");
        for (model, result) in check["models"].as_object().unwrap() {
            assert_eq!(result["equal"], true, "gold.{model} differs: {result}");
        }
    } else {
        truth_by_sql(dir, env, truth);
    }
}

/// On S3 the Python checker has no credentials wired: compare gold with the truth through SQL.
fn truth_by_sql(dir: &Path, env: &[(String, String)], truth: &Path) {
    let text = std::fs::read_to_string(truth).unwrap();
    let mut expected: Vec<Vec<String>> = text.lines().skip(1).map(csv_fields).collect();
    expected.sort();
    let out = run_ok(tweetlake_in(dir, env).args(["sql", "--output-format", "json"]).arg(
        "SELECT place, to_char(window_start, '%Y-%m-%dT%H:%M:%SZ') AS w, tweets, retweets, \
         unique_users FROM gold.tweets_per_city_5m",
    ));
    let mut got: Vec<Vec<String>> = out
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            ["place", "w", "tweets", "retweets", "unique_users"]
                .iter()
                .map(|k| match &v[*k] {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    got.sort();
    assert_eq!(got, expected);
}

/// The fields of one RFC 4180 line (quotes doubled inside quoted fields).
fn csv_fields(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted, mut chars) =
        (Vec::new(), String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}
