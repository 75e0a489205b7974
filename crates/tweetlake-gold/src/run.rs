//! `promote gold`: runs the models in dependency order and writes one gold Delta table each.
//!
//! Each commit records, as Delta `txn` actions `<app_id>-gold-<layer>.<table>`, the version of
//! every source it has consumed. The next run reads what those sources changed since, recomputes
//! only the touched windows of an incremental model, and swaps them in with one `replaceWhere`
//! commit; a rerun with nothing new changes nothing.

use std::time::Instant;

use tracing::{info_span, Instrument};
use tweetlake_core::catalog::{register_table, LakeCatalog};
use tweetlake_core::config::GoldConfig;
use tweetlake_core::delta::{app_txn_version, exists, open_table};
use tweetlake_core::deltalake::arrow::array::RecordBatch;
use tweetlake_core::deltalake::datafusion::prelude::SessionContext;
use tweetlake_core::deltalake::DeltaTable;
use tweetlake_core::tables::{self, TableName, TimeColumn};
use tweetlake_core::txn::Consumer;
use tweetlake_core::{retry_on_conflict, Lake, Layer, Progress};

use crate::graph::ModelGraph;
use crate::model::{Materialization, Model};
use crate::normalize::portable_columns;
use crate::refresh::GoldRounds;
use crate::GoldError;

#[derive(Debug, Clone, Default)]
pub struct GoldOptions {
    /// Only these models (and the models they read); all when empty.
    pub models: Vec<String>,
    /// Rebuild every selected model from all of its sources.
    pub full_refresh: bool,
    /// Where each model's progress is shown.
    pub progress: Progress,
}

/// How one model was brought up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunKind {
    UpToDate,
    /// Left as it is: its `refresh` interval has not passed since it last wrote (in `run`).
    NotDue {
        wait: std::time::Duration,
    },
    /// Rebuilt whole, with the reason.
    Full(String),
    /// These windows were recomputed and replaced.
    Incremental {
        windows: usize,
    },
}

#[derive(Debug, Clone)]
pub struct ModelReport {
    pub model: String,
    pub kind: RunKind,
    pub rows_written: u64,
    pub version: Option<i64>,
    pub seconds: f64,
    /// Times the model ran again because another writer (a compaction) committed first.
    pub conflict_retries: u32,
}

/// Runs the selected models of `config.gold.models_dir` against the lake.
pub async fn promote_gold(
    config: &GoldConfig,
    lake: &Lake,
    options: &GoldOptions,
) -> Result<Vec<ModelReport>, GoldError> {
    promote(config, lake, options, None).await
}

/// [`promote_gold`] for a long-running process: a model whose `refresh` interval has not passed
/// since it last wrote is left as it is this time, and the lake's tables loaded by an earlier
/// round are brought up to date instead of opened again (see [`GoldRounds`]).
pub async fn promote_gold_due(
    config: &GoldConfig,
    lake: &Lake,
    options: &GoldOptions,
    rounds: &mut GoldRounds,
) -> Result<Vec<ModelReport>, GoldError> {
    promote(config, lake, options, Some(rounds)).await
}

