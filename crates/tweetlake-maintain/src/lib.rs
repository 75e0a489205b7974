//! Table maintenance for every layer: compaction to a target file size (commits that say they
//! change no data), checkpoints, and a log cleanup and a vacuum that keep every commit and file a
//! downstream layer (silver over bronze, gold over silver and gold) may still read.

use std::future::IntoFuture as _;
use std::num::NonZeroU64;
use std::time::Duration;

use tracing::{info_span, warn, Instrument};
use tweetlake_core::config::MaintainConfig;
use tweetlake_core::delta::app_txn_version;
use tweetlake_core::deltalake::checkpoints::{cleanup_expired_logs_for, create_checkpoint};
use tweetlake_core::deltalake::logstore::object_store::ObjectStoreExt as _;
use tweetlake_core::deltalake::table::config::TablePropertiesExt as _;
use tweetlake_core::deltalake::{DeltaTable, DeltaTableError, Path};
use tweetlake_core::tables::{readers_of, Reader, TableName};
use tweetlake_core::{retry_on_conflict, Lake, LakeCatalog, Progress};

mod compaction_tiers;
mod log_cleanup;
mod vacuum_plan;

pub use compaction_tiers::{CompactionTiers, TIER_FACTOR};
pub use log_cleanup::{log_cleanup_plan, LogCleanupPlan};
pub use vacuum_plan::{furthest_behind, vacuum_plan, Lag, VacuumPlan};

#[derive(Debug, thiserror::Error)]
pub enum MaintainError {
    #[error("{table}: {what}: {source}")]
    Delta {
        table: String,
        what: &'static str,
        #[source]
        source: Box<DeltaTableError>,
    },
    #[error("{table}: {reason}")]
    Refused { table: String, reason: String },
    #[error(transparent)]
    Core(#[from] tweetlake_core::CoreError),
}

#[derive(Debug, Clone, Default)]
pub struct MaintainOptions {
    /// Only these tables; every table of the lake when empty.
    pub tables: Vec<TableName>,
    /// Say what would be compacted and vacuumed, change nothing.
    pub dry_run: bool,
    /// Merge only files below this size, into files of at most this size (`run`'s compactions,
    /// see [`CompactionTiers`]); `maintain.target_file_size_mb` when not set.
    pub compact_below: Option<NonZeroU64>,
    /// Leave the log cleanup to a later maintenance: it lists the table's whole log, too much for
    /// `run`'s compaction every minute (its daily maintenance cleans).
    pub keep_logs: bool,
    /// Where each table's progress is shown.
    pub progress: Progress,
}

/// What maintenance did to one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableReport {
    pub table: String,
    pub files_before: usize,
    /// Small files compacted away, and the files written in their place.
    pub files_compacted: u64,
    pub files_written: u64,
    /// The bytes of the files compacted away: what compaction read and wrote again.
    pub bytes_compacted: u64,
    pub checkpoint_version: Option<i64>,
    pub logs_removed: usize,
    pub vacuum_retention_hours: Option<u64>,
    pub files_vacuumed: usize,
    /// Why the retention was raised above the configured one, if it was.
    pub retention_raised_by: Option<String>,
    /// Times this table's maintenance ran again because a promotion committed to it first.
    pub conflict_retries: u32,
    /// Why maintenance of this table stopped, when it did; the other tables are still maintained.
    pub error: Option<String>,
}

impl MaintainError {
    /// Whether a promotion's commit to the same table made this one fail (a merge removed files
    /// the compaction read); maintaining the table again on the new snapshot is the remedy.
    pub fn is_commit_conflict(&self) -> bool {
        match self {
            MaintainError::Delta { source, .. } => {
                tweetlake_core::delta::is_commit_conflict(source)
            }
            _ => false,
        }
    }
}

