//! Shared helpers of the end-to-end tests: real services started by `scripts/services.sh`, the
//! `tweetlake` binary run as a user would, and the independent readers in `tests/readers/`.

#![allow(dead_code)]

mod psql;
pub use psql::*;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use sha2::{Digest, Sha256};

/// The repository, from the manifest directory the test runner gives at run time (a test binary
/// reused from a checkout elsewhere still finds this one's files).
pub fn repo_root() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..")
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("tests/fixtures").join(name)).expect("fixture")
}

fn tweetlake_home() -> PathBuf {
    std::env::var_os("TWEETLAKE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cache/tweetlake")
        })
}

/// Services started for one test, stopped on drop.
pub struct Services {
    pub dir: tempfile::TempDir,
    pub broker: String,
}

impl Services {
    pub fn broker() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = services(&["broker", dir.path().to_str().unwrap()]);
        let broker = String::from_utf8(out.stdout).unwrap().trim().to_string();
        assert!(
            broker.starts_with("127.0.0.1:"),
            "broker address {broker:?}"
        );
        Self { dir, broker }
    }

    pub fn topic(&self, name: &str, partitions: i32) {
        services(&[
            "topic",
            self.dir.path().to_str().unwrap(),
            name,
            &partitions.to_string(),
        ]);
    }

    /// Freezes the broker process (SIGSTOP): connections stay open, nothing answers. Unlike a restart,
    /// tansu keeps its data.
    pub fn pause_broker(&self) {
        self.signal_broker("-STOP");
    }

    pub fn resume_broker(&self) {
        self.signal_broker("-CONT");
    }

    fn signal_broker(&self, signal: &str) {
        let pid = std::fs::read_to_string(self.dir.path().join("broker.pid")).expect("broker.pid");
        let ok = Command::new("kill")
            .args([signal, pid.trim()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill {signal} {pid}");
    }

    /// Replaces the broker with a new, empty one on the same address, as when a cluster is rebuilt
    /// or a topic deleted and recreated: offsets start again at 0.
    pub fn rebuild_broker(&self) {
        services(&["restart-broker", self.dir.path().to_str().unwrap()]);
    }

    /// Starts SeaweedFS (S3 on 127.0.0.1:8333) into the same folder.
    pub fn s3(&self) -> String {
        let out = services(&["s3", self.dir.path().to_str().unwrap()]);
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("scripts/services.sh"))
            .args(["stop", self.dir.path().to_str().unwrap()])
            .status();
    }
}

fn services(args: &[&str]) -> Output {
    let out = Command::new(repo_root().join("scripts/services.sh"))
        .args(args)
        .output()
        .expect("run scripts/services.sh");
    assert!(
        out.status.success(),
        "services.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The `tweetlake` binary with a clean environment for config (no user TWEETLAKE_* leaking in).
pub fn tweetlake(cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tweetlake"));
    c.current_dir(cwd);
    for (k, _) in std::env::vars() {
        if k.starts_with("TWEETLAKE_") {
            c.env_remove(k);
        }
    }
    c.env("TWEETLAKE_LOG__LEVEL", "warn");
    // The model scripts/setup-ner.sh trains; promote silver runs NER with it.
    c.env(
        "TWEETLAKE_SILVER__NER__MODEL",
        repo_root().join("models/tweetlake-ner"),
    );
    c
}

/// Runs `tweetlake` with info-level logs and returns stdout and the log (stderr), asserting that
/// it succeeded.
pub fn run_logged(cmd: &mut Command) -> (String, String) {
    let out = cmd
        .env("TWEETLAKE_LOG__LEVEL", "info")
        .output()
        .expect("spawn tweetlake");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{cmd:?} failed: {log}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), log)
}

/// Runs `cmd` on a pseudo-terminal (util-linux `script`, part of every Debian) and returns what
/// the terminal got, stdout and stderr together, asserting that it succeeded.
pub fn run_on_terminal(cmd: &Command) -> String {
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"));
    let line: Vec<String> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(quote)
        .collect();
    let mut script = Command::new("script");
    script.args(["-qec", &line.join(" "), "/dev/null"]);
    script.stdin(Stdio::null());
    if let Some(dir) = cmd.get_current_dir() {
        script.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    let out = script.output().expect("spawn script");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{line:?} failed on a terminal: {text}"
    );
    text
}

pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("spawn tweetlake");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What a `produce --synthetic --truth` file counts: its rows (city, 5-minute window) and the
/// tweets in them, as gold.tweets_per_city_5m must hold them.
pub fn truth_totals(path: &Path) -> (i64, i64) {
    let truth = std::fs::read_to_string(path).unwrap();
    truth.lines().skip(1).fold((0, 0), |(rows, tweets), line| {
        let cells: Vec<&str> = line.rsplitn(4, ',').collect();
        (rows + 1, tweets + cells[2].parse::<i64>().unwrap())
    })
}

/// Sends SIGTERM to a long-running command (`run`, `serve`) and waits up to a minute for it to
/// exit; its exit status.
pub fn stop_with_sigterm(child: &mut Child) -> std::process::ExitStatus {
    // SAFETY: our own child's pid; SIGTERM asks it to stop cleanly.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let mut status = None;
    wait_until(Duration::from_secs(60), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    status.expect("it did not stop within 60 s of SIGTERM")
}

pub fn spawn(cmd: &mut Command) -> Child {
    // stdout carries the final report; logs go to the test's own stderr so no pipe fills up.
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn")
}

/// A message to produce: value, optional key, headers.
pub type Msg = (Vec<u8>, Option<Vec<u8>>, Vec<(String, Vec<u8>)>);

/// Sends messages and returns once all are acknowledged.
pub fn produce(broker: &str, topic: &str, messages: &[Msg]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", broker)
            .set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .create()
            .unwrap();
        for window in messages.chunks(5000) {
            let sends = window.iter().map(|(v, k, h)| {
                let mut headers = OwnedHeaders::new();
                for (hk, hv) in h {
                    headers = headers.insert(Header {
                        key: hk,
                        value: Some(hv),
                    });
                }
                let mut r = FutureRecord::<[u8], [u8]>::to(topic)
                    .payload(v)
                    .headers(headers);
                if let Some(k) = k {
                    r = r.key(k);
                }
                producer.send(r, Duration::from_secs(30))
            });
            for res in futures::future::join_all(sends).await {
                res.map_err(|(e, _)| e).expect("delivery");
            }
        }
    });
}

/// Every message of `topic` as (key, value), read from the beginning of each partition until at
/// least `expected` arrived and nothing more came for two seconds (or `timeout` passed).
pub fn consume_all(
    broker: &str,
    topic: &str,
    expected: usize,
    timeout: Duration,
) -> Vec<(Option<Vec<u8>>, Vec<u8>)> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::Message;
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker)
        .set("group.id", "tests-consume-all")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    for p in md.topics()[0].partitions() {
        tpl.add_partition_offset(topic, p.id(), rdkafka::Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let start = Instant::now();
    let mut last = Instant::now();
    let mut out = Vec::new();
    while start.elapsed() < timeout
        && (out.len() < expected || last.elapsed() < Duration::from_secs(2))
    {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            out.push((
                m.key().map(<[u8]>::to_vec),
                m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
            ));
            last = Instant::now();
        }
    }
    out
}

/// Order-independent digest, the same as tests/readers/bronze_check.py computes.
pub fn digest<'a>(values: impl Iterator<Item = &'a [u8]>) -> String {
    let mut hashes: Vec<String> = values.map(|v| hex::encode(Sha256::digest(v))).collect();
    hashes.sort();
    hex::encode(Sha256::digest(hashes.concat().as_bytes()))
}

/// Runs the independent readers over a lake's Delta bronze tables and returns their agreed summary.
pub fn read_lake(lake_uri: &str, table: &str, storage: &[(&str, &str)]) -> serde_json::Value {
    run_readers(lake_uri, table, storage, "delta")
}

/// The same over the plain-Parquet output of a local lake.
pub fn read_parquet_lake(lake_uri: &str, table: &str) -> serde_json::Value {
    run_readers(lake_uri, table, &[], "parquet")
}

fn run_readers(
    lake_uri: &str,
    table: &str,
    storage: &[(&str, &str)],
    format: &str,
) -> serde_json::Value {
    let mut args = vec![
        lake_uri.to_string(),
        table.to_string(),
        "--format".into(),
        format.into(),
    ];
    for (k, v) in storage {
        args.extend(["--storage".to_string(), format!("{k}={v}")]);
    }
    run_python_reader("bronze_check.py", &args)
}

/// Runs a reader script with `input` on its standard input; returns its JSON summary.
pub fn pipe_python(script: &str, args: &[&str], input: &str) -> serde_json::Value {
    pipe_python_with(&python_path(), script, args, input)
}

