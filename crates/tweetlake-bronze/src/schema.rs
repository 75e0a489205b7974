//! Arrow schemas of the bronze table and its quarantine table.
//!
//! Types are chosen for Athena and Spark: UTC microsecond timestamps, signed integers only,
//! lower_snake_case names. Both tables are partitioned by `ingest_date` (UTC date of ingestion).

use std::sync::{Arc, LazyLock};

use tweetlake_core::deltalake::arrow::datatypes::{
    DataType, Field, Fields, Schema, SchemaRef, TimeUnit,
};
use tweetlake_core::deltalake::parquet::basic::{Compression, ZstdLevel};
use tweetlake_core::deltalake::parquet::file::properties::{
    EnabledStatistics, WriterProperties, WriterPropertiesBuilder,
};
use tweetlake_core::deltalake::parquet::schema::types::ColumnPath;

/// The partition column of both tables.
pub const PARTITION_COLUMN: &str = "ingest_date";

fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The element type of the `kafka_headers` list: `struct<key: string, value: binary>`.
pub fn header_fields() -> Fields {
    Fields::from(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", DataType::Binary, true),
    ])
}

pub fn headers_type() -> DataType {
    DataType::List(Arc::new(Field::new(
        "element",
        DataType::Struct(header_fields()),
        false,
    )))
}

fn kafka_fields() -> Vec<Field> {
    vec![
        Field::new("kafka_topic", DataType::Utf8, false),
        Field::new("kafka_partition", DataType::Int32, false),
        Field::new("kafka_offset", DataType::Int64, false),
        Field::new("kafka_timestamp", ts(), true),
        Field::new("kafka_key", DataType::Binary, true),
        Field::new("kafka_headers", headers_type(), true),
    ]
}

static BRONZE: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![Field::new("raw_value", DataType::Utf8, false)];
    fields.extend(kafka_fields());
    fields.extend([
        Field::new("ingested_at", ts(), false),
        Field::new("tweet_id", DataType::Int64, true),
        Field::new("event_kind", DataType::Utf8, false),
        Field::new("api_version", DataType::Utf8, true),
        Field::new("event_time", ts(), true),
        Field::new(PARTITION_COLUMN, DataType::Date32, false),
    ]);
    Arc::new(Schema::new(fields))
});

static QUARANTINE: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![Field::new("raw_bytes", DataType::Binary, true)];
    fields.extend(kafka_fields());
    fields.extend([
        Field::new("ingested_at", ts(), false),
        Field::new("error_kind", DataType::Utf8, false),
        Field::new("error_message", DataType::Utf8, false),
        Field::new(PARTITION_COLUMN, DataType::Date32, false),
    ]);
    Arc::new(Schema::new(fields))
});

/// Schema of `<lake>/bronze/<name>`: the raw JSON text, Kafka coordinates and cheap extracted fields.
pub fn bronze_schema() -> SchemaRef {
    BRONZE.clone()
}

/// Schema of `<lake>/bronze/<name>_quarantine`: raw bytes, Kafka coordinates and why it was set aside.
pub fn quarantine_schema() -> SchemaRef {
    QUARANTINE.clone()
}

/// Parquet settings of every bronze file: zstd, and no statistics on the large payload columns.
pub fn parquet_properties() -> WriterPropertiesBuilder {
    let zstd = ZstdLevel::try_new(1)
        .map(Compression::ZSTD)
        .unwrap_or(Compression::SNAPPY);
    WriterProperties::builder()
        .set_compression(zstd)
        // Statistics of multi-kilobyte raw payloads are useless and bloat the footer.
        .set_column_statistics_enabled(ColumnPath::from("raw_value"), EnabledStatistics::None)
        .set_column_statistics_enabled(ColumnPath::from("raw_bytes"), EnabledStatistics::None)
        .set_column_statistics_enabled(ColumnPath::from("error_message"), EnabledStatistics::None)
}
