//! Command-line flags. Every flag that sets a config key is applied as an override on top of the
//! config file and the environment, so it goes through the same validation.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use tweetlake_core::config::Overrides;

#[derive(Debug, Parser)]
#[command(
    name = "tweetlake",
    version,
    about = "Kafka tweets → bronze/silver/gold Delta lake"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file (TOML). Default: ./tweetlake.toml when it exists.
    #[arg(long, short = 'c', global = true, env = "TWEETLAKE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Lake root: a path, file://…, or s3://bucket/prefix (lake.root).
    #[arg(long, global = true)]
    pub lake_root: Option<String>,
    /// Kafka bootstrap servers (kafka.bootstrap_servers).
    #[arg(long, global = true)]
    pub bootstrap_servers: Option<String>,
    /// Consumer group prefix (kafka.group_id).
    #[arg(long, global = true)]
    pub group_id: Option<String>,
    /// Bronze output: delta (default) or parquet, plain Hive-style files (bronze.format).
    #[arg(long, global = true, value_name = "delta|parquet")]
    pub format: Option<String>,
    /// Bronze table and its topics, NAME=TOPIC[,TOPIC…]; repeat for several tables (bronze.tables).
    #[arg(long = "table", global = true, value_name = "NAME=TOPICS")]
    pub tables: Vec<String>,
    /// Log format: human or json (log.format).
    #[arg(long, global = true)]
    pub log_format: Option<String>,
    /// Log filter, e.g. info or tweetlake_bronze=debug (log.level).
    #[arg(long, global = true)]
    pub log_level: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented example config file.
    Init {
        /// Where to write it.
        #[arg(default_value = "tweetlake.toml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Consume Kafka into the bronze tables (Delta, or plain Parquet), exactly once.
    Ingest {
        /// Stop once every partition is written up to the end it had at the start.
        #[arg(long)]
        until_caught_up: bool,
        /// Serve Prometheus metrics on this address, e.g. 127.0.0.1:9464 (metrics.listen).
        #[arg(long)]
        metrics_listen: Option<String>,
        /// Flush latency, e.g. 500ms or 5s (bronze.flush.max_latency).
        #[arg(long)]
        max_latency: Option<String>,
    },
    /// Show every table's version, rows, files and size, and each partition's offsets.
    Status {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Do not ask the broker for partitions and end offsets.
        #[arg(long)]
        offline: bool,
    },
    /// Send tweets to Kafka from files, the X API stream or the generator, spooling to disk while
    /// no broker can take them.
    Produce(Box<ProduceArgs>),
    /// Promote a layer: `silver` parses what bronze added since the last run into silver/tweets;
    /// `gold` runs the SQL models over silver.
    Promote {
        #[command(subcommand)]
        layer: PromoteLayer,
    },
    /// Compact small files, write checkpoints, remove expired log files and vacuum every table.
    Maintain {
        /// Only this table, LAYER.NAME (repeatable; default: every table).
        // Not `tables`: that id is the global --table flag's, and clap would merge the two.
        #[arg(long = "table-name", value_name = "LAYER.NAME")]
        table_names: Vec<String>,
        /// Report what compaction and vacuum would do; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Serve the lake: Postgres wire protocol (read-only) for psql/Grafana/BI, the dashboard and
    /// /metrics over HTTP; tables reload as new commits land. Runs until SIGTERM/SIGINT.
    Serve {
        /// Postgres endpoint, host:port (serve.pg_listen).
        #[arg(long)]
        pg_listen: Option<String>,
        /// Dashboard and /metrics, host:port (serve.http_listen).
        #[arg(long)]
        http_listen: Option<String>,
    },
    /// Everything in one process for small deployments: ingest continuously, promote silver and
    /// gold on each bronze commit (at least every run.promote_every_seconds), compact every few
    /// minutes, maintain daily, serve; SIGTERM/SIGINT stops it cleanly.
    Run,
    /// What other engines need to read the lake and run its models.
    Catalog {
        #[command(subcommand)]
        action: CatalogAction,
    },
    /// Query every layer with SQL (bronze.*, silver.*, gold.*); a shell when no query is given.
    Sql(SqlArgs),
    /// Bronze's stored Kafka offsets, which live in the Delta log.
    Offsets {
        #[command(subcommand)]
        action: OffsetsAction,
    },
    /// Train, score and try the named-entity model (silver.ner).
    Ner {
        #[command(subcommand)]
        action: NerAction,
    },
    /// Train silver's sentiment head on the NER model's encoder, or score a sentiment method on
    /// labelled tweets.
    Sentiment {
        #[command(subcommand)]
        action: SentimentAction,
    },
    /// Manage the X API filtered-stream rules (token from TWEETLAKE_PRODUCE__X_API__BEARER_TOKEN).
    Rules {
        #[command(subcommand)]
        action: RulesAction,
    },
}

#[derive(Debug, Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Target topic when no route matches (produce.topic).
    #[arg(long)]
    pub topic: Option<String>,
    /// At most this many messages per second.
    #[arg(long, value_name = "N")]
    pub rate: Option<f64>,
    /// Send at the pace of the tweets' created_at, this many times faster (1 = original pace).
    #[arg(long, value_name = "FACTOR")]
    pub speedup: Option<f64>,
    /// Spool directory (produce.spool.dir).
    #[arg(long)]
    pub spool_dir: Option<PathBuf>,
    /// Serve Prometheus metrics on this address, e.g. 127.0.0.1:9465 (metrics.listen).
    #[arg(long)]
    pub metrics_listen: Option<String>,
    /// Also send blank lines (stream keep-alives) as empty messages (--file).
    #[arg(long, requires = "file")]
    pub include_blank: bool,
    /// Start over at the end of the files, until stopped (--file).
    #[arg(long = "loop", requires = "file")]
    pub repeat: bool,
    #[command(flatten)]
    pub synthetic: SyntheticArgs,
}

