//! `tweetlake promote silver` end to end: real fixtures produced to tansu, ingested into bronze,
//! promoted; silver read back by deltalake and DuckDB.

use std::collections::BTreeSet;

use sha2::Digest;

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

/// Produces `files` (in this order) to topic `tweets` and ingests them into bronze.
fn produce_and_ingest(svc: &Services, work: &std::path::Path, files: &[std::path::PathBuf]) {
    let mut produce = tweetlake(work);
    produce.args([
        "produce",
        "--bootstrap-servers",
        &svc.broker,
        "--topic",
        "tweets",
    ]);
    for f in files {
        produce.arg("--file").arg(f);
    }
    run_ok(&mut produce);
    run_ok(
        tweetlake(work)
            .args(["--bootstrap-servers", svc.broker.as_str()])
            .args(["ingest", "--until-caught-up"]),
    );
}

fn fixture_path(name: &str) -> std::path::PathBuf {
    repo_root().join("tests/fixtures").join(name)
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
    let paths: Vec<_> = files.iter().map(|f| fixture_path(f)).collect();
    produce_and_ingest(&svc, work.path(), &paths);
    // bfloat16 whatever this CPU prefers, so the commit's record of it is checked for certain.
    let (report, log) = run_logged(
        tweetlake(work.path())
            .env("TWEETLAKE_SILVER__NER__PRECISION", "bfloat16")
            .env("TWEETLAKE_LOG__SPAN_TIMINGS", "true")
            .args(["promote", "silver"]),
    );
    // `log.span_timings`: each part of the promotion logs how long it was busy as it closes.
    for phase in [
        "open_bronze",
        "open_silver",
        "consumed_version",
        "slice_ends",
        "new_files",
        "read_bronze",
        "read_held",
        "enrich",
        "expectations",
        "side_tables",
        "upsert_tweets",
    ] {
        // The phase's own close, not that of a span inside it (NER's batches).
        let own = format!("silver_phase{{phase=\"{phase}\"}}: ");
        let closed = log
            .lines()
            .filter(|l| l.contains(&own) && l.contains("close time.busy"));
        assert_eq!(closed.count(), 1, "{phase}: {log}");
    }
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
    // Every tweet went through NER and sentiment, with offsets a Python reader agrees with.
    assert_eq!(silver["rows_without_entities"], 0);
    assert_eq!(silver["entities_misplaced"], 0);
    assert!(
        silver["entities"].as_u64().unwrap() > 100,
        "{}",
        silver["entities"]
    );
    let labelled: u64 = ["positive", "negative", "neutral"]
        .iter()
        .map(|k| silver["sentiment"][k].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(labelled, 387, "{}", silver["sentiment"]);
    // The commit names the exact weights: the hash of the model file the test can read itself.
    let weights =
        std::fs::read(repo_root().join("models/tweetlake-ner/model.safetensors")).unwrap();
    let sha = hex::encode(sha2::Sha256::digest(&weights));
    assert_eq!(silver["ner_weights_sha256"], sha.as_str());
    // Sentiment came from the shipped head (setup-ner.sh installs it beside the model), in the
    // same pass, and the commit names it and its exact weights.
    let head: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("models/tweetlake-ner/tweetlake-sentiment.json")).unwrap(),
    )
    .unwrap();
    let method = format!(
        "{} {}",
        head["id"].as_str().unwrap(),
        head["version"].as_str().unwrap()
    );
    assert_eq!(silver["sentiment_method"], method.as_str());
    let head_weights =
        std::fs::read(repo_root().join("models/tweetlake-ner/sentiment.safetensors")).unwrap();
    let head_sha = hex::encode(sha2::Sha256::digest(&head_weights));
    assert_eq!(silver["sentiment_weights_sha256"], head_sha.as_str());
    assert_eq!(silver["sentiment_scores_out_of_range"], 0);
    // All three classes occur among 387 real tweets.
    for class in ["positive", "neutral", "negative"] {
        assert!(
            silver["sentiment"][class].as_u64().unwrap_or(0) > 10,
            "{}",
            silver["sentiment"]
        );
    }
    assert_eq!(silver["ner_precision"], "bfloat16");

    // Nothing new in bronze: the second run reads nothing and commits nothing.
    let (again, again_log) = run_logged(tweetlake(work.path()).args(["promote", "silver"]));
    assert!(
        again.contains(": 0 rows read, 0 tweets inserted"),
        "{again}"
    );
    assert!(
        !again_log.contains("time.busy"),
        "timings are off by default: {again_log}"
    );
    assert_eq!(silver_summary(&lake)["version"], silver["version"]);
}

