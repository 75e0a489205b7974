//! Ingestion when messages are odd and the broker changes under the lake: a header key that is not
//! UTF-8, a partition that ends in transaction markers, a broker rebuilt behind the lake's stored
//! offsets, and the operator's command that moves them on purpose.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use crate::support::*;

/// Runs `cmd` for at most `limit`; `None` when it was still running and had to be killed.
fn run_within(cmd: &mut Command, limit: Duration) -> Option<Output> {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn tweetlake");
    let started = Instant::now();
    while started.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn ingest(dir: &Path, broker: &str) -> Command {
    let mut c = tweetlake(dir);
    c.args(["--bootstrap-servers", broker])
        .args(["ingest", "--until-caught-up"]);
    c
}

fn sql_lines(dir: &Path, query: &str) -> Vec<String> {
    sql_csv_rows(&mut tweetlake(dir), query)
}

fn tweet(id: u64) -> Vec<u8> {
    format!("{{\"id\":{id},\"id_str\":\"{id}\",\"text\":\"tweet {id}\",\"user\":{{\"id\":1}}}}")
        .into_bytes()
}

#[test]
fn a_header_key_that_is_not_utf8_goes_to_quarantine_and_ingestion_goes_on() {
    let svc = Services::broker();
    svc.topic("tweets", 1);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &svc.broker)
            .create()
            .unwrap();
        let sends = [
            (tweet(1), raw_headers(&[(b"source", b"test")])),
            (
                tweet(2),
                raw_headers(&[(b"ok", b"1"), (&[0xff, 0xfe, b'k'], b"v")]),
            ),
            (tweet(3), raw_headers(&[])),
        ];
        for (value, headers) in sends {
            producer
                .send(
                    FutureRecord::<[u8], [u8]>::to("tweets")
                        .payload(&value)
                        .headers(headers),
                    Duration::from_secs(30),
                )
                .await
                .map_err(|(e, _)| e)
                .expect("delivery");
        }
    });
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    // Before the fix the consumer thread panicked inside rdkafka, on every restart.
    for _ in 0..2 {
        let out = run_within(&mut ingest(dir, &svc.broker), Duration::from_secs(90))
            .expect("ingest finished");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        sql_lines(
            dir,
            "SELECT kafka_offset, kafka_headers[1]['key'] AS k FROM bronze.tweets ORDER BY 1"
        ),
        ["0,source", "2,"]
    );
    let quarantined = sql_lines(
        dir,
        "SELECT kafka_offset, error_kind, error_message, raw_bytes FROM bronze.tweets_quarantine",
    );
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    let row = &quarantined[0];
    assert!(row.starts_with("1,header_key_not_utf8,"), "{row}");
    assert!(row.contains("hex fffe6b"), "{row}");
    // The payload is kept whole (hex in CSV).
    let payload: String = tweet(2).iter().map(|b| format!("{b:02x}")).collect();
    assert!(row.ends_with(&payload), "{row}");
}

#[test]
fn until_caught_up_finishes_when_a_partition_ends_in_transaction_markers() {
    let svc = Services::broker();
    svc.topic("tweets", 1);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &svc.broker)
            .set("transactional.id", "faults-test")
            .create()
            .unwrap();
        producer.init_transactions(Duration::from_secs(30)).unwrap();
        producer.begin_transaction().unwrap();
        for id in 1..=5u64 {
            producer
                .send(
                    FutureRecord::<[u8], [u8]>::to("tweets").payload(&tweet(id)),
                    Duration::from_secs(30),
                )
                .await
                .map_err(|(e, _)| e)
                .expect("delivery");
        }
        // The commit marker is the partition's last offset: no message carries it.
        producer
            .commit_transaction(Duration::from_secs(30))
            .unwrap();
    });
    let work = tempfile::tempdir().unwrap();
    let out = run_within(
        &mut ingest(work.path(), &svc.broker),
        Duration::from_secs(60),
    )
    .expect("ingest --until-caught-up waited forever for an offset that holds a marker");
    assert!(out.status.success());
    assert_eq!(
        sql_lines(work.path(), "SELECT count(*) FROM bronze.tweets"),
        ["5"]
    );
}

#[test]
fn a_broker_behind_the_lake_stops_ingestion_until_the_offsets_are_moved_on_purpose() {
    let svc = Services::broker();
    svc.topic("tweets", 1);
    let old: Vec<Msg> = (1..=20).map(|i| (tweet(i), None, vec![])).collect();
    produce(&svc.broker, "tweets", &old);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    run_ok(&mut ingest(dir, &svc.broker));

    // The cluster is rebuilt: the topic starts again at offset 0 with new messages.
    svc.rebuild_broker();
    svc.topic("tweets", 1);
    let new: Vec<Msg> = (101..=105).map(|i| (tweet(i), None, vec![])).collect();
    produce(&svc.broker, "tweets", &new);
    for _ in 0..2 {
        let out = run_within(&mut ingest(dir, &svc.broker), Duration::from_secs(60))
            .expect("ingest finished");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "took the new offsets as stored");
        assert!(
            err.contains("topic tweets partition 0: the lake stored offsets up to 19")
                && err.contains("bronze table `tweets`")
                && err.contains("offsets reset --topic tweets --partition 0"),
            "{err}"
        );
    }
    assert_eq!(sql_lines(dir, "SELECT count(*) FROM bronze.tweets"), ["20"]);

    // A dry run moves nothing; the real one commits, and ingestion takes the new messages.
    let reset = |extra: &[&str]| {
        run_ok(
            tweetlake(dir)
                .args(["--bootstrap-servers", svc.broker.as_str()])
                .args(["offsets", "reset", "--topic", "tweets", "--to-earliest"])
                .args(extra),
        )
    };
    let planned = reset(&["--dry-run"]);
    assert!(
        planned.contains("would move the stored offset from 19 to -1 (resumes at 0)"),
        "{planned}"
    );
    assert!(
        !run_within(&mut ingest(dir, &svc.broker), Duration::from_secs(60))
            .unwrap()
            .status
            .success()
    );
    reset(&[]);
    run_ok(&mut ingest(dir, &svc.broker));
    assert_eq!(
        sql_lines(
            dir,
            "SELECT min(kafka_offset), max(kafka_offset), count(*) FROM bronze.tweets \
             WHERE raw_value LIKE '%\"tweet 10_\"%'"
        ),
        ["0,4,5"]
    );
    assert_eq!(sql_lines(dir, "SELECT count(*) FROM bronze.tweets"), ["25"]);

    // Flags are checked before the broker or the lake is touched.
    let bad = tweetlake(dir)
        .args([
            "offsets",
            "reset",
            "--topic",
            "tweets",
            "--to-datetime",
            "yesterday",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--to-datetime `yesterday`"));
}
