//! Text analytics for silver: named entities and sentiment over cleaned tweet text.
//! Owns the NER model (training, evaluation, batched inference through rust-bert/tch), VADER and
//! the trained sentiment head, and `analysis`, which runs both in one encoder pass; it knows
//! nothing of Delta, Kafka or the tweet JSON.

pub mod analysis;
pub mod ner;
pub mod sentiment;

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum NlpError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    Data {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("NER model: {0}")]
    Model(String),
    #[error("this tweetlake was built without NER (cargo feature `ner`); set silver.ner.enabled = false or rebuild with it")]
    NerNotBuilt,
}

impl NlpError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
