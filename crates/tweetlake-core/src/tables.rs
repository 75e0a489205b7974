//! The lake contract: the layers, how a table is named (`layer.table`), the tables silver
//! writes, bronze's quarantine companions, the bronze columns silver reads, which column orders
//! each table in time, and which tables read which incrementally. Every crate that writes or
//! reads a table by name spells it through here; the `txn` ids those readers record are in
//! [`crate::txn`].
//!
//! ```
//! use tweetlake_core::tables::{time_column, Layer, TableName, TimeColumn};
//! let t = TableName::parse("silver.tweets").unwrap();
//! assert_eq!(t.layer, Layer::Silver);
//! assert_eq!(time_column(&t), TimeColumn::Column("created_at"));
//! ```

use std::cmp::Ordering;

use crate::txn::Consumer;

/// A layer of the medallion lake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    Bronze,
    Silver,
    Gold,
}

impl Layer {
    /// Every layer, in the direction data flows.
    pub const ALL: [Layer; 3] = [Layer::Bronze, Layer::Silver, Layer::Gold];

    /// The layer's folder under the lake root and its SQL schema name.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Bronze => "bronze",
            Layer::Silver => "silver",
            Layer::Gold => "gold",
        }
    }

    pub fn parse(text: &str) -> Option<Layer> {
        Layer::ALL.into_iter().find(|l| l.as_str() == text)
    }
}

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A table of the lake, as SQL names it: `silver.tweets`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableName {
    pub layer: Layer,
    pub table: String,
}

impl TableName {
    pub fn new(layer: Layer, table: impl Into<String>) -> TableName {
        TableName {
            layer,
            table: table.into(),
        }
    }

    /// `layer.table` as a user writes it; `None` without the dot, with an empty part or with a
    /// layer that is not one of the three.
    pub fn parse(text: &str) -> Option<TableName> {
        let (layer, table) = text.split_once('.')?;
        let layer = Layer::parse(layer)?;
        (!table.is_empty()).then(|| TableName::new(layer, table))
    }
}

/// Ordered as the text `layer.table` is, so listings read alphabetically.
impl Ord for TableName {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.layer.as_str(), &self.table).cmp(&(other.layer.as_str(), &other.table))
    }
}

impl PartialOrd for TableName {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.layer, self.table)
    }
}

/// The tables `promote silver` writes, under `<root>/silver/`.
pub mod silver {
    /// One row per tweet, typed and enriched; the table gold and dashboards read.
    pub const TWEETS: &str = "tweets";
    /// Every tweet removed and why, so a late original stays deleted and gold recomputes what
    /// it touched.
    pub const DELETES: &str = "deletes";
    /// Bronze rows that are not valid tweets, with the reason or the expectation they failed.
    pub const QUARANTINE: &str = "tweets_quarantine";
    /// Limit notices, warnings and other stream control messages, counted.
    pub const STREAM_EVENTS: &str = "stream_events";
    /// Every expectation's counts, per run.
    pub const QUALITY: &str = "quality";
    /// `scrub_geo` and withheld notices, kept so later tweets get them too.
    pub const NOTICES: &str = "notices";
}

/// The bronze tables: one per `[[bronze.tables]]`, each with a quarantine companion.
pub mod bronze {
    const QUARANTINE_SUFFIX: &str = "_quarantine";

    /// The quarantine table beside bronze table `name`: messages that are not JSON, too large,
    /// or otherwise unstorable, kept as raw bytes with the reason.
    pub fn quarantine_of(name: &str) -> String {
        format!("{name}{QUARANTINE_SUFFIX}")
    }

    /// Whether `name` is a quarantine table (a configured table may not be named like one).
    pub fn is_quarantine(name: &str) -> bool {
        name.ends_with(QUARANTINE_SUFFIX)
    }

    /// Column names of a bronze table (and, for the Kafka and ingest columns, of its quarantine).
    pub mod columns {
        /// The message value, exactly as Kafka delivered it (UTF-8 JSON text).
        pub const RAW_VALUE: &str = "raw_value";
        pub const KAFKA_TOPIC: &str = "kafka_topic";
        pub const KAFKA_PARTITION: &str = "kafka_partition";
        pub const KAFKA_OFFSET: &str = "kafka_offset";
        pub const KAFKA_TIMESTAMP: &str = "kafka_timestamp";
        pub const KAFKA_KEY: &str = "kafka_key";
        pub const KAFKA_HEADERS: &str = "kafka_headers";
        pub const INGESTED_AT: &str = "ingested_at";
        pub const TWEET_ID: &str = "tweet_id";
        pub const EVENT_KIND: &str = "event_kind";
        pub const API_VERSION: &str = "api_version";
        /// When the event happened by the message's own clock; gold's windows follow it.
        pub const EVENT_TIME: &str = "event_time";
        /// Partition column of both tables: the UTC date of ingestion.
        pub const INGEST_DATE: &str = "ingest_date";
        /// Quarantine only: the bytes of a message that is not valid UTF-8 JSON.
        pub const RAW_BYTES: &str = "raw_bytes";
        pub const ERROR_KIND: &str = "error_kind";
        pub const ERROR_MESSAGE: &str = "error_message";
    }
}

