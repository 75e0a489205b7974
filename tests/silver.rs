//! `tweetlake promote silver` end to end: real fixtures produced to tansu, ingested into bronze,
//! promoted; silver read back by deltalake and DuckDB. (Compiled into the `bronze` test binary:
//! one binary per layer pair saves a >1 GB link on 2 cores.)

use std::collections::BTreeSet;

use crate::support::*;

fn silver_summary(lake: &std::path::Path) -> serde_json::Value {
    run_python_reader("silver_check.py", &[lake.display().to_string()])
}

/// Tweet ids of the fixture files, found the plain way: a v1.1 tweet has `user` and `id_str`, a
/// v2 message a `data` object with an `id`.
fn fixture_tweet_ids(files: &[&str]) -> BTreeSet<i64> {
    let mut ids = BTreeSet::new();
    for f in files {
        for line in String::from_utf8(fixture(f)).unwrap().lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let id = if v.get("user").is_some() {
                v["id_str"].as_str()
            } else {
                v["data"]["id"].as_str()
            };
            if let Some(id) = id.filter(|_| v["action"].is_null()) {
                ids.insert(id.parse().unwrap());
            }
        }
    }
    ids
}

#[test]
fn promote_silver_dedups_and_is_idempotent() {
    let svc = Services::broker();
    svc.topic("tweets", 3);
    let work = tempfile::tempdir().unwrap();
    let files = [
        "v1_mixed_tweets.jsonl",
        "v1_stream_capture.jsonl", // 100 of the same tweets again, and control messages
        "v2_stream_messages.jsonl",
        "v2_control_messages.jsonl",
    ];
    let mut produce = tweetlake(work.path());
    produce.args([
        "produce",
        "--bootstrap-servers",
        &svc.broker,
        "--topic",
        "tweets",
    ]);
    for f in files {
        produce
            .arg("--file")
            .arg(repo_root().join("tests/fixtures").join(f));
    }
    run_ok(&mut produce);
    let run = |args: &[&str]| {
        run_ok(
            tweetlake(work.path())
                .args(["--bootstrap-servers", svc.broker.as_str()])
                .args(args),
        )
    };
    run(&["ingest", "--until-caught-up"]);
    let report = run(&["promote", "silver"]);
    let expected = fixture_tweet_ids(&files);
    // 180 + 200 + 7 distinct tweets; the capture's 100 are all repeats.
    assert_eq!(expected.len(), 387);
    assert!(
        report.contains("387 tweets inserted, 100 duplicates"),
        "{report}"
    );
    let lake = work.path().join("lake");
    let silver = silver_summary(&lake);
    assert_eq!(silver["rows"], 387);
    assert_eq!(silver["distinct_ids"], 387);
    let got: BTreeSet<i64> = silver["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(got, expected);

    // Nothing new in bronze: the second run reads nothing and commits nothing.
    let again = run(&["promote", "silver"]);
    assert!(
        again.contains(": 0 rows read, 0 tweets inserted"),
        "{again}"
    );
    assert_eq!(silver_summary(&lake)["version"], silver["version"]);
}
