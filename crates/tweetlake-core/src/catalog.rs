//! Every Delta table of the lake, found by listing `<root>/<layer>/*/_delta_log`, registered in a
//! DataFusion session as `bronze.*`, `silver.*` and `gold.*`, optionally at an older version.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use deltalake::datafusion::prelude::SessionContext;
use deltalake::delta_datafusion::DeltaSessionContext;
use deltalake::logstore::object_store::{ListResult, ObjectStoreExt as _};
use deltalake::logstore::ObjectStoreRef;
use deltalake::{DeltaTable, DeltaTableBuilder, Path};
use futures::StreamExt as _;
use tracing::{debug, Instrument as _};

use crate::delta::{exists, open_table, reopen_latest};
use crate::error::CoreError;
use crate::lake::Lake;
use crate::tables::{Layer, TableName};
use layer_schema::LayerSchema;

mod layer_schema;

/// Which snapshot each table is read at: the latest unless a version or a time is given.
#[derive(Debug, Clone, Default)]
pub struct TimeTravel {
    /// Every table as it was at this instant (tables created later are left out).
    pub as_of: Option<DateTime<Utc>>,
    /// Exact versions of single tables; these win over `as_of`.
    pub versions: BTreeMap<TableName, i64>,
}

/// The lake's Delta tables, loaded.
#[derive(Debug, Clone, Default)]
pub struct LakeCatalog {
    tables: BTreeMap<TableName, DeltaTable>,
}

impl LakeCatalog {
    /// Lists and loads every table of every layer at its latest version.
    pub async fn discover(lake: &Lake) -> Result<LakeCatalog, CoreError> {
        LakeCatalog::discover_at(lake, &TimeTravel::default()).await
    }

    /// Lists and loads every table at the snapshot `travel` asks for.
    pub async fn discover_at(lake: &Lake, travel: &TimeTravel) -> Result<LakeCatalog, CoreError> {
        let mut tables = BTreeMap::new();
        for name in lake_tables(lake).await? {
            let url = lake.table_url(name.layer, &name.table);
            let mut delta = open_table(&url, lake.storage_options()).await?;
            if !exists(&delta) {
                continue;
            }
            let travelled = if let Some(version) = travel.versions.get(&name) {
                delta.load_version(*version as u64).await.map(|_| true)
            } else if let Some(at) = travel.as_of {
                // A table created after that instant is left out (delta-rs would load its
                // first version instead).
                match first_commit_after(&delta, at).await {
                    true => Ok(false),
                    false => delta.load_with_datetime(at).await.map(|_| true),
                }
            } else {
                Ok(true)
            };
            match travelled {
                Ok(true) => {
                    tables.insert(name, delta);
                }
                Ok(false) => {}
                Err(source) => {
                    return Err(CoreError::Catalog {
                        what: format!("loading {name} at the requested version"),
                        source: Box::new(source),
                    })
                }
            }
        }
        for name in travel.versions.keys() {
            if !tables.contains_key(name) {
                return Err(CoreError::UnknownTable {
                    name: name.to_string(),
                    context: "--version".into(),
                });
            }
        }
        Ok(LakeCatalog { tables })
    }

    /// Brings every table to its latest version, reading only the commits since the last load
    /// (a table recreated since is opened afresh, see [`reopen_latest`]), and picks up tables
    /// created since; returns the tables that changed.
    pub async fn refresh(&mut self, lake: &Lake) -> Result<Vec<TableName>, CoreError> {
        let mut changed = Vec::new();
        for name in lake_tables(lake).await? {
            let url = lake.table_url(name.layer, &name.table);
            let known = self.tables.get(&name).cloned();
            let before = known.as_ref().and_then(|t| t.version());
            let delta = reopen_latest(known, &url, lake.storage_options())
                .instrument(tracing::info_span!("refresh_table", table = %name))
                .await?;
            if !exists(&delta) {
                continue;
            }
            if delta.version() != before {
                changed.push(name.clone());
            }
            self.tables.insert(name, delta);
        }
        Ok(changed)
    }

    pub fn get(&self, name: &TableName) -> Option<&DeltaTable> {
        self.tables.get(name)
    }

    pub fn insert(&mut self, name: TableName, table: DeltaTable) {
        self.tables.insert(name, table);
    }

    pub fn names(&self) -> impl Iterator<Item = &TableName> {
        self.tables.keys()
    }

