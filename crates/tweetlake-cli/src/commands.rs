//! Runs each subcommand: config first (so bad input stops before any data is touched), then logging,
//! then the layer crate that owns the work.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tracing_subscriber::fmt::format::FmtSpan;
use tweetlake_core::config::{self, Config, ConfigSource, LogFormat};
use tweetlake_core::{Lake, Progress, ProgressOutput};

use crate::cli::{CatalogAction, Cli, Command, EngineArg, OffsetsAction, PromoteLayer};

mod ner;
mod offsets;
mod produce;
mod sentiment;
mod sql;

pub fn run(cli: Cli) -> Result<()> {
    if let Command::Init { path, force } = &cli.command {
        return init(path, *force);
    }
    let (config, source) = load_config(&cli)?;
    init_logging(&config)?;
    for note in &source.deprecated {
        tracing::warn!("{note}");
    }
    let lake = Lake::from_config(&config.lake, &std::env::current_dir()?)
        .context("resolving lake.root")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        match cli.command {
            Command::Init { .. } => Ok(()),
            Command::Ingest {
                until_caught_up, ..
            } => ingest(&config, &lake, until_caught_up).await,
            Command::Status { json, offline } => status(&config, &lake, json, offline).await,
            Command::Produce(args) => produce::produce(config.clone(), *args).await,
            Command::Rules { action } => produce::rules(&config, action).await,
            Command::Ner { action } => ner::run(&config, action).await,
            Command::Sentiment { action } => sentiment::run(&config, action).await,
            Command::Promote {
                layer: PromoteLayer::Silver { full_refresh },
            } => promote_silver(&config, &lake, full_refresh, ProgressOutput::Auto).await,
            Command::Promote {
                layer:
                    PromoteLayer::Gold {
                        models,
                        full_refresh,
                        ..
                    },
            } => promote_gold(&config, &lake, models, full_refresh, ProgressOutput::Auto).await,
            Command::Sql(args) => sql::run(&lake, args).await,
            Command::Offsets {
                action: OffsetsAction::Reset(args),
            } => offsets::reset(&config, &lake, args).await,
            Command::Serve { .. } => {
                tweetlake_serve::serve(&config.serve, &lake, shutdown_signal())
                    .await
                    .context("serving the lake")
            }
            Command::Run => run_pipeline(&config, &lake).await,
            Command::Maintain {
                table_names,
                dry_run,
            } => maintain(&config, &lake, table_names, dry_run, ProgressOutput::Auto).await,
            Command::Catalog {
                action:
                    CatalogAction::Models {
                        engine, database, ..
                    },
            } => catalog_models(&config, engine, &database),
            Command::Catalog {
                action: CatalogAction::Ddl { engine, database },
            } => catalog_ddl(&lake, engine, &database).await,
        }
    })
}

fn load_config(cli: &Cli) -> Result<(Config, ConfigSource)> {
    let overrides = cli
        .global
        .overrides(&cli.command)
        .map_err(anyhow::Error::msg)?;
    let default = PathBuf::from("tweetlake.toml");
    let file = match &cli.global.config {
        Some(p) => Some(p.clone()),
        None => default.exists().then_some(default),
    };
    // The one place the process environment is read for configuration.
    Ok(Config::load(file.as_deref(), std::env::vars(), &overrides)?)
}

