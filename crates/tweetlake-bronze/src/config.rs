//! The slice of the configuration bronze reads; the binary hands it out, and nothing in bronze
//! sees another layer's section.

use tweetlake_core::config::{BronzeConfig, Config, KafkaConfig, MetricsConfig};

/// The config sections bronze reads: where messages come from (`kafka`), which tables they go
/// to and how often (`bronze`), and where the ingester's counters are served (`metrics`).
#[derive(Debug, Clone, Copy)]
pub struct IngestConfig<'a> {
    pub kafka: &'a KafkaConfig,
    pub bronze: &'a BronzeConfig,
    pub metrics: &'a MetricsConfig,
}

impl<'a> From<&'a Config> for IngestConfig<'a> {
    fn from(config: &'a Config) -> Self {
        Self {
            kafka: &config.kafka,
            bronze: &config.bronze,
            metrics: &config.metrics,
        }
    }
}
