//! The one typed configuration of tweetlake.
//!
//! Sources, later ones winning: built-in defaults, the TOML file, `TWEETLAKE_SECTION__KEY` environment
//! variables, then command-line flags. Every source is merged into one TOML document before it is
//! deserialized once, so all of them go through the same validation and errors name the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
pub use crate::error::KeyError;
pub use crate::lake::LakeConfig;

/// The documented example configuration that `tweetlake init` writes.
pub const EXAMPLE: &str = include_str!("../tweetlake.example.toml");

/// Prefix of environment variables that override config keys; `__` separates path segments.
pub const ENV_PREFIX: &str = "TWEETLAKE_";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub lake: LakeConfig,
    pub kafka: KafkaConfig,
    pub produce: ProduceConfig,
    pub bronze: BronzeConfig,
    pub silver: SilverConfig,
    pub gold: GoldConfig,
    pub maintain: MaintainConfig,
    pub serve: ServeConfig,
    pub run: RunConfig,
    pub metrics: MetricsConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct KafkaConfig {
    pub bootstrap_servers: String,
    /// Consumer group prefix; each bronze table consumes in group `<group_id>.<table>`.
    pub group_id: String,
    /// Any other librdkafka property, passed through as is (`"security.protocol" = "SASL_SSL"`).
    #[serde(flatten)]
    pub properties: BTreeMap<String, toml::Value>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            bootstrap_servers: "127.0.0.1:9092".into(),
            group_id: "tweetlake".into(),
            properties: BTreeMap::new(),
        }
    }
}

impl KafkaConfig {
    /// The pass-through librdkafka properties as strings, the way librdkafka takes them.
    pub fn librdkafka_properties(&self) -> Vec<(String, String)> {
        self.properties
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Address of the Prometheus `/metrics` endpoint, e.g. `127.0.0.1:9464`; off when unset.
    pub listen: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `human` or `json`.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `tweetlake_bronze=debug,info`.
    pub level: String,
    /// Also log each span's busy and idle time when it closes (`promote_silver` and its
    /// `silver_phase`s, a gold model, an ingest flush): where a round's time goes. One more line
    /// per span, so off unless asked for.
    pub span_timings: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            level: "info".into(),
            span_timings: false,
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// For people: one line per event, with its fields.
    #[default]
    Human,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Key overrides from flags: dotted key path, value and a human name of where it came from.
#[derive(Debug, Clone, Default)]
pub struct Overrides(Vec<(Vec<String>, toml::Value, String)>);

impl Overrides {
    pub fn set(&mut self, path: &[&str], value: toml::Value, origin: impl Into<String>) {
        let path = path.iter().map(|s| s.to_string()).collect();
        self.0.push((path, value, origin.into()));
    }
}

/// Where a loaded config came from, for messages and `status`.
#[derive(Debug, Clone, Default)]
pub struct ConfigSource {
    pub file: Option<PathBuf>,
    pub env_keys: Vec<String>,
    /// Deprecated keys that were set, each with what to use instead.
    pub deprecated: Vec<String>,
}

/// Whether `text` is wrong only in using a renamed key, which the load moves (or refuses with
/// its reason) after the environment and flags are applied.
fn only_renamed_keys(text: &str) -> bool {
    let Ok(mut t) = text.parse::<toml::Table>() else {
        return false;
    };
    match move_renamed_keys(&mut t) {
        Ok(Some(_)) => toml::Value::Table(t).try_into::<Config>().is_ok(),
        Ok(None) => false,
        Err(_) => true,
    }
}

/// Moves `bronze.app_id` (the lake's id before it had its own key) to `lake.app_id`; says so, or
/// refuses when both are set to different ids.
fn move_renamed_keys(doc: &mut toml::Table) -> Result<Option<String>, String> {
    let old = doc
        .get_mut("bronze")
        .and_then(|b| b.as_table_mut())
        .and_then(|b| b.remove("app_id"));
    let Some(old) = old else {
        return Ok(None);
    };
    let lake = doc
        .entry("lake")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let Some(lake) = lake.as_table_mut() else {
        return Err("`lake` must be a table".into());
    };
    match lake.get("app_id") {
        Some(new) if *new != old => Err(format!(
            "bronze.app_id = {old} and lake.app_id = {new}: bronze.app_id is the old name of lake.app_id; set only lake.app_id"
        )),
        _ => {
            lake.insert("app_id".into(), old);
            Ok(Some(
                "bronze.app_id is deprecated: it is the lake's id, now lake.app_id (same value)"
                    .into(),
            ))
        }
    }
}

impl Config {
    /// Loads defaults ⟵ file ⟵ environment ⟵ flags, then validates. `env` is the process environment
    /// (passed in so that only the binary edge reads it).
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        flags: &Overrides,
    ) -> Result<(Config, ConfigSource), ConfigError> {
        let mut source = ConfigSource {
            file: file.map(Path::to_path_buf),
            ..Default::default()
        };
        let mut doc = toml::Table::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let origin = path.display().to_string();
            // Deserializing the file text alone gives errors with line and column; deserializing
            // its parsed value names the key. Say both.
            if let Err(e) = toml::from_str::<Config>(&text)
                .map(|_| ())
                .or_else(|e| only_renamed_keys(&text).then_some(()).ok_or(e))
            {
                let key_error = text
                    .parse::<toml::Table>()
                    .ok()
                    .and_then(|t| toml::Value::Table(t).try_into::<Config>().err());
                let message = match key_error {
                    Some(k) => format!("{}\n{e}", k.to_string().trim_end()),
                    None => e.to_string(),
                };
                return Err(ConfigError::Parse { origin, message });
            }
            doc = text
                .parse::<toml::Table>()
                .map_err(|e| ConfigError::Parse {
                    origin,
                    message: e.to_string(),
                })?;
        }
        let mut origins = Vec::new();
        for (name, value) in env {
            if let Some(path) = env_key_path(&name) {
                set_path(&mut doc, &path, env_value(&value));
                origins.push(name.clone());
                source.env_keys.push(name);
            }
        }
        for (path, value, origin) in &flags.0 {
            set_path(&mut doc, path, value.clone());
            origins.push(origin.clone());
        }
        if let Some(note) = move_renamed_keys(&mut doc).map_err(|reason| ConfigError::Parse {
            origin: describe_origin(file, &origins),
            message: reason,
        })? {
            source.deprecated.push(note);
        }
        let config: Config = toml::Value::Table(doc)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse {
                origin: describe_origin(file, &origins),
                message: e.to_string(),
            })?;
        config.validate(&describe_origin(file, &origins))?;
        Ok((config, source))
    }

    /// Checks every value a command relies on, so a bad one stops the command before any data
    /// moves: each section checks itself, in the order the file lists them.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        self.lake
            .validate()
            .and_then(|()| self.kafka.validate())
            .and_then(|()| self.produce.validate())
            .and_then(|()| self.bronze.validate())
            .and_then(|()| self.silver.validate())
            .and_then(|()| self.gold.validate())
            .and_then(|()| self.maintain.validate())
            .and_then(|()| self.serve.validate())
            .and_then(|()| self.run.validate())
            .and_then(|()| self.metrics.validate())
            .map_err(|KeyError { key, reason }| ConfigError::Invalid {
                key,
                reason,
                origin: origin.to_string(),
            })
    }
}