pub async fn maintain(
    config: &MaintainConfig,
    lake: &Lake,
    options: &MaintainOptions,
) -> Result<Vec<TableReport>, MaintainError> {
    let catalog = LakeCatalog::discover(lake).await?;
    for wanted in &options.tables {
        if catalog.get(wanted).is_none() {
            return Err(MaintainError::Refused {
                table: wanted.to_string(),
                reason: "the lake has no such table".into(),
            });
        }
    }
    let names: Vec<TableName> = catalog
        .names()
        .filter(|n| options.tables.is_empty() || options.tables.contains(n))
        .cloned()
        .collect();
    if config.vacuum {
        for name in &names {
            if let Some(table) = catalog.get(name) {
                check_retention(name, table, config.vacuum_retention_hours)?;
            }
        }
    }
    let progress = &options.progress;
    progress.steps(names.len());
    let mut reports = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let Some(table) = catalog.get(name).cloned() else {
            continue;
        };
        let span = info_span!("maintain", table = %name, step = i + 1, of = names.len());
        progress.step(name);
        let consumers = readers_of(name, catalog.names(), lake.app_id());
        // A promotion that commits to the table meanwhile wins; maintain it again as it is then.
        // A table that still fails is reported and the others are maintained all the same: one
        // table's trouble must not leave the rest without checkpoints and vacuum.
        let attempt = retry_on_conflict(
            lake.conflict_retry(),
            &format!("maintaining {name}"),
            MaintainError::is_commit_conflict,
            || {
                let mut table = table.clone();
                let consumers = &consumers;
                let catalog = &catalog;
                async move {
                    table.load().await.map_err(delta_error(name, "loading"))?;
                    maintain_table(config, catalog, name, table, consumers, options).await
                }
            },
        )
        .instrument(span)
        .await;
        let report = match attempt {
            Ok((report, retries)) => TableReport {
                conflict_retries: retries,
                ..report
            },
            Err(e) => {
                warn!(table = %name, "maintenance failed: {e}");
                progress.finish_step(format_args!("failed: {e}"));
                reports.push(TableReport {
                    table: name.to_string(),
                    error: Some(e.to_string()),
                    ..Default::default()
                });
                continue;
            }
        };
        progress.finish_step(format_args!(
            "{} files, {} ({} KiB) compacted into {}, checkpoint {:?}, {} old log files removed, {} files vacuumed",
            report.files_before,
            report.files_compacted,
            report.bytes_compacted / 1024,
            report.files_written,
            report.checkpoint_version,
            report.logs_removed,
            report.files_vacuumed
        ));
        reports.push(report);
    }
    Ok(reports)
}

async fn maintain_table(
    config: &MaintainConfig,
    catalog: &LakeCatalog,
    name: &TableName,
    table: DeltaTable,
    consumers: &[Reader],
    options: &MaintainOptions,
) -> Result<TableReport, MaintainError> {
    let MaintainOptions {
        dry_run,
        progress,
        compact_below,
        keep_logs,
        ..
    } = options;
    let dry_run = *dry_run;
    let err = |what| delta_error(name, what);
    let mut report = TableReport {
        table: name.to_string(),
        files_before: table
            .get_files_by_partitions(&[])
            .await
            .map_err(err("listing files"))?
            .len(),
        ..Default::default()
    };
    let table = if dry_run {
        table
    } else {
        // Delta's log cleanup after a commit (which the compaction below runs whatever it is
        // asked) would remove commits a reader has yet to read; tables from before it was
        // turned off get the property now.
        let table = tweetlake_core::delta::add_missing_table_properties(table)
            .await
            .map_err(err("setting the table's properties"))?;
        let target = compact_below.unwrap_or_else(|| config.target_file_size_bytes());
        progress.phase("compacting");
        let (table, metrics) = table
            .optimize()
            .with_target_size(target)
            .with_commit_properties(tweetlake_core::delta::commit_properties())
            .into_future()
            .instrument(phase("compact"))
            .await
            .map_err(err("compacting"))?;
        report.files_compacted = metrics.num_files_removed;
        report.files_written = metrics.num_files_added;
        report.bytes_compacted = u64::try_from(metrics.files_removed.total_size).unwrap_or(0);
        progress.phase("writing a checkpoint");
        create_checkpoint(&table, None)
            .instrument(phase("checkpoint"))
            .await
            .map_err(err("writing a checkpoint"))?;
        report.checkpoint_version = table.version().map(|v| v as i64);
        table
    };
    let current = table.version().map(|v| v as i64).unwrap_or(-1);
    let clean_logs = !dry_run && !keep_logs;
    let lag = if clean_logs || config.vacuum {
        furthest_reader(catalog, consumers, current).await?
    } else {
        None
    };
    if clean_logs {
        progress.phase("removing expired log files");
        report.logs_removed = clean_log(config, name, &table, lag.as_ref()).await?;
    }
    if !config.vacuum {
        return Ok(report);
    }
    progress.phase("vacuuming");
    let configured = config.vacuum_retention_hours;
    // Full mode also deletes orphans (files a crashed writer never committed, and removed files
    // whose expired tombstones a checkpoint dropped) once older than the retention. While a
    // consumer lags, tombstones older than the table's own retention may already be gone from
    // the checkpoint, so the plan picks Lite mode (tombstones alone) then.
    let plan = plan_vacuum(name, &table, lag.as_ref(), configured).await?;
    let (_, metrics) = table
        .vacuum()
        .with_mode(plan.mode)
        .with_retention_period(chrono::Duration::hours(plan.retention_hours as i64))
        .with_dry_run(dry_run)
        .with_commit_properties(tweetlake_core::delta::commit_properties())
        .into_future()
        .instrument(phase("vacuum"))
        .await
        .map_err(err("vacuuming"))?;
    report.vacuum_retention_hours = Some(plan.retention_hours);
    report.files_vacuumed = metrics.files_deleted.len();
    report.retention_raised_by = plan.raised_by;
    Ok(report)
}