/// [`pipe_python`] with another interpreter.
pub fn pipe_python_with(
    python: &Path,
    script: &str,
    args: &[&str],
    input: &str,
) -> serde_json::Value {
    use std::io::Write;
    let mut python = Command::new(python)
        .arg(repo_root().join("tests/readers").join(script))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the Python readers (scripts/install-deps.sh installs them)");
    python
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(out.status.success(), "{script} failed");
    serde_json::from_slice(&out.stdout).expect("reader JSON")
}

/// The Python of the readers' virtual environment.
pub fn python_path() -> PathBuf {
    tweetlake_home().join("venv/bin/python")
}

/// The Python with pysail and pyspark (scripts/install-deps.sh).
pub fn spark_python_path() -> PathBuf {
    tweetlake_home().join("venv-spark/bin/python")
}

/// Runs `tests/readers/<script>` with the installed Python readers and parses its JSON output.
pub fn run_python_reader(script: &str, args: &[String]) -> serde_json::Value {
    let python = python_path();
    let out = Command::new(python)
        .arg(repo_root().join("tests/readers").join(script))
        .args(args)
        .output()
        .expect("run the Python readers (scripts/install-deps.sh installs them)");
    assert!(
        out.status.success(),
        "readers: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("reader JSON")
}

/// Polls `f` until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    false
}

/// Sum of stored offsets + 1 over all partitions of the bronze table, from `tweetlake status --json`.
pub fn stored_messages(cwd: &Path, broker: &str) -> i64 {
    stored_messages_in(cwd, broker, &[], &[])
}

/// The same with extra flags (e.g. `--lake-root`) and environment (e.g. S3 credentials).
pub fn stored_messages_in(cwd: &Path, broker: &str, args: &[&str], env: &[(&str, &str)]) -> i64 {
    let out = tweetlake(cwd)
        .args(["status", "--json", "--bootstrap-servers", broker])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("status");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v.as_array()
        .and_then(|a| a.first())
        .and_then(|t| t["partitions"].as_array())
        .map(|ps| {
            ps.iter()
                .map(|p| p["stored_offset"].as_i64().map_or(0, |o| o + 1))
                .sum()
        })
        .unwrap_or(0)
}

/// Headers with raw-byte keys; rdkafka's own `Header` takes only `&str` keys.
pub fn raw_headers(pairs: &[(&[u8], &[u8])]) -> rdkafka::message::OwnedHeaders {
    let headers = rdkafka::message::OwnedHeaders::new();
    let native = headers.as_borrowed() as *const rdkafka::message::BorrowedHeaders
        as *mut rdkafka::bindings::rd_kafka_headers_t;
    for (key, value) in pairs {
        // SAFETY: `native` is the header list `headers` owns (rdkafka's borrowed view is that
        // pointer); librdkafka copies name and value, whose lengths are given.
        let err = unsafe {
            rdkafka::bindings::rd_kafka_header_add(
                native,
                key.as_ptr().cast(),
                key.len() as isize,
                value.as_ptr().cast(),
                value.len() as isize,
            )
        };
        assert_eq!(
            err,
            rdkafka::types::RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR
        );
    }
    headers
}

/// The rows of `tweetlake sql --output-format csv QUERY` run as `cmd`, without the header line.
pub fn sql_csv_rows(cmd: &mut Command, query: &str) -> Vec<String> {
    run_ok(cmd.args(["sql", "--output-format", "csv"]).arg(query))
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

/// Files compacted, summed over `maintain`'s report lines (`N files, M compacted into K, …`).
pub fn compacted_files(report: &str) -> u64 {
    counts_before(report.lines(), " compacted")
}

/// The number just before `marker` on each line that has one, summed.
pub fn counts_before<'a>(lines: impl Iterator<Item = &'a str>, marker: &str) -> u64 {
    lines
        .filter_map(|l| {
            l.split(marker)
                .next()?
                .rsplit(' ')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// `$__timeFilter(col)` as Grafana writes it for a PostgreSQL data source, over `from..to`.
pub fn expand_time_filter(sql: &str, from: &str, to: &str) -> String {
    let mut out = sql.to_string();
    while let Some(at) = out.find("$__timeFilter(") {
        let close = at + out[at..].find(')').unwrap();
        let column = out[at + "$__timeFilter(".len()..close].to_string();
        out.replace_range(at..=close, &format!("{column} BETWEEN '{from}' AND '{to}'"));
    }
    out
}
