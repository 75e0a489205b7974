//! Errors of the bronze layer.

/// An error that stops ingestion. Nothing buffered is committed after it; a restart resumes from
/// the stored offsets.
#[derive(Debug, thiserror::Error)]
pub enum BronzeError {
    #[error(transparent)]
    Core(#[from] tweetlake_core::CoreError),
    #[error("delta table {uri}: {source}")]
    Delta {
        uri: String,
        #[source]
        source: Box<tweetlake_core::deltalake::DeltaTableError>,
    },
    #[error("object store {uri}: {source}")]
    Store {
        uri: String,
        #[source]
        source: Box<tweetlake_core::deltalake::ObjectStoreError>,
    },
    #[error("parquet file {uri}: {source}")]
    Parquet {
        uri: String,
        #[source]
        source: Box<tweetlake_core::deltalake::parquet::errors::ParquetError>,
    },
    #[error("kafka ({context}): {source}")]
    Kafka {
        context: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("invalid kafka setting `kafka.{key}`: {reason}")]
    KafkaConfig { key: String, reason: String },
    #[error("topic `{topic}` does not exist on {servers}")]
    TopicMissing { topic: String, servers: String },
    #[error("bronze table `{table}`: {message}")]
    Table { table: String, message: String },
    #[error("metrics endpoint {addr}: {source}")]
    Metrics {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}