    /// A session with only `names` registered: cheaper than [`LakeCatalog::session`] when a
    /// query reads a few tables of a large lake.
    pub async fn session_with(&self, names: &[TableName]) -> Result<SessionContext, CoreError> {
        let ctx = self.empty_session()?;
        ensure_schemas(&ctx)?;
        for name in names {
            let table = self
                .tables
                .get(name)
                .ok_or_else(|| CoreError::UnknownTable {
                    name: name.to_string(),
                    context: "registering a model's sources".into(),
                })?;
            register_table(&ctx, name, table).await?;
        }
        Ok(ctx)
    }

    fn empty_session(&self) -> Result<SessionContext, CoreError> {
        let settings = [(
            "datafusion.catalog.information_schema".to_string(),
            "true".to_string(),
        )];
        Ok(
            DeltaSessionContext::new_with_session_overrides(&settings.into())
                .map_err(|e| CoreError::Query(e.to_string()))?
                .into_inner(),
        )
    }

    /// A session with every table registered under its layer's schema (and `SHOW TABLES`).
    pub async fn session(&self) -> Result<SessionContext, CoreError> {
        let ctx = self.empty_session()?;
        self.register(&ctx).await?;
        Ok(ctx)
    }

    /// Registers every table in `ctx` (creating the `bronze`, `silver`, `gold` schemas).
    pub async fn register(&self, ctx: &SessionContext) -> Result<(), CoreError> {
        ensure_schemas(ctx)?;
        for (name, table) in &self.tables {
            register_table(ctx, name, table).await?;
        }
        Ok(())
    }
}

/// Creates the `bronze`, `silver` and `gold` schemas in `ctx` where missing.
fn ensure_schemas(ctx: &SessionContext) -> Result<(), CoreError> {
    let catalog = ctx
        .catalog("datafusion")
        .ok_or_else(|| CoreError::Query("the session has no default catalog".into()))?;
    for layer in Layer::ALL {
        if catalog.schema(layer.as_str()).is_none() {
            catalog
                .register_schema(layer.as_str(), Arc::new(LayerSchema::default()))
                .map_err(|e| CoreError::Query(e.to_string()))?;
        }
    }
    Ok(())
}

/// Registers (or replaces) one table in `ctx`.
pub async fn register_table(
    ctx: &SessionContext,
    name: &TableName,
    table: &DeltaTable,
) -> Result<(), CoreError> {
    let delta_err = |source| CoreError::Catalog {
        what: format!("registering {name}"),
        source: Box::new(source),
    };
    table
        .update_datafusion_session(&ctx.state())
        .map_err(delta_err)?;
    let provider = table
        .table_provider()
        .await
        .map_err(|e| CoreError::Query(format!("registering {name}: {e}")))?;
    let reference = deltalake::datafusion::common::TableReference::partial(
        name.layer.as_str(),
        name.table.as_str(),
    );
    // One step: the schema swaps the provider, so no query sees the table missing.
    ctx.register_table(reference, provider)
        .map_err(|e| CoreError::Query(e.to_string()))?;
    debug!(%name, version = ?table.version(), "registered");
    Ok(())
}

/// Whether the table's first commit is later than `at`.
async fn first_commit_after(table: &DeltaTable, at: DateTime<Utc>) -> bool {
    let mut first = table.clone();
    if first.load_version(0).await.is_err() {
        return false;
    }
    let Ok(snapshot) = first.snapshot() else {
        return false;
    };
    let created = snapshot.metadata().created_time().unwrap_or(i64::MAX);
    created > at.timestamp_millis()
}

/// The object store rooted at `url` and the folders directly under it; `None` for a local folder
/// that does not exist (nothing was written there yet).
pub async fn list_folder(
    lake: &Lake,
    url: &url::Url,
) -> Result<Option<(ObjectStoreRef, ListResult)>, CoreError> {
    if url.scheme() == "file" && url.to_file_path().is_ok_and(|p| !p.exists()) {
        return Ok(None);
    }
    let err = |e: String| CoreError::Catalog {
        what: format!("listing {url}"),
        source: Box::new(deltalake::DeltaTableError::generic(e)),
    };
    let store = DeltaTableBuilder::from_url(url.clone())
        .and_then(|b| {
            b.with_storage_options(lake.storage_options().clone())
                .build_storage()
        })
        .map_err(|e| err(e.to_string()))?
        .object_store(None);
    let listing = store
        .list_with_delimiter(None)
        .await
        .map_err(|e| err(e.to_string()))?;
    Ok(Some((store, listing)))
}

