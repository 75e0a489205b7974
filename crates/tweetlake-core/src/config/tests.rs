use std::io::Write;
use std::time::Duration;

use super::*;

fn write_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_are_valid_and_embedded() {
    let (c, _) = Config::load(None, env(&[]), &Overrides::default()).unwrap();
    assert_eq!(c.lake.root, "file://./lake");
    assert_eq!(c.bronze.tables[0].name, "tweets");
    assert_eq!(c.bronze.flush.max_latency.get(), Duration::from_secs(5));
}

#[test]
fn file_then_env_then_flags() {
    let f = write_file(
        r#"
[lake]
root = "s3://bucket/a"
[kafka]
bootstrap_servers = "k1:9092"
"security.protocol" = "SASL_SSL"
"sasl.mechanism" = "SCRAM-SHA-512"
[[bronze.tables]]
name = "tweets"
topics = ["tweets.ai", "tweets.generic"]
[[bronze.tables]]
name = "other"
topics = ["misc"]
"#,
    );
    let mut flags = Overrides::default();
    flags.set(
        &["kafka", "group_id"],
        toml::Value::String("g-flag".into()),
        "--group-id",
    );
    let (c, src) = Config::load(
        Some(f.path()),
        env(&[
            ("TWEETLAKE_KAFKA__BOOTSTRAP_SERVERS", "k2:9092"),
            ("TWEETLAKE_KAFKA__SASL_USERNAME", "alice"),
            ("TWEETLAKE_BRONZE__FLUSH__MAX_ROWS_PER_FILE", "1000"),
            ("TWEETLAKE_KAFKA__GROUP_ID", "g-env"),
            ("UNRELATED", "x"),
        ]),
        &flags,
    )
    .unwrap();
    assert_eq!(c.lake.root, "s3://bucket/a");
    assert_eq!(c.kafka.bootstrap_servers, "k2:9092");
    assert_eq!(c.kafka.group_id, "g-flag");
    assert_eq!(c.bronze.flush.max_rows_per_file, 1000);
    assert_eq!(c.bronze.tables.len(), 2);
    assert_eq!(
        c.bronze.tables[0].topics,
        vec!["tweets.ai", "tweets.generic"]
    );
    let props = c.kafka.librdkafka_properties();
    assert!(props.contains(&("sasl.username".into(), "alice".into())));
    assert!(props.contains(&("security.protocol".into(), "SASL_SSL".into())));
    assert_eq!(src.env_keys.len(), 4);
}

#[test]
fn unknown_key_names_file_and_key() {
    let f = write_file("[lake]\nroot = \"./x\"\nrooot = 1\n");
    let e = Config::load(Some(f.path()), env(&[]), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("rooot"), "{e}");
    assert!(e.contains(&f.path().display().to_string()), "{e}");
    assert!(e.contains("line 3"), "{e}");
}

#[test]
fn wrong_type_from_env_is_named() {
    let e = Config::load(
        None,
        env(&[("TWEETLAKE_BRONZE__FLUSH__MAX_ROWS_PER_FILE", "lots")]),
        &Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("TWEETLAKE_BRONZE__FLUSH__MAX_ROWS_PER_FILE"),
        "{e}"
    );
    assert!(e.contains("max_rows_per_file"), "{e}");
}