/// A name the lake and Kafka both take: lower_snake_case, or with `allow_dash_dot` also `-`,
/// `.` and capitals (Kafka topics, the lake's id); at most 249 characters (Kafka's limit).
pub(crate) fn is_identifier(s: &str, allow_dash_dot: bool) -> bool {
    !s.is_empty()
        && s.len() <= 249
        && s.chars().all(|c| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || c == '_'
                || (allow_dash_dot && (c == '-' || c == '.' || c.is_ascii_uppercase()))
        })
}

/// What orders a table's rows in time, for gold's incremental windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeColumn {
    /// This column, fixed by the layer that writes the table.
    Column(&'static str),
    /// A gold table's own model says (`-- time_column:`).
    DeclaredByModel,
    /// None known: a model reading it can only be rebuilt whole.
    Unknown,
}

/// The time column of `name`.
pub fn time_column(name: &TableName) -> TimeColumn {
    match name.layer {
        Layer::Silver if name.table == silver::TWEETS => TimeColumn::Column("created_at"),
        Layer::Bronze if !bronze::is_quarantine(&name.table) => {
            TimeColumn::Column(bronze::columns::EVENT_TIME)
        }
        Layer::Gold => TimeColumn::DeclaredByModel,
        _ => TimeColumn::Unknown,
    }
}

/// A table that reads `source` incrementally and records how far in a `txn` of its own log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    /// The table whose log holds the `txn`.
    pub table: TableName,
    /// The `txn` application id ([`Consumer::app_id`]).
    pub app_id: String,
}

/// Who may read `source` incrementally, among the lake's `tables`: silver/tweets reads every
/// bronze table (not their quarantines); a gold table may read any table (it records a `txn`
/// only for the tables its model reads, so an id without a `txn` is simply not a reader).
pub fn readers_of<'a>(
    source: &TableName,
    tables: impl IntoIterator<Item = &'a TableName>,
    lake_app_id: &str,
) -> Vec<Reader> {
    let mut readers = Vec::new();
    if source.layer == Layer::Bronze && !bronze::is_quarantine(&source.table) {
        readers.push(Reader {
            table: TableName::new(Layer::Silver, silver::TWEETS),
            app_id: Consumer::Silver {
                bronze_table: &source.table,
            }
            .app_id(lake_app_id),
        });
    }
    let source_text = source.to_string();
    for gold in tables.into_iter().filter(|t| t.layer == Layer::Gold) {
        readers.push(Reader {
            table: gold.clone(),
            app_id: Consumer::Gold {
                source: &source_text,
            }
            .app_id(lake_app_id),
        });
    }
    readers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print_as_sql_writes_them() {
        let t = TableName::parse("gold.hashtags_5m").unwrap();
        assert_eq!(t, TableName::new(Layer::Gold, "hashtags_5m"));
        assert_eq!(t.to_string(), "gold.hashtags_5m");
        for bad in ["tweets", "public.tweets", "silver.", ".tweets"] {
            assert_eq!(TableName::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_sort_as_their_text() {
        let mut names: Vec<TableName> = ["silver.tweets", "gold.b", "bronze.tweets", "gold.a"]
            .iter()
            .filter_map(|t| TableName::parse(t))
            .collect();
        names.sort();
        let text: Vec<String> = names.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["bronze.tweets", "gold.a", "gold.b", "silver.tweets"]);
    }

    #[test]
    fn time_columns() {
        let tc = |t: &str| time_column(&TableName::parse(t).unwrap());
        assert_eq!(tc("silver.tweets"), TimeColumn::Column("created_at"));
        assert_eq!(tc("bronze.tweets"), TimeColumn::Column("event_time"));
        assert_eq!(tc("bronze.tweets_quarantine"), TimeColumn::Unknown);
        assert_eq!(tc("silver.deletes"), TimeColumn::Unknown);
        assert_eq!(tc("gold.tweets_5m"), TimeColumn::DeclaredByModel);
    }

    #[test]
    fn readers_of_bronze_silver_and_gold() {
        let lake: Vec<TableName> = [
            "bronze.tweets",
            "bronze.tweets_quarantine",
            "silver.tweets",
            "gold.a",
        ]
        .iter()
        .filter_map(|t| TableName::parse(t))
        .collect();
        let readers = |t: &str| -> Vec<(String, String)> {
            readers_of(&TableName::parse(t).unwrap(), &lake, "tl")
                .into_iter()
                .map(|r| (r.table.to_string(), r.app_id))
                .collect()
        };
        assert_eq!(
            readers("bronze.tweets"),
            [
                ("silver.tweets".into(), "tl-silver-tweets".into()),
                ("gold.a".into(), "tl-gold-bronze.tweets".into())
            ]
        );
        assert_eq!(
            readers("bronze.tweets_quarantine"),
            [("gold.a".into(), "tl-gold-bronze.tweets_quarantine".into())]
        );
        assert_eq!(
            readers("silver.tweets"),
            [("gold.a".into(), "tl-gold-silver.tweets".into())]
        );
    }
}
