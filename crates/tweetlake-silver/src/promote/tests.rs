//! The promotion job over a real local Delta bronze table (the four columns silver reads), fed
//! real fixture messages: duplicates, deletes before and after their tweet, an edited tweet's two
//! versions, a limit notice and a tweet without a time.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use tweetlake_core::config::{Config, ExpectationAction, ExpectationConfig, LakeConfig};
use tweetlake_core::deltalake::arrow::array::{Int32Array, Int64Array, RecordBatch, StringArray};
use tweetlake_core::deltalake::arrow::datatypes::{DataType, Field, Schema};
use tweetlake_core::{Lake, Layer};

use super::*;
use crate::bronze_read::read_ids;
use crate::schema::PARTITION_COLUMN;
use tweetlake_core::delta::open_table;
use tweetlake_twitter::{parse_message, Message};

const V1: &str = include_str!("../../../../tests/fixtures/v1_mixed_tweets.jsonl");
const V2: &str = include_str!("../../../../tests/fixtures/v2_stream_messages.jsonl");
const EDITED: &str = include_str!("../../../../tests/fixtures/v2_edited_page.jsonl");
const EDITED_BEFORE: &str = include_str!("../../../../tests/fixtures/v2_edited_before_page.jsonl");

const A: i64 = 972472962799603712; // v1.1 compat mode
const B: i64 = 1253714442438795266; // v2 with a place
const C: i64 = 757780736095039489; // v1.1 retweet
const E_OLD: i64 = 1576994746135764992; // an edited tweet's first version…
const E_NEW: i64 = 1576994789110992896; // …and its latest

fn line(file: &str, id: i64) -> String {
    let needle = format!("\"{id}\"");
    file.lines()
        .find(|l| {
            let head = l.find("\"retweeted_status\"").map_or(*l, |at| &l[..at]);
            head.contains(&needle)
        })
        .unwrap_or_else(|| panic!("no fixture line for {id}"))
        .to_string()
}

/// A search page's single tweet as a stream message.
fn page_message(page: &str) -> String {
    let p: serde_json::Value = serde_json::from_str(page.lines().next().unwrap()).unwrap();
    serde_json::json!({"data": p["data"][0], "includes": p["includes"]}).to_string()
}

fn delete(id: i64) -> String {
    format!(
        r#"{{"delete":{{"status":{{"id":{id},"id_str":"{id}","user_id":1,"user_id_str":"1"}},"timestamp_ms":"1700000000000"}}}}"#
    )
}

