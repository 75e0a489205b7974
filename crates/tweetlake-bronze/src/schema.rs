//! Arrow schemas of the bronze table and its quarantine table (column names:
//! `tweetlake_core::tables::bronze::columns`, which silver reads by).
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
use tweetlake_core::tables::bronze::columns as col;

/// The partition column of both tables.
pub const PARTITION_COLUMN: &str = col::INGEST_DATE;

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
        Field::new(col::KAFKA_TOPIC, DataType::Utf8, false),
        Field::new(col::KAFKA_PARTITION, DataType::Int32, false),
        Field::new(col::KAFKA_OFFSET, DataType::Int64, false),
        Field::new(col::KAFKA_TIMESTAMP, ts(), true),
        Field::new(col::KAFKA_KEY, DataType::Binary, true),
        Field::new(col::KAFKA_HEADERS, headers_type(), true),
    ]
}

static BRONZE: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![Field::new(col::RAW_VALUE, DataType::Utf8, false)];
    fields.extend(kafka_fields());
    fields.extend([
        Field::new(col::INGESTED_AT, ts(), false),
        Field::new(col::TWEET_ID, DataType::Int64, true),
        Field::new(col::EVENT_KIND, DataType::Utf8, false),
        Field::new(col::API_VERSION, DataType::Utf8, true),
        Field::new(col::EVENT_TIME, ts(), true),
        Field::new(PARTITION_COLUMN, DataType::Date32, false),
    ]);
    Arc::new(Schema::new(fields))
});

static QUARANTINE: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![Field::new(col::RAW_BYTES, DataType::Binary, true)];
    fields.extend(kafka_fields());
    fields.extend([
        Field::new(col::INGESTED_AT, ts(), false),
        Field::new(col::ERROR_KIND, DataType::Utf8, false),
        Field::new(col::ERROR_MESSAGE, DataType::Utf8, false),
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
        .set_column_statistics_enabled(ColumnPath::from(col::RAW_VALUE), EnabledStatistics::None)
        .set_column_statistics_enabled(ColumnPath::from(col::RAW_BYTES), EnabledStatistics::None)
        .set_column_statistics_enabled(
            ColumnPath::from(col::ERROR_MESSAGE),
            EnabledStatistics::None,
        )
}
