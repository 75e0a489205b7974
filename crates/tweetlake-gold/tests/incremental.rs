//! `promote gold` over a real silver table built from synthetic stream messages (late tweets,
//! duplicates, deletes): gold equals an independent count of the messages and the generator's
//! truth, a second batch changes exactly the windows it touches, and reruns change nothing.

// Helpers of a test may panic on what the test itself set up (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use tweetlake_core::config::{Config, LakeConfig};
use tweetlake_core::delta::open_table;
use tweetlake_core::deltalake::arrow::array::{
    ArrayRef, AsArray, Int32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use tweetlake_core::deltalake::arrow::datatypes::{
    DataType, Field, Int64Type, Schema, TimeUnit, TimestampMicrosecondType,
};
use tweetlake_core::LakeCatalog;
use tweetlake_core::{Lake, Layer};
use tweetlake_gold::{promote_gold, GoldOptions, RunKind};
use tweetlake_produce::synthetic::{Generator, Noise, SyntheticOptions};
use tweetlake_silver::{promote, PromoteOptions};

const WINDOW_US: i64 = 300_000_000;
/// The event time every test bronze row carries.
const BRONZE_TIME: i64 = 1_767_225_600_000_000;

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// (place, window start µs) → (tweets, retweets, unique users).
type Cells = BTreeMap<(String, i64), (i64, i64, i64)>;

struct Setup {
    _dir: tempfile::TempDir,
    lake: Lake,
    config: Config,
    offset: i64,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            lake: LakeConfig {
                root: format!("file://{}", dir.path().display()),
                ..Default::default()
            },
            ..Default::default()
        };
        config.silver.ner.enabled = false;
        config.gold.models_dir = std::path::PathBuf::from(
            std::env::var_os("CARGO_MANIFEST_DIR")
                .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
        )
        .join("../../sql")
        .to_string_lossy()
        .into_owned();
        let lake = Lake::from_config(&config.lake, dir.path()).unwrap();
        Setup {
            _dir: dir,
            lake,
            config,
            offset: 0,
        }
    }

    /// Appends messages to bronze/tweets (the columns silver and `lake_freshness` read) and
    /// promotes silver.
    async fn land(&mut self, messages: &[String]) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("raw_value", DataType::Utf8, false),
            Field::new("kafka_topic", DataType::Utf8, false),
            Field::new("kafka_partition", DataType::Int32, false),
            Field::new("kafka_offset", DataType::Int64, false),
            Field::new("event_kind", DataType::Utf8, false),
            Field::new("event_time", utc_micros(), true),
        ]));
        let n = messages.len();
        let offsets: Vec<i64> = (self.offset..self.offset + n as i64).collect();
        self.offset += n as i64;
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from_iter_values(messages)),
                Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                    "tweets", n,
                ))),
                Arc::new(Int32Array::from(vec![0; n])),
                Arc::new(Int64Array::from(offsets)),
                Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                    "tweet", n,
                ))),
                Arc::new(
                    TimestampMicrosecondArray::from(vec![BRONZE_TIME; n]).with_timezone("UTC"),
                ),
            ],
        )
        .unwrap();
        let url = self.lake.table_url(Layer::Bronze, "tweets");
        let table = open_table(&url, &HashMap::new()).await.unwrap();
        table.write(vec![batch]).await.unwrap();
        promote(
            &self.config.silver,
            &self.lake,
            "tweets",
            PromoteOptions::default(),
        )
        .await
        .unwrap();
    }

    async fn gold(&self, options: GoldOptions) -> BTreeMap<String, RunKind> {
        promote_gold(&self.config.gold, &self.lake, &options)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.model, r.kind))
            .collect()
    }

    async fn query(&self, sql: &str) -> Vec<RecordBatch> {
        let ctx = LakeCatalog::discover(&self.lake)
            .await
            .unwrap()
            .session()
            .await
            .unwrap();
        ctx.sql(sql).await.unwrap().collect().await.unwrap()
    }

    async fn city_cells(&self) -> Cells {
        let sql = "SELECT place, window_start, tweets, retweets, unique_users \
                   FROM gold.tweets_per_city_5m";
        let mut cells = Cells::new();
        for b in self.query(sql).await {
            let place = strings(b.column(0));
            let start = b.column(1).as_primitive::<TimestampMicrosecondType>();
            let int = |i: usize| b.column(i).as_primitive::<Int64Type>().clone();
            let (tweets, retweets, users) = (int(2), int(3), int(4));
            for (r, place) in place.into_iter().enumerate() {
                let key = (place, start.value(r));
                let value = (tweets.value(r), retweets.value(r), users.value(r));
                assert!(cells.insert(key, value).is_none(), "a duplicate gold row");
            }
        }
        cells
    }
}