/// Exactly one source.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct SourceArgs {
    /// Replay this JSONL file (gzip too): one message per line, bytes as they are; a v2 response
    /// page becomes one message per tweet with its includes. Repeat for several files.
    #[arg(long)]
    pub file: Vec<PathBuf>,
    /// Follow the X API v2 filtered stream (produce.x_api; rules via `tweetlake rules`).
    #[arg(long)]
    pub x_stream: bool,
    /// Generate this many realistic tweets from the bundled real ones.
    #[arg(long, value_name = "N")]
    pub synthetic: Option<u64>,
}

#[derive(Debug, Args)]
pub struct SyntheticArgs {
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1, requires = "synthetic")]
    pub seed: u64,
    /// Size of the Zipf-like author pool.
    #[arg(long, default_value_t = 10_000, requires = "synthetic")]
    pub users: usize,
    /// Share of tweets with a real place attached.
    #[arg(long, default_value_t = 0.3, requires = "synthetic")]
    pub geo_share: f64,
    /// Share of retweets (of earlier generated tweets); replies 10 %, quotes 5 %.
    #[arg(long, default_value_t = 0.6, requires = "synthetic")]
    pub retweet_share: f64,
    /// Tweets per second of created_at time.
    #[arg(long, default_value_t = 50.0, requires = "synthetic")]
    pub per_second: f64,
    /// created_at of the first tweet (RFC 3339).
    #[arg(long, default_value = "2026-01-01T00:00:00Z", requires = "synthetic")]
    pub start: String,
    /// Noise shares, e.g. deletes=0.01,limits=0.001,duplicates=0.01,late=0.01,malformed=0.001.
    #[arg(long, default_value = "", requires = "synthetic")]
    pub noise: String,
    /// Write the per-city, per-5-minute counts of what was generated to this CSV file.
    #[arg(long, requires = "synthetic")]
    pub truth: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PromoteLayer {
    /// bronze → silver: typed, deduplicated tweets; deletes and edits honoured; incremental.
    Silver {
        /// Rebuild the silver tables from all of bronze.
        #[arg(long)]
        full_refresh: bool,
    },
    /// silver → gold: run the SQL models (gold.models_dir) in dependency order, incrementally.
    Gold {
        /// Only these models and the models they read (repeatable; default: all).
        #[arg(long = "model", value_name = "NAME")]
        models: Vec<String>,
        /// Rebuild the selected models from all of their sources.
        #[arg(long)]
        full_refresh: bool,
        /// The folder of .sql models (gold.models_dir).
        #[arg(long)]
        models_dir: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OffsetsAction {
    /// Move where a partition resumes, on purpose, as a Delta commit (like kafka-consumer-groups
    /// --reset-offsets): after a topic was recreated, a cluster rebuilt, or to skip or replay.
    Reset(ResetArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).multiple(false)))]