struct Setup {
    _dir: tempfile::TempDir,
    lake: Lake,
    config: Config,
    next_offset: i64,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            lake: LakeConfig {
                root: format!("file://{}", dir.path().display()),
                ..Default::default()
            },
            ..Default::default()
        };
        // The NER model is exercised end to end (tests/it/silver.rs); these tests check the job.
        config.silver.ner.enabled = false;
        let lake = Lake::from_config(&config.lake, dir.path()).unwrap();
        Self {
            _dir: dir,
            lake,
            config,
            next_offset: 0,
        }
    }

    /// Appends messages to bronze/tweets as one commit.
    async fn bronze(&mut self, messages: &[String]) {
        self.bronze_table("tweets", messages).await
    }

    async fn bronze_table(&mut self, name: &str, messages: &[String]) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("raw_value", DataType::Utf8, false),
            Field::new("kafka_topic", DataType::Utf8, false),
            Field::new("kafka_partition", DataType::Int32, false),
            Field::new("kafka_offset", DataType::Int64, false),
        ]));
        let n = messages.len();
        let offsets: Vec<i64> = (self.next_offset..self.next_offset + n as i64).collect();
        self.next_offset += n as i64;
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from_iter_values(messages)),
                Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                    "tweets", n,
                ))),
                Arc::new(Int32Array::from(vec![0; n])),
                Arc::new(Int64Array::from(offsets)),
            ],
        )
        .unwrap();
        let url = self.lake.table_url(Layer::Bronze, name);
        let table = open_table(&url, &HashMap::new()).await.unwrap();
        table.write(vec![batch]).await.unwrap();
    }

    async fn promote(&self, full_refresh: bool) -> PromoteReport {
        self.promote_table("tweets", full_refresh, full_refresh)
            .await
    }

    async fn promote_table(&self, name: &str, full_refresh: bool, replace: bool) -> PromoteReport {
        let options = PromoteOptions {
            full_refresh,
            replace,
            ..Default::default()
        };
        promote(&self.config.silver, &self.lake, name, options)
            .await
            .unwrap()
    }

    async fn ids(&self, table: &str, column: &str) -> BTreeSet<i64> {
        let url = self.lake.table_url(Layer::Silver, table);
        let t = open_table(&url, &HashMap::new()).await.unwrap();
        read_ids(&t, column).await.unwrap().into_iter().collect()
    }

    /// Every batch of one column of a silver table, across its files.
    async fn batches(&self, table: &str, column: &str) -> Vec<RecordBatch> {
        let url = self.lake.table_url(Layer::Silver, table);
        let t = open_table(&url, &HashMap::new()).await.unwrap();
        let store = t.object_store();
        let mut batches = Vec::new();
        for path in t.get_files_by_partitions(&[]).await.unwrap() {
            let read = crate::bronze_read::read_columns(&store, &path, &[column]).await;
            batches.extend(read.unwrap());
        }
        batches
    }

    /// Every value of an Int64 column, sorted, duplicates kept.
    async fn column(&self, table: &str, column: &str) -> Vec<i64> {
        use tweetlake_core::deltalake::arrow::array::AsArray;
        use tweetlake_core::deltalake::arrow::datatypes::Int64Type;
        let batches = self.batches(table, column).await;
        let mut values: Vec<i64> = batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().iter().flatten())
            .collect();
        values.sort();
        values
    }

    /// Every value of a string column, sorted.
    async fn strings(&self, table: &str, column: &str) -> Vec<String> {
        use tweetlake_core::deltalake::arrow::array::AsArray;
        let batches = self.batches(table, column).await;
        let mut values: Vec<String> = batches
            .iter()
            .flat_map(|b| b.column(0).as_string::<i32>().iter().flatten())
            .map(str::to_string)
            .collect();
        values.sort();
        values
    }

    async fn version(&self, table: &str) -> Option<u64> {
        let url = self.lake.table_url(Layer::Silver, table);
        open_table(&url, &HashMap::new()).await.unwrap().version()
    }
}

