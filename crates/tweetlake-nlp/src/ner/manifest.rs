//! The manifest `tweetlake ner train` writes beside the weights — base model, data,
//! hyper-parameters and hashes — and the identity silver records with every commit.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::NlpError;

pub const MANIFEST_FILE: &str = "tweetlake-ner.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// What silver writes into its commit so a model change can re-derive silver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub id: String,
    pub version: String,
    /// sha256 of `model.safetensors`, hex.
    pub weights_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFile {
    pub file: String,
    pub sha256: String,
    pub sentences: usize,
}

impl DataFile {
    /// `path` by its name and hash, with the sentences read from it.
    pub fn describe(path: &Path, sentences: usize) -> Result<DataFile, NlpError> {
        Ok(DataFile {
            file: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256: sha256_file(path)?,
            sentences,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hyper {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub warmup_fraction: f64,
    pub weight_decay: f64,
    pub max_len: usize,
    pub seed: u64,
    /// Encoder layers kept from the base (its first N); `None` keeps them all. Fewer layers
    /// tag proportionally faster at some cost in F1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<usize>,
    /// Whether @mentions in the training data stay entities. Silver's convention (the default,
    /// false) makes them outside: silver keeps them in `mentions`, and BTC's split `@` / handle
    /// entities taught the model to tag a lone `@`. Models trained before it read as true.
    #[serde(default = "mentions_were_entities")]
    pub mentions_as_entities: bool,
    /// Whether each word piece's input carries a learned vector for its word's casing (the base
    /// vocabulary is uncased); see the network's case embeddings.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub case_embeddings: bool,
}

fn mentions_were_entities() -> bool {
    true
}

/// The trained model scored on a held-back file as silver stores entities (exact character span
/// and type, @mentions left out), in float32, right after training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DevScore {
    #[serde(flatten)]
    pub data: DataFile,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub id: String,
    pub version: String,
    pub base_model: String,
    pub base_weights_sha256: String,
    pub lower_case: bool,
    pub labels: Vec<String>,
    pub train_data: Vec<DataFile>,
    pub hyper: Hyper,
    pub weights_sha256: String,
    pub final_loss: f64,
    pub train_seconds: f64,
    pub libtorch: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dev_scores: Vec<DevScore>,
}

impl Manifest {
    pub fn read(dir: &Path) -> Result<Option<Self>, NlpError> {
        read_json(&dir.join(MANIFEST_FILE))
    }

    pub fn write(&self, dir: &Path) -> Result<(), NlpError> {
        write_json(&dir.join(MANIFEST_FILE), self)
    }
}

/// A manifest file, or `None` where there is none.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> Result<Option<T>, NlpError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| NlpError::Model(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(NlpError::io(path, e)),
    }
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), NlpError> {
    let json = serde_json::to_vec_pretty(value).map_err(|e| NlpError::Model(e.to_string()))?;
    std::fs::write(path, json).map_err(|e| NlpError::io(path, e))
}

/// Checks that `file` hashes to `expected` (a manifest's record of it).
pub(crate) fn verify_sha256(file: &Path, expected: &str) -> Result<(), NlpError> {
    let actual = sha256_file(file)?;
    if actual != expected {
        return Err(NlpError::Model(format!(
            "{}: sha256 {actual} is not the manifest's {expected}",
            file.display()
        )));
    }
    Ok(())
}

/// The identity of the model in `dir`: from its manifest, or the directory name for a model
/// that was not trained here. The weights are always hashed, so a swapped file shows.
pub fn model_info(dir: &Path) -> Result<ModelInfo, NlpError> {
    let weights_sha256 = sha256_file(&dir.join(WEIGHTS_FILE))?;
    Ok(match Manifest::read(dir)? {
        Some(m) => ModelInfo {
            id: m.id,
            version: m.version,
            weights_sha256,
        },
        None => ModelInfo {
            id: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            version: "unversioned".to_string(),
            weights_sha256,
        },
    })
}

pub fn sha256_file(path: &Path) -> Result<String, NlpError> {
    let mut f = std::fs::File::open(path).map_err(|e| NlpError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| NlpError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}