pub struct ResetArgs {
    /// The topic whose stored offsets move.
    #[arg(long)]
    pub topic: String,
    /// Only this partition (default: every partition of the topic).
    #[arg(long)]
    pub partition: Option<i32>,
    /// The bronze table (default: the one that reads the topic).
    #[arg(long = "bronze-table", value_name = "NAME")]
    pub bronze_table: Option<String>,
    /// Resume at the broker's first offset.
    #[arg(long, group = "target")]
    pub to_earliest: bool,
    /// Resume at the broker's end, skipping everything before.
    #[arg(long, group = "target")]
    pub to_latest: bool,
    /// Resume at this offset.
    #[arg(long, group = "target", value_name = "OFFSET")]
    pub to_offset: Option<i64>,
    /// Resume at the first message at or after this time (RFC 3339).
    #[arg(long, group = "target", value_name = "TIME")]
    pub to_datetime: Option<String>,
    /// Print the moves; commit nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum CatalogAction {
    /// Print the DDL that registers every lake table in Athena (Glue) or Spark.
    Ddl {
        #[arg(long, value_enum)]
        engine: EngineArg,
        /// The Glue database Athena's tables go in.
        #[arg(long, default_value = "tweetlake")]
        database: String,
    },
    /// Print every gold model as the engine's SQL dialect spells it (gold.models_dir).
    Models {
        #[arg(long, value_enum)]
        engine: EngineArg,
        /// The Glue database of the Athena tables (as `catalog ddl` registers them).
        #[arg(long, default_value = "tweetlake")]
        database: String,
        /// The folder of .sql models (gold.models_dir).
        #[arg(long)]
        models_dir: Option<String>,
    },
}

/// An engine other than tweetlake's own DataFusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineArg {
    /// Athena engine v3 (Trino).
    Athena,
    /// Spark SQL.
    Spark,
    /// DuckDB (for comparisons; `catalog ddl` does not support it).
    Duckdb,
}

/// How `tweetlake sql` prints a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
    Parquet,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The query; without one, an interactive shell starts.
    pub query: Option<String>,
    /// Output format; parquet needs --output.
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub output_format: OutputFormat,
    /// Write the result to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Read one table at a version: LAYER.TABLE=VERSION (repeatable).
    #[arg(long = "version", value_name = "TABLE=VERSION")]
    pub versions: Vec<String>,
    /// Read every table as it was at this instant (RFC 3339, e.g. 2026-11-20T10:00:00Z).
    #[arg(long, value_name = "TIMESTAMP")]
    pub as_of: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SentimentAction {
    /// Macro-averaged recall (SemEval-2017 4A's measure), accuracy, per-class scores and the
    /// confusion matrix on TSV files with a header: `id`, `label` (positive/neutral/negative) and
    /// `text` (verbatim) or `text_json` (a JSON string).
    Eval {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// auto, model or vader (default: silver.sentiment.method); texts are cleaned as silver
        /// cleans them.
        #[arg(long, value_enum)]
        method: Option<SentimentMethodArg>,
        /// NER model directory whose sentiment head scores (default: silver.ner.model).
        #[arg(long)]
        model: Option<String>,
    },
    /// Fit a 3-class sentiment head on the NER model's sentence vectors (the encoder stays as it
    /// is), so one encoder pass gives entities and sentiment; same labelled TSV as `eval`.
    Train(SentimentTrainArgs),
    /// Copy a trained head (e.g. heads/tweetlake-sentiment, the shipped one) into the NER model
    /// directory, after checking it was trained on that model's encoder recipe.
    Install {
        /// The head's directory (tweetlake-sentiment.json, sentiment.safetensors).
        head: PathBuf,
        /// The NER model directory (default: silver.ner.model).
        #[arg(long)]
        model: Option<PathBuf>,
    },
}

/// How sentiment is labelled (silver.sentiment.method).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SentimentMethodArg {
    Auto,
    Model,
    Vader,
}