/// `silver.sentiment.method`: `model` with a NER model that has no sentiment head stops the run
/// before any silver table exists; `vader` labels with VADER even beside a head, and says so in
/// the commit.
#[test]
fn the_sentiment_method_is_settled_before_data_moves() {
    let svc = Services::broker();
    svc.topic("tweets", 1);
    let work = tempfile::tempdir().unwrap();
    produce_and_ingest(
        &svc,
        work.path(),
        &[fixture_path("v2_stream_messages.jsonl")],
    );
    // The shipped encoder without its head.
    let bare = work.path().join("bare-model");
    std::fs::create_dir(&bare).unwrap();
    for name in [
        "config.json",
        "model.safetensors",
        "vocab.txt",
        "tweetlake-ner.json",
    ] {
        std::os::unix::fs::symlink(
            repo_root().join("models/tweetlake-ner").join(name),
            bare.join(name),
        )
        .unwrap();
    }
    let failed = tweetlake(work.path())
        .env("TWEETLAKE_SILVER__NER__MODEL", &bare)
        .env("TWEETLAKE_SILVER__SENTIMENT__METHOD", "model")
        .args(["promote", "silver"])
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let why = String::from_utf8_lossy(&failed.stderr);
    assert!(
        why.contains(
            "silver.sentiment.method = \"model\", but the NER model has no sentiment head"
        ),
        "{why}"
    );
    assert!(!work.path().join("lake/silver").exists());

    run_ok(
        tweetlake(work.path())
            .env("TWEETLAKE_SILVER__SENTIMENT__METHOD", "vader")
            .args(["promote", "silver"]),
    );
    let silver = silver_summary(&work.path().join("lake"));
    assert_eq!(silver["rows"], 200);
    assert_eq!(silver["sentiment_method"], "vader 3.3.2");
    assert!(silver["sentiment_weights_sha256"].is_null());
}

