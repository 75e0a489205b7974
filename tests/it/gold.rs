//! `tweetlake promote gold` and `tweetlake sql` end to end: synthetic tweets with late ones,
//! duplicates and deletes produced to tansu, ingested, promoted to silver (with NER) and gold; gold
//! checked against the generator's truth file and against DuckDB's own computation over silver,
//! read back by the deltalake package; the SQL for Spark and Athena parsed by sqlglot and run by
//! pysail; gold's Parquet snapshot read by JVM Spark; progress on a terminal and in the log.

use std::path::Path;

use crate::support::*;

fn gold_check(lake: &Path, truth: &Path) -> serde_json::Value {
    run_python_reader(
        "gold_check.py",
        &[lake.display().to_string(), truth.display().to_string()],
    )
}

/// Runs `tweetlake` and returns its stderr, asserting that it failed.
fn run_fails(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().expect("spawn tweetlake");
    assert!(!out.status.success(), "{cmd:?} should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn gold_equals_the_truth_file_and_duckdb() {
    let svc = Services::broker();
    svc.topic("tweets", 3);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let truth = dir.join("truth.csv");
    let models = repo_root().join("sql");
    let models = models.to_str().unwrap();
    run_ok(tweetlake(dir).args([
        "produce",
        "--bootstrap-servers",
        &svc.broker,
        "--topic",
        "tweets",
        "--synthetic",
        "1200",
        "--seed",
        "5",
        "--per-second",
        "1",
        "--geo-share",
        "0.5",
        "--noise",
        "deletes=0.03,duplicates=0.02,late=0.05",
        "--truth",
        truth.to_str().unwrap(),
    ]));
    run_ok(
        tweetlake(dir)
            .args(["--bootstrap-servers", svc.broker.as_str()])
            .args(["ingest", "--until-caught-up"]),
    );
    let (_, log) = run_logged(tweetlake(dir).args(["promote", "silver"]));
    assert!(
        log.contains("[1/1] silver from bronze/tweets: bronze vstart..v"),
        "{log}"
    );
    let report = run_ok(tweetlake(dir).args(["promote", "gold", "--models-dir", models]));
    for model in [
        "tweets_per_city_5m",
        "sentiment_per_minute",
        "top_hashtags_hourly",
        "top_entities_daily",
        "lake_freshness",
    ] {
        assert!(
            report.contains(&format!("gold.{model} v0: rebuilt (first build)")),
            "{report}"
        );
    }

    let check = gold_check(&dir.join("lake"), &truth);
    for (model, result) in check["models"].as_object().unwrap() {
        assert_eq!(
            result["equal"], true,
            "gold.{model} differs from DuckDB: {result}"
        );
        assert!(
            result["rows"].as_u64().unwrap() > 0,
            "gold.{model} is empty"
        );
    }
    assert_eq!(check["truth_equal"], true, "{check}");
    assert!(check["truth_rows"].as_u64().unwrap() > 50, "{check}");
    assert_eq!(check["column_problems"], serde_json::json!([]));
    assert_eq!(
        check["freshness_layers"],
        serde_json::json!(["bronze", "gold", "silver"])
    );

    // A Spark-API engine (pysail) runs the models as printed for Spark over the same silver Delta
    // table and gets gold's rows; it reads gold's Delta tables too.
    let spark_sql = run_ok(tweetlake(dir).args([
        "catalog",
        "models",
        "--engine",
        "spark",
        "--models-dir",
        models,
    ]));
    let lake = dir.join("lake");
    let spark = pipe_python_with(
        &spark_python_path(),
        "spark_check.py",
        &[lake.to_str().unwrap()],
        &spark_sql,
    );
    assert_eq!(spark["silver_rows"], check["silver_rows"], "{spark}");
    let ran = spark["models"].as_object().unwrap();
    assert_eq!(ran.len(), 4, "{spark}");
    for (model, result) in ran {
        assert_eq!(
            result["equal"], true,
            "Spark's gold.{model} differs: {result}"
        );
        assert!(result["rows"].as_u64().unwrap() > 0, "{spark}");
    }

    // A rerun finds nothing new.
    let again = run_ok(tweetlake(dir).args(["promote", "gold", "--models-dir", models]));
    assert_eq!(again.matches("up to date").count(), 5, "{again}");

    // Ad-hoc SQL: formats, time travel, and nothing that writes.
    let sql = |args: &[&str]| run_ok(tweetlake(dir).arg("sql").args(args));
    let count = "SELECT count(*) AS n FROM gold.tweets_per_city_5m";
    let rows = check["models"]["tweets_per_city_5m"]["rows"]
        .as_u64()
        .unwrap();

    // A full refresh logs its steps when stderr is not a terminal, and on a terminal also redraws
    // a progress line, which it takes off before each log line and before the report.
    let mut refresh = tweetlake(dir);
    refresh.args([
        "promote",
        "gold",
        "--models-dir",
        models,
        "--model",
        "tweets_per_city_5m",
        "--full-refresh",
    ]);
    let done =
        format!("[1/1] gold.tweets_per_city_5m: rebuilt (--full-refresh), {rows} rows written");
    let (_, log) = run_logged(&mut refresh);
    assert!(log.contains(&done), "{log}");
    assert!(!log.contains('\r') && !log.contains("\x1b[2K"), "{log}");
    let terminal = run_on_terminal(&refresh);
    for expected in [
        "\r\x1b[2K[1/1] gold.tweets_per_city_5m: ",
        done.as_str(),
        "\r\x1b[2K\x1b[2m",
        "\ngold.tweets_per_city_5m v",
    ] {
        assert!(terminal.contains(expected), "{expected:?} in {terminal:?}");
    }

    // JVM Spark (pyspark, local mode) reads the Parquet files of each gold table's current
    // snapshot, as the deltalake package lists them, and gets deltalake's rows. Two full refreshes
    // left files of older versions in the folder; reading the folder would count those too.
    let snapshot = run_python_reader("gold_snapshot.py", &[lake.display().to_string()]);
    let city = &snapshot["tweets_per_city_5m"];
    assert_eq!(city["files"].as_array().unwrap().len(), 1, "{city}");
    let parquet_in_folder = std::fs::read_dir(lake.join("gold/tweets_per_city_5m"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("parquet".as_ref()))
        .count();
    assert_eq!(parquet_in_folder, 3);
    let jvm = pipe_python_with(
        &spark_python_path(),
        "pyspark_check.py",
        &[],
        &snapshot.to_string(),
    );
    let read = jvm["tables"].as_object().unwrap();
    assert_eq!(read.len(), 5, "{jvm}");
    for (table, result) in read {
        assert_eq!(
            result["equal"], true,
            "JVM Spark's gold.{table} differs: {result}"
        );
        assert!(result["rows"].as_u64().unwrap() > 0, "{jvm}");
    }
    assert_eq!(read["tweets_per_city_5m"]["rows"], rows, "{jvm}");
    assert_eq!(
        read["tweets_per_city_5m"]["types"]["window_start"], "timestamp",
        "{jvm}"
    );
    assert_eq!(
        sql(&["--output-format", "csv", count]),
        format!("n\n{rows}\n")
    );
    assert_eq!(
        sql(&["--output-format", "json", count]),
        format!("{{\"n\":{rows}}}\n")
    );
    let at_zero = sql(&[
        "--output-format",
        "csv",
        "--version",
        "silver.tweets=0",
        "SELECT count(*) AS n FROM silver.tweets",
    ]);
    assert_eq!(at_zero, format!("n\n{}\n", check["silver_rows"]));
    // --as-of: before the lake existed there is no gold table; now there is.
    let past = run_fails(tweetlake(dir).args(["sql", "--as-of", "2000-01-01T00:00:00Z", count]));
    assert!(past.contains("tweets_per_city_5m"), "{past}");
    let now = chrono::Utc::now().to_rfc3339();
    assert_eq!(
        sql(&["--output-format", "csv", "--as-of", &now, count]),
        format!("n\n{rows}\n")
    );
    let tables = sql(&["--output-format", "csv", "SHOW TABLES"]);
    for t in ["bronze,tweets", "silver,tweets", "gold,lake_freshness"] {
        assert!(tables.contains(t), "{tables}");
    }
    for write in [
        "DELETE FROM gold.tweets_per_city_5m",
        "CREATE TABLE gold.x AS SELECT 1",
        "INSERT INTO gold.lake_freshness SELECT * FROM gold.lake_freshness",
    ] {
        let err = run_fails(tweetlake(dir).args(["sql", write]));
        assert!(err.contains("read-only"), "{write}: {err}");
    }
    let err = run_fails(tweetlake(dir).args(["sql", "--version", "silver.nope=1", count]));
    assert!(err.contains("silver.nope"), "{err}");

    // maintain on one table, as a dry run: a report for that table only, and nothing removed.
    let files = |t: &str| {
        std::fs::read_dir(dir.join("lake/gold").join(t))
            .unwrap()
            .count()
    };
    let before = files("tweets_per_city_5m");
    let (report, log) = run_logged(tweetlake(dir).args([
        "maintain",
        "--table-name",
        "gold.tweets_per_city_5m",
        "--dry-run",
    ]));
    assert_eq!(report.lines().count(), 1, "{report}");
    assert!(report.starts_with("gold.tweets_per_city_5m: "), "{report}");
    assert!(log.contains("[1/1] gold.tweets_per_city_5m: "), "{log}");
    assert_eq!(files("tweets_per_city_5m"), before);
    let err = run_fails(tweetlake(dir).args(["maintain", "--table-name", "silver"]));
    assert!(err.contains("expected LAYER.NAME"), "{err}");

    // Athena and Spark DDL for every table: parses, and declares the data's columns.
    let tables = sql(&["--output-format", "csv", "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema IN ('bronze', 'silver', 'gold')"]);
    let tables: u64 = tables.lines().nth(1).unwrap().parse().unwrap();
    for engine in ["athena", "spark"] {
        let ddl = run_ok(tweetlake(dir).args(["catalog", "ddl", "--engine", engine]));
        let check = pipe_python("ddl_check.py", &[engine], &ddl);
        assert_eq!(
            check["problems"],
            serde_json::json!([]),
            "{engine}: {check}"
        );
        assert_eq!(check["tables"], tables, "{engine}: {check}\n{ddl}");
    }
}

#[test]
fn models_print_for_spark_and_athena_and_parse_there() {
    let dir = tempfile::tempdir().unwrap();
    let models = repo_root().join("sql");
    for (engine, dialect) in [("spark", "spark"), ("athena", "trino")] {
        let sql = run_ok(tweetlake(dir.path()).args([
            "catalog",
            "models",
            "--engine",
            engine,
            "--models-dir",
            models.to_str().unwrap(),
        ]));
        assert_eq!(sql.matches("-- gold.").count(), 5, "{sql}");
        assert!(!sql.to_lowercase().contains("date_bin("), "{sql}");
        let summary = pipe_python("sql_portability.py", &[dialect], &sql);
        assert_eq!(summary["parsed"], 5, "{engine}: {summary}");
        assert_eq!(
            summary["failures"],
            serde_json::json!([]),
            "{engine}: {summary}"
        );
    }
}
