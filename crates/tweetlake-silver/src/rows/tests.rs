use std::collections::HashMap;

use tweetlake_core::deltalake::arrow::array::{Array, AsArray};
use tweetlake_core::deltalake::arrow::datatypes::Int64Type;
use tweetlake_core::deltalake::protocol::SaveMode;
use tweetlake_twitter::{parse_message, Message};

use super::*;
use crate::schema::PARTITION_COLUMN;

const V1: &str = include_str!("../../../../tests/fixtures/v1_mixed_tweets.jsonl");
const V2: &str = include_str!("../../../../tests/fixtures/v2_stream_messages.jsonl");

fn fixture_rows() -> TweetRows {
    let mut rows = TweetRows::default();
    for (offset, line) in V1.lines().chain(V2.lines()).enumerate() {
        if let Ok(Message::Tweet(t)) = parse_message(line.as_bytes()) {
            let lineage = Lineage {
                topic: "tweets".into(),
                partition: 0,
                offset: offset as i64,
            };
            rows.push(*t, lineage);
        }
    }
    rows
}

#[test]
fn a_batch_of_every_fixture_tweet() {
    let rows = fixture_rows();
    assert_eq!(rows.len(), 380);
    let batch = rows.to_batch().unwrap();
    assert_eq!(batch.num_rows(), 380);
    assert_eq!(batch.schema(), tweets_schema());
    let col = |name: &str| batch.column_by_name(name).unwrap().clone();
    // The compat-mode tweet of the fixture set: row by id.
    let ids = col("tweet_id");
    let ids = ids.as_primitive::<Int64Type>();
    let row = (0..ids.len())
        .find(|i| ids.value(*i) == 972472962799603712)
        .unwrap();
    let mentions = col("mentions");
    let mentions = mentions.as_list::<i32>().value(row);
    let mentions: Vec<&str> = mentions.as_string::<i32>().iter().flatten().collect();
    assert_eq!(mentions, ["FloatHarder", "mainedoulas", "JadeIntegrated"]);
    let urls = col("urls");
    let urls = urls.as_list::<i32>().value(row);
    let urls = urls.as_struct();
    assert_eq!(
        urls.column(0).as_string::<i32>().value(0),
        "https://t.co/triAGvO3mY"
    );
    assert_eq!(
        urls.column(1).as_string::<i32>().value(0),
        "http://www.portlandmomandbabyexpo.com"
    );
    // 2018-03-10 is day 17600 since the epoch.
    let dates = col(PARTITION_COLUMN);
    assert_eq!(
        dates
            .as_primitive::<tweetlake_core::deltalake::arrow::datatypes::Date32Type>()
            .value(row),
        17600
    );
    assert_eq!(col("entities").null_count(), 380, "NER has not run");
}

/// The schema is one a Delta table takes as it is, and the rows read back.
#[tokio::test]
async fn the_batch_writes_to_a_delta_table() {
    let dir = tempfile::tempdir().unwrap();
    let url = url::Url::from_directory_path(dir.path()).unwrap();
    let table = tweetlake_core::delta::open_table(&url, &HashMap::new())
        .await
        .unwrap();
    let batch = fixture_rows().to_batch().unwrap();
    let table = table
        .write(vec![batch])
        .with_partition_columns([PARTITION_COLUMN])
        .with_save_mode(SaveMode::Append)
        .await
        .unwrap();
    let snapshot = table.snapshot().unwrap();
    let schema = snapshot.schema();
    assert!(schema.field("urls").is_some() && schema.field("entities").is_some());
    assert_eq!(
        snapshot.metadata().partition_columns(),
        &vec![PARTITION_COLUMN.to_string()]
    );
    let files = table
        .get_files_by_partitions(&[])
        .await
        .map(|f| f.len())
        .unwrap();
    assert!(files > 10, "one file per event date: {files}");
}
