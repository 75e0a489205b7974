//! `tweetlake run` end to end: silver and gold follow the ingester's commits within seconds
//! instead of waiting for the promotion timer, and compactions between maintenance runs merge the
//! small files that commits every second make.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::*;

/// Kills the run if the test fails before it stops it.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The table's JSON commit files, oldest first.
fn json_logs(table: &Path) -> Vec<std::path::PathBuf> {
    let mut logs: Vec<_> = std::fs::read_dir(table.join("_delta_log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    logs.sort();
    logs
}

/// What a Delta table's JSON log says: the data files it holds now, and how many commits of
/// each operation wrote it.
fn delta_log(table: &Path) -> (usize, Vec<String>) {
    let mut files = BTreeSet::new();
    let mut operations = Vec::new();
    for log in json_logs(table) {
        for line in std::fs::read_to_string(&log).unwrap().lines() {
            let action: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(path) = action["add"]["path"].as_str() {
                files.insert(path.to_string());
            }
            if let Some(path) = action["remove"]["path"].as_str() {
                files.remove(path);
            }
            if let Some(op) = action["commitInfo"]["operation"].as_str() {
                operations.push(op.to_string());
            }
        }
    }
    (files.len(), operations)
}

/// The target size each compaction (OPTIMIZE commit) of the table merged below, oldest first.
fn compaction_targets(table: &Path) -> Vec<u64> {
    let mut targets = Vec::new();
    for log in json_logs(table) {
        for line in std::fs::read_to_string(&log).unwrap().lines() {
            let action: serde_json::Value = serde_json::from_str(line).unwrap();
            if action["commitInfo"]["operation"] != "OPTIMIZE" {
                continue;
            }
            let target = &action["commitInfo"]["operationParameters"]["targetSize"];
            let target = match target.as_str() {
                Some(s) => s.parse().unwrap(),
                None => target.as_u64().unwrap(),
            };
            targets.push(target);
        }
    }
    targets
}

/// A table property as the latest `metaData` action in the table's JSON log sets it.
fn table_property(table: &Path, key: &str) -> Option<String> {
    let mut value = None;
    for log in json_logs(table) {
        for line in std::fs::read_to_string(&log).unwrap().lines() {
            let action: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(configuration) = action["metaData"]["configuration"].as_object() {
                value = configuration
                    .get(key)
                    .and_then(|v| v.as_str())
                    .map(str::to_string);
            }
        }
    }
    value
}

/// With the promotion timer at an hour, only the ingester's commits can promote: every tweet sent
/// reaches silver, and gold reaches the generator's truth, within a minute of the producer
/// finishing. Compactions every 4 s merge bronze's one-second files as they come, in size tiers,
/// and the run's report counts them.
#[test]
fn promotions_follow_the_ingesters_commits_and_compaction_keeps_files_few() {
    let svc = Services::broker();
    svc.topic("tweets", 2);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let models = repo_root().join("sql");
    let mut cmd = tweetlake(dir);
    cmd.args(["--bootstrap-servers", &svc.broker, "run"])
        .env("TWEETLAKE_RUN__PROMOTE_EVERY_SECONDS", "3600")
        .env("TWEETLAKE_RUN__COMPACT_EVERY_SECONDS", "4")
        .env("TWEETLAKE_RUN__COMPACT_FIRST_TIER_KB", "512")
        .env("TWEETLAKE_RUN__SERVE", "false")
        .env("TWEETLAKE_SILVER__NER__ENABLED", "false")
        .env("TWEETLAKE_GOLD__MODELS_DIR", models.to_str().unwrap())
        .env("TWEETLAKE_BRONZE__FLUSH__MAX_LATENCY", "1s");
    let mut run = Running(spawn(&mut cmd));

    let truth = dir.join("truth.csv");
    run_ok(tweetlake(dir).args([
        "produce",
        "--bootstrap-servers",
        &svc.broker,
        "--topic",
        "tweets",
        "--synthetic",
        "160",
        "--seed",
        "11",
        "--geo-share",
        "0.6",
        "--rate",
        "20",
        "--truth",
        truth.to_str().unwrap(),
    ]));
    let sent = Instant::now();
    let (rows, tweets) = truth_totals(&truth);
    let want = vec![format!("160,{rows},{tweets}")];
    let query = "SELECT (SELECT count(*) FROM silver.tweets) AS silver, count(*) AS windows, \
                 sum(tweets) AS tweets \
                 FROM gold.tweets_per_city_5m";
    let mut last = Vec::new();
    let reached = wait_until(Duration::from_secs(60), || {
        let out = tweetlake(dir)
            .args(["sql", "--output-format", "csv", query])
            .output()
            .unwrap();
        last = match out.status.success() {
            true => String::from_utf8_lossy(&out.stdout)
                .lines()
                .skip(1)
                .map(str::to_string)
                .collect(),
            false => vec![String::from_utf8_lossy(&out.stderr).to_string()],
        };
        last == want
    });
    assert!(
        reached,
        "silver and gold did not follow bronze within 60 s of the last tweet \
         (the timer was an hour): {last:?} != {want:?}"
    );
    eprintln!(
        "silver and gold complete {:?} after the last tweet",
        sent.elapsed()
    );

    // Let a compaction run after the last commits, then stop.
    std::thread::sleep(Duration::from_secs(6));
    let status = stop_with_sigterm(&mut run.0);
    assert!(status.success(), "{status}");
    let mut report = String::new();
    run.0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut report)
        .unwrap();
    let count = |after: &str| -> u64 {
        let (head, _) = report
            .split_once(after)
            .unwrap_or_else(|| panic!("{report}"));
        head.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert!(count(" compactions (") >= 2, "{report}");
    assert!(
        report.contains("compactions (0 with a failed table)"),
        "{report}"
    );
    assert!(count(" silver rounds") >= 2, "{report}");
    assert!(count(" gold rounds") >= 2, "{report}");
    assert!(report.contains("silver rounds (0 failed)"), "{report}");
    assert!(report.contains("gold rounds (0 failed)"), "{report}");

    // Bronze took a commit about every second; compaction merged them as they came.
    let (files, operations) = delta_log(&dir.join("lake/bronze/tweets"));
    let writes = operations.iter().filter(|op| *op == "WRITE").count();
    let optimizes = operations.iter().filter(|op| *op == "OPTIMIZE").count();
    assert!(writes >= 4, "{operations:?}");
    assert!(optimizes >= 1, "{operations:?}");
    assert!(files < writes, "{files} files after {writes} writes");
    // In size tiers: the run's first compaction merges up to maintain's target (128 MiB), most
    // later ones only files below the first tier (512 KiB), every 8th below 8 times that.
    let targets = compaction_targets(&dir.join("lake/bronze/tweets"));
    const KIB: u64 = 1024;
    assert!(
        targets
            .iter()
            .all(|t| [512 * KIB, 4096 * KIB, 131072 * KIB].contains(t)),
        "{targets:?}"
    );
    assert!(targets.contains(&(512 * KIB)), "{targets:?}");

    // Every table the run created checkpoints every 10 commits, so each round's opens replay few
    // commits (Delta's default is 100).
    let mut tables = Vec::new();
    for layer in ["bronze", "silver", "gold"] {
        for entry in std::fs::read_dir(dir.join("lake").join(layer)).unwrap() {
            let table = entry.unwrap().path();
            if table.join("_delta_log").is_dir() {
                tables.push(format!(
                    "{layer}/{}",
                    table.file_name().unwrap().to_string_lossy()
                ));
                assert_eq!(
                    table_property(&table, "delta.checkpointInterval").as_deref(),
                    Some("10"),
                    "{}",
                    table.display()
                );
            }
        }
    }
    for needed in ["bronze/tweets", "silver/tweets", "gold/tweets_per_city_5m"] {
        assert!(
            tables.iter().any(|t| t == needed),
            "{needed} not in {tables:?}"
        );
    }

    // No deletes, bad rows, notices or control messages came: those silver tables were created
    // once and took no commit per round (which would grow each log by a commit a second).
    let (_, tweet_writes) = delta_log(&dir.join("lake/silver/tweets"));
    assert!(tweet_writes.len() >= 2, "{tweet_writes:?}");
    for table in ["deletes", "tweets_quarantine", "notices", "stream_events"] {
        let (files, operations) = delta_log(&dir.join("lake/silver").join(table));
        assert_eq!(operations, ["WRITE"], "silver/{table}");
        assert!(files <= 1, "silver/{table}: {files} files");
    }

    // Gold followed silver's commits, but the daily ranking (`-- refresh: 5 minutes`) was
    // computed once in this short run: its later rounds were not due.
    let gold_writes = |model: &str| {
        let (_, operations) = delta_log(&dir.join("lake/gold").join(model));
        operations.iter().filter(|op| *op == "WRITE").count()
    };
    assert!(gold_writes("tweets_per_city_5m") >= 2);
    assert_eq!(gold_writes("top_entities_daily"), 1);
}
