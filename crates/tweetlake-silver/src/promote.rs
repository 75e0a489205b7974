//! `promote silver`: reads what a bronze table added since the version silver last consumed,
//! parses it, and commits tweets, deletes, quarantined rows and stream-event counts. Every
//! table's commit records the bronze version (Delta `txn` `<app_id>-silver-<bronze table>`), so a
//! rerun after a crash redoes only the tables still behind, and a second run changes nothing.

use std::collections::HashSet;

use tracing::{info, info_span, Instrument};
use tweetlake_core::config::SilverConfig;
use tweetlake_core::delta::{app_txn_version, exists, reopen_latest};
use tweetlake_core::deltalake::kernel::transaction::CommitProperties;
use tweetlake_core::deltalake::kernel::Transaction;
use tweetlake_core::deltalake::protocol::SaveMode;
use tweetlake_core::deltalake::{DeltaTable, DeltaTableError};
use tweetlake_core::txn::Consumer;
use tweetlake_core::{retry_on_conflict, Lake, Layer, Progress};

use crate::enrich::Enricher;
use crate::expect::Expectations;
use crate::notices::NoticeIndex;
use crate::SilverError;

#[derive(Debug, Clone, Default)]
pub struct PromoteOptions {
    /// Read all of bronze, not only what came since the last run.
    pub full_refresh: bool,
    /// Replace silver's content instead of adding to it: the first bronze table of a full refresh
    /// (the others then add theirs).
    pub replace: bool,
    /// Where the run's progress is shown; one step per bronze table.
    pub progress: Progress,
}

/// What a promotion loads before it reads bronze: the expectations compiled, the NER model and
/// sentiment method loaded. A one-off promotion loads it once for every bronze table; `tweetlake
/// run` keeps one across its rounds, so a round costs the new rows, not a model load.
pub struct Promoter {
    config: SilverConfig,
    expectations: Expectations,
    // Behind a lock only so each retry of a conflicting commit can borrow it again.
    enricher: futures::lock::Mutex<Enricher>,
    /// The tables' handles, brought up to date by the next promotion instead of opened again.
    tables: KeptTables,
}

impl Promoter {
    /// Model and checks first: a bad one stops the run before any table is read or written.
    pub async fn load(config: &SilverConfig) -> Result<Self, SilverError> {
        Ok(Self {
            config: config.clone(),
            expectations: Expectations::compile(&config.effective_expectations())?,
            enricher: futures::lock::Mutex::new(Enricher::load(config).await?),
            tables: KeptTables::default(),
        })
    }

    /// Promotes each of `bronze_tables` into silver, in that order; `on_report` hears each
    /// table's report as it lands. A full refresh replaces silver with the first table's rows,
    /// and the others add theirs.
    pub async fn promote_all(
        &self,
        bronze_tables: &[&str],
        lake: &Lake,
        full_refresh: bool,
        progress: Progress,
        mut on_report: impl FnMut(&PromoteReport),
    ) -> Result<Vec<PromoteReport>, SilverError> {
        progress.steps(bronze_tables.len());
        let mut reports = Vec::new();
        for (i, table) in bronze_tables.iter().copied().enumerate() {
            let options = PromoteOptions {
                full_refresh,
                replace: full_refresh && i == 0,
                progress: progress.clone(),
            };
            let report =
                self.promote(lake, table, options)
                    .await
                    .map_err(|e| SilverError::Table {
                        table: table.to_string(),
                        source: Box::new(e),
                    })?;
            on_report(&report);
            reports.push(report);
        }
        Ok(reports)
    }

    /// Promotes one bronze table into silver. A commit that conflicts with another writer's (a
    /// compaction of silver beside this run's merge) runs the promotion again: it resumes from
    /// what each table recorded, as after a crash.
    pub async fn promote(
        &self,
        lake: &Lake,
        bronze_table: &str,
        options: PromoteOptions,
    ) -> Result<PromoteReport, SilverError> {
        let what = format!("promote silver from bronze/{bronze_table}");
        let (mut report, retries) = retry_on_conflict(
            lake.conflict_retry(),
            &what,
            SilverError::is_commit_conflict,
            || self.promote_until(lake, bronze_table, options.clone(), Stage::Done),
        )
        .await?;
        report.conflict_retries = retries;
        Ok(report)
    }

