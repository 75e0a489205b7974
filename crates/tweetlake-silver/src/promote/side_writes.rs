//! Side-table writes of a run: each table appends only the rows of bronze files it does not
//! hold yet, so a rerun after a crash never appends twice.

use std::collections::{BTreeMap, HashSet};

use tweetlake_core::delta::{app_txn_version, exists};
use tweetlake_core::deltalake::arrow::array::RecordBatch;
use tweetlake_core::deltalake::protocol::SaveMode;
use tweetlake_core::deltalake::{DeltaTable, Path};

use super::{delta, new_files, Run, Sorted, Tables};
use crate::expect::RuleCount;
use crate::notices::notices_batch;
use crate::side_tables::{deletes_batch, quality_batch, quarantine_batch, stream_events_batch};
use crate::SilverError;

/// Appends each side table's rows. A table a crashed run already brought further than `from` (up to
/// a version before this run's) skips the rows of the files it has, so a rerun never appends twice.
pub(super) async fn write_side_tables(
    tables: &mut Tables,
    bronze: &DeltaTable,
    files: &[Path],
    sorted: &Sorted,
    quality: &[RuleCount],
    run: &Run,
) -> Result<(), SilverError> {
    let any = !sorted.deletes.is_empty();
    let covered = covered_files(any, &tables.deletes, bronze, files, run).await?;
    let rows = uncovered(&sorted.deletes, &covered);
    append(&mut tables.deletes, deletes_batch(&rows)?, run).await?;

    let any = !sorted.quarantine.is_empty();
    let covered = covered_files(any, &tables.quarantine, bronze, files, run).await?;
    let rows = uncovered(&sorted.quarantine, &covered);
    append(&mut tables.quarantine, quarantine_batch(&rows)?, run).await?;

    let any = !sorted.notices.is_empty();
    let covered = covered_files(any, &tables.notices, bronze, files, run).await?;
    let rows = uncovered(&sorted.notices, &covered);
    append(&mut tables.notices, notices_batch(&rows)?, run).await?;

    let any = !sorted.events.is_empty();
    let covered = covered_files(any, &tables.events, bronze, files, run).await?;
    let mut counts: BTreeMap<&str, (i64, Option<i64>)> = BTreeMap::new();
    for (_, kind, track) in sorted.events.iter().filter(|(f, ..)| !covered.contains(f)) {
        let c = counts.entry(kind).or_insert((0, None));
        c.0 += 1;
        c.1 = c.1.max(*track);
    }
    let counts: Vec<(&str, i64, Option<i64>)> =
        counts.into_iter().map(|(k, (n, t))| (k, n, t)).collect();
    append(
        &mut tables.events,
        stream_events_batch(run.txn.version, &counts)?,
        run,
    )
    .await?;
    let batch = quality_batch(&run.bronze_table, run.txn.version, run.started_us, quality)?;
    append(&mut tables.quality, batch, run).await
}

/// The rows whose file is not among `covered`.
fn uncovered<T: Clone>(rows: &[(usize, T)], covered: &HashSet<usize>) -> Vec<T> {
    rows.iter()
        .filter(|(file, _)| !covered.contains(file))
        .map(|(_, row)| row.clone())
        .collect()
}

/// Indexes of `files` that `table` already holds the rows of: those bronze had added since this
/// run's start by the version the table last recorded, when that is past the start but before the
/// end. Not looked up when the run has no rows for the table (`any` false: most rounds of `run`).
async fn covered_files(
    any: bool,
    table: &DeltaTable,
    bronze: &DeltaTable,
    files: &[Path],
    run: &Run,
) -> Result<HashSet<usize>, SilverError> {
    if run.full_refresh || !any {
        return Ok(HashSet::new());
    }
    let recorded = app_txn_version(table, &run.app).await?;
    let ahead =
        recorded.filter(|v| run.from_version.is_none_or(|from| *v > from) && *v < run.txn.version);
    let Some(version) = ahead else {
        return Ok(HashSet::new());
    };
    let mut then = bronze.clone();
    then.load_version(version as u64)
        .await
        .map_err(delta("loading bronze"))?;
    let had: HashSet<String> = new_files(&then, run.from_version)
        .await?
        .into_iter()
        .map(|p| p.to_string())
        .collect();
    Ok(files
        .iter()
        .enumerate()
        .filter(|(_, p)| had.contains(p.as_ref()))
        .map(|(i, _)| i)
        .collect())
}

/// Appends `batch` (or, in a full refresh, replaces the table with it) unless the table already
/// recorded this bronze version or `batch` is empty and the table exists.
async fn append(table: &mut DeltaTable, batch: RecordBatch, run: &Run) -> Result<(), SilverError> {
    let (txn, mode) = (&run.txn, run.mode);
    // Most rounds of `run` have no deletes, quarantined rows or notices: a commit of nothing would
    // only grow the table's log, once a second. The version it records then lags, which
    // `covered_files` reads right: that table holds no rows of the bronze files in between. A full
    // refresh's first slice still commits: it resets the version the later slices compare with.
    let nothing_to_add = batch.num_rows() == 0 && mode == SaveMode::Append && !run.full_refresh;
    if nothing_to_add && exists(table) {
        return Ok(());
    }
    // At or past this slice's end: a crashed run got this far (with other slice ends when
    // silver.max_rows_per_commit changed since).
    let recorded = app_txn_version(table, &run.app).await?;
    if !run.full_refresh && recorded.is_some_and(|v| v >= txn.version) {
        return Ok(());
    }
    let props = run.commit_properties();
    let written = table
        .clone()
        .write(vec![batch])
        .with_save_mode(mode)
        .with_configuration(tweetlake_core::delta::new_table_properties())
        .with_commit_properties(props)
        .await
        .map_err(delta("writing a silver table"))?;
    *table = written;
    Ok(())
}