/// `promote silver` killed with SIGKILL midway — right after its first side-table commit, then
/// right after its last side-table commit, both before the tweets' — then run to the end: silver
/// holds every fixture tweet exactly once and none of the deleted ones.
#[test]
fn a_promote_killed_midway_reruns_to_the_same_silver() {
    let svc = Services::broker();
    svc.topic("tweets", 3);
    let work = tempfile::tempdir().unwrap();
    let files = ["v1_mixed_tweets.jsonl", "v2_stream_messages.jsonl"];
    let mut expected = fixture_tweet_ids(&files);
    // Deletes for every 20th tweet: some land before their tweet in other partitions.
    let deleted: BTreeSet<i64> = expected.iter().step_by(20).copied().collect();
    let deletes: String = deleted
        .iter()
        .map(|id| {
            format!(
                "{{\"delete\":{{\"status\":{{\"id\":{id},\"id_str\":\"{id}\",\"user_id\":1,\"user_id_str\":\"1\"}},\"timestamp_ms\":\"1700000000000\"}}}}\n"
            )
        })
        .collect();
    let deletes_file = work.path().join("deletes.jsonl");
    std::fs::write(&deletes_file, deletes).unwrap();
    expected.retain(|id| !deleted.contains(id));
    let mut paths: Vec<_> = files.iter().map(|f| fixture_path(f)).collect();
    paths.push(deletes_file);
    produce_and_ingest(&svc, work.path(), &paths);

    let lake = work.path().join("lake/silver");
    let has_log = |t: &str| lake.join(t).join("_delta_log").exists();
    let mut midway = 0;
    // deletes is the first table a run commits, quality the last before tweets.
    for table in ["deletes", "quality"] {
        let mut child = spawn(tweetlake(work.path()).args(["promote", "silver"]));
        while !has_log(table) && child.try_wait().unwrap().is_none() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if has_log(table) && !has_log("tweets") {
            midway += 1;
        }
    }
    assert_eq!(
        midway, 2,
        "a kill did not land between the side tables and the tweets"
    );
    run_ok(tweetlake(work.path()).args(["promote", "silver"]));
    let silver = silver_summary(&work.path().join("lake"));
    assert_eq!(silver["rows"], silver["distinct_ids"]);
    let got: BTreeSet<i64> = silver["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(got, expected);
    assert_eq!(silver["rows_without_entities"], 0);
}

/// `tweetlake sentiment eval` scores silver's method on labelled tweets (the committed sample of
/// 70 hand-checked ones) as SemEval does, and a malformed file is named with its line.
#[test]
fn sentiment_eval_scores_labelled_tweets_and_names_bad_rows() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let sample = fixture_path("sentiment_sample.tsv");
    let sample = sample.to_str().unwrap();
    let out = run_ok(tweetlake(dir).args(["sentiment", "eval", "--method", "vader", sample]));
    assert!(out.contains("(vader 3.3.2)"), "{out}");
    // VADER is deterministic: 40 of 70 right (the nlp crate's test of the same sample); recall
    // 13/18 positive, 21/40 neutral, 6/12 negative.
    assert!(
        out.contains("macro-recall 0.582  accuracy 0.571  (70 tweets)"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["neutral", "17", "21", "2"]),
        "{out}"
    );
    // The confusion matrix's cells add up to the tweets scored.
    let cells: usize = out
        .lines()
        .skip_while(|l| !l.starts_with("confusion"))
        .skip(2)
        .take(3)
        .flat_map(|l| {
            l.split_whitespace()
                .skip(1)
                .map(|n| n.parse::<usize>().unwrap())
        })
        .sum();
    assert_eq!(cells, 70, "{out}");

    // By default (silver.sentiment.method = auto) the shipped head beside the NER model labels
    // them, in the NER pass: on this sample, labelled by hand before any scorer saw it, 49 of 70
    // when it was trained (macro-recall 0.706). The bound leaves room for a model rebuilt on
    // another CPU.
    let out = run_ok(tweetlake(dir).args(["sentiment", "eval", sample]));
    assert!(out.contains("(tweetlake-sentiment-minilm-l6 1)"), "{out}");
    let recall: f64 = out
        .split("macro-recall ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|r| r.parse().ok())
        .unwrap();
    assert!(recall >= 0.66, "{out}");
    // `ner tag` shows what one pass gives: the sentiment beside the entities.
    let tagged = run_ok(tweetlake(dir).args(["ner", "tag", "What a great win, I love it!"]));
    let score: f64 = tagged
        .split("\n  sentiment positive ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("{tagged}"));
    assert!(score > 0.5 && score <= 1.0, "{tagged}");

    let bad = dir.join("bad.tsv");
    std::fs::write(
        &bad,
        "id\tlabel\ttext\n1\tpositive\tgreat day\n2\tobjective\tmeh\n",
    )
    .unwrap();
    let failed = tweetlake(dir)
        .args(["sentiment", "eval", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let why = String::from_utf8_lossy(&failed.stderr);
    assert!(
        why.contains("bad.tsv:3") && why.contains("objective"),
        "{why}"
    );
}

/// `tweetlake ner eval` scores what silver would store (an @mention is left out on both sides)
/// and reads a corpus with its own entity types through a `--labels` file, as WNUT-16's.
#[test]
fn ner_eval_scores_as_silver_and_maps_foreign_types_from_a_file() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let conll = dir.join("wnut16-style.conll");
    let rows = [
        ("@nba", "B-company"),
        ("LeBron", "B-person"),
        ("James", "I-person"),
        ("scored", "O"),
        ("40", "O"),
        ("for", "O"),
        ("the", "O"),
        ("Lakers", "B-sportsteam"),
        ("in", "O"),
        ("Los", "B-geo-loc"),
        ("Angeles", "I-geo-loc"),
    ];
    let text: String = rows.iter().map(|(w, t)| format!("{w}\t{t}\n")).collect();
    std::fs::write(&conll, text).unwrap();
    let model = repo_root().join("models/tweetlake-ner");
    let eval = |labels: Option<&std::path::Path>| {
        let mut cmd = tweetlake(dir);
        cmd.args(["ner", "eval", conll.to_str().unwrap()])
            .args(["--model", model.to_str().unwrap()]);
        if let Some(l) = labels {
            cmd.args(["--labels", l.to_str().unwrap()]);
        }
        cmd.output().unwrap()
    };
    // Without the mapping, WNUT-16's `company` is unknown: refused, naming it and the line.
    let refused = eval(None);
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(
        why.contains("wnut16-style.conll:1") && why.contains("company") && why.contains("--labels"),
        "{why}"
    );

    let scored = eval(Some(&repo_root().join("docs/ner-labels/wnut16.toml")));
    let out = String::from_utf8_lossy(&scored.stdout);
    assert!(
        scored.status.success(),
        "{}",
        String::from_utf8_lossy(&scored.stderr)
    );
    // As silver stores it: the three names found exactly; @nba counts on neither side.
    let as_silver = out
        .split("as silver stores it")
        .nth(1)
        .and_then(|s| s.lines().find(|l| l.starts_with("overall")))
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(
        as_silver.split_whitespace().collect::<Vec<_>>(),
        ["overall", "3", "3", "3", "1.000", "1.000", "1.000"],
        "{out}"
    );
    // At word level the @mention is a gold entity the model (by convention) does not tag.
    let words = out
        .split("word level")
        .nth(1)
        .and_then(|s| s.lines().find(|l| l.starts_with("overall")))
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(words.split_whitespace().nth(1), Some("4"), "{out}");
}

/// Compliance messages are the same kind in bronze's `event_kind` and in what silver does with
/// them (one classifier, `tweetlake_twitter::probe`). Before it, bronze and silver each had their
/// own rules: a v2 compliance-stream `withheld` or `user_suspend` reached silver's quarantine as
/// a "tweet without data.id", a batch-compliance delete was `compliance` with no id in bronze
/// while silver deleted the tweet, and a v1 delete whose `timestamp_ms` is a number was `other`.
#[test]
fn compliance_messages_are_one_kind_in_bronze_and_silver() {
    let svc = Services::broker();
    svc.topic("tweets", 1);
    let work = tempfile::tempdir().unwrap();
    let v2 = String::from_utf8(fixture("v2_stream_messages.jsonl")).unwrap();
    let mut lines = v2.lines();
    let (first, second) = (lines.next().unwrap(), lines.next().unwrap());
    let (kept, deleted) = (1403003491031740419_i64, 1403252759923671042_i64);
    let messages = [
        first.to_string(),
        second.to_string(),
        format!(
            r#"{{"data":{{"withheld":{{"tweet":{{"id":"{kept}","author_id":"1300137674930565127"}},"withheld_in_countries":["DE"],"event_at":"2021-06-12T10:00:00.000Z"}}}}}}"#
        ),
        r#"{"data":{"user_suspend":{"user":{"id":"7"},"event_at":"2021-06-12T10:00:00.000Z"}}}"#
            .to_string(),
        format!(
            r#"{{"id":"{deleted}","action":"delete","created_at":"2021-06-12T10:00:00.000Z","reason":"deleted"}}"#
        ),
        r#"{"delete":{"status":{"id_str":"555","user_id_str":"7"},"timestamp_ms":1361388000123}}"#
            .to_string(),
    ];
    let msgs: Vec<Msg> = messages
        .iter()
        .map(|m| (m.clone().into_bytes(), None, Vec::new()))
        .collect();
    produce(&svc.broker, "tweets", &msgs);
    run_ok(
        tweetlake(work.path())
            .args(["--bootstrap-servers", svc.broker.as_str()])
            .args(["ingest", "--until-caught-up"]),
    );
    run_ok(
        tweetlake(work.path())
            .env("TWEETLAKE_SILVER__NER__ENABLED", "false")
            .args(["promote", "silver"]),
    );
    let sql = |q: &str| sql_csv_rows(&mut tweetlake(work.path()), q);
    assert_eq!(
        sql(
            "SELECT kafka_offset, event_kind, tweet_id, api_version, event_time IS NOT NULL \
             FROM bronze.tweets ORDER BY kafka_offset"
        ),
        [
            format!("0,tweet,{kept},v2,true"),
            format!("1,tweet,{deleted},v2,true"),
            format!("2,withheld,{kept},v2,true"),
            "3,compliance,,v2,true".to_string(),
            format!("4,delete,{deleted},v2,true"),
            "5,delete,555,v1.1,true".to_string(),
        ]
    );
    // Nothing quarantined; the batch delete and the v1 delete honoured; the withheld notice
    // applied to the stored tweet; the suspension counted.
    assert_eq!(sql("SELECT count(*) FROM silver.tweets_quarantine"), ["0"]);
    assert_eq!(
        sql("SELECT tweet_id, withheld FROM silver.tweets"),
        [format!("{kept},true")]
    );
    assert_eq!(
        sql("SELECT tweet_id FROM silver.deletes ORDER BY tweet_id"),
        ["555".to_string(), deleted.to_string()]
    );
    assert_eq!(
        sql("SELECT kind, sum(messages) FROM silver.stream_events GROUP BY kind ORDER BY kind"),
        ["compliance,1", "withheld,1"]
    );
}