#[derive(Debug, Args)]
pub struct SentimentTrainArgs {
    /// Labelled training tweets, TSV (repeat for several files).
    #[arg(long = "data", required = true)]
    pub data: Vec<PathBuf>,
    /// Held-back labelled tweets: the first picks the epoch kept (best macro-recall); all are
    /// scored into the head's manifest.
    #[arg(long = "dev")]
    pub dev: Vec<PathBuf>,
    /// The NER model directory the head reads and is written into (default: silver.ner.model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Write the head here instead of into the model directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep sentence vectors here between runs (keyed by model, data and precision).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Head id recorded in its manifest and in silver's commits.
    #[arg(long, default_value = "tweetlake-sentiment-minilm-l6")]
    pub id: String,
    #[arg(long, default_value = "1")]
    pub version: String,
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 1e-3)]
    pub learning_rate: f64,
    #[arg(long, default_value_t = 1e-4)]
    pub weight_decay: f64,
    /// Hidden layer width; 0 (the shipped head) trains a linear one.
    #[arg(long, default_value_t = 0)]
    pub hidden: usize,
    /// Leave VADER's scores out of the head's features.
    #[arg(long)]
    pub no_vader_features: bool,
    #[arg(long, default_value_t = 17)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum NerAction {
    /// Fine-tune a base BERT encoder into a PER/ORG/LOC/MISC tagger on CoNLL files (fixed seed).
    Train(NerTrainArgs),
    /// Entity-level precision, recall and F1 per label on CoNLL files: as silver stores entities
    /// (exact character span and type, @mentions left out) and at CoNLL word level.
    Eval {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Model directory or hf:owner/name (default: silver.ner.model).
        #[arg(long)]
        model: Option<String>,
        /// A TOML file mapping the files' entity types to PER, ORG, LOC, MISC or "" (ignored),
        /// over [silver.ner.labels]; e.g. docs/ner-labels/wnut16.toml.
        #[arg(long)]
        labels: Option<PathBuf>,
    },
    /// Print the entities the model finds in each text (one per argument).
    Tag {
        #[arg(required = true)]
        texts: Vec<String>,
        /// Model directory or hf:owner/name (default: silver.ner.model).
        #[arg(long)]
        model: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct NerTrainArgs {
    /// Base encoder directory (config.json, model.safetensors, vocab.txt), e.g. all-MiniLM-L6-v2.
    #[arg(long)]
    pub base: PathBuf,
    /// Training data, CoNLL `token<TAB>tag`; repeat for several files.
    #[arg(long = "data", required = true)]
    pub data: Vec<PathBuf>,
    /// Held-back CoNLL files (repeat the flag) the trained model is scored on, as silver stores
    /// entities; the scores go into the model's manifest.
    #[arg(long = "dev")]
    pub dev: Vec<PathBuf>,
    /// Where to write the model (default: silver.ner.model).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Model id recorded in the manifest and in silver's commits.
    #[arg(long, default_value = "tweetlake-ner-minilm-l6")]
    pub id: String,
    /// Model version recorded in the manifest and in silver's commits.
    #[arg(long, default_value = "1")]
    pub version: String,
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 1.5e-4)]
    pub learning_rate: f64,
    #[arg(long, default_value_t = 0.1)]
    pub warmup: f64,
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f64,
    /// Word pieces per sentence, [CLS] and [SEP] included.
    #[arg(long, default_value_t = 128)]
    pub max_len: usize,
    #[arg(long, default_value_t = 17)]
    pub seed: u64,
    /// Keep only the base encoder's first N layers (faster tagging, lower F1); default: all.
    #[arg(long)]
    pub layers: Option<usize>,
    /// A TOML file mapping the data's entity types to PER, ORG, LOC, MISC or "" (ignored), over
    /// [silver.ner.labels].
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Keep @mentions in the training data as entities. By default they become outside, as
    /// silver stores them (in `mentions`, not `entities`).
    #[arg(long)]
    pub mentions_as_entities: bool,
    /// Add a learned vector for each word's casing (lower, Capitalised, CAPS, mIxed, none) to its
    /// pieces' input: the base vocabulary is uncased.
    #[arg(long)]
    pub case_embeddings: bool,
    /// libtorch threads (default: silver.ner.threads).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// Show the rules the stream matches now.
    List {
        /// Print the rules as JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Add rules, e.g. `tweetlake rules add '(AI OR "machine learning") lang:en' --tag ai`.
    Add {
        #[arg(required = true)]
        values: Vec<String>,
        /// Tag of the rules (routes match it: produce.routes.rule_tags).
        #[arg(long)]
        tag: Option<String>,
        /// Only validate the rules.
        #[arg(long)]
        dry_run: bool,
    },
    /// Delete rules by id.
    Delete {
        #[arg(required = true)]
        ids: Vec<String>,
        /// Only validate the request.
        #[arg(long)]
        dry_run: bool,
    },
}