    async fn promote_until(
        &self,
        lake: &Lake,
        bronze_table: &str,
        options: PromoteOptions,
        stage: Stage,
    ) -> Result<PromoteReport, SilverError> {
        let mut enricher = self.enricher.lock().await;
        let loaded = Loaded {
            config: &self.config,
            expectations: &self.expectations,
            enricher: &mut enricher,
        };
        let mut taken = self.tables.take(bronze_table, std::time::Instant::now());
        let kept = (taken.bronze.take(), taken.silver.take());
        let (report, bronze, silver) =
            promote_until(loaded, lake, bronze_table, options, stage, kept).await?;
        self.tables.give_back(taken, bronze_table, bronze, silver);
        Ok(report)
    }
}

/// [`Promoter::promote_all`] with what `config` loads.
pub async fn promote_all(
    config: &SilverConfig,
    bronze_tables: &[&str],
    lake: &Lake,
    full_refresh: bool,
    progress: Progress,
    on_report: impl FnMut(&PromoteReport),
) -> Result<Vec<PromoteReport>, SilverError> {
    let promoter = Promoter::load(config).await?;
    promoter
        .promote_all(bronze_tables, lake, full_refresh, progress, on_report)
        .await
}

/// [`Promoter::promote`] with what `config` loads.
pub async fn promote(
    config: &SilverConfig,
    lake: &Lake,
    bronze_table: &str,
    options: PromoteOptions,
) -> Result<PromoteReport, SilverError> {
    let promoter = Promoter::load(config).await?;
    promoter.promote(lake, bronze_table, options).await
}

/// A promoter's loaded parts, lent to one attempt.
struct Loaded<'a> {
    config: &'a SilverConfig,
    expectations: &'a Expectations,
    enricher: &'a mut Enricher,
}

/// How far a run goes; tests stop one early to stand for a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    SideTables,
    Done,
}