#[test]
fn semantic_errors_name_the_key() {
    let cases = [
        ("[bronze.flush]\nmax_latency = \"soon\"\n", "bronze.flush.max_latency"),
        ("[lake]\nroot = \"ftp://x\"\n", "lake.root"),
        ("[metrics]\nlisten = \"nowhere\"\n", "metrics.listen"),
        ("[log]\nformat = \"xml\"\n", "log.format"),
        (
            "[[bronze.tables]]\nname = \"Bad-Name\"\ntopics = [\"t\"]\n",
            "bronze.tables[0].name",
        ),
        (
            "[[bronze.tables]]\nname = \"a\"\ntopics = []\n",
            "bronze.tables[0].topics",
        ),
        (
            "[[bronze.tables]]\nname = \"a\"\ntopics = [\"t\"]\n[[bronze.tables]]\nname = \"b\"\ntopics = [\"t\"]\n",
            "bronze.tables[1].topics",
        ),
        (
            "[[bronze.tables]]\nname = \"x_quarantine\"\ntopics = [\"t\"]\n",
            "bronze.tables[0].name",
        ),
        ("[silver.ner]\nthreads = 0\n", "silver.ner.threads"),
        ("[silver.ner.labels]\nathlete = \"PERSON\"\n", "silver.ner.labels"),
        (
            "[[silver.expectations]]\nname = \"a\"\ncheck = \"true\"\naction = \"warn\"\n[[silver.expectations]]\nname = \"a\"\ncheck = \"true\"\naction = \"drop\"\n",
            "silver.expectations",
        ),
        ("[serve]\npg_listen = \"0.0.0.0:5433\"\n", "serve.password"),
        ("[serve]\ntls_cert = \"c.pem\"\n", "serve.tls_cert"),
        ("[serve]\nhttp_listen = \"localhost\"\n", "serve.http_listen"),
        ("[serve]\nhttp_listen = \"0.0.0.0:8080\"\n", "serve.password"),
        ("[serve]\nauth = \"trust\"\n", "serve.auth"),
        ("[serve]\nmax_connections = 0\n", "serve.max_connections"),
        ("[serve]\nstatement_timeout_seconds = 0\n", "serve.statement_timeout_seconds"),
        ("[serve]\nquery_memory_mb = 4096\n", "serve.memory_mb"),
        ("[maintain]\ntarget_file_size_mb = 0\n", "maintain.target_file_size_mb"),
        ("[run]\nmaintain_hour_utc = 24\n", "run.maintain_hour_utc"),
        ("[gold]\nmodels_dir = \"\"\n", "gold.models_dir"),
    ];
    for (text, key) in cases {
        let f = write_file(text);
        let e = Config::load(Some(f.path()), env(&[]), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("`{key}`")), "{text:?} gave {e}");
    }
}