async fn promote(
    config: &GoldConfig,
    lake: &Lake,
    options: &GoldOptions,
    mut rounds: Option<&mut GoldRounds>,
) -> Result<Vec<ModelReport>, GoldError> {
    let graph = ModelGraph::load(std::path::Path::new(&config.models_dir))?;
    let models = graph.select(&options.models)?;
    // Taken, and kept again only after a round without error: a failed round lists afresh.
    let kept = rounds
        .as_deref_mut()
        .and_then(|r| r.take_catalog(Instant::now()));
    let (mut catalog, listed_at) = match kept {
        Some((mut catalog, listed_at)) => {
            catalog
                .refresh(lake)
                .instrument(phase("refresh_catalog"))
                .await?;
            (catalog, listed_at)
        }
        None => {
            let listed_at = Instant::now();
            let catalog = LakeCatalog::discover(lake)
                .instrument(phase("open_catalog"))
                .await?;
            (catalog, listed_at)
        }
    };
    check_sources(&models, &catalog)?;
    let ctx = catalog.session().instrument(phase("session")).await?;
    let progress = &options.progress;
    progress.steps(models.len());
    let mut reports = Vec::new();
    for (index, model) in models.iter().enumerate() {
        progress.step(format_args!("gold.{}", model.name));
        let started = Instant::now();
        if let Some(wait) = rounds.as_deref().and_then(|r| r.clock.wait(model, started)) {
            progress.finish_step(format_args!("{}", describe(&RunKind::NotDue { wait })));
            reports.push(ModelReport {
                model: model.name.clone(),
                kind: RunKind::NotDue { wait },
                rows_written: 0,
                version: None,
                seconds: 0.0,
                conflict_retries: 0,
            });
            continue;
        }
        let span =
            info_span!("gold_model", model = %model.name, step = index + 1, of = models.len());
        let name = TableName::new(Layer::Gold, &model.name);
        let url = lake.table_url(Layer::Gold, &model.name);
        // The catalog brought this table up to date at the round's start: the first attempt uses
        // it as it is; a retry after a conflict opens the table as it is now.
        let mut loaded = catalog.get(&name).cloned();
        let run = Run {
            lake,
            ctx: &ctx,
            catalog: &catalog,
            models: &models,
            full_refresh: options.full_refresh,
            progress,
        };
        // A conflict (maintenance compacted this table meanwhile) runs the model again on the
        // table as it is now; its sources are read at the same versions.
        let what = format!("gold.{}", model.name);
        let ((mut report, written), retries) = retry_on_conflict(
            lake.conflict_retry(),
            &what,
            GoldError::is_commit_conflict,
            || {
                let (loaded, url, run) = (loaded.take(), &url, &run);
                async move {
                    let gold = match loaded {
                        Some(gold) => gold,
                        None => {
                            open_table(url, lake.storage_options())
                                .instrument(phase("open_gold"))
                                .await?
                        }
                    };
                    run_model(run, model, gold).await
                }
            },
        )
        .instrument(span)
        .await?;
        report.conflict_retries = retries;
        // Later models that read this one see what was just written.
        if let Some(table) = written {
            if let Some(rounds) = rounds.as_deref_mut() {
                rounds.clock.refreshed(&model.name, started);
            }
            register_table(&ctx, &name, &table)
                .instrument(phase("register"))
                .await?;
            catalog.insert(name, table);
        }
        progress.finish_step(format_args!(
            "{}, {} rows written",
            describe(&report.kind),
            report.rows_written
        ));
        reports.push(report);
    }
    if let Some(rounds) = rounds {
        rounds.keep_catalog(catalog, listed_at);
    }
    Ok(reports)
}

/// The line `promote gold` prints and `run` logs for one model.
impl std::fmt::Display for ModelReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let version = self.version.map_or("-".to_string(), |v| format!("v{v}"));
        write!(
            f,
            "gold.{} {version}: {}, {} rows written in {:.2}s, {} conflict retries",
            self.model,
            describe(&self.kind),
            self.rows_written,
            self.seconds,
            self.conflict_retries
        )
    }
}

pub fn describe(kind: &RunKind) -> String {
    match kind {
        RunKind::UpToDate => "up to date".into(),
        RunKind::NotDue { wait } => format!("not due (next refresh in {}s)", wait.as_secs()),
        RunKind::Full(why) => format!("rebuilt ({why})"),
        RunKind::Incremental { windows } => format!("{windows} windows recomputed"),
    }
}