#[tokio::test]
async fn dedup_deletes_edits_and_reruns() {
    let mut s = Setup::new();
    let no_time = r#"{"id_str":"42","user":{"id_str":"1"},"text":"no created_at"}"#.to_string();
    s.bronze(&[
        line(V1, A),
        line(V2, B),
        line(V1, A), // redelivered
        delete(C),   // before its tweet
        r#"{"limit":{"track":12,"timestamp_ms":"1700000000000"}}"#.into(),
        no_time,
    ])
    .await;
    let first = s.promote(false).await;
    assert_eq!(
        (
            first.bronze_rows,
            first.tweets_inserted,
            first.duplicates,
            first.deleted,
            first.quarantined,
            first.control_messages
        ),
        (6, 2, 1, 1, 1, 1)
    );
    assert_eq!(s.ids("tweets", "tweet_id").await, BTreeSet::from([A, B]));
    assert_eq!(s.ids("deletes", "tweet_id").await, BTreeSet::from([C]));

    // Nothing new in bronze: nothing changes.
    let version = s.version("tweets").await;
    let again = s.promote(false).await;
    assert_eq!((again.from_version, again.bronze_rows), (Some(0), 0));
    assert_eq!(s.version("tweets").await, version);

    s.bronze(&[
        line(V1, C), // deleted in the previous run: stays out
        delete(A),   // after its tweet: goes
        line(V1, A), // redelivered after its delete: stays out
        line(V2, B), // redelivered in a later run: silver holds it already
        page_message(EDITED_BEFORE),
        page_message(EDITED),
    ])
    .await;
    let second = s.promote(false).await;
    assert_eq!(second.from_version, Some(0));
    assert_eq!(second.duplicates, 1, "B: silver holds it already");
    assert_eq!(
        second.tweets_inserted, 1,
        "only the edit's latest version is new"
    );
    assert_eq!(
        s.ids("tweets", "tweet_id").await,
        BTreeSet::from([B, E_NEW])
    );
    assert_eq!(
        s.ids("deletes", "tweet_id").await,
        BTreeSet::from([A, C, E_OLD])
    );
    assert_eq!(
        s.ids("tweets_quarantine", "bronze_offset").await,
        BTreeSet::from([5])
    );
    assert_eq!(
        s.ids("stream_events", "messages").await,
        BTreeSet::from([1])
    );

    // A rebuild from all of bronze ends where the incremental runs did.
    let rebuilt = s.promote(true).await;
    assert_eq!(rebuilt.bronze_rows, 12);
    assert_eq!(
        s.ids("tweets", "tweet_id").await,
        BTreeSet::from([B, E_NEW])
    );
    assert_eq!(
        s.ids("deletes", "tweet_id").await,
        BTreeSet::from([A, C, E_OLD])
    );
}

