//! End-to-end tests of `tweetlake ingest` against a real Kafka-protocol broker (tansu), a real
//! S3-compatible server (SeaweedFS) and independent readers (deltalake, pyarrow, DuckDB).

mod faults;
mod parquet;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::*;

fn lines(name: &str) -> Vec<Vec<u8>> {
    tweetlake_produce::split_lines(&fixture(name))
        .map(<[u8]>::to_vec)
        .collect()
}

/// Every fixture line (blank keep-alives and truncated lines included) plus crafted bad payloads.
pub(crate) fn fixture_messages() -> (Vec<Msg>, usize) {
    let mut msgs: Vec<Msg> = Vec::new();
    for f in [
        "v1_mixed_tweets.jsonl",
        "v1_stream_capture.jsonl",
        "v2_stream_messages.jsonl",
        "v2_control_messages.jsonl",
    ] {
        msgs.extend(lines(f).into_iter().map(|l| (l, None, vec![])));
    }
    let good = msgs.len();
    msgs.push((b"{\"text\":\"caf\xe9\"}".to_vec(), None, vec![])); // Latin-1, not UTF-8
    msgs.push((
        format!("{{\"pad\":\"{}\"}}", "x".repeat(300_000)).into_bytes(),
        None,
        vec![],
    )); // over the limit set below
    msgs.push((b"\x00\x01binary".to_vec(), Some(b"k".to_vec()), vec![]));
    msgs.push((
        b"{\"data\":{\"id\":\"1\",\"text\":\"with key and headers\"}}".to_vec(),
        Some(b"tweet-1".to_vec()),
        vec![
            ("source".into(), b"test".to_vec()),
            ("trace".into(), vec![0xff, 0x00]),
        ],
    ));
    (msgs, good)
}

#[test]
fn fixtures_land_exactly_once_byte_for_byte() {
    let svc = Services::broker();
    svc.topic("tweets", 3);
    let (msgs, _) = fixture_messages();
    produce(&svc.broker, "tweets", &msgs);
    let work = tempfile::tempdir().unwrap();
    let out = run_ok(
        tweetlake(work.path())
            .args([
                "ingest",
                "--until-caught-up",
                "--max-latency",
                "1s",
                "--bootstrap-servers",
                &svc.broker,
            ])
            .env("TWEETLAKE_BRONZE__MAX_MESSAGE_BYTES", "200000"),
    );
    assert!(out.contains("bronze/tweets:"), "{out}");

    let lake = format!("file://{}/lake", work.path().display());
    let r = read_lake(&lake, "tweets", &[]);
    let (b, q) = (&r["bronze"], &r["quarantine"]);
    // Every produced message is in exactly one of the two tables.
    assert_eq!(
        b["rows"].as_u64().unwrap() + q["rows"].as_u64().unwrap(),
        msgs.len() as u64
    );
    assert_eq!(b["duplicates"], 0);
    assert_eq!(q["duplicates"], 0);
    let mut coords: Vec<_> = b["coords"]
        .as_array()
        .unwrap()
        .iter()
        .chain(q["coords"].as_array().unwrap())
        .cloned()
        .collect();
    coords.sort_by_key(|c| (c[1].as_i64(), c[2].as_i64()));
    coords.dedup();
    assert_eq!(coords.len(), msgs.len());
    // Raw bytes are exactly what was produced.
    let good: Vec<&[u8]> = msgs
        .iter()
        .map(|m| m.0.as_slice())
        .filter(|v| !is_bad(v))
        .collect();
    let bad: Vec<&[u8]> = msgs
        .iter()
        .map(|m| m.0.as_slice())
        .filter(|v| is_bad(v))
        .collect();
    assert_eq!(b["digest"].as_str().unwrap(), digest(good.iter().copied()));
    assert_eq!(q["digest"].as_str().unwrap(), digest(bad.iter().copied()));
    assert_eq!(
        b["readers"].as_array().unwrap().len(),
        3,
        "deltalake, pyarrow and DuckDB all read it"
    );
    let kinds: BTreeMap<String, u64> = serde_json::from_value(q["error_kinds"].clone()).unwrap();
    // 7 keep-alives + 2 blank lines in the v2 control file; 2 truncated lines and 1 control-byte payload are not JSON; 1 non-UTF-8; 1 too large.
    assert_eq!(
        kinds,
        BTreeMap::from([
            ("empty".into(), 9),
            ("not_json".into(), 3),
            ("not_utf8".into(), 1),
            ("too_large".into(), 1)
        ])
    );
    let events: BTreeMap<String, u64> = serde_json::from_value(b["event_kinds"].clone()).unwrap();
    assert_eq!(events["tweet"], 180 + 100 + 200 + 7 + 1);
    // The capture's 3 v1.1 deletes and the v2 control file's 4 batch-compliance deletes (which
    // silver deletes, so bronze says so too).
    assert_eq!(events["delete"], 3 + 4);
    assert_eq!(b["partition_columns"], serde_json::json!(["ingest_date"]));
    assert_eq!(b["schema"]["kafka_timestamp"], "timestamp[us, tz=UTC]");

    // A second run finds nothing new and writes nothing.
    let version = b["version"].as_u64().unwrap();
    run_ok(tweetlake(work.path()).args([
        "ingest",
        "--until-caught-up",
        "--bootstrap-servers",
        &svc.broker,
    ]));
    let again = read_lake(&lake, "tweets", &[]);
    assert_eq!(again["bronze"]["rows"], b["rows"]);
    assert_eq!(again["bronze"]["version"].as_u64().unwrap(), version);

    // Status reports the stored offsets: their sum accounts for every message.
    assert_eq!(stored_messages(work.path(), &svc.broker), msgs.len() as i64);
}

