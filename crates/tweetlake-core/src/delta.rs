//! Opening Delta tables, what every commit asks of Delta, reading the application transactions
//! that carry Kafka offsets and consumed versions, and reading the data files two versions differ
//! by.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Schema};
use deltalake::arrow::error::ArrowError;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::logstore::object_store::ObjectStoreExt as _;
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use deltalake::parquet::arrow::ProjectionMask;
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError, ObjectStore, Path};
use url::Url;

use crate::error::CoreError;

pub mod commits;
pub use commits::data_changes;

/// Delta writes a checkpoint every this many commits of a table tweetlake creates (Delta's default
/// is 100). Opening a table replays the JSON commits since the last checkpoint, and `run` commits
/// every layer every second or two and opens its tables every round: at 100 the rounds grew by
/// the replay within minutes (docs/benchmarks.md, Freshness).
pub const CHECKPOINT_INTERVAL: u32 = 10;

/// Table properties of every table tweetlake creates, beside any of the table's own.
/// `delta.enableExpiredLogCleanup` off: Delta's cleanup after a commit (which delta-rs's
/// compaction runs whatever its caller asks, and Spark at each checkpoint) removes commits a
/// downstream layer has yet to read; maintenance cleans the log instead (see [`commit_properties`]).
pub fn new_table_properties() -> Vec<(String, Option<String>)> {
    vec![
        (
            "delta.checkpointInterval".to_string(),
            Some(CHECKPOINT_INTERVAL.to_string()),
        ),
        (
            "delta.enableExpiredLogCleanup".to_string(),
            Some("false".to_string()),
        ),
    ]
}

/// `table` with each of [`new_table_properties`] it lacks (a table created before the property
/// joined them), set in one commit; a property the table has, whatever its value, stays as it is.
pub async fn add_missing_table_properties(
    table: DeltaTable,
) -> Result<DeltaTable, DeltaTableError> {
    let configuration = table.snapshot()?.metadata().configuration().clone();
    let missing: HashMap<String, String> = new_table_properties()
        .into_iter()
        .filter(|(key, _)| !configuration.contains_key(key))
        .filter_map(|(key, value)| Some((key, value?)))
        .collect();
    if missing.is_empty() {
        return Ok(table);
    }
    table
        .set_tbl_properties()
        .with_properties(missing)
        .with_commit_properties(commit_properties())
        .await
}

/// What every commit tweetlake writes asks of Delta: a checkpoint at the table's interval, and no
/// log cleanup. Delta's hook after a commit would list the table's whole log (30 days of a commit
/// a second: millions of files, on S3 thousands of LIST requests per commit) and remove the
/// commits older than `delta.logRetentionDuration` whatever a downstream layer has yet to read.
/// Maintenance removes them instead, keeping what each layer still reads (tweetlake-maintain).
pub fn commit_properties() -> CommitProperties {
    CommitProperties::default().with_cleanup_expired_logs(Some(false))
}

/// Opens the table at `url`, or returns an unloaded handle when no table exists there yet.
/// Local directories are created first, since the local object store will not list a missing one.
pub async fn open_table(
    url: &Url,
    storage_options: &HashMap<String, String>,
) -> Result<DeltaTable, CoreError> {
    let err = delta_error(url);
    if url.scheme() == "file" {
        if let Ok(path) = url.to_file_path() {
            std::fs::create_dir_all(&path)
                .map_err(|e| err(deltalake::DeltaTableError::generic(e.to_string())))?;
        }
    }
    let mut table = DeltaTableBuilder::from_url(url.clone())
        .map_err(&err)?
        .with_storage_options(storage_options.clone())
        .build()
        .map_err(&err)?;
    match table.load().await {
        Ok(()) | Err(deltalake::DeltaTableError::NotATable(_)) => Ok(table),
        Err(e) => Err(err(e)),
    }
}

/// How long a long-running process (`tweetlake run`) reuses the table handles it loaded before
/// opening its tables afresh; in between, each round reads only the commits since the last.
pub const REOPEN_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// `loaded`, a handle this process opened earlier, brought to its table's latest version by
/// reading only the commits since; or the table at `url` opened afresh when there is no handle,
/// it had no table yet, or the table is no longer the one it loaded: the commit it was loaded at
/// is gone because the table was deleted or recreated under the process (a new log starts below
/// that version, and reading on from it would see nothing new, or commit after a gap).
pub async fn reopen_latest(
    loaded: Option<DeltaTable>,
    url: &Url,
    storage_options: &HashMap<String, String>,
) -> Result<DeltaTable, CoreError> {
    let err = delta_error(url);
    let Some((mut table, version)) = loaded.and_then(|t| t.version().map(|version| (t, version)))
    else {
        return open_table(url, storage_options).await;
    };
    let commit = Path::from(format!("_delta_log/{version:020}.json"));
    match table.object_store().head(&commit).await {
        Ok(_) => {}
        Err(deltalake::ObjectStoreError::NotFound { .. }) => {
            tracing::warn!(table = %url, version, "the loaded commit is gone (the table was deleted or recreated); opening it afresh");
            return open_table(url, storage_options).await;
        }
        Err(e) => return Err(err(e.into())),
    }
    table.update_incremental(None).await.map_err(&err)?;
    Ok(table)
}