/// The per-place, per-window counts of `messages`, computed plainly from their JSON: the first
/// copy of each tweet counts, a deleted tweet never does.
fn expected(messages: &[String]) -> Cells {
    let mut tweets: HashMap<String, (String, i64, bool, String)> = HashMap::new();
    let mut deleted = HashSet::new();
    for m in messages {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(m) else {
            continue;
        };
        if let Some(id) = v["delete"]["status"]["id_str"].as_str() {
            deleted.insert(id.to_string());
            continue;
        }
        let (Some(id), Some(place)) = (v["id_str"].as_str(), v["place"]["full_name"].as_str())
        else {
            continue;
        };
        let created = chrono::DateTime::parse_from_str(
            v["created_at"].as_str().unwrap(),
            "%a %b %d %H:%M:%S %z %Y",
        )
        .unwrap()
        .timestamp_micros();
        let retweet = v.get("retweeted_status").is_some();
        let user = v["user"]["id_str"].as_str().unwrap().to_string();
        tweets
            .entry(id.to_string())
            .or_insert((place.to_string(), created, retweet, user));
    }
    let mut users: BTreeMap<(String, i64), BTreeSet<String>> = BTreeMap::new();
    let mut cells = Cells::new();
    for (id, (place, created, retweet, user)) in tweets {
        if deleted.contains(&id) {
            continue;
        }
        let key = (place, created.div_euclid(WINDOW_US) * WINDOW_US);
        let cell = cells.entry(key.clone()).or_default();
        cell.0 += 1;
        cell.1 += i64::from(retweet);
        users.entry(key).or_default().insert(user);
    }
    for (key, cell) in cells.iter_mut() {
        cell.2 = users[key].len() as i64;
    }
    cells
}

/// A string column as owned strings, whichever string layout the reader chose.
fn strings(column: &ArrayRef) -> Vec<String> {
    let utf8 = tweetlake_core::deltalake::arrow::compute::cast(column, &DataType::Utf8).unwrap();
    utf8.as_string::<i32>()
        .iter()
        .map(|s| s.unwrap_or_default().to_string())
        .collect()
}

fn generate(count: u64) -> (Vec<String>, Cells) {
    let noise = Noise::parse("deletes=0.03,duplicates=0.02,late=0.05").unwrap();
    let opts = SyntheticOptions {
        seed: 7,
        count,
        per_second: 2.0,
        users: 300,
        geo_share: 0.6,
        noise,
        ..Default::default()
    };
    let mut generator = Generator::new(opts).unwrap();
    let mut messages = Vec::new();
    while let Some((_, bytes)) = generator.next_message() {
        messages.push(String::from_utf8(bytes).unwrap());
    }
    let truth = generator
        .truth()
        .rows()
        .into_iter()
        .map(|r| {
            let key = (r.city, r.window_start_ms * 1000);
            (
                key,
                (r.tweets as i64, r.retweets as i64, r.unique_users as i64),
            )
        })
        .collect();
    (messages, truth)
}

