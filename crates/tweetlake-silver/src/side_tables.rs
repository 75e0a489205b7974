//! The small tables beside `silver/tweets`: `deletes` (every tweet removed and why, so gold can
//! recompute what it touched), `tweets_quarantine` (bronze rows that are not valid tweets, with
//! the reason, or the expectation it failed), `stream_events` (limit notices, warnings and other
//! control messages, counted) and `quality` (every expectation's counts, per run).

use std::sync::Arc;

use tweetlake_core::deltalake::arrow::array::{
    ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use tweetlake_core::deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use tweetlake_core::deltalake::arrow::error::ArrowError;

use crate::expect::RuleCount;
use crate::rows::Lineage;

fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn lineage_fields() -> [Field; 3] {
    [
        Field::new("bronze_topic", DataType::Utf8, false),
        Field::new("bronze_partition", DataType::Int32, false),
        Field::new("bronze_offset", DataType::Int64, false),
    ]
}

fn lineage_columns(l: &[&Lineage]) -> [ArrayRef; 3] {
    [
        Arc::new(
            l.iter()
                .map(|x| Some(x.topic.as_str()))
                .collect::<StringArray>(),
        ),
        Arc::new(l.iter().map(|x| Some(x.partition)).collect::<Int32Array>()),
        Arc::new(l.iter().map(|x| Some(x.offset)).collect::<Int64Array>()),
    ]
}

/// Why a tweet left silver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteReason {
    /// A v1.1 delete notice or a v2 compliance delete.
    Deleted,
    /// A later version of an edited tweet replaced it.
    Edited,
}

#[derive(Debug, Clone)]
pub struct DeleteRow {
    pub tweet_id: i64,
    pub user_id: Option<i64>,
    pub at_us: Option<i64>,
    pub reason: DeleteReason,
    pub lineage: Lineage,
}

pub fn deletes_schema() -> SchemaRef {
    let mut fields = vec![
        Field::new("tweet_id", DataType::Int64, false),
        Field::new("user_id", DataType::Int64, true),
        Field::new("deleted_at", ts(), true),
        Field::new("reason", DataType::Utf8, false),
    ];
    fields.extend(lineage_fields());
    Arc::new(Schema::new(fields))
}

pub fn deletes_batch(rows: &[DeleteRow]) -> Result<RecordBatch, ArrowError> {
    let lineage: Vec<&Lineage> = rows.iter().map(|r| &r.lineage).collect();
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(
            rows.iter()
                .map(|r| Some(r.tweet_id))
                .collect::<Int64Array>(),
        ),
        Arc::new(rows.iter().map(|r| r.user_id).collect::<Int64Array>()),
        Arc::new(
            rows.iter()
                .map(|r| r.at_us)
                .collect::<TimestampMicrosecondArray>()
                .with_timezone("UTC"),
        ),
        Arc::new(
            rows.iter()
                .map(|r| {
                    Some(match r.reason {
                        DeleteReason::Deleted => "deleted",
                        DeleteReason::Edited => "edited",
                    })
                })
                .collect::<StringArray>(),
        ),
    ];
    columns.extend(lineage_columns(&lineage));
    RecordBatch::try_new(deletes_schema(), columns)
}

#[derive(Debug, Clone)]
pub struct QuarantineRow {
    pub raw: String,
    pub error: String,
    /// The expectation a parsed tweet failed; `None` for a row that did not parse.
    pub rule: Option<String>,
    pub lineage: Lineage,
}

pub fn quarantine_schema() -> SchemaRef {
    let mut fields = vec![
        Field::new("raw_value", DataType::Utf8, false),
        Field::new("error_message", DataType::Utf8, false),
        Field::new("rule", DataType::Utf8, true),
    ];
    fields.extend(lineage_fields());
    Arc::new(Schema::new(fields))
}

pub fn quarantine_batch(rows: &[QuarantineRow]) -> Result<RecordBatch, ArrowError> {
    let lineage: Vec<&Lineage> = rows.iter().map(|r| &r.lineage).collect();
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(
            rows.iter()
                .map(|r| Some(r.raw.as_str()))
                .collect::<StringArray>(),
        ),
        Arc::new(
            rows.iter()
                .map(|r| Some(r.error.as_str()))
                .collect::<StringArray>(),
        ),
        Arc::new(
            rows.iter()
                .map(|r| r.rule.as_deref())
                .collect::<StringArray>(),
        ),
    ];
    columns.extend(lineage_columns(&lineage));
    RecordBatch::try_new(quarantine_schema(), columns)
}

/// Control messages of one run, counted by kind.
pub fn stream_events_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("bronze_version", DataType::Int64, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("messages", DataType::Int64, false),
        Field::new("limit_track_max", DataType::Int64, true),
    ]))
}

pub fn stream_events_batch(
    bronze_version: i64,
    counts: &[(&str, i64, Option<i64>)],
) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            counts
                .iter()
                .map(|_| Some(bronze_version))
                .collect::<Int64Array>(),
        ),
        Arc::new(counts.iter().map(|c| Some(c.0)).collect::<StringArray>()),
        Arc::new(counts.iter().map(|c| Some(c.1)).collect::<Int64Array>()),
        Arc::new(counts.iter().map(|c| c.2).collect::<Int64Array>()),
    ];
    RecordBatch::try_new(stream_events_schema(), columns)
}

/// Every expectation's counts for one run over bronze up to `bronze_version`.
pub fn quality_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("bronze_table", DataType::Utf8, false),
        Field::new("bronze_version", DataType::Int64, false),
        Field::new("rule", DataType::Utf8, false),
        Field::new("action", DataType::Utf8, false),
        Field::new("check", DataType::Utf8, false),
        Field::new("rows_checked", DataType::Int64, false),
        Field::new("rows_failed", DataType::Int64, false),
        Field::new("run_at", ts(), false),
    ]))
}

pub fn quality_batch(
    bronze_table: &str,
    bronze_version: i64,
    run_at_us: i64,
    counts: &[RuleCount],
) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            counts
                .iter()
                .map(|_| Some(bronze_table))
                .collect::<StringArray>(),
        ),
        Arc::new(
            counts
                .iter()
                .map(|_| Some(bronze_version))
                .collect::<Int64Array>(),
        ),
        Arc::new(
            counts
                .iter()
                .map(|c| Some(c.rule.as_str()))
                .collect::<StringArray>(),
        ),
        Arc::new(
            counts
                .iter()
                .map(|c| Some(c.action.as_str()))
                .collect::<StringArray>(),
        ),
        Arc::new(
            counts
                .iter()
                .map(|c| Some(c.check.as_str()))
                .collect::<StringArray>(),
        ),
        Arc::new(
            counts
                .iter()
                .map(|c| Some(c.checked as i64))
                .collect::<Int64Array>(),
        ),
        Arc::new(
            counts
                .iter()
                .map(|c| Some(c.failed as i64))
                .collect::<Int64Array>(),
        ),
        Arc::new(
            counts
                .iter()
                .map(|_| Some(run_at_us))
                .collect::<TimestampMicrosecondArray>()
                .with_timezone("UTC"),
        ),
    ];
    RecordBatch::try_new(quality_schema(), columns)
}
