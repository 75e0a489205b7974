//! The `silver/tweets` commit of a run: deletes and notice updates on stored rows, then a merge
//! that inserts only tweets silver does not hold yet.

use tweetlake_core::delta::{app_txn_version, exists};
use tweetlake_core::deltalake::arrow::array::RecordBatch;
use tweetlake_core::deltalake::datafusion::prelude::SessionContext;
use tweetlake_core::deltalake::kernel::transaction::CommitBuilder;
use tweetlake_core::deltalake::protocol::{DeltaOperation, SaveMode};
use tweetlake_core::deltalake::DeltaTable;

use super::{delta, Run};
use crate::notices::{NoticeIndex, LOCATION_COLUMNS};
use crate::schema::PARTITION_COLUMN;
use crate::SilverError;

/// What this run changes in rows silver already holds.
pub(super) struct Changes<'a> {
    pub deleted: &'a [i64],
    pub notices: &'a NoticeIndex,
}

/// Removes deleted ids, applies new notices to stored rows, then inserts the tweets silver does
/// not have yet (matched on event date and id, so only the dates in the batch are scanned).
/// Returns the rows inserted.
pub(super) async fn upsert_tweets(
    table: &mut DeltaTable,
    batch: RecordBatch,
    changes: Changes<'_>,
    run: &Run,
) -> Result<u64, SilverError> {
    let (txn, app, mode) = (&run.txn, run.app.as_str(), run.mode);
    let props = || run.commit_properties();
    if !exists(table) || mode == SaveMode::Overwrite {
        let rows = batch.num_rows() as u64;
        let written = table
            .clone()
            .write(vec![batch])
            .with_save_mode(mode)
            .with_partition_columns([PARTITION_COLUMN])
            .with_configuration(tweetlake_core::delta::new_table_properties())
            .with_commit_properties(props())
            .await
            .map_err(delta("writing silver/tweets"))?;
        *table = written;
        return Ok(rows);
    }
    if !run.full_refresh && app_txn_version(table, app).await? == Some(txn.version) {
        return Ok(0);
    }
    if !changes.deleted.is_empty() {
        let ids: Vec<String> = changes.deleted.iter().map(i64::to_string).collect();
        let (after, _) = table
            .clone()
            .delete()
            .with_predicate(format!("tweet_id IN ({})", ids.join(",")))
            .with_commit_properties(run.commit_metadata_only())
            .await
            .map_err(delta("deleting from silver/tweets"))?;
        *table = after;
    }
    // Like the delete, the updates carry no transaction: a crash after them reruns them, which
    // changes nothing the second time.
    let (scrub, withheld) = changes.notices.predicates();
    if let Some(predicate) = scrub {
        let update = LOCATION_COLUMNS.iter().fold(
            table.clone().update().with_predicate(predicate),
            |u, column| u.with_update(*column, "NULL"),
        );
        let (after, _) = update
            .with_commit_properties(run.commit_metadata_only())
            .await
            .map_err(delta("clearing scrubbed locations in silver/tweets"))?;
        *table = after;
    }
    if let Some(predicate) = withheld {
        let (after, _) = table
            .clone()
            .update()
            .with_predicate(predicate)
            .with_update("withheld", "true")
            .with_commit_properties(run.commit_metadata_only())
            .await
            .map_err(delta("flagging withheld tweets in silver/tweets"))?;
        *table = after;
    }
    let source = SessionContext::new()
        .read_batch(batch)
        .map_err(|e| delta("preparing the merge")(e.into()))?;
    let columns: Vec<String> = crate::schema::tweets_schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let (merged, metrics) = table
        .clone()
        .merge(
            source,
            format!("target.{PARTITION_COLUMN} = source.{PARTITION_COLUMN} AND target.tweet_id = source.tweet_id"),
        )
        .with_source_alias("source")
        .with_target_alias("target")
        .when_not_matched_insert(|insert| {
            columns
                .iter()
                .fold(insert, |i, c| i.set(c.as_str(), format!("source.{c}")))
        })
        .map_err(delta("planning the merge"))?
        .with_commit_properties(props())
        .await
        .map_err(delta("merging into silver/tweets"))?;
    let committed = merged.version() != table.version();
    *table = merged;
    if !committed {
        record_bronze_version(table, run).await?;
    }
    Ok(metrics.num_target_rows_inserted as u64)
}

/// A merge that inserts nothing commits nothing (a range of bronze with only control messages,
/// deletes or duplicates); a commit with the transaction alone records the bronze version, or
/// every later run would read that range again.
async fn record_bronze_version(table: &mut DeltaTable, run: &Run) -> Result<(), SilverError> {
    let what = "recording the bronze version in silver/tweets";
    let snapshot = table.snapshot().map_err(delta(what))?;
    CommitBuilder::from(run.commit_properties())
        .build(
            Some(snapshot),
            table.log_store(),
            DeltaOperation::Write {
                mode: SaveMode::Append,
                partition_by: None,
                predicate: None,
            },
        )
        .await
        .map_err(delta(what))?;
    table.update_incremental(None).await.map_err(delta(what))
}