#[test]
fn the_old_app_id_key_moves_to_the_lake_with_a_note() {
    let f = write_file("[bronze]\napp_id = \"east\"\n");
    let (c, src) = Config::load(Some(f.path()), env(&[]), &Overrides::default()).unwrap();
    assert_eq!(c.lake.app_id, "east");
    assert_eq!(src.deprecated.len(), 1);
    assert!(
        src.deprecated[0].contains("now lake.app_id"),
        "{:?}",
        src.deprecated
    );
    // From the environment too; the new key alone gives no note.
    let (c, src) = Config::load(
        None,
        env(&[("TWEETLAKE_BRONZE__APP_ID", "west")]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!((c.lake.app_id.as_str(), src.deprecated.len()), ("west", 1));
    let (c, src) = Config::load(
        None,
        env(&[("TWEETLAKE_LAKE__APP_ID", "north")]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!((c.lake.app_id.as_str(), src.deprecated.len()), ("north", 0));
    // Both, disagreeing: which one the lake's progress lives under is not guessed.
    let f = write_file("[lake]\napp_id = \"a\"\n[bronze]\napp_id = \"b\"\n");
    let e = Config::load(Some(f.path()), env(&[]), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("set only lake.app_id"), "{e}");
    let f = write_file("[lake]\napp_id = \"bad id\"\n");
    let e = Config::load(Some(f.path()), env(&[]), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("`lake.app_id`"), "{e}");
}

#[test]
fn missing_file_is_named() {
    let e = Config::load(
        Some(Path::new("/nonexistent/tweetlake.toml")),
        env(&[]),
        &Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("/nonexistent/tweetlake.toml"), "{e}");
}

/// Durations and the fsync policy are typed when the config is read: a good one is a
/// `Duration` from then on, a bad one stops the load naming the key, the value and the forms.
#[test]
fn durations_are_typed_once_and_named_when_bad() {
    let f = write_file(
        "[bronze.flush]\nmax_latency = \"250ms\"\n[produce.spool]\nfsync = \"never\"\n\
         [produce.x_api]\nstall_timeout = \"2m\"\n",
    );
    let (c, _) = Config::load(Some(f.path()), env(&[]), &Overrides::default()).unwrap();
    assert_eq!(c.bronze.flush.max_latency.get(), Duration::from_millis(250));
    assert_eq!(c.produce.spool.fsync, Fsync::Never);
    assert_eq!(
        c.produce.x_api.stall_timeout.get(),
        Duration::from_secs(120)
    );
    assert_eq!(
        Config::default().produce.spool.fsync,
        Fsync::Interval(Duration::from_secs(1))
    );
    for (text, key, says) in [
        (
            "[bronze.flush]\nmax_latency = \"x5s\"\n",
            "max_latency",
            "`x5s` is not a duration like `500ms`, `5s`, `1m` or `1h`",
        ),
        (
            "[bronze.flush]\nmax_latency = \"0ms\"\n",
            "`bronze.flush.max_latency`",
            "must be above 0",
        ),
        (
            "[produce]\ndelivery_timeout = \"0s\"\n",
            "`produce.delivery_timeout`",
            "must be above 0",
        ),
        (
            "[produce.spool]\nfsync = \"sometimes\"\n",
            "fsync",
            "`sometimes` is not `always`, `never` or a duration like",
        ),
    ] {
        let f = write_file(text);
        let e = Config::load(Some(f.path()), env(&[]), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains(key) && e.contains(says), "{text:?} gave {e}");
    }
}

#[test]
fn example_config_is_valid_and_matches_defaults() {
    let f = write_file(EXAMPLE);
    let (c, _) = Config::load(Some(f.path()), env(&[]), &Overrides::default()).unwrap();
    let d = Config::default();
    assert_eq!(c.lake.root, d.lake.root);
    assert_eq!(c.lake.app_id, d.lake.app_id);
    assert_eq!(c.silver.sentiment.method, d.silver.sentiment.method);
    assert_eq!(c.bronze.tables, d.bronze.tables);
    assert_eq!(c.bronze.flush.max_buffer_mb, d.bronze.flush.max_buffer_mb);
    assert_eq!(c.bronze.flush.max_latency, d.bronze.flush.max_latency);
    assert_eq!(c.silver.ner.batch_size, d.silver.ner.batch_size);
    assert_eq!(c.silver.ner.precision, d.silver.ner.precision);
    assert_eq!(c.serve.auth, d.serve.auth);
    assert_eq!(
        (c.serve.max_connections, c.serve.statement_timeout_seconds),
        (d.serve.max_connections, d.serve.statement_timeout_seconds)
    );
    assert_eq!(
        (
            c.serve.query_memory_mb,
            c.serve.memory_mb,
            c.serve.max_result_rows
        ),
        (
            d.serve.query_memory_mb,
            d.serve.memory_mb,
            d.serve.max_result_rows
        )
    );
}

#[test]
fn ner_precision_from_env_and_a_bad_one_named() {
    let (c, _) = Config::load(
        None,
        env(&[("TWEETLAKE_SILVER__NER__PRECISION", "bfloat16")]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(
        c.silver.ner.precision,
        crate::config::NerPrecision::Bfloat16
    );
    let f = write_file("[silver.ner]\nprecision = \"fp8\"\n");
    let err = Config::load(Some(f.path()), env(&[]), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("`silver.ner.precision`"), "{err}");
    assert!(err.contains("auto"), "{err}");
}

#[test]
fn output_format_from_file_and_env() {
    let f = write_file("[bronze]\nformat = \"parquet\"\n");
    let (c, _) = Config::load(Some(f.path()), env(&[]), &Overrides::default()).unwrap();
    assert_eq!(c.bronze.format, OutputFormat::Parquet);
    let (c, _) = Config::load(
        Some(f.path()),
        env(&[("TWEETLAKE_BRONZE__FORMAT", "delta")]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(c.bronze.format, OutputFormat::Delta);
}

#[test]
fn a_bad_value_in_a_file_names_the_key_and_the_line() {
    let f = write_file("[bronze]\nformat = \"csv\"\n");
    let err = Config::load(Some(f.path()), env(&[]), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("`bronze.format`"), "{err}");
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("expected `delta` or `parquet`"), "{err}");
}

#[test]
fn configured_expectations_replace_defaults_by_name() {
    let f = write_file(
        "[[silver.expectations]]\nname = \"text_not_empty\"\ncheck = \"length(text) > 0\"\naction = \"drop\"\n[[silver.expectations]]\nname = \"english\"\ncheck = \"lang = 'en'\"\naction = \"fail\"\n",
    );
    let (c, _) = Config::load(Some(f.path()), env(&[]), &Overrides::default()).unwrap();
    let rules: Vec<(String, ExpectationAction)> = c
        .silver
        .effective_expectations()
        .into_iter()
        .map(|e| (e.name, e.action))
        .collect();
    let expected = [
        ("tweet_id_present", ExpectationAction::Drop),
        ("created_at_sane", ExpectationAction::Drop),
        ("text_not_empty", ExpectationAction::Drop),
        ("lang_known", ExpectationAction::Warn),
        ("english", ExpectationAction::Fail),
    ];
    let expected: Vec<(String, ExpectationAction)> =
        expected.iter().map(|(n, a)| (n.to_string(), *a)).collect();
    assert_eq!(rules, expected);
    // An action that is not one of the three is named with its key.
    let f = write_file(
        "[[silver.expectations]]\nname = \"x\"\ncheck = \"true\"\naction = \"ignore\"\n",
    );
    let e = Config::load(Some(f.path()), env(&[]), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown variant `ignore`"), "{e}");
}