/// A run that died after the side tables but before the tweets commit, rerun after bronze moved
/// on: every table ends with each row once.
#[tokio::test]
async fn a_rerun_after_a_crash_appends_nothing_twice() {
    let mut s = Setup::new();
    s.bronze(&[line(V1, A)]).await;
    s.promote(false).await;
    let bad = |n: u32| format!(r#"{{"id_str":"{n}","user":{{"id_str":"1"}},"text":"no time"}}"#);
    s.bronze(&[bad(1), delete(A), line(V2, B)]).await;
    Promoter::load(&s.config.silver)
        .await
        .unwrap()
        .promote_until(
            &s.lake,
            "tweets",
            PromoteOptions::default(),
            Stage::SideTables,
        )
        .await
        .unwrap();
    assert_eq!(
        s.ids("tweets", "tweet_id").await,
        BTreeSet::from([A]),
        "the crash came before the tweets commit"
    );
    s.bronze(&[bad(2), line(V1, C)]).await;
    let rerun = s.promote(false).await;
    assert_eq!(rerun.from_version, Some(0));
    assert_eq!(s.ids("tweets", "tweet_id").await, BTreeSet::from([B, C]));
    assert_eq!(
        s.column("tweets_quarantine", "bronze_offset").await,
        vec![1, 4]
    );
    assert_eq!(s.column("deletes", "tweet_id").await, vec![A]);
}

/// (bronze table, full refresh, replace): both tables promoted, then both refreshed, the first
/// replacing silver, as `tweetlake promote silver [--full-refresh]` runs them.
const BOTH_THEN_REFRESHED: [(&str, bool, bool); 4] = [
    ("tweets", false, false),
    ("more", false, false),
    ("tweets", true, true),
    ("more", true, false),
];

/// Two bronze tables feed silver; a full refresh replaces with the first and adds the second,
/// whose earlier run must not count as done.
#[tokio::test]
async fn a_full_refresh_over_two_bronze_tables_keeps_both() {
    let mut s = Setup::new();
    s.bronze(&[line(V1, A)]).await;
    s.bronze_table("more", &[line(V2, B), r#"{"limit":{"track":3}}"#.into()])
        .await;
    for (name, refresh, replace) in BOTH_THEN_REFRESHED {
        s.promote_table(name, refresh, replace).await;
        if name == "more" {
            assert_eq!(
                s.ids("tweets", "tweet_id").await,
                BTreeSet::from([A, B]),
                "refresh {refresh}"
            );
            assert_eq!(s.column("stream_events", "messages").await, vec![1]);
        }
    }
}

/// A backlog promoted in slices of about two bronze rows (one silver commit per slice) ends where
/// one pass over it does, for a first run and for a full refresh: deletes in a later slice than
/// their tweet, a tweet after its delete, an edit split across slices, a redelivery.
#[tokio::test]
async fn a_backlog_in_slices_ends_where_one_pass_does() {
    let no_time = r#"{"id_str":"42","user":{"id_str":"1"},"text":"no created_at"}"#.to_string();
    let commits = [
        vec![line(V1, A), line(V2, B), delete(C)],
        vec![line(V1, A), line(V1, C)],
        vec![delete(A), page_message(EDITED_BEFORE)],
        vec![page_message(EDITED), no_time],
        vec![r#"{"limit":{"track":12,"timestamp_ms":"1700000000000"}}"#.into()],
    ];
    let mut sliced = Setup::new();
    sliced.config.silver.max_rows_per_commit = 2;
    let mut whole = Setup::new();
    for commit in &commits {
        sliced.bronze(commit).await;
        whole.bronze(commit).await;
    }
    for full_refresh in [false, true] {
        let (a, b) = (
            sliced.promote(full_refresh).await,
            whole.promote(full_refresh).await,
        );
        assert_eq!(
            (a.from_version, a.to_version),
            (b.from_version, b.to_version)
        );
        assert_eq!((a.bronze_rows, b.bronze_rows), (10, 10));
        assert_eq!(a.quarantined, 1);
        assert_eq!(
            sliced.ids("tweets", "tweet_id").await,
            BTreeSet::from([B, E_NEW])
        );
        for (table, column) in [
            ("tweets", "tweet_id"),
            ("deletes", "tweet_id"),
            ("tweets_quarantine", "bronze_offset"),
        ] {
            assert_eq!(
                sliced.column(table, column).await,
                whole.column(table, column).await,
                "{table}, full refresh {full_refresh}"
            );
        }
        assert_eq!(sliced.column("stream_events", "messages").await, vec![1]);
        // Each slice is a commit of its own: five slices, one bronze commit each. The last holds
        // only a limit notice, so its merge inserts nothing and still records the version.
        let tweets = open_table(
            &sliced.lake.table_url(Layer::Silver, "tweets"),
            &HashMap::new(),
        )
        .await
        .unwrap();
        let app = tweetlake_core::txn::Consumer::Silver {
            bronze_table: "tweets",
        }
        .app_id(sliced.lake.app_id());
        assert_eq!(app_txn_version(&tweets, &app).await.unwrap(), Some(4));
        assert_eq!(
            sliced.version("quality").await.unwrap() - whole.version("quality").await.unwrap(),
            4 * (1 + u64::from(full_refresh)),
            "one quality row set per slice"
        );
    }
}

/// The same over two bronze tables cut into one-commit slices: the second table's later slices
/// still add their deletes and quarantined rows after the first table's refresh replaced silver.
#[tokio::test]
async fn a_sliced_full_refresh_over_two_bronze_tables_keeps_both() {
    let mut s = Setup::new();
    s.config.silver.max_rows_per_commit = 1;
    let bad = r#"{"id_str":"7","user":{"id_str":"1"},"text":"no time"}"#.to_string();
    s.bronze(&[line(V1, A)]).await;
    s.bronze(&[line(V1, C)]).await;
    s.bronze_table("more", &[line(V2, B)]).await;
    s.bronze_table("more", &[delete(C)]).await;
    s.bronze_table("more", &[bad]).await;
    for (name, refresh, replace) in BOTH_THEN_REFRESHED {
        s.promote_table(name, refresh, replace).await;
        if name == "more" {
            assert_eq!(
                s.ids("tweets", "tweet_id").await,
                BTreeSet::from([A, B]),
                "refresh {refresh}"
            );
            assert_eq!(s.column("deletes", "tweet_id").await, vec![C]);
            assert_eq!(
                s.column("tweets_quarantine", "bronze_offset").await.len(),
                1
            );
        }
    }
}

#[tokio::test]
async fn a_missing_bronze_table_is_named() {
    let s = Setup::new();
    let err = promote(
        &s.config.silver,
        &s.lake,
        "tweets",
        PromoteOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("no bronze table at file://"),
        "{err}"
    );
    assert!(err.to_string().contains("bronze/tweets"), "{err}");
}

/// A tweet whose created_at is the given RFC 3339 time (a real v1.1 tweet, re-dated).
fn redated(id: i64, created_at: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&line(V1, A)).unwrap();
    v["id"] = id.into();
    v["id_str"] = id.to_string().into();
    let t = chrono::DateTime::parse_from_rfc3339(created_at).unwrap();
    v["created_at"] = t.format("%a %b %d %H:%M:%S %z %Y").to_string().into();
    v.to_string()
}

#[tokio::test]
async fn expectations_warn_drop_and_count_every_rule() {
    let mut s = Setup::new();
    s.config.silver.expectations = vec![ExpectationConfig {
        name: "not_b".into(),
        check: format!("tweet_id <> {B}"),
        action: ExpectationAction::Warn,
    }];
    // 2005 is before Twitter existed: the default `created_at_sane` drops it.
    s.bronze(&[
        line(V1, A),
        line(V2, B),
        redated(42, "2005-06-01T00:00:00Z"),
    ])
    .await;
    let r = s.promote(false).await;
    assert_eq!((r.tweets_inserted, r.dropped, r.quarantined), (2, 1, 1));
    assert_eq!(s.ids("tweets", "tweet_id").await, BTreeSet::from([A, B]));
    // The dropped tweet is quarantined with its bronze offset (2) and the rule's name.
    assert_eq!(
        s.column("tweets_quarantine", "bronze_offset").await,
        vec![2]
    );
    // Its raw JSON is bronze's, byte for byte (read back from the bronze file).
    assert_eq!(
        s.strings("tweets_quarantine", "raw_value").await,
        vec![redated(42, "2005-06-01T00:00:00Z")]
    );
    let counts: Vec<(String, u64, u64)> = r
        .quality
        .iter()
        .map(|c| (c.rule.clone(), c.checked, c.failed))
        .collect();
    assert_eq!(
        counts,
        [
            ("tweet_id_present".to_string(), 3, 0),
            ("created_at_sane".to_string(), 3, 1),
            ("text_not_empty".to_string(), 3, 0),
            ("lang_known".to_string(), 3, 0),
            ("not_b".to_string(), 3, 1),
        ]
    );
    // The same counts are in silver/quality, one row per rule.
    assert_eq!(
        s.column("quality", "rows_failed").await,
        vec![0, 0, 0, 1, 1]
    );
}

#[tokio::test]
async fn a_failing_fail_rule_commits_nothing() {
    let mut s = Setup::new();
    s.config.silver.expectations = vec![ExpectationConfig {
        name: "english_only".into(),
        check: "lang = 'en'".into(),
        action: ExpectationAction::Fail,
    }];
    let mut other = serde_json::from_str::<serde_json::Value>(&line(V1, A)).unwrap();
    other["lang"] = "fr".into();
    s.bronze(&[line(V2, B), other.to_string()]).await;
    let err = promote(
        &s.config.silver,
        &s.lake,
        "tweets",
        PromoteOptions::default(),
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("expectation `english_only` failed for 1 of 2 tweets"),
        "{msg}"
    );
    assert!(msg.contains(&format!("first: tweet {A}")), "{msg}");
    let url = s.lake.table_url(Layer::Silver, "tweets");
    assert!(!exists(&open_table(&url, &HashMap::new()).await.unwrap()));
}

#[tokio::test]
async fn a_bad_check_is_named_before_anything_is_read() {
    let mut s = Setup::new();
    s.config.silver.expectations = vec![ExpectationConfig {
        name: "typo".into(),
        check: "no_such_column > 1".into(),
        action: ExpectationAction::Warn,
    }];
    // No bronze table either: the check is reported first.
    let err = promote(
        &s.config.silver,
        &s.lake,
        "tweets",
        PromoteOptions::default(),
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("silver.expectations rule `typo`"), "{msg}");
    assert!(msg.contains("no_such_column"), "{msg}");
}

#[tokio::test]
async fn every_commit_records_the_sentiment_method() {
    let mut s = Setup::new();
    s.bronze(&[line(V1, A)]).await;
    s.promote(false).await;
    let url = s.lake.table_url(Layer::Silver, "tweets");
    let t = open_table(&url, &HashMap::new()).await.unwrap();
    use futures::TryStreamExt;
    let history: Vec<_> = t.history(Some(1)).try_collect().await.unwrap();
    let info = history.first().unwrap();
    assert_eq!(
        info.info.get("tweetlake.sentiment"),
        Some(&serde_json::json!("vader 3.3.2"))
    );
}

/// `SELECT place_id, withheld FROM silver/tweets WHERE tweet_id = id`, through DataFusion.
async fn place_and_withheld(s: &Setup, id: i64) -> (Option<String>, bool) {
    use tweetlake_core::deltalake::arrow::array::{Array, AsArray};
    let url = s.lake.table_url(Layer::Silver, "tweets");
    let t = open_table(&url, &HashMap::new()).await.unwrap();
    let ctx = tweetlake_core::deltalake::datafusion::prelude::SessionContext::new();
    ctx.register_table("tweets", t.table_provider().await.unwrap())
        .unwrap();
    let sql = format!("SELECT place_id, withheld FROM tweets WHERE tweet_id = {id}");
    let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
    let b = batches.iter().find(|b| b.num_rows() > 0).expect("row");
    let place =
        tweetlake_core::deltalake::arrow::compute::cast(b.column(0), &DataType::Utf8).unwrap();
    let place = place.as_string::<i32>();
    let place = (!place.is_null(0)).then(|| place.value(0).to_string());
    (place, b.column(1).as_boolean().value(0))
}

fn author(raw: &str) -> i64 {
    match parse_message(raw.as_bytes()).unwrap() {
        Message::Tweet(t) => t.author_id.unwrap(),
        other => panic!("not a tweet: {other:?}"),
    }
}

#[tokio::test]
async fn scrub_geo_and_withheld_reach_stored_and_later_tweets() {
    let mut s = Setup::new();
    let b = line(V2, B);
    let b_author = author(&b);
    s.bronze(std::slice::from_ref(&b)).await;
    s.promote(false).await;
    assert_eq!(
        place_and_withheld(&s, B).await,
        (Some("e4a0d228eb6be76b".to_string()), false)
    );

    // B is already stored when its scrub arrives; A arrives after its withheld notice.
    let scrub = format!(
        r#"{{"scrub_geo":{{"user_id":{b_author},"user_id_str":"{b_author}","up_to_status_id":{B},"up_to_status_id_str":"{B}"}}}}"#
    );
    let withheld = format!(
        r#"{{"status_withheld":{{"id":{A},"user_id":1,"withheld_in_countries":["DE","AR"]}}}}"#
    );
    s.bronze(&[scrub, withheld, line(V1, A)]).await;
    s.promote(false).await;
    assert_eq!(place_and_withheld(&s, B).await, (None, false));
    assert!(place_and_withheld(&s, A).await.1);

    // A whole account withheld: its stored tweets are flagged.
    let user = format!(r#"{{"user_withheld":{{"id":{b_author},"withheld_in_countries":["XY"]}}}}"#);
    s.bronze(&[user]).await;
    s.promote(false).await;
    assert_eq!(place_and_withheld(&s, B).await, (None, true));
    assert_eq!(s.column("notices", "bronze_offset").await, vec![1, 2, 4]);
}

/// `tweetlake run` looks up each round's tweets in silver before NER: only the files whose
/// `tweet_id` range meets the round's ids are read, not the whole day's partition.
#[tokio::test]
async fn stored_tweets_are_looked_up_in_the_files_whose_id_range_meets_the_round() {
    let mut s = Setup::new();
    let day = "2022-11-03T17:10:25Z";
    s.bronze(&[redated(1_000, day), redated(1_002, day)]).await;
    s.promote(false).await;
    s.bronze(&[redated(5_000, day), redated(5_002, day)]).await;
    s.promote(false).await;
    let url = s.lake.table_url(Layer::Silver, "tweets");
    let table = open_table(&url, &HashMap::new()).await.unwrap();
    let dates = ["2022-11-03".to_string()];
    let files = |ids: &[i64]| {
        let wanted: HashSet<i64> = ids.iter().copied().collect();
        let table = &table;
        let dates = &dates;
        async move {
            crate::bronze_read::files_holding(table, (PARTITION_COLUMN, dates), &wanted)
                .await
                .unwrap()
                .len()
        }
    };
    // Two promotions, two files in the one date partition.
    assert_eq!(table.get_files_by_partitions(&[]).await.unwrap().len(), 2);
    assert_eq!(files(&[5_001, 5_002, 9_000]).await, 1);
    assert_eq!(files(&[900, 1_001]).await, 1);
    assert_eq!(files(&[1_001, 5_001]).await, 2);
    assert_eq!(files(&[3_000]).await, 0);
    assert_eq!(files(&[]).await, 0);
    // The lookup itself answers from those files.
    let wanted = HashSet::from([1_002, 5_000, 5_001]);
    let stored = crate::bronze_read::stored_ids(&table, (PARTITION_COLUMN, &dates), &wanted)
        .await
        .unwrap();
    assert_eq!(stored, HashSet::from([1_002, 5_000]));
}

/// `run` keeps one promoter, and with it the tables' handles, across its rounds. Silver wiped
/// under it (an operator rebuilding it from bronze) is opened afresh at the next round, which then
/// promotes all of bronze, instead of reading on from a log that is gone and committing after a
/// gap.
#[tokio::test]
async fn a_kept_promoter_opens_tables_recreated_under_it_afresh() {
    let mut s = Setup::new();
    let promoter = Promoter::load(&s.config.silver).await.unwrap();
    let options = PromoteOptions::default;
    s.bronze(&[line(V1, A)]).await;
    let first = promoter
        .promote(&s.lake, "tweets", options())
        .await
        .unwrap();
    assert_eq!(first.tweets_inserted, 1);
    s.bronze(&[line(V1, C)]).await;
    let second = promoter
        .promote(&s.lake, "tweets", options())
        .await
        .unwrap();
    assert_eq!(s.version("tweets").await, Some(1));
    let before = s.ids("tweets", "tweet_id").await;
    assert_eq!(before.len() as u64, 1 + second.tweets_inserted);

    let tweets_dir = s.lake.table_url(Layer::Silver, "tweets");
    let silver_dir = tweets_dir.to_file_path().unwrap();
    std::fs::remove_dir_all(silver_dir.parent().unwrap()).unwrap();
    s.bronze(&[line(V2, B)]).await;
    let after = promoter
        .promote(&s.lake, "tweets", options())
        .await
        .unwrap();
    assert_eq!((after.from_version, after.to_version), (None, 2));
    assert_eq!(s.version("tweets").await, Some(0));
    let mut want = before;
    want.insert(B);
    assert_eq!(s.ids("tweets", "tweet_id").await, want);
    assert_eq!(after.tweets_inserted, want.len() as u64);
}
