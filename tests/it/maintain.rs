//! The deployed order of commands over days: ingest, promotions, `maintain` at night, and
//! promotions again — after each other and beside each other. Maintenance may change how the lake
//! stores rows, never which rows a layer holds.

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// One row of a query's result, from `tweetlake sql --output-format json`.
fn sql_row(dir: &Path, query: &str) -> serde_json::Value {
    let out = run_ok(
        tweetlake(dir)
            .args(["sql", "--output-format", "json"])
            .arg(query),
    );
    serde_json::from_str(out.lines().next().unwrap_or("{}")).expect("one JSON row")
}

fn count(dir: &Path, query: &str) -> i64 {
    sql_row(dir, query)["n"].as_i64().unwrap_or(-1)
}

/// Produces `n` synthetic tweets from `start` (noise included) and appends their truth to `truth`.
fn produce_batch(dir: &Path, broker: &str, seed: u64, start: &str, truth: &Path) {
    let part = dir.join(format!("truth-{seed}.csv"));
    run_ok(tweetlake(dir).args([
        "produce",
        "--bootstrap-servers",
        broker,
        "--topic",
        "tweets",
        "--synthetic",
        "500",
        "--seed",
        &seed.to_string(),
        "--start",
        start,
        "--per-second",
        "1",
        "--geo-share",
        "0.5",
        "--noise",
        "deletes=0.03,duplicates=0.03,late=0.05,malformed=0.02,limits=0.01",
        "--truth",
        part.to_str().unwrap(),
    ]));
    // The batches' windows do not overlap, so the truths add up line by line (one header).
    let text = std::fs::read_to_string(&part).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let mut all = std::fs::read_to_string(truth).unwrap_or_else(|_| format!("{header}\n"));
    for line in lines {
        all.push_str(line);
        all.push('\n');
    }
    std::fs::write(truth, all).unwrap();
}

/// A `tweetlake` command that writes bronze in many small files, as a live stream does.
fn small_files(dir: &Path) -> Command {
    let mut c = tweetlake(dir);
    c.env("TWEETLAKE_BRONZE__FLUSH__MAX_ROWS_PER_FILE", "120")
        .env("TWEETLAKE_SILVER__NER__ENABLED", "false")
        .env("TWEETLAKE_GOLD__MODELS_DIR", repo_root().join("sql"));
    c
}

/// Every silver side-table row names its bronze offset; none may be there twice.
fn assert_no_side_row_twice(dir: &Path) {
    for table in ["tweets_quarantine", "deletes", "notices"] {
        let rows = count(dir, &format!("SELECT count(*) AS n FROM silver.{table}"));
        let distinct = count(
            dir,
            &format!(
                "SELECT count(*) AS n FROM (SELECT DISTINCT bronze_topic, bronze_partition, \
                 bronze_offset FROM silver.{table})"
            ),
        );
        assert_eq!(rows, distinct, "silver.{table} holds a bronze row twice");
    }
}

fn stream_event_totals(dir: &Path) -> serde_json::Value {
    sql_row(
        dir,
        "SELECT sum(CASE WHEN kind = 'limit' THEN messages ELSE 0 END) AS limits, \
         sum(messages) AS total FROM silver.stream_events",
    )
}

/// A lake in a temporary folder fed from a fresh broker, driven command by command as the timers
/// would, with the generator's truth kept beside it.
struct Deployment {
    svc: Services,
    work: tempfile::TempDir,
}

impl Deployment {
    fn new() -> Self {
        let svc = Services::broker();
        svc.topic("tweets", 3);
        Self {
            svc,
            work: tempfile::tempdir().unwrap(),
        }
    }

    fn dir(&self) -> &Path {
        self.work.path()
    }

    fn truth(&self) -> std::path::PathBuf {
        self.dir().join("truth.csv")
    }

    fn produce(&self, seed: u64, start: &str) {
        produce_batch(self.dir(), &self.svc.broker, seed, start, &self.truth());
    }

    fn ingest(&self) -> String {
        run_ok(
            small_files(self.dir())
                .args(["--bootstrap-servers", &self.svc.broker])
                .args(["ingest", "--until-caught-up"]),
        )
    }

    fn promote(&self, layer: &str) -> String {
        run_ok(small_files(self.dir()).args(["promote", layer]))
    }

    fn maintain(&self) -> String {
        run_ok(small_files(self.dir()).arg("maintain"))
    }

    /// Gold equal to the truth by the independent checker, and no silver side row twice.
    fn assert_exact(&self) {
        let check = run_python_reader(
            "gold_check.py",
            &[
                self.dir().join("lake").display().to_string(),
                self.truth().display().to_string(),
            ],
        );
        assert_eq!(check["truth_equal"], true, "{check}");
        for (model, result) in check["models"].as_object().unwrap() {
            assert_eq!(result["equal"], true, "gold.{model} differs: {result}");
        }
        assert_no_side_row_twice(self.dir());
    }
}