async fn promote_until(
    loaded: Loaded<'_>,
    lake: &Lake,
    bronze_table: &str,
    options: PromoteOptions,
    stage: Stage,
    (kept_bronze, kept_silver): (Option<DeltaTable>, Option<Tables>),
) -> Result<(PromoteReport, DeltaTable, Tables), SilverError> {
    let Loaded {
        config,
        expectations,
        enricher,
    } = loaded;
    let progress = options.progress.clone();
    progress.step(format_args!("silver from bronze/{bronze_table}"));
    let bronze_url = lake.table_url(Layer::Bronze, bronze_table);
    let bronze = reopen_latest(kept_bronze, &bronze_url, lake.storage_options())
        .instrument(phase("open_bronze"))
        .await?;
    let Some(to_version) = bronze.version().map(|v| v as i64) else {
        return Err(SilverError::NoBronze {
            uri: bronze_url.to_string(),
        });
    };
    let mut tables = Tables::open(lake, kept_silver)
        .instrument(phase("open_silver"))
        .await?;
    let app = Consumer::Silver { bronze_table }.app_id(lake.app_id());
    let model = enricher.commit_metadata();
    let from_version = async {
        if options.full_refresh {
            return Ok(None);
        }
        warn_on_model_change(&tables.tweets, &model).await;
        app_txn_version(&tables.tweets, &app).await
    }
    .instrument(phase("consumed_version"))
    .await?;
    let mut report = PromoteReport {
        bronze_table: bronze_table.to_string(),
        from_version,
        to_version,
        ..Default::default()
    };
    if from_version == Some(to_version) {
        progress.finish_step(format_args!("up to date at bronze v{to_version}"));
        return Ok((report, bronze, tables));
    }
    let ends = slice_ends(
        &bronze,
        from_version,
        to_version,
        config.max_rows_per_commit,
    )
    .instrument(phase("slice_ends"))
    .await
    .map_err(delta("reading bronze's log"))?;
    let mut from = from_version;
    for (i, end) in ends.iter().copied().enumerate() {
        // A full refresh starts over in its first slice; the later ones add to it.
        let first = i == 0;
        let run = Run {
            app: app.clone(),
            txn: Transaction::new(app.clone(), end),
            mode: match options.replace && first {
                true => SaveMode::Overwrite,
                false => SaveMode::Append,
            },
            full_refresh: options.full_refresh && first,
            from_version: from,
            metadata: enricher.commit_metadata(),
            bronze_table: bronze_table.to_string(),
            started_us: chrono::Utc::now().timestamp_micros(),
        };
        let mut slice_bronze = bronze.clone();
        if end != to_version {
            slice_bronze
                .load_version(end as u64)
                .instrument(phase("load_slice_version"))
                .await
                .map_err(delta("loading bronze"))?;
        }
        if ends.len() > 1 {
            progress.part(format_args!("slice {}/{}", i + 1, ends.len()));
        }
        let span = info_span!("promote_silver", bronze_table, from = ?from, to = end);
        let mut work = Work {
            tables: &mut tables,
            expectations,
            enricher: &mut *enricher,
            progress: &progress,
        };
        let slice = promote_slice(&mut work, &slice_bronze, &run, stage)
            .instrument(span)
            .await?;
        report.add(slice);
        from = Some(end);
        if stage != Stage::Done {
            break;
        }
    }
    info!(?report, "silver promoted");
    progress.finish_step(format_args!(
        "bronze v{}..v{to_version} in {} commits: {} rows read, {} tweets inserted",
        from_version.map_or("start".into(), |v| v.to_string()),
        ends.len(),
        report.bronze_rows,
        report.tweets_inserted
    ));
    Ok((report, bronze, tables))
}

/// What every slice of one run shares.
struct Work<'a> {
    tables: &'a mut Tables,
    expectations: &'a Expectations,
    enricher: &'a mut Enricher,
    progress: &'a Progress,
}

/// Promotes what `bronze` (loaded at the slice's end) added since `run.from_version`: reads it,
/// sorts it, enriches the new tweets and commits every silver table with `run`'s transaction.
async fn promote_slice(
    work: &mut Work<'_>,
    bronze: &DeltaTable,
    run: &Run,
    stage: Stage,
) -> Result<PromoteReport, SilverError> {
    let Work {
        tables,
        expectations,
        enricher,
        progress,
    } = work;
    let replace = run.mode == SaveMode::Overwrite;
    let mut report = PromoteReport::default();
    let files = new_files(bronze, run.from_version)
        .instrument(phase("new_files"))
        .await?;
    let store = bronze.object_store();
    progress.count("reading bronze", files.len() as u64, "files");
    let mut sorted = sorted::read(&store, &files, progress)
        .instrument(phase("read_bronze"))
        .await?;
    progress.phase("looking up deletes and stored tweets");
    sorted.supersede_edits();
    report.bronze_rows = sorted.rows;
    report.duplicates = sorted.duplicates;
    report.quarantined = sorted.quarantine.len() as u64;
    report.control_messages = sorted.events.len() as u64;
    report.deleted = sorted.deletes.len() as u64;
    let held = match replace {
        true => Held::default(),
        false => read_held(tables).instrument(phase("read_held")).await?,
    };
    let undeleted = plan::undeleted(&mut sorted, &held);
    let stored = if replace || !exists(&tables.tweets) {
        HashSet::new()
    } else {
        already_stored(&tables.tweets, &undeleted)
            .instrument(phase("stored_ids"))
            .await
            .map_err(delta("looking up stored tweets in silver/tweets"))?
    };
    let SlicePlan {
        mut rows,
        origins,
        new_deletes,
        already_stored,
    } = SlicePlan::decide(&sorted, &held, undeleted, &stored);
    report.duplicates += already_stored;
    phase("enrich").in_scope(|| enricher.apply(&mut rows, progress))?;
    progress.phase("checking expectations");
    let outcome = phase("expectations").in_scope(|| expectations.check(&rows.to_batch()?))?;
    drop(rows);
    let wanted = plan::dropped_origins(&outcome.dropped, &origins);
    let raw_of = read_back(&store, &files, &wanted)
        .instrument(phase("read_back"))
        .await?;
    let failed = plan::failed_expectations(&outcome.dropped, &origins, expectations, &raw_of);
    sorted.quarantine.extend(failed);
    drop(origins);
    report.dropped = outcome.dropped.len() as u64;
    report.quarantined += report.dropped;
    report.quality = outcome.counts.clone();
    progress.phase("writing side tables");
    write_side_tables(tables, bronze, &files, &sorted, &outcome.counts, run)
        .instrument(phase("side_tables"))
        .await?;
    if stage == Stage::SideTables {
        return Ok(report);
    }
    let new_notices = NoticeIndex::new(sorted.notices.iter().map(|(_, n)| &n.notice));
    let changes = Changes {
        deleted: &new_deletes,
        notices: &new_notices,
    };
    progress.phase(format_args!(
        "merging {} tweets into silver/tweets",
        outcome.kept.num_rows()
    ));
    report.tweets_inserted = upsert_tweets(&mut tables.tweets, outcome.kept, changes, run)
        .instrument(phase("upsert_tweets"))
        .await?;
    Ok(report)
}

