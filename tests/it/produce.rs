//! End-to-end tests of `tweetlake produce` against a real Kafka-protocol broker (tansu): every
//! fixture kind lands byte for byte, and a broker outage or a killed producer loses nothing.

mod sources;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::*;

fn produce_cmd(cwd: &Path, broker: &str, topic: &str, files: &[&Path]) -> Command {
    let mut c = tweetlake(cwd);
    c.args(["produce", "--bootstrap-servers", broker, "--topic", topic]);
    for f in files {
        c.arg("--file").arg(f);
    }
    c
}

fn fixture_path(name: &str) -> std::path::PathBuf {
    repo_root().join("tests/fixtures").join(name)
}

#[test]
fn every_fixture_kind_lands_byte_for_byte() {
    let svc = Services::broker();
    svc.topic("tweets", 3);
    let work = tempfile::tempdir().unwrap();
    let plain = [
        "v1_mixed_tweets.jsonl",
        "v1_stream_capture.jsonl",
        "v2_stream_messages.jsonl",
        "v2_control_messages.jsonl",
    ];
    let mut files: Vec<std::path::PathBuf> = plain.iter().map(|f| fixture_path(f)).collect();
    files.push(fixture_path("v2_search_pages.jsonl.gz"));
    let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let out = run_ok(&mut produce_cmd(work.path(), &svc.broker, "tweets", &refs));
    assert!(out.contains("0 bytes left in the spool"), "{out}");

    // Expected: every non-blank line as it is, and each page's tweets one by one.
    let mut expected: Vec<Vec<u8>> = Vec::new();
    for f in plain {
        expected.extend(
            tweetlake_produce::split_lines(&fixture(f))
                .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
                .map(<[u8]>::to_vec),
        );
    }
    let page_tweet_ids: BTreeSet<String> = {
        use std::io::Read;
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(&fixture("v2_search_pages.jsonl.gz")[..])
            .read_to_string(&mut text)
            .unwrap();
        text.lines()
            .flat_map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["id"].as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    assert_eq!(page_tweet_ids.len(), 24);
    let got = consume_all(
        &svc.broker,
        "tweets",
        expected.len() + 24,
        Duration::from_secs(60),
    );
    assert_eq!(got.len(), expected.len() + 24);
    let (from_pages, lines): (Vec<_>, Vec<_>) = got.into_iter().partition(|(_, v)| {
        serde_json::from_slice::<serde_json::Value>(v)
            .ok()
            .and_then(|j| {
                j["data"]["id"]
                    .as_str()
                    .map(|id| page_tweet_ids.contains(id))
            })
            .unwrap_or(false)
            && !expected.contains(v)
    });
    assert_eq!(
        digest(lines.iter().map(|(_, v)| v.as_slice())),
        digest(expected.iter().map(Vec::as_slice)),
        "lines arrive byte for byte"
    );
    let mut page_ids = BTreeSet::new();
    for (key, value) in &from_pages {
        let v: serde_json::Value = serde_json::from_slice(value).unwrap();
        let id = v["data"]["id"].as_str().unwrap();
        assert_eq!(key.as_deref(), Some(id.as_bytes()), "keyed by tweet id");
        let author = v["data"]["author_id"].as_str().unwrap();
        let users = v["includes"]["users"].as_array().unwrap();
        assert!(
            users.iter().any(|u| u["id"] == author),
            "its author travels with it"
        );
        page_ids.insert(id.to_string());
    }
    assert_eq!(page_ids, page_tweet_ids);
    // v1 tweets are keyed by id_str.
    let keyed: usize = lines.iter().filter(|(k, _)| k.is_some()).count();
    assert!(keyed >= 480, "{keyed} keyed");
}

/// `n` small v2 stream messages with ids 1..=n, one per line.
fn synthetic_file(dir: &Path, n: usize) -> std::path::PathBuf {
    let path = dir.join("synthetic.jsonl");
    let mut text = String::with_capacity(n * 120);
    for i in 1..=n {
        text.push_str(&format!(
            "{{\"data\":{{\"id\":\"{i}\",\"text\":\"outage test {i} {}\"}}}}\n",
            "x".repeat(i % 64)
        ));
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn ids_of(messages: &[(Option<Vec<u8>>, Vec<u8>)]) -> BTreeMap<u64, usize> {
    let mut ids = BTreeMap::new();
    for (_, v) in messages {
        let j: serde_json::Value = serde_json::from_slice(v).unwrap();
        *ids.entry(j["data"]["id"].as_str().unwrap().parse().unwrap())
            .or_insert(0) += 1;
    }
    ids
}

fn spool_segments(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "seg"))
                .count()
        })
        .unwrap_or(0)
}