/// Starts `rounds` continuous ingesters one after another and SIGKILLs each at a random moment
/// 0.5 – 4 s after its start (xorshift with a fixed seed, so a failure can be replayed).
/// Returns how many kills landed on a running process.
/// Whether the ingester (run with `max_message_bytes` 200 000) must quarantine this payload.
pub(crate) fn is_bad(v: &[u8]) -> bool {
    match std::str::from_utf8(v) {
        Ok(s) => {
            s.trim().is_empty()
                || v.len() > 200_000
                || serde_json::from_str::<serde_json::Value>(s).is_err()
        }
        Err(_) => true,
    }
}

pub(crate) fn kill_randomly(
    cwd: &std::path::Path,
    broker: &str,
    rounds: usize,
    env: &[(&str, &str)],
) -> usize {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut kills = 0;
    for _ in 0..rounds {
        let mut child = spawn(
            tweetlake(cwd)
                .args([
                    "ingest",
                    "--max-latency",
                    "200ms",
                    "--bootstrap-servers",
                    broker,
                ])
                .env("TWEETLAKE_BRONZE__FLUSH__MAX_ROWS_PER_FILE", "3000")
                .envs(env.iter().copied()),
        );
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(500 + seed % 3500));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        let _ = child.wait();
    }
    kills
}

pub(crate) fn synthetic(n: usize) -> Vec<Msg> {
    (0..n)
        .map(|i| {
            (
                format!(
                    "{{\"data\":{{\"id\":\"{}\",\"text\":\"synthetic tweet {i}\"}}}}",
                    1_000_000 + i
                )
                .into_bytes(),
                None,
                vec![],
            )
        })
        .collect()
}

#[test]
fn kill_nine_at_random_moments_never_loses_or_duplicates() {
    const N: usize = 50_000;
    let svc = Services::broker();
    svc.topic("tweets", 4);
    produce(&svc.broker, "tweets", &synthetic(N));
    let work = tempfile::tempdir().unwrap();
    let kills = kill_randomly(work.path(), &svc.broker, 12, &[]);
    assert!(kills >= 10, "only {kills} kills landed");
    run_ok(tweetlake(work.path()).args([
        "ingest",
        "--until-caught-up",
        "--bootstrap-servers",
        &svc.broker,
    ]));
    let r = read_lake(
        &format!("file://{}/lake", work.path().display()),
        "tweets",
        &[],
    );
    assert_eq!(r["bronze"]["rows"], N as u64);
    assert_eq!(r["bronze"]["duplicates"], 0);
    assert!(r["quarantine"].is_null(), "nothing was bad");
    let expected = synthetic(N);
    assert_eq!(
        r["bronze"]["digest"].as_str().unwrap(),
        digest(expected.iter().map(|m| m.0.as_slice()))
    );
}