/// A span around one part of a promotion; with `log.span_timings` its close says how long it took.
fn phase(name: &'static str) -> tracing::Span {
    info_span!("silver_phase", phase = name)
}

/// Rows already in silver keep the entities and sentiment of the model that wrote them: say so
/// when that model differs from this run's, and how to re-derive them.
async fn warn_on_model_change(tweets: &DeltaTable, now: &[(String, serde_json::Value)]) {
    use futures::TryStreamExt;
    if !exists(tweets) {
        return;
    }
    let Ok(last) = tweets.history(Some(1)).try_collect::<Vec<_>>().await else {
        return;
    };
    let Some(last) = last.first() else { return };
    for (key, value) in now {
        if let Some(before) = last.info.get(key).filter(|b| *b != value) {
            tracing::warn!(
                "{key} was {before} when silver/tweets was last written and is {value} now: \
                 earlier rows keep the old results until `tweetlake promote silver --full-refresh`"
            );
        }
    }
}

/// What every commit of one run records.
struct Run {
    app: String,
    txn: Transaction,
    mode: SaveMode,
    /// Everything is read again: nothing a table recorded earlier counts as done.
    full_refresh: bool,
    from_version: Option<i64>,
    /// The NER model and sentiment method, in every commit's `commitInfo`.
    metadata: Vec<(String, serde_json::Value)>,
    bronze_table: String,
    started_us: i64,
}

impl Run {
    /// The run's metadata without the transaction: for the delete that precedes the merge, which
    /// must not mark the bronze version done on its own.
    fn commit_metadata_only(&self) -> CommitProperties {
        tweetlake_core::delta::commit_properties().with_metadata(self.metadata.clone())
    }

    fn commit_properties(&self) -> CommitProperties {
        tweetlake_core::delta::commit_properties()
            .with_application_transactions(vec![self.txn.clone()])
            .with_metadata(self.metadata.clone())
    }
}

fn delta(what: &'static str) -> impl Fn(DeltaTableError) -> SilverError {
    move |source| SilverError::Delta {
        what,
        source: Box::new(source),
    }
}

mod plan;
mod reads;
mod report;
mod side_writes;
mod slices;
mod sorted;
mod tables;
mod upsert;

use plan::{Held, SlicePlan};
use reads::{already_stored, new_files, read_back, read_held};
pub use report::PromoteReport;
use side_writes::write_side_tables;
use slices::slice_ends;
use sorted::{Sorted, SortedTweet};
use tables::{KeptTables, Tables};
use upsert::{upsert_tweets, Changes};

#[cfg(test)]
mod tests;
