//! The commits of `promote gold`: a model's rows with the source versions it consumed, or those
//! versions alone when no window changed; and reading back the SQL a table was built with.

use tweetlake_core::delta::exists;
use tweetlake_core::deltalake::arrow::array::RecordBatch;
use tweetlake_core::deltalake::datafusion::logical_expr::Expr;
use tweetlake_core::deltalake::kernel::transaction::CommitBuilder;
use tweetlake_core::deltalake::kernel::Transaction;
use tweetlake_core::deltalake::operations::write::SchemaMode;
use tweetlake_core::deltalake::protocol::{DeltaOperation, SaveMode};
use tweetlake_core::deltalake::DeltaTable;

use super::{describe, RunKind, SourceState};
use crate::model::Model;
use crate::GoldError;

/// Commit metadata key holding the SQL a gold table was built with.
const SQL_KEY: &str = "tweetlake.gold.sql";

/// The `txn` actions that record the source versions this run consumed.
fn consumed_txns(sources: &[SourceState]) -> Vec<Transaction> {
    sources
        .iter()
        .map(|s| Transaction::new(s.app.clone(), s.current))
        .collect()
}

/// Commits the consumed source versions alone.
pub(super) async fn record_consumed(
    mut gold: DeltaTable,
    model: &Model,
    sources: &[SourceState],
) -> Result<DeltaTable, GoldError> {
    let err = |source| GoldError::Delta {
        what: format!("recording the source versions of gold.{}", model.name),
        source: Box::new(source),
    };
    let snapshot = gold.snapshot().map_err(err)?;
    CommitBuilder::from(
        tweetlake_core::delta::commit_properties()
            .with_application_transactions(consumed_txns(sources))
            .with_metadata(commit_metadata(model, "no window changed")),
    )
    .build(
        Some(snapshot),
        gold.log_store(),
        DeltaOperation::Write {
            mode: SaveMode::Append,
            partition_by: None,
            predicate: None,
        },
    )
    .await
    .map_err(err)?;
    gold.update_incremental(None).await.map_err(err)?;
    Ok(gold)
}

/// What every gold commit says of itself: the model, its SQL (how the next run tells whether it
/// changed) and how this run brought it up to date.
fn commit_metadata(model: &Model, run: &str) -> [(String, serde_json::Value); 3] {
    [
        (
            "tweetlake.gold.model".to_string(),
            serde_json::json!(model.name),
        ),
        (SQL_KEY.to_string(), serde_json::json!(model.sql)),
        ("tweetlake.gold.run".to_string(), serde_json::json!(run)),
    ]
}

pub(super) async fn write(
    gold: DeltaTable,
    model: &Model,
    sources: &[SourceState],
    kind: &RunKind,
    batches: Vec<RecordBatch>,
    predicate: Option<Expr>,
) -> Result<DeltaTable, GoldError> {
    let props = tweetlake_core::delta::commit_properties()
        .with_application_transactions(consumed_txns(sources))
        .with_metadata(commit_metadata(model, &describe(kind)));
    let mut builder = gold
        .write(batches)
        .with_save_mode(SaveMode::Overwrite)
        .with_configuration(tweetlake_core::delta::new_table_properties())
        .with_commit_properties(props);
    if let Some(column) = &model.partition_by {
        builder = builder.with_partition_columns([column.as_str()]);
    }
    builder = match predicate {
        Some(predicate) => builder.with_replace_where(predicate),
        None => builder.with_schema_mode(SchemaMode::Overwrite),
    };
    builder.await.map_err(|source| GoldError::Delta {
        what: format!("writing gold.{}", model.name),
        source: Box::new(source),
    })
}

/// The SQL the table was last built with: from the newest commit that gold wrote, passing over
/// the compactions and vacuums that maintenance committed since (they carry no SQL).
pub(super) async fn last_sql(gold: &DeltaTable) -> Option<String> {
    use futures::TryStreamExt;
    if !exists(gold) {
        return None;
    }
    // The last few commits first: listing the whole log costs a request per thousand commits.
    for limit in [Some(16), None] {
        let mut history = gold.history(limit);
        while let Ok(Some(commit)) = history.try_next().await {
            if let Some(sql) = commit.info.get(SQL_KEY) {
                return sql.as_str().map(str::to_string);
            }
        }
    }
    None
}