/// Wraps a delta-rs error with the table it happened on.
fn delta_error(url: &Url) -> impl Fn(DeltaTableError) -> CoreError + '_ {
    move |source| CoreError::Delta {
        uri: url.to_string(),
        source: Box::new(source),
    }
}

/// Whether `table` has a committed version (it may be a handle to a location without a table).
pub fn exists(table: &DeltaTable) -> bool {
    table.version().is_some()
}

/// The version stored under `app_id` in the table's latest loaded snapshot, if any.
pub async fn app_txn_version(table: &DeltaTable, app_id: &str) -> Result<Option<i64>, CoreError> {
    if !exists(table) {
        return Ok(None);
    }
    let state = table.snapshot().map_err(|source| CoreError::Delta {
        uri: table.table_url().to_string(),
        source: Box::new(source),
    })?;
    state
        .transaction_version(table.log_store().as_ref(), app_id)
        .await
        .map_err(|source| CoreError::Delta {
            uri: table.table_url().to_string(),
            source: Box::new(source),
        })
}

/// The data files that differ between two versions of one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileChanges {
    /// In the newer version only: appended rows, or the rewritten files of a delete or update.
    pub added: Vec<Path>,
    /// In the older version only: what a delete, update or compaction replaced.
    pub removed: Vec<Path>,
}

impl FileChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// Data files of `table` (loaded at its latest version) added and removed since version `since`;
/// with no `since`, every current file counts as added. Comparing snapshots rather than reading
/// commits works across checkpoints; it fails once `since` is older than the retained log.
pub async fn file_changes(
    table: &DeltaTable,
    since: Option<i64>,
) -> Result<FileChanges, DeltaTableError> {
    let now = table.get_files_by_partitions(&[]).await?;
    let Some(since) = since else {
        return Ok(FileChanges {
            added: now,
            removed: Vec::new(),
        });
    };
    let mut then = table.clone();
    then.load_version(since.max(0) as u64).await?;
    let old = then.get_files_by_partitions(&[]).await?;
    let old_set: HashSet<&str> = old.iter().map(|p| p.as_ref()).collect();
    let new_set: HashSet<&str> = now.iter().map(|p| p.as_ref()).collect();
    let removed = old
        .iter()
        .filter(|p| !new_set.contains(p.as_ref()))
        .cloned()
        .collect();
    let added = now
        .iter()
        .filter(|p| !old_set.contains(p.as_ref()))
        .cloned()
        .collect();
    Ok(FileChanges { added, removed })
}

/// The batches of one data file, with only `columns`. Files are a few MB (writers cut them by
/// their buffer caps), so each is fetched whole and decoded from memory.
///
/// Strings and binaries come back as `Utf8` and `Binary` whatever Arrow type the writer recorded:
/// delta-rs's compaction writes `Utf8View`/`BinaryView` into files whose siblings hold the plain
/// types, and the Delta schema (`string`, `binary`) does not tell the two apart.
pub async fn read_columns(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    columns: &[&str],
) -> Result<Vec<RecordBatch>, DeltaTableError> {
    let bytes = store.get(path).await?.bytes().await?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes)?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    let reader = builder.with_projection(mask).build()?;
    reader
        .map(|batch| Ok(without_view_types(batch?)?))
        .collect()
}