#[test]
fn two_ingesters_in_one_group_with_one_stopped_midway() {
    let svc = Services::broker();
    svc.topic("tweets", 6);
    let first = synthetic(20_000);
    produce(&svc.broker, "tweets", &first);
    let work = tempfile::tempdir().unwrap();
    let args = [
        "ingest",
        "--max-latency",
        "300ms",
        "--bootstrap-servers",
        svc.broker.as_str(),
    ];
    let mut a = spawn(
        tweetlake(work.path())
            .args(args)
            .env("TWEETLAKE_BRONZE__FLUSH__MAX_ROWS_PER_FILE", "2000"),
    );
    let mut b = spawn(
        tweetlake(work.path())
            .args(args)
            .env("TWEETLAKE_BRONZE__FLUSH__MAX_ROWS_PER_FILE", "2000"),
    );
    assert!(
        wait_until(Duration::from_secs(90), || stored_messages(
            work.path(),
            &svc.broker
        ) >= 5_000),
        "no progress"
    );
    // Stop A cleanly midway (SIGTERM): it commits what it has and leaves the group; B takes over.
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &a.id().to_string()])
        .status();
    let status = a.wait().unwrap();
    assert!(status.success(), "A exited with {status}");
    let second: Vec<Msg> = synthetic(30_000).into_iter().skip(20_000).collect();
    produce(&svc.broker, "tweets", &second);
    assert!(
        wait_until(Duration::from_secs(120), || stored_messages(
            work.path(),
            &svc.broker
        ) >= 30_000),
        "B did not take over: {} stored",
        stored_messages(work.path(), &svc.broker)
    );
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &b.id().to_string()])
        .status();
    assert!(b.wait().unwrap().success());
    let r = read_lake(
        &format!("file://{}/lake", work.path().display()),
        "tweets",
        &[],
    );
    assert_eq!(r["bronze"]["rows"], 30_000);
    assert_eq!(r["bronze"]["duplicates"], 0);
    assert_eq!(
        r["bronze"]["digest"].as_str().unwrap(),
        digest(synthetic(30_000).iter().map(|m| m.0.as_slice()))
    );
}

#[test]
fn s3_lake_with_two_concurrent_writers_loses_no_commit() {
    let svc = Services::broker();
    let endpoint = svc.s3();
    svc.topic("tweets", 6);
    produce(&svc.broker, "tweets", &synthetic(12_000));
    let work = tempfile::tempdir().unwrap();
    let s3_env = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "tweetlake"),
        ("AWS_SECRET_ACCESS_KEY", "tweetlake-secret"),
    ];
    let args = [
        "ingest",
        "--lake-root",
        "s3://lake/e2e",
        "--max-latency",
        "200ms",
        "--bootstrap-servers",
        svc.broker.as_str(),
    ];
    let start = |args: &[&str]| {
        spawn(
            tweetlake(work.path())
                .args(args)
                .envs(s3_env)
                .env("TWEETLAKE_BRONZE__FLUSH__MAX_ROWS_PER_FILE", "500"),
        )
    };
    let (mut a, mut b) = (start(&args), start(&args));
    let status_args = ["--lake-root", "s3://lake/e2e"];
    let stored = || stored_messages_in(work.path(), &svc.broker, &status_args, &s3_env);
    assert!(
        wait_until(Duration::from_secs(180), || stored() >= 12_000),
        "stored {}",
        stored()
    );
    let mut commits = 0;
    for child in [&mut a, &mut b] {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        commits += child.reported_commits();
    }
    let storage = [
        ("aws_endpoint_url", endpoint.as_str()),
        ("aws_allow_http", "true"),
        ("aws_region", "us-east-1"),
        ("aws_access_key_id", "tweetlake"),
        ("aws_secret_access_key", "tweetlake-secret"),
    ];
    let r = read_lake("s3://lake/e2e", "tweets", &storage);
    assert_eq!(r["bronze"]["rows"], 12_000);
    assert_eq!(r["bronze"]["duplicates"], 0);
    // Every commit either process made is in the log: versions 0..=v are exactly the commits made.
    assert_eq!(
        r["bronze"]["version"].as_u64().unwrap() + 1,
        commits,
        "a commit was lost or invented"
    );
}

