//! Notices that change stored tweets without removing them: v1.1 `scrub_geo` (clear a user's
//! location up to a tweet id) and `status_withheld` / `user_withheld` (flag the tweets). They are
//! kept in `silver/notices`, so tweets that arrive after their notice get them too.

use std::collections::HashMap;
use std::sync::Arc;

use tweetlake_core::deltalake::arrow::array::{
    Array, ArrayRef, AsArray, Int32Array, Int64Array, RecordBatch, StringArray,
};
use tweetlake_core::deltalake::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use tweetlake_core::deltalake::arrow::error::ArrowError;
use tweetlake_core::deltalake::{DeltaTable, DeltaTableError};
use tweetlake_twitter::Tweet;

use crate::bronze_read::read_columns;
use crate::rows::Lineage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// Clear location on `user_id`'s tweets with ids up to `tweet_id`.
    ScrubGeo,
    /// Flag tweet `tweet_id` as withheld.
    TweetWithheld,
    /// Flag every tweet of `user_id` as withheld.
    UserWithheld,
}

impl NoticeKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::ScrubGeo => "scrub_geo",
            Self::TweetWithheld => "status_withheld",
            Self::UserWithheld => "user_withheld",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::ScrubGeo, Self::TweetWithheld, Self::UserWithheld]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub user_id: Option<i64>,
    pub tweet_id: Option<i64>,
}

pub fn notices_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("kind", DataType::Utf8, false),
        Field::new("user_id", DataType::Int64, true),
        Field::new("tweet_id", DataType::Int64, true),
        Field::new("countries", DataType::Utf8, true),
        Field::new("bronze_topic", DataType::Utf8, false),
        Field::new("bronze_partition", DataType::Int32, false),
        Field::new("bronze_offset", DataType::Int64, false),
    ]))
}

/// A notice as stored: with the withheld countries (comma-separated) and its bronze coordinates.
#[derive(Debug, Clone)]
pub struct NoticeRow {
    pub notice: Notice,
    pub countries: Vec<String>,
    pub lineage: Lineage,
}

pub fn notices_batch(rows: &[NoticeRow]) -> Result<RecordBatch, ArrowError> {
    let n = |f: fn(&NoticeRow) -> Option<i64>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<Int64Array>())
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            rows.iter()
                .map(|r| Some(r.notice.kind.as_str()))
                .collect::<StringArray>(),
        ),
        n(|r| r.notice.user_id),
        n(|r| r.notice.tweet_id),
        Arc::new(
            rows.iter()
                .map(|r| (!r.countries.is_empty()).then(|| r.countries.join(",")))
                .collect::<StringArray>(),
        ),
        Arc::new(
            rows.iter()
                .map(|r| Some(r.lineage.topic.as_str()))
                .collect::<StringArray>(),
        ),
        Arc::new(
            rows.iter()
                .map(|r| Some(r.lineage.partition))
                .collect::<Int32Array>(),
        ),
        Arc::new(
            rows.iter()
                .map(|r| Some(r.lineage.offset))
                .collect::<Int64Array>(),
        ),
    ];
    RecordBatch::try_new(notices_schema(), columns)
}

/// Every notice `table` holds.
pub async fn read_notices(table: &DeltaTable) -> Result<Vec<Notice>, DeltaTableError> {
    let store = table.object_store();
    let mut out = Vec::new();
    for path in table.get_files_by_partitions(&[]).await? {
        for batch in read_columns(&store, &path, &["kind", "user_id", "tweet_id"]).await? {
            let bad = || DeltaTableError::generic("silver/notices: unexpected column types");
            let kind = batch.column(0).as_string_opt::<i32>().ok_or_else(bad)?;
            let user = batch
                .column(1)
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(bad)?;
            let tweet = batch
                .column(2)
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(bad)?;
            for i in 0..batch.num_rows() {
                let Some(kind) = NoticeKind::parse(kind.value(i)) else {
                    continue;
                };
                let get = |a: &Int64Array| (!a.is_null(i)).then(|| a.value(i));
                out.push(Notice {
                    kind,
                    user_id: get(user),
                    tweet_id: get(tweet),
                });
            }
        }
    }
    Ok(out)
}

/// Notices indexed for applying to tweets as they are built.
#[derive(Debug, Default)]
pub struct NoticeIndex {
    /// user → highest tweet id whose location goes.
    scrub_up_to: HashMap<i64, i64>,
    withheld_tweets: std::collections::HashSet<i64>,
    withheld_users: std::collections::HashSet<i64>,
}

impl NoticeIndex {
    pub fn new<'a>(notices: impl IntoIterator<Item = &'a Notice>) -> Self {
        let mut ix = Self::default();
        for n in notices {
            match (n.kind, n.user_id, n.tweet_id) {
                (NoticeKind::ScrubGeo, Some(u), Some(t)) => {
                    let e = ix.scrub_up_to.entry(u).or_insert(t);
                    *e = (*e).max(t);
                }
                (NoticeKind::TweetWithheld, _, Some(t)) => {
                    ix.withheld_tweets.insert(t);
                }
                (NoticeKind::UserWithheld, Some(u), _) => {
                    ix.withheld_users.insert(u);
                }
                _ => {}
            }
        }
        ix
    }

    pub fn apply(&self, t: &mut Tweet) {
        let author = t.author_id.unwrap_or(i64::MIN);
        if self
            .scrub_up_to
            .get(&author)
            .is_some_and(|up_to| t.id <= *up_to)
        {
            t.place = None;
            t.coordinates = None;
        }
        if self.withheld_tweets.contains(&t.id) || self.withheld_users.contains(&author) {
            t.withheld = true;
        }
    }

    /// SQL predicates over silver/tweets for the rows stored before these notices arrived:
    /// (rows whose location goes, rows to flag as withheld).
    pub fn predicates(&self) -> (Option<String>, Option<String>) {
        let scrub: Vec<String> = self
            .scrub_up_to
            .iter()
            .map(|(u, t)| format!("(author_id = {u} AND tweet_id <= {t})"))
            .collect();
        let mut withheld: Vec<String> = Vec::new();
        if !self.withheld_tweets.is_empty() {
            let ids: Vec<String> = self.withheld_tweets.iter().map(i64::to_string).collect();
            withheld.push(format!("tweet_id IN ({})", ids.join(",")));
        }
        if !self.withheld_users.is_empty() {
            let ids: Vec<String> = self.withheld_users.iter().map(i64::to_string).collect();
            withheld.push(format!("author_id IN ({})", ids.join(",")));
        }
        let join = |v: Vec<String>| (!v.is_empty()).then(|| v.join(" OR "));
        (join(scrub), join(withheld))
    }
}

/// The location columns a scrub clears.
pub const LOCATION_COLUMNS: [&str; 10] = [
    "place_id",
    "place_name",
    "place_full_name",
    "place_type",
    "city",
    "region",
    "country",
    "country_code",
    "longitude",
    "latitude",
];