fn changed(before: &Cells, after: &Cells) -> BTreeSet<(String, i64)> {
    let keys: BTreeSet<_> = before.keys().chain(after.keys()).cloned().collect();
    keys.into_iter()
        .filter(|k| before.get(k) != after.get(k))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_tweets_and_deletes_change_exactly_their_windows() {
    let (messages, truth) = generate(1500);
    let split = messages.len() * 2 / 3;
    let mut setup = Setup::new();

    setup.land(&messages[..split]).await;
    let first = setup.gold(GoldOptions::default()).await;
    assert!(
        first.values().all(|k| matches!(k, RunKind::Full(_))),
        "{first:?}"
    );
    let before = setup.city_cells().await;
    assert_eq!(before, expected(&messages[..split]));

    setup.land(&messages[split..]).await;
    let second = setup.gold(GoldOptions::default()).await;
    let after = setup.city_cells().await;
    assert_eq!(after, expected(&messages));
    assert_eq!(after, truth, "gold differs from the generator's truth file");

    // The second batch holds late tweets and deletes of first-batch tweets: the windows whose
    // counts changed are more than the new tail, and fewer than all.
    let want_changed = changed(&expected(&messages[..split]), &expected(&messages));
    assert_eq!(changed(&before, &after), want_changed);
    let first_newest = before.keys().map(|(_, w)| *w).max().unwrap();
    assert!(
        want_changed.iter().any(|(_, w)| *w < first_newest),
        "the second batch should reach back into windows the first run wrote"
    );
    let RunKind::Incremental { windows } = second["tweets_per_city_5m"] else {
        panic!("not incremental: {second:?}");
    };
    let all_windows: BTreeSet<i64> = after.keys().map(|(_, w)| *w).collect();
    assert!(
        windows < all_windows.len(),
        "{windows} of {}",
        all_windows.len()
    );

    // Nothing new: nothing runs.
    let third = setup.gold(GoldOptions::default()).await;
    assert!(third.values().all(|k| *k == RunKind::UpToDate), "{third:?}");
    assert_eq!(setup.city_cells().await, after);

    // A full refresh gives the same table as the incremental runs.
    let full = setup
        .gold(GoldOptions {
            models: vec!["tweets_per_city_5m".into()],
            full_refresh: true,
            ..Default::default()
        })
        .await;
    assert_eq!(full.len(), 1);
    assert_eq!(setup.city_cells().await, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_model_equals_its_sql_over_current_silver() {
    let (messages, _) = generate(800);
    let split = messages.len() / 2;
    let mut setup = Setup::new();
    setup.land(&messages[..split]).await;
    setup.gold(GoldOptions::default()).await;
    setup.land(&messages[split..]).await;
    setup.gold(GoldOptions::default()).await;
    for model in [
        "sentiment_per_minute",
        "top_hashtags_hourly",
        "top_entities_daily",
    ] {
        let sql = std::fs::read_to_string(format!("{}/{model}.sql", setup.config.gold.models_dir))
            .unwrap();
        let sorted = |q: &str| format!("SELECT * FROM ({q}) ORDER BY 1, 2, 3");
        let fresh = setup.query(&sorted(&sql)).await;
        let stored = setup
            .query(&sorted(&format!("SELECT * FROM gold.{model}")))
            .await;
        let text = |b: &[RecordBatch]| {
            tweetlake_core::deltalake::arrow::util::pretty::pretty_format_batches(b)
                .unwrap()
                .to_string()
        };
        assert_eq!(text(&stored), text(&fresh), "gold.{model}");
        let rows: usize = stored.iter().map(|b| b.num_rows()).sum();
        assert!(
            rows > 0 || model == "top_entities_daily",
            "gold.{model} is empty"
        );
    }
    let freshness = setup
        .query("SELECT layer, newest_event_time FROM gold.lake_freshness ORDER BY layer")
        .await;
    let layers = strings(freshness[0].column(0));
    assert_eq!(layers, ["bronze", "gold", "silver"]);
    let newest = freshness[0]
        .column(1)
        .as_primitive::<TimestampMicrosecondType>();
    assert_eq!(freshness[0].column(1).null_count(), 0);
    assert_eq!(newest.value(0), BRONZE_TIME);
    let silver_newest = setup
        .query("SELECT max(created_at) FROM silver.tweets")
        .await;
    let silver_newest = silver_newest[0]
        .column(0)
        .as_primitive::<TimestampMicrosecondType>();
    assert_eq!(newest.value(2), silver_newest.value(0));
    // The gold row is the end of the newest window with a placed tweet: within 5 minutes of it.
    assert!(newest.value(1) <= silver_newest.value(0) + WINDOW_US);
    assert!(newest.value(1) > silver_newest.value(0) - 2 * WINDOW_US);
}

/// In a long-running process a model with `-- refresh:` (the daily entity ranking) is left as it
/// is until its interval has passed since it last wrote, while the others follow every silver
/// commit; a one-off `promote gold` brings it up to date at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_with_a_refresh_interval_waits_for_it_in_a_long_run() {
    use tweetlake_gold::{promote_gold_due, GoldRounds, ModelReport};
    let (messages, _) = generate(600);
    let split = messages.len() / 2;
    let mut setup = Setup::new();
    let mut rounds = GoldRounds::default();
    let by_model = |reports: Vec<ModelReport>| -> BTreeMap<String, ModelReport> {
        reports.into_iter().map(|r| (r.model.clone(), r)).collect()
    };
    let daily_version = |setup: &Setup| {
        let url = setup.lake.table_url(Layer::Gold, "top_entities_daily");
        async move { open_table(&url, &HashMap::new()).await.unwrap().version() }
    };

    setup.land(&messages[..split]).await;
    let options = GoldOptions::default();
    let first = promote_gold_due(&setup.config.gold, &setup.lake, &options, &mut rounds).await;
    let first = by_model(first.unwrap());
    assert!(
        first.values().all(|r| matches!(r.kind, RunKind::Full(_))),
        "{first:?}"
    );
    let written = daily_version(&setup).await;
    assert!(written.is_some());

    setup.land(&messages[split..]).await;
    let second = promote_gold_due(&setup.config.gold, &setup.lake, &options, &mut rounds).await;
    let second = by_model(second.unwrap());
    let RunKind::NotDue { wait } = second["top_entities_daily"].kind else {
        panic!("the daily model ran before its interval: {second:?}");
    };
    assert!(wait.as_secs() > 200 && wait.as_secs() < 300, "{wait:?}");
    assert!(
        matches!(
            second["tweets_per_city_5m"].kind,
            RunKind::Incremental { windows: 1.. }
        ),
        "{second:?}"
    );
    assert_eq!(daily_version(&setup).await, written);

    let oneoff = setup.gold(GoldOptions::default()).await;
    assert!(
        matches!(oneoff["top_entities_daily"], RunKind::Incremental { .. }),
        "{oneoff:?}"
    );
    assert!(daily_version(&setup).await > written);
}
