//! The soak test's end-state checks: gold against the generator's truth, every Kafka offset stored
//! once, silver's side tables against a count of the topic's own messages.

use std::path::Path;

use super::{sql_csv, tweetlake_in, POISON};
use crate::support::*;

/// Commits per layer of a local lake (the commit files its logs hold; log cleanup keeps 30 days).
pub(super) fn commits(dir: &Path) -> serde_json::Value {
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
pub(super) fn check_end_state(
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
