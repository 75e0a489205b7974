//! The gold layer: SQL models in `sql/` run by DataFusion over the lake's Delta tables, in
//! dependency order, each into a gold Delta table rebuilt incrementally by time window, and the
//! DDL that registers the lake's tables in Athena, Spark or DuckDB.

pub mod ddl;
pub mod dialect;
pub mod graph;
pub mod model;
mod normalize;
pub mod refresh;
pub mod run;
pub mod windows;

use std::path::PathBuf;

use tweetlake_core::deltalake::DeltaTableError;
use tweetlake_core::CoreError;

pub use graph::ModelGraph;
pub use model::{Materialization, Model, Window};
pub use refresh::{GoldRounds, RefreshClock};
pub use run::{promote_gold, promote_gold_due, GoldOptions, ModelReport, RunKind};

#[derive(Debug, thiserror::Error)]
pub enum GoldError {
    #[error("{}: {reason}", path.display())]
    Model { path: PathBuf, reason: String },
    #[error("reading the models in {}: {error}", dir.display())]
    ModelDir { dir: PathBuf, error: std::io::Error },
    #[error("no model `{name}` (models: {known})")]
    UnknownModel { name: String, known: String },
    #[error("{what}: {source}")]
    Delta {
        what: String,
        source: Box<DeltaTableError>,
    },
    #[error("{0}")]
    Query(String),
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl GoldError {
    /// Whether another writer's commit to the same table (a compaction) made this one fail;
    /// running the model again on the new snapshot is the remedy.
    pub fn is_commit_conflict(&self) -> bool {
        match self {
            GoldError::Delta { source, .. } | GoldError::Core(CoreError::Delta { source, .. }) => {
                tweetlake_core::delta::is_commit_conflict(source)
            }
            _ => false,
        }
    }
}