#[test]
fn maintenance_between_promotions_changes_no_result() {
    let lake = Deployment::new();
    let dir = lake.dir();
    let promote = |layer: &str| lake.promote(layer);

    lake.produce(1, "2026-11-30T10:00:00Z");
    lake.ingest();
    promote("silver");
    promote("gold");

    // The night: every table compacted, checkpointed, vacuumed.
    let night = lake.maintain();
    assert!(night.contains("bronze.tweets: "), "{night}");
    let bronze_lines: Vec<&str> = night
        .lines()
        .filter(|l| l.starts_with("bronze.tweets: "))
        .collect();
    let compacted = compacted_files(&bronze_lines.join("\n"));
    assert!(compacted > 1, "bronze was not compacted: {night}");

    // A compaction alone is no new data: silver reads nothing, gold recomputes no window (only
    // lake_freshness, a `table` model, is rebuilt as after any source commit).
    let silver = promote("silver");
    assert!(
        silver.contains(": 0 rows read, 0 tweets inserted"),
        "{silver}"
    );
    let gold = promote("gold");
    assert_eq!(
        gold.matches(": 0 windows recomputed, 0 rows").count(),
        4,
        "{gold}"
    );
    assert_eq!(gold.matches("rebuilt").count(), 1, "{gold}");

    // The next day's tweets, promoted after the night's maintenance: incremental, and exact.
    lake.produce(2, "2026-11-30T14:00:00Z");
    lake.ingest();
    let silver = promote("silver");
    assert!(!silver.contains(" 0 rows read"), "{silver}");
    let gold = promote("gold");
    assert!(
        !gold.contains("rebuilt (its SQL changed)"),
        "gold rebuilt from scratch after maintenance: {gold}"
    );
    let windows = gold
        .lines()
        .find(|l| l.starts_with("gold.tweets_per_city_5m "))
        .unwrap_or_default();
    assert!(
        windows.contains(" windows recomputed") && !windows.contains(": 0 windows"),
        "{gold}"
    );

    // Maintenance once more, then the same state read by the independent checkers.
    lake.maintain();
    let silver = promote("silver");
    assert!(
        silver.contains(": 0 rows read, 0 tweets inserted"),
        "{silver}"
    );
    lake.assert_exact();

    // Side tables equal a rebuild that reads every bronze row once.
    let side_counts = |dir: &Path| {
        ["tweets_quarantine", "deletes", "notices"]
            .map(|t| count(dir, &format!("SELECT count(*) AS n FROM silver.{t}")))
    };
    let incremental = (stream_event_totals(dir), side_counts(dir));
    let copy = tempfile::tempdir().unwrap();
    let copied = Command::new("cp")
        .arg("-a")
        .arg(dir.join("lake"))
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(copied.success());
    run_ok(small_files(copy.path()).args(["promote", "silver", "--full-refresh"]));
    let rebuilt = (stream_event_totals(copy.path()), side_counts(copy.path()));
    assert_eq!(incremental, rebuilt);
    assert!(
        incremental.0["limits"].as_i64().unwrap_or(0) > 0,
        "{incremental:?}"
    );
    assert!(
        incremental.1[1] > 10,
        "the deletes reach silver: {incremental:?}"
    );
}

/// Sets every `_delta_log` file under `dir` `days` into the past, as if written then.
fn age_logs(dir: &Path, days: u64) -> usize {
    let then = std::time::SystemTime::now() - std::time::Duration::from_secs(days * 86_400);
    let mut aged = 0;
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if folder.ends_with("_delta_log") {
                let file = std::fs::File::options().write(true).open(&path).unwrap();
                file.set_modified(then).unwrap();
                aged += 1;
            }
        }
    }
    aged
}

/// The log files `maintain`'s report says it removed from `table`.
fn logs_removed(report: &str, table: &str) -> u64 {
    let lines = report
        .lines()
        .filter(|l| l.starts_with(&format!("{table}: ")));
    counts_before(lines, " expired log files removed")
}

/// Silver stops (a broken timer) while ingest goes on for longer than Delta keeps its log, and
/// maintenance runs every night meanwhile. When silver comes back, bronze's log still holds every
/// commit silver has not read: each tweet reaches silver once and gold equals the truth, while the
/// commits every layer has read are cleaned up as before.
#[test]
fn a_layer_stopped_past_the_log_retention_resumes_exactly() {
    let lake = Deployment::new();
    lake.produce(1, "2026-11-30T10:00:00Z");
    lake.ingest();
    lake.promote("silver");
    lake.promote("gold");
    lake.maintain();

    // Silver stops. Bronze grows, and its log outlives Delta's 30-day retention.
    lake.produce(2, "2026-11-30T14:00:00Z");
    lake.ingest();
    assert!(age_logs(&lake.dir().join("lake"), 40) > 10);
    // Ingest goes on committing (Delta's writers clean the log after a commit by default), and
    // the nights' maintenance runs.
    lake.produce(3, "2026-11-30T18:00:00Z");
    lake.ingest();
    let night = lake.maintain();
    // What every reader has read is cleaned: bronze's commits up to what silver consumed, and
    // the quarantine's (no layer reads it) up to its checkpoint.
    assert!(logs_removed(&night, "bronze.tweets") > 0, "{night}");
    assert!(
        logs_removed(&night, "bronze.tweets_quarantine") > 0,
        "{night}"
    );

    // Silver resumes: batches 2 and 3 once, the compacted batch 1 not again.
    lake.promote("silver");
    lake.promote("gold");
    lake.assert_exact();
}
