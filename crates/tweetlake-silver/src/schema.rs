//! Arrow schema of `silver/tweets`. Types are safe for Athena and Spark: UTC microsecond
//! timestamps, signed integers, lists of strings or of structs, lower_snake_case names. Partitioned
//! by `event_date`, the UTC date of `created_at`.

use std::sync::{Arc, LazyLock};

use tweetlake_core::deltalake::arrow::datatypes::{
    DataType, Field, Fields, Schema, SchemaRef, TimeUnit,
};

pub const PARTITION_COLUMN: &str = "event_date";

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("element", item, true)))
}

pub fn url_fields() -> Fields {
    Fields::from(vec![
        Field::new("url", DataType::Utf8, false),
        Field::new("expanded_url", DataType::Utf8, true),
    ])
}

pub fn rule_fields() -> Fields {
    Fields::from(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("tag", DataType::Utf8, true),
    ])
}

/// Named entities: (text, label PER/ORG/LOC/MISC, start, end in characters, score).
pub fn entity_fields() -> Fields {
    Fields::from(vec![
        Field::new("text", DataType::Utf8, false),
        Field::new("label", DataType::Utf8, false),
        Field::new("start", DataType::Int32, false),
        Field::new("end", DataType::Int32, false),
        Field::new("score", DataType::Float32, false),
    ])
}

static TWEETS: LazyLock<SchemaRef> = LazyLock::new(|| {
    let s = |name: &str| Field::new(name, DataType::Utf8, true);
    let i = |name: &str| Field::new(name, DataType::Int64, true);
    let b = |name: &str| Field::new(name, DataType::Boolean, false);
    Arc::new(Schema::new(vec![
        Field::new("tweet_id", DataType::Int64, false),
        Field::new(
            "created_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        i("author_id"),
        s("author_handle"),
        Field::new("text", DataType::Utf8, false),
        Field::new("text_original", DataType::Utf8, false),
        s("lang"),
        b("is_retweet"),
        b("is_quote"),
        b("is_reply"),
        i("retweeted_id"),
        i("quoted_id"),
        i("in_reply_to_id"),
        i("in_reply_to_user_id"),
        Field::new("hashtags", list_of(DataType::Utf8), false),
        Field::new("mentions", list_of(DataType::Utf8), false),
        Field::new("urls", list_of(DataType::Struct(url_fields())), false),
        Field::new("cashtags", list_of(DataType::Utf8), false),
        s("place_id"),
        s("place_name"),
        s("place_full_name"),
        s("place_type"),
        s("city"),
        s("region"),
        s("country"),
        s("country_code"),
        Field::new("longitude", DataType::Float64, true),
        Field::new("latitude", DataType::Float64, true),
        i("retweet_count"),
        i("reply_count"),
        i("like_count"),
        i("quote_count"),
        Field::new(
            "matching_rules",
            list_of(DataType::Struct(rule_fields())),
            false,
        ),
        Field::new("api_version", DataType::Utf8, false),
        Field::new("edit_history", list_of(DataType::Int64), false),
        b("withheld"),
        s("source"),
        Field::new("entities", list_of(DataType::Struct(entity_fields())), true),
        s("sentiment_label"),
        Field::new("sentiment_score", DataType::Float32, true),
        Field::new("bronze_topic", DataType::Utf8, false),
        Field::new("bronze_partition", DataType::Int32, false),
        Field::new("bronze_offset", DataType::Int64, false),
        Field::new(PARTITION_COLUMN, DataType::Date32, false),
    ]))
});

/// Schema of `<lake>/silver/tweets`.
pub fn tweets_schema() -> SchemaRef {
    TWEETS.clone()
}
