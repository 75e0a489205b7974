//! What one model's run reads: the windows its sources' changes touch, the model narrowed to
//! them, and the checks on what the model returns.

use tracing::warn;
use tweetlake_core::catalog::LakeCatalog;
use tweetlake_core::delta::data_changes;
use tweetlake_core::deltalake::datafusion::common::TableReference;
use tweetlake_core::deltalake::datafusion::prelude::DataFrame;
use tweetlake_core::tables::TableName;

use super::{query_err, SourceState};
use crate::model::{Model, Window};
use crate::windows::{add_changed_windows, WindowSet};
use crate::GoldError;

/// The windows that changes to the sources since their consumed versions touch; `None` when a
/// source's log no longer reaches back to that version.
pub(super) async fn touched_windows(
    sources: &[SourceState],
    model: &Model,
    window: Window,
) -> Result<Option<WindowSet>, GoldError> {
    let mut set = WindowSet::new(window);
    for source in sources.iter().filter(|s| s.consumed != Some(s.current)) {
        let column = source_time_column(source, model)?;
        // Changes commit by commit: a compaction of the source rewrites no rows, so it
        // recomputes no window.
        let changes = match data_changes(&source.table, source.consumed).await {
            Ok(Some(changes)) => changes,
            Ok(None) => {
                warn!(source = %source.name, "the log no longer has every commit since version {:?}; rebuilding whole", source.consumed);
                return Ok(None);
            }
            Err(e) => {
                warn!(source = %source.name, "cannot read what changed since version {:?} ({e}); rebuilding whole", source.consumed);
                return Ok(None);
            }
        };
        add_changed_windows(&mut set, &source.table, &changes, &column).await?;
    }
    Ok(Some(set))
}

fn source_time_column(source: &SourceState, model: &Model) -> Result<String, GoldError> {
    source.time_column.clone().ok_or_else(|| GoldError::Model {
        path: model.path.clone(),
        reason: format!("reads `{}`, which has no time column", source.name),
    })
}

/// The model over sources narrowed to the touched windows, keeping only output rows in them.
pub(super) async fn incremental_frame(
    catalog: &LakeCatalog,
    model: &Model,
    sources: &[SourceState],
    windows: &WindowSet,
) -> Result<DataFrame, GoldError> {
    let names: Vec<TableName> = sources.iter().map(|s| s.name.clone()).collect();
    let ctx = catalog.session_with(&names).await?;
    for source in sources {
        let column = source_time_column(source, model)?;
        let reference =
            TableReference::partial(source.name.layer.as_str(), source.name.table.as_str());
        let narrowed = ctx
            .table(reference.clone())
            .await
            .and_then(|df| df.filter(windows.predicate(&column)))
            .map_err(query_err(model))?;
        ctx.deregister_table(reference.clone())
            .map_err(query_err(model))?;
        ctx.register_table(reference, narrowed.into_view())
            .map_err(query_err(model))?;
    }
    let time = model.time_column().unwrap_or_default();
    ctx.sql(&model.sql)
        .await
        .and_then(|df| df.filter(windows.predicate(time)))
        .map_err(query_err(model))
}

/// The declared time and partition columns must be in the output, the time column a timestamp.
pub(super) fn check_output(model: &Model, df: &DataFrame) -> Result<(), GoldError> {
    let schema = df.schema();
    let bad = |reason: String| GoldError::Model {
        path: model.path.clone(),
        reason,
    };
    if let Some(column) = model.time_column() {
        let field = schema.field_with_unqualified_name(column).map_err(|_| {
            bad(format!(
                "time_column `{column}` is not a column of the result"
            ))
        })?;
        if !matches!(
            field.data_type(),
            tweetlake_core::deltalake::arrow::datatypes::DataType::Timestamp(..)
        ) {
            return Err(bad(format!(
                "time_column `{column}` is {}, not a timestamp",
                field.data_type()
            )));
        }
    }
    if let Some(column) = &model.partition_by {
        schema.field_with_unqualified_name(column).map_err(|_| {
            bad(format!(
                "partition_by `{column}` is not a column of the result"
            ))
        })?;
    }
    Ok(())
}