/// Every bronze or silver table a model reads must exist; an incremental model must read only
/// tables with a time column.
fn check_sources(models: &[&Model], catalog: &LakeCatalog) -> Result<(), GoldError> {
    for model in models {
        for source in &model.sources {
            if source.layer != Layer::Gold && catalog.get(source).is_none() {
                return Err(GoldError::Model {
                    path: model.path.clone(),
                    reason: format!(
                        "reads `{source}`, which the lake does not have yet (run `tweetlake \
                         ingest` and `tweetlake promote silver` first)"
                    ),
                });
            }
            if model.time_column().is_some() && time_column(source, models).is_none() {
                return Err(GoldError::Model {
                    path: model.path.clone(),
                    reason: format!(
                        "is incremental but reads `{source}`, which has no known time column; \
                         declare `materialized: table`"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The column whose windows a change to `source` touches.
fn time_column<'a>(source: &TableName, models: &'a [&Model]) -> Option<&'a str> {
    match tables::time_column(source) {
        TimeColumn::Column(column) => Some(column),
        TimeColumn::DeclaredByModel => models
            .iter()
            .find(|m| m.name == source.table)
            .and_then(|m| m.time_column()),
        TimeColumn::Unknown => None,
    }
}

/// What a model's sources are at now and what the gold table consumed last.
pub(crate) struct SourceState {
    name: TableName,
    table: DeltaTable,
    app: String,
    consumed: Option<i64>,
    current: i64,
    time_column: Option<String>,
}

/// What every model of one `promote gold` run shares.
struct Run<'a> {
    lake: &'a Lake,
    /// Every lake table, for full rebuilds.
    ctx: &'a SessionContext,
    catalog: &'a LakeCatalog,
    models: &'a [&'a Model],
    full_refresh: bool,
    progress: &'a Progress,
}

/// Brings one model's table up to date; returns the table as written, if it was.
async fn run_model(
    run: &Run<'_>,
    model: &Model,
    gold: DeltaTable,
) -> Result<(ModelReport, Option<DeltaTable>), GoldError> {
    let Run {
        lake,
        ctx,
        catalog,
        models,
        full_refresh,
        progress,
    } = *run;
    let started = Instant::now();
    let mut sources = Vec::new();
    for name in &model.sources {
        let table = catalog.get(name).cloned().ok_or_else(|| GoldError::Model {
            path: model.path.clone(),
            reason: format!("reads `{name}`, which has no table"),
        })?;
        let source = name.to_string();
        let app = Consumer::Gold { source: &source }.app_id(lake.app_id());
        let consumed = app_txn_version(&gold, &app)
            .instrument(phase("consumed_versions"))
            .await?;
        let current = table.version().map(|v| v as i64).unwrap_or(-1);
        sources.push(SourceState {
            name: name.clone(),
            table,
            app,
            consumed,
            current,
            time_column: time_column(name, models).map(str::to_string),
        });
    }
    let last_sql = last_sql(&gold).instrument(phase("last_sql")).await;
    let facts = Facts {
        full_refresh,
        table_exists: exists(&gold),
        same_sql: last_sql.as_deref() == Some(model.sql.as_str()),
        every_source_consumed: sources.iter().all(|s| s.consumed.is_some()),
        any_source_changed: sources.iter().any(|s| s.consumed != Some(s.current)),
        materialization: &model.materialization,
    };
    let report = |kind, rows_written, version| ModelReport {
        model: model.name.clone(),
        kind,
        rows_written,
        version,
        seconds: started.elapsed().as_secs_f64(),
        conflict_retries: 0,
    };
    let step = first_step(&facts);
    let windows = match (&step, &model.materialization) {
        (Step::FindWindows, Materialization::Incremental { window, .. }) => {
            progress.phase("finding the windows that changed");
            touched_windows(&sources, model, *window)
                .instrument(phase("touched_windows"))
                .await?
        }
        _ => None,
    };
    let (kind, df, windows) = match plan(step, windows) {
        Plan::UpToDate => {
            let version = gold.version().map(|v| v as i64);
            return Ok((report(RunKind::UpToDate, 0, version), None));
        }
        Plan::RecordConsumed => {
            let written = record_consumed(gold, model, &sources)
                .instrument(phase("write"))
                .await?;
            let version = written.version().map(|v| v as i64);
            let kind = RunKind::Incremental { windows: 0 };
            return Ok((report(kind, 0, version), Some(written)));
        }
        Plan::Recompute(set) => {
            progress.phase(format_args!("recomputing {} windows", set.len()));
            let df = incremental_frame(catalog, model, &sources, &set)
                .instrument(phase("plan_query"))
                .await?;
            (RunKind::Incremental { windows: set.len() }, df, Some(set))
        }
        Plan::Rebuild(reason) => {
            progress.phase("rebuilding");
            let df = ctx
                .sql(&model.sql)
                .instrument(phase("plan_query"))
                .await
                .map_err(query_err(model))?;
            (RunKind::Full(reason), df, None)
        }
    };
    let df = portable_columns(df).map_err(|reason| GoldError::Model {
        path: model.path.clone(),
        reason,
    })?;
    check_output(model, &df)?;
    let schema = df.schema().as_arrow().clone();
    let mut batches = df
        .collect()
        .instrument(phase("query"))
        .await
        .map_err(query_err(model))?;
    let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    if batches.is_empty() {
        batches.push(RecordBatch::new_empty(std::sync::Arc::new(schema)));
    }
    let predicate = match (&windows, model.time_column()) {
        (Some(set), Some(column)) => Some(set.predicate(column)),
        _ => None,
    };
    progress.phase(format_args!("writing {rows} rows"));
    let written = write(gold, model, &sources, &kind, batches, predicate)
        .instrument(phase("write"))
        .await?;
    let version = written.version().map(|v| v as i64);
    Ok((report(kind, rows, version), Some(written)))
}

/// A span around one part of a gold round; with `log.span_timings` its close says how long it
/// took.
fn phase(name: &'static str) -> tracing::Span {
    info_span!("gold_phase", phase = name)
}

fn query_err(
    model: &Model,
) -> impl Fn(tweetlake_core::deltalake::datafusion::error::DataFusionError) -> GoldError + '_ {
    move |e| GoldError::Model {
        path: model.path.clone(),
        reason: e.to_string(),
    }
}

mod commit;
mod frame;
mod plan;

use commit::{last_sql, record_consumed, write};
use frame::{check_output, incremental_frame, touched_windows};
use plan::{first_step, plan, Facts, Plan, Step};
