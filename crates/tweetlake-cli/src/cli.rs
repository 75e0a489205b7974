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
    /// Send tweets to Kafka, spooling to disk while no broker can take them.
    Produce {
        /// Replay this JSONL file (gzip too): one message per line, bytes as they are; a v2 response
        /// page becomes one message per tweet with its includes. Repeat for several files.
        #[arg(long, required = true)]
        file: Vec<PathBuf>,
        /// Target topic (produce.topic).
        #[arg(long)]
        topic: Option<String>,
        /// Also send blank lines (stream keep-alives) as empty messages.
        #[arg(long)]
        include_blank: bool,
        /// At most this many messages per second.
        #[arg(long, value_name = "N")]
        rate: Option<f64>,
        /// Start over at the end of the files, until stopped.
        #[arg(long = "loop")]
        repeat: bool,
        /// Spool directory (produce.spool.dir).
        #[arg(long)]
        spool_dir: Option<PathBuf>,
    },
}

impl GlobalArgs {
    /// Flags as config overrides; a malformed `--table` is reported with the flag's name.
    pub fn overrides(&self, command: &Command) -> Result<Overrides, String> {
        let mut o = Overrides::default();
        let s = |v: &str| toml::Value::String(v.to_string());
        if let Some(v) = &self.lake_root {
            o.set(&["lake", "root"], s(v), "--lake-root");
        }
        if let Some(v) = &self.bootstrap_servers {
            o.set(&["kafka", "bootstrap_servers"], s(v), "--bootstrap-servers");
        }
        if let Some(v) = &self.group_id {
            o.set(&["kafka", "group_id"], s(v), "--group-id");
        }
        if let Some(v) = &self.format {
            o.set(&["bronze", "format"], s(v), "--format");
        }
        if let Some(v) = &self.log_format {
            o.set(&["log", "format"], s(v), "--log-format");
        }
        if let Some(v) = &self.log_level {
            o.set(&["log", "level"], s(v), "--log-level");
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
        if let Command::Produce {
            spool_dir: Some(dir),
            ..
        } = command
        {
            o.set(
                &["produce", "spool", "dir"],
                s(&dir.display().to_string()),
                "--spool-dir",
            );
        }
        if let Command::Ingest {
            metrics_listen,
            max_latency,
            ..
        } = command
        {
            if let Some(v) = metrics_listen {
                o.set(&["metrics", "listen"], s(v), "--metrics-listen");
            }
            if let Some(v) = max_latency {
                o.set(&["bronze", "flush", "max_latency"], s(v), "--max-latency");
            }
        }
        Ok(o)
    }
}
