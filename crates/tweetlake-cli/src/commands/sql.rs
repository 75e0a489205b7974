//! `tweetlake sql`: one query, or an interactive shell, over every layer of the lake. Read-only:
//! DataFusion is told to refuse DDL, DML and session statements.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use tweetlake_core::deltalake::arrow::array::RecordBatch;
use tweetlake_core::deltalake::arrow::util::pretty::pretty_format_batches;
use tweetlake_core::deltalake::datafusion::execution::context::SQLOptions;
use tweetlake_core::deltalake::datafusion::prelude::SessionContext;
use tweetlake_core::deltalake::parquet::arrow::ArrowWriter;
use tweetlake_core::{Lake, LakeCatalog, TableName, TimeTravel};

use crate::cli::{OutputFormat, SqlArgs};

pub async fn run(lake: &Lake, args: SqlArgs) -> Result<()> {
    let travel = time_travel(&args)?;
    if args.output_format == OutputFormat::Parquet && args.output.is_none() {
        bail!("--output-format parquet needs --output FILE");
    }
    let catalog = LakeCatalog::discover_at(lake, &travel)
        .await
        .context("opening the lake's tables")?;
    let ctx = catalog.session().await?;
    match &args.query {
        Some(query) => {
            let batches = query_batches(&ctx, query).await?;
            write_result(&batches, args.output_format, args.output.as_deref())
        }
        None => shell(&ctx, args.output_format).await,
    }
}

fn time_travel(args: &SqlArgs) -> Result<TimeTravel> {
    let mut travel = TimeTravel::default();
    for spec in &args.versions {
        let parsed = spec.split_once('=').and_then(|(table, version)| {
            let version: i64 = version.parse().ok().filter(|v| *v >= 0)?;
            Some((TableName::parse(table)?, version))
        });
        let Some((name, version)) = parsed else {
            bail!("--version `{spec}`: expected LAYER.TABLE=VERSION, e.g. silver.tweets=3");
        };
        travel.versions.insert(name, version);
    }
    if let Some(at) = &args.as_of {
        let at = chrono::DateTime::parse_from_rfc3339(at).with_context(|| {
            format!("--as-of `{at}`: expected RFC 3339, e.g. 2026-11-20T10:00:00Z")
        })?;
        travel.as_of = Some(at.with_timezone(&chrono::Utc));
    }
    Ok(travel)
}

/// Runs one read-only statement.
pub async fn query_batches(ctx: &SessionContext, query: &str) -> Result<Vec<RecordBatch>> {
    let read_only = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    let df = match ctx.sql_with_options(query, read_only).await {
        Ok(df) => df,
        Err(e) => {
            let message = e.to_string();
            let refused = [
                "DML not supported",
                "DDL not supported",
                "Statement not supported",
            ];
            if refused.iter().any(|r| message.contains(r)) {
                bail!("the lake is read-only here: {message}");
            }
            return Err(e).context("planning the query");
        }
    };
    df.collect().await.context("running the query")
}

fn write_result(
    batches: &[RecordBatch],
    format: OutputFormat,
    output: Option<&Path>,
) -> Result<()> {
    let mut out: Box<dyn Write + Send> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout()),
    };
    use tweetlake_core::deltalake::arrow::{csv, json};
    match format {
        OutputFormat::Table => writeln!(out, "{}", pretty_format_batches(batches)?)?,
        OutputFormat::Csv => {
            let mut writer = csv::WriterBuilder::new().with_header(true).build(&mut out);
            for b in batches {
                writer.write(b)?;
            }
        }
        OutputFormat::Json => {
            let mut writer = json::LineDelimitedWriter::new(&mut out);
            for b in batches {
                writer.write(b)?;
            }
            writer.finish()?;
        }
        OutputFormat::Parquet => {
            let Some(schema) = batches.first().map(|b| b.schema()) else {
                bail!("the query returned no batches to write as Parquet");
            };
            let mut writer = ArrowWriter::try_new(&mut out, schema, None)?;
            for b in batches {
                writer.write(b)?;
            }
            writer.close()?;
        }
    }
    out.flush()?;
    Ok(())
}

/// A line editor with history; a statement runs once a line ends with `;`.
async fn shell(ctx: &SessionContext, format: OutputFormat) -> Result<()> {
    use rustyline::error::ReadlineError;
    let mut editor = rustyline::DefaultEditor::new().context("starting the line editor")?;
    let history = std::env::home_dir().map(|h| h.join(".tweetlake_history"));
    if let Some(path) = &history {
        // A missing history file is normal on the first start.
        let _ = editor.load_history(path);
    }
    println!("tweetlake sql: tables bronze.*, silver.*, gold.* (SHOW TABLES;). End a statement with `;`, quit with \\q.");
    let mut statement = String::new();
    loop {
        let prompt = if statement.is_empty() {
            "tweetlake> "
        } else {
            "       ..> "
        };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                statement.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        if statement.is_empty() && matches!(line.trim(), "\\q" | "quit" | "exit") {
            break;
        }
        statement.push_str(&line);
        statement.push('\n');
        if !line.trim_end().ends_with(';') {
            continue;
        }
        let _ = editor.add_history_entry(statement.trim());
        let started = std::time::Instant::now();
        match query_batches(ctx, &statement).await {
            Ok(batches) => {
                let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
                let format = if format == OutputFormat::Parquet {
                    OutputFormat::Table
                } else {
                    format
                };
                write_result(&batches, format, None)?;
                println!("{rows} rows in {:.3}s", started.elapsed().as_secs_f64());
            }
            Err(e) => eprintln!("error: {e:#}"),
        }
        statement.clear();
    }
    if let Some(path) = &history {
        if let Err(e) = editor.save_history(path) {
            tracing::warn!(
                "could not save the shell history to {}: {e}",
                path.display()
            );
        }
    }
    Ok(())
}