/// Whether `<name>/_delta_log` holds a Delta log. The files every table has are asked for first:
/// `_last_checkpoint` once it has a checkpoint (log cleanup removes commits only behind one),
/// else its first commit. Listing the folder instead reads every file of the log, tens of
/// thousands a day for a table that commits every second, and this runs every round of `run`.
async fn has_delta_log(store: &ObjectStoreRef, name: &str) -> bool {
    for marker in ["_last_checkpoint", "00000000000000000000.json"] {
        let path = Path::from(format!("{name}/_delta_log/{marker}"));
        if store.head(&path).await.is_ok() {
            return true;
        }
    }
    // A log some other writer left without either: its first entry says there is one.
    let log = Path::from(format!("{name}/_delta_log"));
    matches!(store.list(Some(&log)).next().await, Some(Ok(_)))
}

/// Every Delta table of every layer, in layer then name order.
async fn lake_tables(lake: &Lake) -> Result<Vec<TableName>, CoreError> {
    let mut out = Vec::new();
    for layer in Layer::ALL {
        for table in list_tables(lake, layer).await? {
            out.push(TableName::new(layer, table));
        }
    }
    Ok(out)
}

/// The names under `<root>/<layer>/` that hold a `_delta_log`.
async fn list_tables(lake: &Lake, layer: Layer) -> Result<Vec<String>, CoreError> {
    let url = lake.layer_url(layer);
    let Some((store, listing)) = list_folder(lake, &url).await? else {
        return Ok(Vec::new());
    };
    let mut names = Vec::new();
    for dir in listing.common_prefixes {
        let Some(name) = dir.filename().map(str::to_string) else {
            continue;
        };
        if has_delta_log(&store, &name).await {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LakeConfig;
    use deltalake::arrow::array::{Int64Array, RecordBatch};
    use deltalake::arrow::datatypes::{DataType, Field, Schema};
    use deltalake::checkpoints::create_checkpoint;

    async fn commits(lake: &Lake, table: &str, n: i64) -> DeltaTable {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let mut delta = open_table(&lake.table_url(Layer::Gold, table), &Default::default())
            .await
            .unwrap();
        for i in 0..n {
            let batch =
                RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![i]))])
                    .unwrap();
            delta = delta.write(vec![batch]).await.unwrap();
        }
        delta
    }

    /// Tables are found by the files a log has, not by listing it: a table whose first commits
    /// log cleanup removed behind a checkpoint, and one some other writer left with neither a
    /// first commit nor `_last_checkpoint`, are tables; an empty log folder is not.
    #[tokio::test]
    async fn tables_are_found_by_their_logs_whatever_cleanup_left() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::from_config(
            &LakeConfig {
                root: format!("file://{}", dir.path().display()),
                ..Default::default()
            },
            dir.path(),
        )
        .unwrap();
        let log = |table: &str, file: &str| {
            dir.path()
                .join("gold")
                .join(table)
                .join("_delta_log")
                .join(file)
        };
        commits(&lake, "fresh", 1).await;
        let cleaned = commits(&lake, "cleaned", 3).await;
        create_checkpoint(&cleaned, None).await.unwrap();
        std::fs::remove_file(log("cleaned", "00000000000000000000.json")).unwrap();
        let foreign = commits(&lake, "foreign", 3).await;
        create_checkpoint(&foreign, None).await.unwrap();
        std::fs::remove_file(log("foreign", "00000000000000000000.json")).unwrap();
        std::fs::remove_file(log("foreign", "_last_checkpoint")).unwrap();
        std::fs::create_dir_all(log("empty", "")).unwrap();
        std::fs::create_dir_all(dir.path().join("gold/no_log")).unwrap();

        let catalog = LakeCatalog::discover(&lake).await.unwrap();
        let names: Vec<String> = catalog.names().map(|n| n.table.clone()).collect();
        assert_eq!(names, ["cleaned", "foreign", "fresh"]);
        assert_eq!(
            catalog
                .get(&TableName::new(Layer::Gold, "cleaned"))
                .and_then(DeltaTable::version),
            Some(2)
        );
    }
}