trait IngestReport {
    /// Waits for a clean exit and returns the commits the ingester reported on stdout.
    fn reported_commits(&mut self) -> u64;
}

impl IngestReport for std::process::Child {
    fn reported_commits(&mut self) -> u64 {
        use std::io::Read;
        let status = self.wait().unwrap();
        assert!(status.success(), "ingester exited with {status}");
        let mut out = String::new();
        if let Some(mut o) = self.stdout.take() {
            let _ = o.read_to_string(&mut out);
        }
        out.lines()
            .filter_map(|l| {
                l.strip_suffix(" commits")?
                    .rsplit(' ')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum()
    }
}

#[test]
fn bad_config_and_flags_fail_before_touching_data() {
    let svc = Services::broker();
    svc.topic("tweets", 1);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("bad.toml"),
        "[bronze.flush]\nmax_latency = \"soon\"\n",
    )
    .unwrap();
    std::fs::write(work.path().join("typo.toml"), "[lake]\nrooot = \"x\"\n").unwrap();
    std::fs::write(
        work.path().join("format.toml"),
        "[bronze]\nformat = \"csv\"\n",
    )
    .unwrap();
    std::fs::write(
        work.path().join("kprop.toml"),
        "[kafka]\n\"no.such.property\" = \"1\"\n",
    )
    .unwrap();
    let b = svc.broker.as_str();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["ingest", "--config", "bad.toml", "--bootstrap-servers", b],
            "bronze.flush.max_latency",
        ),
        (
            vec!["ingest", "--config", "typo.toml", "--bootstrap-servers", b],
            "rooot",
        ),
        (
            vec!["ingest", "--config", "kprop.toml", "--bootstrap-servers", b],
            "kafka.no.such.property",
        ),
        (vec!["ingest", "--config", "missing.toml"], "missing.toml"),
        (
            vec![
                "ingest",
                "--lake-root",
                "ftp://x/y",
                "--bootstrap-servers",
                b,
            ],
            "lake.root",
        ),
        (
            vec!["ingest", "--table", "tweets", "--bootstrap-servers", b],
            "--table",
        ),
        (
            vec!["ingest", "--table", "Bad=tweets", "--bootstrap-servers", b],
            "bronze.tables[0].name",
        ),
        (
            vec![
                "ingest",
                "--until-caught-up",
                "--table",
                "t=nosuchtopic",
                "--bootstrap-servers",
                b,
            ],
            "nosuchtopic",
        ),
        (vec!["ingest", "--no-such-flag"], "--no-such-flag"),
        (
            vec![
                "ingest",
                "--config",
                "format.toml",
                "--bootstrap-servers",
                b,
            ],
            "bronze.format",
        ),
        // The ingester's output format is not `sql`'s: it used to be taken and ignored.
        (
            vec!["sql", "--format", "csv", "SELECT 1"],
            "--output-format",
        ),
        (
            vec!["ingest", "--max-latency", "0s", "--bootstrap-servers", b],
            "bronze.flush.max_latency",
        ),
    ];
    for (args, needle) in cases {
        let out = tweetlake(work.path()).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            err.contains(needle),
            "{args:?}: stderr does not name `{needle}`:\n{err}"
        );
        assert!(
            !work.path().join("lake/bronze/tweets/_delta_log").exists(),
            "{args:?} wrote data"
        );
    }
    // Each cause is said once, though the layer's message already carries its cause's text.
    let out = tweetlake(work.path())
        .args(["promote", "silver"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(
        err.matches("run `tweetlake ingest` first").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("promoting bronze/tweets to silver: no bronze table"),
        "{err}"
    );
}