fn init_logging(config: &Config) -> Result<()> {
    // Dependencies log every snapshot at info; keep them at warn unless the filter names them.
    let mut level = config.log.level.clone();
    // The kernel also logs a missing table (normal before the first commit) as an error, and
    // delta-rs's merge warns on every run about a metric its own plan does not produce.
    for (quiet, at) in [
        ("buoyant_kernel", "off"),
        // Before the merge's own entry, which contains this name.
        ("deltalake_core", "warn"),
        ("deltalake_core::operations::merge", "error"),
        ("datafusion", "warn"),
    ] {
        if !level.contains(quiet) {
            level.push_str(&format!(",{quiet}={at}"));
        }
    }
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .with_context(|| format!("invalid log.level `{}`", config.log.level))?;
    let spans = match config.log.span_timings {
        true => FmtSpan::CLOSE,
        false => FmtSpan::NONE,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(spans)
        // Colours only on a terminal: a log file or shipper gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(|| tweetlake_core::progress::LogWriter);
    let result = if config.log.format == LogFormat::Json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    result.map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
}

fn init(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        bail!("{} exists; pass --force to overwrite it", path.display());
    }
    std::fs::write(path, config::EXAMPLE).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

async fn ingest(config: &Config, lake: &Lake, until_caught_up: bool) -> Result<()> {
    let options = tweetlake_bronze::IngestOptions {
        until_caught_up,
        committed: None,
    };
    let report = tweetlake_bronze::ingest(config.into(), lake, options, shutdown_signal())
        .await
        .context("ingest failed")?;
    for t in &report.tables {
        println!(
            "bronze/{}: {} rows, {} quarantined, {} bytes, {} commits",
            t.table, t.rows, t.quarantined, t.bytes, t.commits
        );
    }
    Ok(())
}

async fn status(config: &Config, lake: &Lake, json: bool, offline: bool) -> Result<()> {
    let timeout = (!offline).then_some(Duration::from_secs(5));
    let tables = tweetlake_bronze::table_status(config.into(), lake, timeout)
        .await
        .context("reading table status")?;
    if json {
        println!("{}", serde_json::to_string_pretty(&tables)?);
        return Ok(());
    }
    println!(
        "{:<32} {:>8} {:>12} {:>7} {:>12}",
        "TABLE", "VERSION", "ROWS", "FILES", "BYTES"
    );
    for t in &tables {
        let version = t.version.map_or("-".to_string(), |v| v.to_string());
        println!(
            "{:<32} {:>8} {:>12} {:>7} {:>12}",
            format!("bronze/{}", t.name),
            version,
            t.rows,
            t.files,
            t.size_bytes
        );
        for p in &t.partitions {
            let show = |o: Option<i64>| o.map_or("-".to_string(), |v| v.to_string());
            println!(
                "  {}/{:<24} stored offset {:>10}  quarantine offset {:>10}  broker end {:>10}",
                p.topic,
                p.partition,
                show(p.stored_offset),
                show(p.quarantine_offset),
                show(p.end_offset)
            );
        }
    }
    Ok(())
}

async fn promote_silver(
    config: &Config,
    lake: &Lake,
    full_refresh: bool,
    output: ProgressOutput,
) -> Result<()> {
    let progress = Progress::new("promote silver", output);
    let bronze_tables = config.bronze.table_names();
    let print = |r: &tweetlake_silver::PromoteReport| println!("{r}");
    tweetlake_silver::promote_all(
        &config.silver,
        &bronze_tables,
        lake,
        full_refresh,
        progress,
        print,
    )
    .await?;
    Ok(())
}

/// `tweetlake run`: the pipeline until SIGINT or SIGTERM, then what it did.
async fn run_pipeline(config: &Config, lake: &Lake) -> Result<()> {
    let r = tweetlake_pipeline::run(config, lake, shutdown_signal())
        .await
        .context("tweetlake run")?;
    let stored: u64 = r.ingest.tables.iter().map(|t| t.rows).sum();
    println!(
        "run stopped: {stored} rows ingested, {} silver rounds ({} failed), {} gold rounds ({} failed), {} maintenance runs ({} with a failed table), {} compactions ({} with a failed table)",
        r.silver_rounds,
        r.failed_silver_rounds,
        r.gold_rounds,
        r.failed_gold_rounds,
        r.maintenances,
        r.failed_maintenances,
        r.compactions,
        r.failed_compactions
    );
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

async fn promote_gold(
    config: &Config,
    lake: &Lake,
    models: Vec<String>,
    full_refresh: bool,
    output: ProgressOutput,
) -> Result<()> {
    let options = tweetlake_gold::GoldOptions {
        models,
        full_refresh,
        progress: Progress::new("promote gold", output),
    };
    let reports = tweetlake_gold::promote_gold(&config.gold, lake, &options)
        .await
        .context("promoting silver to gold")?;
    // Takes the progress line off the terminal before the summary.
    drop(options);
    for r in reports {
        println!("{r}");
    }
    Ok(())
}

fn engine(arg: EngineArg) -> tweetlake_gold::dialect::Engine {
    match arg {
        EngineArg::Athena => tweetlake_gold::dialect::Engine::Athena,
        EngineArg::Spark => tweetlake_gold::dialect::Engine::Spark,
        EngineArg::Duckdb => tweetlake_gold::dialect::Engine::DuckDb,
    }
}

async fn catalog_ddl(lake: &Lake, arg: EngineArg, database: &str) -> Result<()> {
    if !tweetlake_gold::model::is_snake_case(database) {
        bail!("--database `{database}` must be lower_snake_case");
    }
    if arg == EngineArg::Duckdb {
        bail!("catalog ddl supports --engine athena and spark");
    }
    let catalog = tweetlake_core::LakeCatalog::discover(lake)
        .await
        .context("opening the lake's tables")?;
    let ddl = tweetlake_gold::ddl::catalog_ddl(lake, &catalog, engine(arg), database).await?;
    print!("{ddl}");
    Ok(())
}

/// Prints each model, in run order, as `engine` spells it.
fn catalog_models(config: &Config, arg: EngineArg, database: &str) -> Result<()> {
    use tweetlake_gold::dialect::translate;
    let engine = engine(arg);
    let graph = tweetlake_gold::ModelGraph::load(Path::new(&config.gold.models_dir))?;
    for model in graph.models() {
        let sql = translate(&model.sql, engine, database)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("translating {}", model.path.display()))?;
        println!("-- gold.{}: {}\n{sql};\n", model.name, model.description);
    }
    Ok(())
}

async fn maintain(
    config: &Config,
    lake: &Lake,
    tables: Vec<String>,
    dry_run: bool,
    output: ProgressOutput,
) -> Result<()> {
    let mut names = Vec::new();
    for spec in tables {
        let Some(name) = tweetlake_core::TableName::parse(&spec) else {
            bail!("--table-name `{spec}`: expected LAYER.NAME with LAYER bronze, silver or gold, e.g. silver.tweets");
        };
        names.push(name);
    }
    let options = tweetlake_maintain::MaintainOptions {
        tables: names,
        dry_run,
        // By hand or at night: everything below maintain.target_file_size_mb.
        compact_below: None,
        keep_logs: false,
        progress: Progress::new("maintain", output),
    };
    let reports = tweetlake_maintain::maintain(&config.maintain, lake, &options)
        .await
        .context("maintaining the lake's tables")?;
    drop(options);
    let verb = if dry_run { "would vacuum" } else { "vacuumed" };
    let mut failed = Vec::new();
    for r in reports {
        if let Some(error) = &r.error {
            println!("{}: failed: {error}", r.table);
            failed.push(r.table);
            continue;
        }
        let retention = r
            .vacuum_retention_hours
            .map_or("vacuum off".to_string(), |h| {
                format!("{verb} {} files older than {h} h", r.files_vacuumed)
            });
        let raised = r
            .retention_raised_by
            .map_or(String::new(), |why| format!(" (retention raised: {why})"));
        println!(
            "{}: {} files, {} compacted into {}, checkpoint at {}, {} expired log files removed, {retention}{raised}, {} conflict retries",
            r.table,
            r.files_before,
            r.files_compacted,
            r.files_written,
            r.checkpoint_version.map_or("-".into(), |v| format!("v{v}")),
            r.logs_removed,
            r.conflict_retries,
        );
    }
    if !failed.is_empty() {
        bail!(
            "maintenance failed for {} table(s): {} (the others were maintained)",
            failed.len(),
            failed.join(", ")
        );
    }
    Ok(())
}