/// "N possible duplicates" from the report line.
fn reported(out: &str, what: &str) -> u64 {
    out.split(", ")
        .find_map(|part| {
            part.trim()
                .strip_suffix(what)?
                .trim()
                .rsplit(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no `{what}` in {out}"))
}

#[test]
fn a_thirty_second_broker_outage_during_a_replay_loses_nothing() {
    const N: usize = 100_000;
    let svc = Services::broker();
    svc.topic("tweets", 3);
    let work = tempfile::tempdir().unwrap();
    let file = synthetic_file(work.path(), N);
    let spool = work.path().join("spool");
    let producer = spawn(
        produce_cmd(work.path(), &svc.broker, "tweets", &[&file])
            .args(["--rate", "2500"]) // so the replay is still running when the broker stops
            .env("TWEETLAKE_PRODUCE__DELIVERY_TIMEOUT", "4s")
            .env("TWEETLAKE_PRODUCE__STALL_AFTER", "2s")
            .env("TWEETLAKE_PRODUCE__SPOOL__DIR", &spool)
            .env("TWEETLAKE_PRODUCE__SPOOL__SEGMENT_MB", "1"),
    );
    std::thread::sleep(Duration::from_secs(5));
    svc.pause_broker();
    std::thread::sleep(Duration::from_secs(15));
    assert!(
        spool_segments(&spool) > 0,
        "nothing was spooled during the outage"
    );
    std::thread::sleep(Duration::from_secs(15));
    svc.resume_broker();
    let out = producer.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(reported(&stdout, "spooled") > 0, "{stdout}");
    assert_eq!(reported(&stdout, "bytes left in the spool"), 0, "{stdout}");
    assert_eq!(spool_segments(&spool), 0, "the spool is empty at the end");

    let got = consume_all(&svc.broker, "tweets", N, Duration::from_secs(120));
    let ids = ids_of(&got);
    assert_eq!(ids.len(), N, "every tweet id is in Kafka");
    assert_eq!(ids.keys().next(), Some(&1));
    assert_eq!(ids.keys().last(), Some(&(N as u64)));
    let duplicates: usize = ids.values().map(|c| c - 1).sum();
    let possible = reported(&stdout, "possible duplicates");
    assert!(
        duplicates as u64 <= possible,
        "{duplicates} duplicates in Kafka, but only {possible} reported"
    );
    eprintln!("outage: {duplicates} duplicates in Kafka, {possible} reported as possible");
}

#[test]
fn a_producer_killed_while_spooling_loses_nothing_after_a_restart() {
    const N: usize = 20_000;
    let svc = Services::broker();
    svc.topic("tweets", 2);
    let work = tempfile::tempdir().unwrap();
    let file = synthetic_file(work.path(), N);
    let spool = work.path().join("spool");
    let env = [
        ("TWEETLAKE_PRODUCE__DELIVERY_TIMEOUT", "3s"),
        ("TWEETLAKE_PRODUCE__STALL_AFTER", "1s"),
        ("TWEETLAKE_PRODUCE__SPOOL__SEGMENT_MB", "1"),
    ];
    let start = || {
        spawn(
            produce_cmd(work.path(), &svc.broker, "tweets", &[&file])
                .env("TWEETLAKE_PRODUCE__SPOOL__DIR", &spool)
                .envs(env),
        )
    };
    // Let the producer connect, then take the broker away: everything it reads is spooled.
    svc.pause_broker();
    let mut first = start();
    assert!(
        wait_until(Duration::from_secs(60), || spool_segments(&spool) >= 2),
        "the producer did not spool"
    );
    first.kill().unwrap(); // SIGKILL while spooling
    let _ = first.wait();
    svc.resume_broker();
    let out = start().wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(reported(&stdout, "replayed from the spool") > 0, "{stdout}");
    assert_eq!(spool_segments(&spool), 0);
    let ids = ids_of(&consume_all(
        &svc.broker,
        "tweets",
        N,
        Duration::from_secs(120),
    ));
    assert_eq!(ids.len(), N, "every tweet id is in Kafka");
}

/// The most any segment's cursor reserves (`DELIVERED SENT_UNTIL`), 0 without a cursor.
fn reserved(spool: &Path) -> u64 {
    std::fs::read_dir(spool)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "delivered"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|t| t.split_whitespace().nth(1)?.parse().ok())
        .max()
        .unwrap_or(0)
}

/// A producer killed with SIGKILL in the middle of replaying its spool, then restarted: what the
/// killed replay may have sent goes out again, and the restart counts it as possible duplicates —
/// never fewer than Kafka really got twice.
#[test]
fn a_replay_killed_midway_counts_what_it_sends_again() {
    const N: usize = 30_000;
    let svc = Services::broker();
    svc.topic("tweets", 2);
    let work = tempfile::tempdir().unwrap();
    let file = synthetic_file(work.path(), N);
    let empty = work.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let spool = work.path().join("spool");
    let start = |input: &Path| {
        spawn(
            produce_cmd(work.path(), &svc.broker, "tweets", &[input])
                .env("TWEETLAKE_PRODUCE__SPOOL__DIR", &spool)
                .env("TWEETLAKE_PRODUCE__SPOOL__FSYNC", "always")
                .env("TWEETLAKE_PRODUCE__DELIVERY_TIMEOUT", "3s")
                .env("TWEETLAKE_PRODUCE__STALL_AFTER", "1s")
                .env("TWEETLAKE_PRODUCE__SPOOL__SEGMENT_MB", "1"),
        )
    };
    // Everything goes to the spool while the broker is frozen; the first producer ends there.
    svc.pause_broker();
    let mut first = start(&file);
    assert!(
        wait_until(Duration::from_secs(120), || spool_segments(&spool) >= 3),
        "the producer did not spool"
    );
    std::thread::sleep(Duration::from_secs(3));
    first.kill().unwrap();
    let _ = first.wait();
    svc.resume_broker();
    // The second replays the spool and is killed once it has sent a few thousand records: when its
    // cursor reserves past them (written before they are sent).
    let mut second = start(&empty);
    let started = std::time::Instant::now();
    while reserved(&spool) < 3 * 1024 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the replay never reserved what it sends"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    second.kill().unwrap();
    let _ = second.wait();
    let out = start(&empty).wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(spool_segments(&spool), 0);
    let got = consume_all(&svc.broker, "tweets", N, Duration::from_secs(120));
    let ids = ids_of(&got);
    let duplicates: usize = ids.values().map(|c| c - 1).sum();
    let possible = reported(&stdout, "possible duplicates");
    eprintln!("killed replay: {duplicates} duplicates in Kafka, {possible} reported as possible");
    // What the killed replay had reserved is counted when it goes out again, whether or not the
    // broker had it already (the kill may land before or after the acknowledgements).
    assert!(possible > 0, "the restart counted nothing it sent again");
    assert!(
        duplicates as u64 <= possible,
        "{duplicates} duplicates in Kafka, but only {possible} reported"
    );
    // What the first producer read before its kill is all there (its spool was synced).
    assert!(ids.len() >= 1_000, "{} ids", ids.len());
    assert_eq!(ids.keys().next(), Some(&1));
}