impl GlobalArgs {
    /// Flags as config overrides, from the one table of which flag sets which key; a malformed
    /// `--table`, or a flag the command does not use, is reported with the flag's name.
    pub fn overrides(&self, command: &Command) -> Result<Overrides, String> {
        if self.format.is_some()
            && !matches!(
                command,
                Command::Ingest { .. }
                    | Command::Status { .. }
                    | Command::Offsets { .. }
                    | Command::Run
            )
        {
            return Err(
                "--format sets bronze.format, the ingester's output (ingest, status, \
                        offsets, run); `tweetlake sql` writes results with --output-format"
                    .into(),
            );
        }
        let mut o = Overrides::default();
        let s = |v: &str| toml::Value::String(v.to_string());
        for (flag, key, value) in self.key_flags(command) {
            if let Some(v) = value {
                o.set(key, s(&v), flag);
            }
        }
        if !self.tables.is_empty() {
            let mut tables = Vec::new();
            for spec in &self.tables {
                let (name, topics) = spec
                    .split_once('=')
                    .ok_or_else(|| format!("--table `{spec}`: expected NAME=TOPIC[,TOPIC…]"))?;
                let mut t = toml::Table::new();
                t.insert("name".into(), s(name));
                let topics: Vec<toml::Value> =
                    topics.split(',').filter(|x| !x.is_empty()).map(s).collect();
                t.insert("topics".into(), toml::Value::Array(topics));
                tables.push(toml::Value::Table(t));
            }
            o.set(&["bronze", "tables"], toml::Value::Array(tables), "--table");
        }
        Ok(o)
    }

    /// Every flag that sets one config key to its text: (flag, key path, value when given).
    fn key_flags(
        &self,
        command: &Command,
    ) -> Vec<(&'static str, &'static [&'static str], Option<String>)> {
        let mut flags: Vec<(&'static str, &'static [&'static str], Option<String>)> = vec![
            ("--lake-root", &["lake", "root"], self.lake_root.clone()),
            (
                "--bootstrap-servers",
                &["kafka", "bootstrap_servers"],
                self.bootstrap_servers.clone(),
            ),
            ("--group-id", &["kafka", "group_id"], self.group_id.clone()),
            ("--format", &["bronze", "format"], self.format.clone()),
            ("--log-format", &["log", "format"], self.log_format.clone()),
            ("--log-level", &["log", "level"], self.log_level.clone()),
        ];
        match command {
            Command::Promote {
                layer: PromoteLayer::Gold { models_dir, .. },
            }
            | Command::Catalog {
                action: CatalogAction::Models { models_dir, .. },
            } => flags.push(("--models-dir", &["gold", "models_dir"], models_dir.clone())),
            Command::Serve {
                pg_listen,
                http_listen,
            } => flags.extend([
                (
                    "--pg-listen",
                    &["serve", "pg_listen"] as &[&str],
                    pg_listen.clone(),
                ),
                (
                    "--http-listen",
                    &["serve", "http_listen"],
                    http_listen.clone(),
                ),
            ]),
            Command::Produce(p) => flags.extend([
                (
                    "--spool-dir",
                    &["produce", "spool", "dir"] as &[&str],
                    p.spool_dir.as_ref().map(|d| d.display().to_string()),
                ),
                (
                    "--metrics-listen",
                    &["metrics", "listen"],
                    p.metrics_listen.clone(),
                ),
            ]),
            Command::Ingest {
                metrics_listen,
                max_latency,
                ..
            } => flags.extend([
                (
                    "--metrics-listen",
                    &["metrics", "listen"] as &[&str],
                    metrics_listen.clone(),
                ),
                (
                    "--max-latency",
                    &["bronze", "flush", "max_latency"],
                    max_latency.clone(),
                ),
            ]),
            _ => {}
        }
        flags
    }
}