impl KafkaConfig {
    pub fn validate(&self) -> Result<(), KeyError> {
        if self.bootstrap_servers.trim().is_empty() {
            return Err(KeyError::of("kafka.bootstrap_servers", "must not be empty"));
        }
        if self.group_id.trim().is_empty() {
            return Err(KeyError::of("kafka.group_id", "must not be empty"));
        }
        Ok(())
    }
}

impl MetricsConfig {
    pub fn validate(&self) -> Result<(), KeyError> {
        if let Some(listen) = &self.listen {
            listen.parse::<std::net::SocketAddr>().map_err(|e| {
                KeyError::of(
                    "metrics.listen",
                    format!("`{listen}` is not host:port: {e}"),
                )
            })?;
        }
        Ok(())
    }
}

/// `TWEETLAKE_KAFKA__BOOTSTRAP_SERVERS` → `["kafka", "bootstrap_servers"]`. Under `kafka`, keys that are
/// not typed fields are librdkafka properties, so `_` becomes `.` (`KAFKA__SASL_PASSWORD` → `sasl.password`).
fn env_key_path(name: &str) -> Option<Vec<String>> {
    let rest = name.strip_prefix(ENV_PREFIX)?;
    if !rest.contains("__") {
        return None;
    }
    let mut path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
    if path.iter().any(String::is_empty) {
        return None;
    }
    if path.len() == 2
        && path[0] == "kafka"
        && !matches!(path[1].as_str(), "bootstrap_servers" | "group_id")
    {
        path[1] = path[1].replace('_', ".");
    }
    Some(path)
}

/// Environment values are typed as TOML when they parse as a number or boolean, else taken as text.
fn env_value(raw: &str) -> toml::Value {
    if let Ok(i) = raw.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(f) = raw.parse::<f64>() {
        if raw.contains('.') && !raw.contains(':') {
            return toml::Value::Float(f);
        }
    }
    match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_string()),
    }
}

fn set_path(doc: &mut toml::Table, path: &[String], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut table = doc;
    for segment in parents {
        let entry = table
            .entry(segment.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        match entry {
            toml::Value::Table(t) => table = t,
            _ => return,
        }
    }
    table.insert(last.clone(), value);
}

fn describe_origin(file: Option<&Path>, overrides: &[String]) -> String {
    let mut parts = Vec::new();
    match file {
        Some(f) => parts.push(f.display().to_string()),
        None => parts.push("defaults".to_string()),
    }
    if !overrides.is_empty() {
        parts.push(format!("overrides {}", overrides.join(", ")));
    }
    parts.join(" + ")
}

/// `value` units of `unit` bytes, at least one byte (validation refuses 0 where it matters).
fn nonzero_bytes(value: u64, unit: u64) -> std::num::NonZeroU64 {
    std::num::NonZeroU64::new(value.saturating_mul(unit)).unwrap_or(std::num::NonZeroU64::MIN)
}

mod bronze;
pub use bronze::{BronzeConfig, BronzeTableConfig, FlushConfig, OutputFormat};
mod duration;
pub use duration::{HumanDuration, DURATION_FORMS};
mod gold;
pub use gold::GoldConfig;
mod maintain;
pub use maintain::MaintainConfig;
mod serve;
pub use serve::{PgAuth, ServeConfig};
mod run;
pub use run::RunConfig;
mod silver;
pub use silver::{
    default_expectations, ExpectationAction, ExpectationConfig, NerConfig, NerPrecision,
    SentimentConfig, SentimentMethod, SilverConfig,
};

mod produce;
pub use produce::{
    FilterConfig, Fsync, ProduceConfig, RouteConfig, Secret, SpoolConfig, XApiConfig, KEYWORD_SETS,
};

#[cfg(test)]
mod tests;