/// `batch` with its top-level `Utf8View` and `BinaryView` columns cast to `Utf8` and `Binary`.
fn without_view_types(batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
    let plain = |t: &DataType| match t {
        DataType::Utf8View => Some(DataType::Utf8),
        DataType::BinaryView => Some(DataType::Binary),
        _ => None,
    };
    let schema = batch.schema();
    if !schema
        .fields()
        .iter()
        .any(|f| plain(f.data_type()).is_some())
    {
        return Ok(batch);
    }
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(fields.capacity());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        match plain(field.data_type()) {
            Some(to) => {
                columns.push(cast(column, &to)?);
                fields.push(field.as_ref().clone().with_data_type(to));
            }
            None => {
                columns.push(column.clone());
                fields.push(field.as_ref().clone());
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// Whether a commit failed because another writer committed first something this one conflicts
/// with (a compaction removed files a merge read, or the reverse). Running the operation again on
/// the new snapshot is the remedy.
pub fn is_commit_conflict(error: &DeltaTableError) -> bool {
    use deltalake::kernel::transaction::TransactionError;
    matches!(
        error,
        DeltaTableError::VersionAlreadyExists(_)
            | DeltaTableError::Transaction {
                source: TransactionError::CommitConflict(_)
                    | TransactionError::MaxCommitAttempts(_)
                    | TransactionError::VersionAlreadyExists(_)
            }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::array::Int64Array;
    use deltalake::arrow::datatypes::Field;

    async fn append(url: &Url, values: &[i64]) -> DeltaTable {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let column = Arc::new(Int64Array::from(values.to_vec()));
        let batch = RecordBatch::try_new(schema, vec![column]).unwrap();
        let table = open_table(url, &HashMap::new()).await.unwrap();
        table.write(vec![batch]).await.unwrap()
    }

    /// A kept handle reads on from its version; a table deleted and recreated under it (a new log
    /// that starts below that version) is opened afresh instead of looking unchanged.
    #[tokio::test]
    async fn reopen_latest_follows_commits_and_recreated_tables() {
        let dir = tempfile::tempdir().unwrap();
        let url = Url::from_directory_path(dir.path().join("t")).unwrap();
        let none = HashMap::new();
        append(&url, &[1]).await;
        let kept = append(&url, &[2]).await;
        append(&url, &[3]).await;
        let kept = reopen_latest(Some(kept), &url, &none).await.unwrap();
        assert_eq!(kept.version(), Some(2));
        assert_eq!(kept.get_files_by_partitions(&[]).await.unwrap().len(), 3);

        std::fs::remove_dir_all(dir.path().join("t")).unwrap();
        append(&url, &[4]).await;
        let reopened = reopen_latest(Some(kept), &url, &none).await.unwrap();
        assert_eq!(reopened.version(), Some(0));
        assert_eq!(
            reopened.get_files_by_partitions(&[]).await.unwrap().len(),
            1
        );

        let unloaded = open_table(&url.join("missing/").unwrap(), &none)
            .await
            .unwrap();
        let still = reopen_latest(Some(unloaded), &url, &none).await.unwrap();
        assert_eq!(still.version(), Some(0));
    }

    fn log_files(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir.join("_delta_log")).unwrap().count()
    }

    fn age_log(dir: &std::path::Path, days: u64) {
        let then = std::time::SystemTime::now() - std::time::Duration::from_secs(days * 86_400);
        for entry in std::fs::read_dir(dir.join("_delta_log")).unwrap() {
            let file = std::fs::File::options()
                .write(true)
                .open(entry.unwrap().path())
                .unwrap();
            file.set_modified(then).unwrap();
        }
    }

    /// Delta's cleanup after a commit (what delta-rs's compaction runs whatever its caller asks)
    /// removes a month-old log below the checkpoint; once maintenance has added the property that
    /// turns it off, the same commit removes nothing. A property the table has keeps its value.
    #[tokio::test]
    async fn tables_from_before_the_log_property_get_it_and_keep_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let (control, upgraded) = (dir.path().join("control"), dir.path().join("upgraded"));
        for path in [&control, &upgraded] {
            let url = Url::from_directory_path(path).unwrap();
            for n in 0..11 {
                let table = append(&url, &[n]).await;
                if n == 10 {
                    deltalake::checkpoints::create_checkpoint(&table, None)
                        .await
                        .unwrap();
                }
            }
            age_log(path, 40);
        }
        let open = |path: &std::path::Path| {
            let url = Url::from_directory_path(path).unwrap();
            async move { open_table(&url, &HashMap::new()).await.unwrap() }
        };
        let table = add_missing_table_properties(open(&upgraded).await)
            .await
            .unwrap();
        let config = table.snapshot().unwrap().metadata().configuration().clone();
        assert_eq!(config["delta.enableExpiredLogCleanup"], "false");
        assert_eq!(config["delta.checkpointInterval"], "10");
        // 11 commits, a checkpoint and `_last_checkpoint`, and the properties' commit.
        assert_eq!(log_files(&upgraded), 14);

        let url = Url::from_directory_path(&control).unwrap();
        append(&url, &[11]).await;
        assert_eq!(
            log_files(&control),
            4,
            "Delta's own cleanup kept v10, its checkpoint and v11"
        );
        let url = Url::from_directory_path(&upgraded).unwrap();
        append(&url, &[11]).await;
        assert_eq!(log_files(&upgraded), 15, "the month-old log stays");

        // A table's own value stays; only what it lacks is added.
        let own = dir.path().join("own");
        let url = Url::from_directory_path(&own).unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1i64]))]).unwrap();
        let table = open_table(&url, &HashMap::new())
            .await
            .unwrap()
            .write(vec![batch])
            .with_configuration(vec![("delta.checkpointInterval", Some("5"))])
            .await
            .unwrap();
        let table = add_missing_table_properties(table).await.unwrap();
        let config = table.snapshot().unwrap().metadata().configuration().clone();
        assert_eq!(config["delta.checkpointInterval"], "5");
        assert_eq!(config["delta.enableExpiredLogCleanup"], "false");
        let unchanged = add_missing_table_properties(table).await.unwrap();
        assert_eq!(
            unchanged.version(),
            Some(1),
            "nothing left to add, no commit"
        );
    }
}
