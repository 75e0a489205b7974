//! The plain-Parquet output end to end: real broker, kill -9 restarts, pyarrow and DuckDB readers.

use super::{fixture_messages, is_bad, kill_randomly, synthetic};
use crate::support::*;

#[test]
fn plain_parquet_output_survives_kills_and_replays_without_duplicates() {
    let svc = Services::broker();
    svc.topic("tweets", 3);
    let (mut msgs, _) = fixture_messages();
    let good_fixtures = msgs.clone();
    msgs.extend(synthetic(15_000));
    // Bad payloads spread through the stream too, so restarts land between quarantine and main files.
    let bad: Vec<Msg> = (0..300)
        .map(|i| (format!("{{\"truncated\": {i}").into_bytes(), None, vec![]))
        .collect();
    for (i, m) in bad.into_iter().enumerate() {
        msgs.insert(600 + i * 40, m);
    }
    produce(&svc.broker, "tweets", &msgs);
    let work = tempfile::tempdir().unwrap();
    let env = [
        ("TWEETLAKE_BRONZE__FORMAT", "parquet"),
        ("TWEETLAKE_BRONZE__MAX_MESSAGE_BYTES", "200000"),
    ];
    let kills = kill_randomly(work.path(), &svc.broker, 5, &env);
    assert!(kills >= 3, "only {kills} kills landed");
    let finish = || {
        run_ok(
            tweetlake(work.path())
                .args([
                    "ingest",
                    "--until-caught-up",
                    "--bootstrap-servers",
                    &svc.broker,
                ])
                .envs(env),
        )
    };
    finish();

    let lake = format!("file://{}/lake", work.path().display());
    let r = read_parquet_lake(&lake, "tweets");
    let (b, q) = (&r["bronze"], &r["quarantine"]);
    assert_eq!(b["readers"], serde_json::json!(["pyarrow", "duckdb"]));
    assert_eq!(b["duplicates"], 0);
    assert_eq!(q["duplicates"], 0);
    assert_eq!(
        b["rows"].as_u64().unwrap() + q["rows"].as_u64().unwrap(),
        msgs.len() as u64,
        "every message in exactly one of the two"
    );
    let values = |bad: bool| -> Vec<&[u8]> {
        msgs.iter()
            .map(|m| m.0.as_slice())
            .filter(|v| is_bad(v) == bad)
            .collect()
    };
    assert_eq!(q["rows"].as_u64().unwrap(), values(true).len() as u64);
    assert_eq!(
        b["digest"].as_str().unwrap(),
        digest(values(false).into_iter())
    );
    assert_eq!(
        q["digest"].as_str().unwrap(),
        digest(values(true).into_iter())
    );
    assert!(good_fixtures.len() < msgs.len());
    assert_eq!(b["partition_columns"], serde_json::json!(["ingest_date"]));
    assert_eq!(b["schema"]["kafka_offset"], "int64");

    // Hive directories and deterministic names: ingest_date=YYYY-MM-DD/tweets+P+<20-digit offset>.parquet
    let names: Vec<String> = serde_json::from_value(b["file_names"].clone()).unwrap();
    for n in &names {
        let (dir, file) = n.split_once('/').unwrap();
        assert!(dir.starts_with("ingest_date=") && dir.len() == 22, "{n}");
        let stem = file.strip_suffix(".parquet").unwrap();
        let parts: Vec<&str> = stem.rsplitn(3, '+').collect();
        assert_eq!(parts.len(), 3, "{n}");
        assert_eq!(parts[0].len(), 20, "{n}");
        assert_eq!(parts[2], "tweets", "{n}");
    }
    assert!(
        !work.path().join("lake/bronze/tweets/_delta_log").exists(),
        "no Delta table in Parquet mode"
    );

    // Status reads the offsets back from the files; a rerun finds nothing new and writes nothing.
    assert_eq!(
        stored_messages_in(work.path(), &svc.broker, &[], &env),
        msgs.len() as i64
    );
    finish();
    let again = read_parquet_lake(&lake, "tweets");
    assert_eq!(again["bronze"]["file_names"], b["file_names"]);
    assert_eq!(again["quarantine"]["file_names"], q["file_names"]);

    // Athena (partition projection) and Spark DDL for the two file tables: each parses and
    // declares exactly the columns pyarrow reads from the files.
    for engine in ["athena", "spark"] {
        let ddl = run_ok(tweetlake(work.path()).args(["catalog", "ddl", "--engine", engine]));
        let check = pipe_python("ddl_check.py", &[engine], &ddl);
        assert_eq!(
            check["problems"],
            serde_json::json!([]),
            "{engine}: {check}"
        );
        assert_eq!(check["tables"], 2, "{engine}: {check}\n{ddl}");
    }
}
