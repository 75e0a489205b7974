//! Reading a table's commits one by one: which data files each one added or removed and whether
//! it changed data. A compaction (`OPTIMIZE`) rewrites files with `dataChange: false`: the same
//! rows in new files. A downstream layer that takes every file added since the version it consumed
//! would read those rows again as new, so incremental readers list changes commit by commit and
//! skip what carries no data change, as Delta's streaming source does.

use std::collections::HashSet;

use deltalake::logstore::object_store::{self, ObjectStoreExt as _};
use deltalake::{DeltaTable, DeltaTableError, ObjectStore, Path};
use futures::{StreamExt, TryStreamExt};

use super::FileChanges;

/// Commit files read at once (one GET each on S3).
const CONCURRENT_READS: usize = 16;

/// One data file an `add` or `remove` action names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAction {
    pub path: Path,
    /// False for a compaction's rewrite: the rows are not new.
    pub data_change: bool,
    /// The `numRecords` statistic, or an estimate from the size (about 1 KB a row).
    pub rows: u64,
}

/// The file actions of one commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitFiles {
    pub added: Vec<FileAction>,
    pub removed: Vec<FileAction>,
}

impl CommitFiles {
    /// Rows this commit adds as new data (a compaction adds none).
    pub fn new_rows(&self) -> u64 {
        self.added
            .iter()
            .filter(|a| a.data_change)
            .map(|a| a.rows)
            .sum()
    }
}

/// Parses one commit file (newline-delimited JSON actions). Lines that are not JSON objects or
/// not `add`/`remove` actions are skipped: other actions (`commitInfo`, `txn`, `metaData`,
/// `protocol`) name no data file.
pub fn parse_commit(bytes: &[u8]) -> CommitFiles {
    let mut files = CommitFiles::default();
    for line in bytes.split(|b| *b == b'\n') {
        let Ok(action) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if let Some(add) = action.get("add") {
            files.added.extend(file_action(add));
        } else if let Some(remove) = action.get("remove") {
            files.removed.extend(file_action(remove));
        }
    }
    files
}

fn file_action(action: &serde_json::Value) -> Option<FileAction> {
    // Paths in the log are URL-encoded relative paths; object-store paths are not.
    let raw = action.get("path")?.as_str()?;
    let path = Path::from_url_path(raw).ok()?;
    let data_change = action
        .get("dataChange")
        .and_then(|d| d.as_bool())
        .unwrap_or(true);
    let stats = action
        .get("stats")
        .and_then(|s| s.as_str())
        .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok());
    let rows = stats
        .and_then(|s| s.get("numRecords").and_then(|n| n.as_u64()))
        .unwrap_or_else(|| action.get("size").and_then(|s| s.as_u64()).unwrap_or(0) / 1024);
    Some(FileAction {
        path,
        data_change,
        rows,
    })
}

/// The file actions of every commit in `first..=last`, in order; `None` for a commit the log no
/// longer has (log cleanup removed it).
pub async fn read_commits(
    store: &std::sync::Arc<dyn ObjectStore>,
    first: i64,
    last: i64,
) -> Result<Vec<Option<CommitFiles>>, DeltaTableError> {
    futures::stream::iter(first.max(0)..=last)
        .map(|version| {
            let store = store.clone();
            async move {
                let path = Path::from(format!("_delta_log/{version:020}.json"));
                match store.get(&path).await {
                    Ok(got) => Ok(Some(parse_commit(&got.bytes().await?))),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(DeltaTableError::from(e)),
                }
            }
        })
        .buffered(CONCURRENT_READS)
        .try_collect()
        .await
}

/// The data files whose rows changed between version `since` and the version `table` is loaded
/// at: files added with a data change (appends, the rewritten files of a delete, update or
/// merge), and files removed with one. A compaction's files are in neither. With no `since`, every
/// current file counts as added. Returns `None` when the log no longer has every commit since
/// `since` (the caller then compares snapshots, or rebuilds).
pub async fn data_changes(
    table: &DeltaTable,
    since: Option<i64>,
) -> Result<Option<FileChanges>, DeltaTableError> {
    let Some(since) = since else {
        return Ok(Some(FileChanges {
            added: table.get_files_by_partitions(&[]).await?,
            removed: Vec::new(),
        }));
    };
    let Some(last) = table.version().map(|v| v as i64) else {
        return Ok(Some(FileChanges::default()));
    };
    let commits = read_commits(&table.object_store(), since + 1, last).await?;
    let mut changes = FileChanges::default();
    let mut seen = (HashSet::new(), HashSet::new());
    for commit in commits {
        let Some(commit) = commit else {
            return Ok(None);
        };
        for add in commit.added.into_iter().filter(|a| a.data_change) {
            if seen.0.insert(add.path.clone()) {
                changes.added.push(add.path);
            }
        }
        for remove in commit.removed.into_iter().filter(|r| r.data_change) {
            if seen.1.insert(remove.path.clone()) {
                changes.removed.push(remove.path);
            }
        }
    }
    Ok(Some(changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_adds_and_removes_with_their_data_change() {
        let commit = concat!(
            r#"{"commitInfo":{"operation":"OPTIMIZE"}}"#,
            "\n",
            r#"{"add":{"path":"d=1/a%20b.parquet","size":9999,"dataChange":false,"stats":"{\"numRecords\":120}"}}"#,
            "\n",
            r#"{"remove":{"path":"d=1/old.parquet","dataChange":false,"size":10}}"#,
            "\n",
            r#"{"add":{"path":"b.parquet","size":20480}}"#,
            "\n",
            r#"{"txn":{"appId":"x","version":3}}"#,
            "\n",
            "not json",
        );
        let files = parse_commit(commit.as_bytes());
        assert_eq!(files.added.len(), 2);
        assert_eq!(files.added[0].path.as_ref(), "d=1/a b.parquet");
        assert!(!files.added[0].data_change);
        assert_eq!(files.added[0].rows, 120);
        assert!(files.added[1].data_change, "dataChange defaults to true");
        assert_eq!(files.added[1].rows, 20);
        assert_eq!(files.removed.len(), 1);
        assert!(!files.removed[0].data_change);
        // The compaction's 120 rows are not new; the plain append's 20 are.
        assert_eq!(files.new_rows(), 20);
    }
}
