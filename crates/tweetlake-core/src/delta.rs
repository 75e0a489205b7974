//! Opening Delta tables and reading the application transactions that carry Kafka offsets.

use std::collections::HashMap;

use deltalake::{DeltaTable, DeltaTableBuilder};
use url::Url;

use crate::error::CoreError;

/// The Delta `txn` application id that stores the last written offset of one topic-partition.
pub fn txn_app_id(app_id: &str, topic: &str, partition: i32) -> String {
    format!("{app_id}-{topic}-{partition}")
}

/// Opens the table at `url`, or returns an unloaded handle when no table exists there yet.
/// Local directories are created first, since the local object store will not list a missing one.
pub async fn open_table(
    url: &Url,
    storage_options: &HashMap<String, String>,
) -> Result<DeltaTable, CoreError> {
    let err = |source| CoreError::Delta {
        uri: url.to_string(),
        source: Box::new(source),
    };
    if url.scheme() == "file" {
        if let Ok(path) = url.to_file_path() {
            std::fs::create_dir_all(&path)
                .map_err(|e| err(deltalake::DeltaTableError::generic(e.to_string())))?;
        }
    }
    let mut table = DeltaTableBuilder::from_url(url.clone())
        .map_err(err)?
        .with_storage_options(storage_options.clone())
        .build()
        .map_err(err)?;
    match table.load().await {
        Ok(()) | Err(deltalake::DeltaTableError::NotATable(_)) => Ok(table),
        Err(e) => Err(err(e)),
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