/// Removes the log files of `table` that [`log_cleanup_plan`] lets go: older than the log
/// retention, below a checkpoint, and read by every reader (`lag`, the furthest behind).
async fn clean_log(
    config: &MaintainConfig,
    name: &TableName,
    table: &DeltaTable,
    lag: Option<&Lag>,
) -> Result<usize, MaintainError> {
    let err = |what| delta_error(name, what);
    let retention = match config.log_retention_hours {
        Some(hours) => Duration::from_secs(hours.saturating_mul(3600)),
        None => table
            .snapshot()
            .map_err(err("reading the table's properties"))?
            .table_config()
            .log_retention_duration(),
    };
    let checkpoint = table.version().unwrap_or(0);
    let plan = log_cleanup_plan(checkpoint, lag, retention, chrono::Utc::now());
    let span = phase("cleanup_log");
    if let Some(why) = &plan.held_by {
        tracing::debug!(parent: &span, keep_from = plan.keep_from, "log kept: {why}");
    }
    cleanup_expired_logs_for(
        plan.keep_from,
        table.log_store().as_ref(),
        plan.cutoff.timestamp_millis(),
        None,
    )
    .instrument(span)
    .await
    .map_err(err("removing expired log files"))
}

/// What a failed Delta operation on table `name` becomes: the table and what was being done.
fn delta_error<'a>(
    name: &'a TableName,
    what: &'static str,
) -> impl FnOnce(DeltaTableError) -> MaintainError + 'a {
    move |source| MaintainError::Delta {
        table: name.to_string(),
        what,
        source: Box::new(source),
    }
}

/// A span around one part of a table's maintenance; with `log.span_timings` its close says how
/// long it took.
fn phase(name: &'static str) -> tracing::Span {
    info_span!("maintain_phase", phase = name)
}

/// A configured vacuum retention below a table's `delta.deletedFileRetentionDuration` is refused
/// before any table is touched: readers of older snapshots could lose files.
fn check_retention(name: &TableName, table: &DeltaTable, hours: u64) -> Result<(), MaintainError> {
    let floor = table
        .snapshot()
        .map_err(delta_error(name, "reading the table's properties"))?
        .table_config()
        .deleted_file_retention_duration();
    if u128::from(hours) * 3_600_000 < floor.as_millis() {
        return Err(MaintainError::Refused {
            table: name.to_string(),
            reason: format!(
                "maintain.vacuum_retention_hours = {hours} is shorter than the table's \
                 delta.deletedFileRetentionDuration ({} h): readers of older snapshots could lose files",
                floor.as_secs() / 3600
            ),
        });
    }
    Ok(())
}

/// Of the readers of a table at version `current`, the one furthest behind: each one's consumed
/// version read from its own table's transactions.
async fn furthest_reader(
    catalog: &LakeCatalog,
    consumers: &[Reader],
    current: i64,
) -> Result<Option<Lag>, MaintainError> {
    let mut consumed = Vec::new();
    for consumer in consumers {
        let Some(reader) = catalog.get(&consumer.table) else {
            continue;
        };
        let version = app_txn_version(reader, &consumer.app_id).await?;
        consumed.push((consumer.table.clone(), version));
    }
    Ok(furthest_behind(consumed, current))
}

/// The vacuum of `table`: the furthest-behind reader's first unconsumed commit dated, and
/// [`vacuum_plan`] asked.
async fn plan_vacuum(
    name: &TableName,
    table: &DeltaTable,
    lag: Option<&Lag>,
    configured: u64,
) -> Result<VacuumPlan, MaintainError> {
    let Some(lag) = lag else {
        return Ok(vacuum_plan(configured, None));
    };
    let first_unconsumed = lag.consumed + 1;
    let commit = Path::from(format!("_delta_log/{first_unconsumed:020}.json"));
    let meta = table
        .object_store()
        .head(&commit)
        .await
        .map_err(|e| MaintainError::Refused {
            table: name.to_string(),
            reason: format!(
                "{} has consumed it only up to version {}, and the log no longer has version \
                 {first_unconsumed} ({e}); run that layer's promote with --full-refresh before vacuum",
                lag.reader, lag.consumed
            ),
        })?;
    let age_hours = (chrono::Utc::now() - meta.last_modified).num_hours();
    let plan = vacuum_plan(configured, Some((lag, age_hours)));
    if let Some(why) = &plan.raised_by {
        warn!(table = %name, hours = plan.retention_hours, "vacuum retention raised: {why}");
    }
    Ok(plan)
}
