//! The manifest `tweetlake sentiment train` writes beside a sentiment head: which encoder it
//! reads, its data, settings and dev scores. A head is only valid on the encoder it was trained
//! on, so the manifest names that encoder's training recipe and weights.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ner::manifest::{read_json, verify_sha256, write_json, DataFile, Manifest, ModelInfo};
use crate::NlpError;

pub const HEAD_MANIFEST_FILE: &str = "tweetlake-sentiment.json";
pub const HEAD_WEIGHTS_FILE: &str = "sentiment.safetensors";

/// How a head is trained (the defaults are the shipped head's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadHyper {
    /// Passes over the data at most; the head kept is the one of the epoch with the best
    /// macro-recall on the first dev file (early stopping), or the last without dev data.
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    /// Width of the hidden layer; 0 makes the head a linear classifier.
    pub hidden: usize,
    /// Whether VADER's four scores (negative, neutral, positive, compound) join the sentence
    /// vector as features.
    pub vader_features: bool,
    pub seed: u64,
}

impl Default for HeadHyper {
    fn default() -> Self {
        Self {
            epochs: 30,
            batch_size: 256,
            learning_rate: 1e-3,
            weight_decay: 1e-4,
            hidden: 0,
            vader_features: true,
            seed: 17,
        }
    }
}

/// The head's measure on a held-back file, as `tweetlake sentiment eval` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentimentDevScore {
    #[serde(flatten)]
    pub data: DataFile,
    pub macro_recall: f64,
    pub accuracy: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadManifest {
    pub id: String,
    pub version: String,
    /// The NER model whose sentence vectors the head was trained on.
    pub encoder: ModelInfo,
    /// [`encoder_recipe`] of that model: a model rebuilt from the same recipe on another machine
    /// may differ in its last bits but is the same encoder to the head.
    pub encoder_recipe: String,
    /// Number format the encoder ran in while the features were computed.
    pub precision: String,
    pub hyper: HeadHyper,
    /// The epoch whose head was kept (1-based).
    pub chosen_epoch: usize,
    pub train_data: Vec<DataFile>,
    pub weights_sha256: String,
    pub train_seconds: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dev_scores: Vec<SentimentDevScore>,
}

impl HeadManifest {
    pub fn read(dir: &Path) -> Result<Option<Self>, NlpError> {
        read_json(&dir.join(HEAD_MANIFEST_FILE))
    }

    pub fn write(&self, dir: &Path) -> Result<(), NlpError> {
        write_json(&dir.join(HEAD_MANIFEST_FILE), self)
    }

    /// The identity silver records for labels from this head.
    pub fn info(&self) -> ModelInfo {
        ModelInfo {
            id: self.id.clone(),
            version: self.version.clone(),
            weights_sha256: self.weights_sha256.clone(),
        }
    }
}

/// A hash of what an encoder was trained from — base weights, data files and settings — but
/// not of the trained weights themselves, which libtorch may round differently per CPU.
pub fn encoder_recipe(m: &Manifest) -> String {
    let recipe = serde_json::json!({
        "base_weights_sha256": m.base_weights_sha256,
        "train_data": m.train_data,
        "hyper": m.hyper,
    });
    hex::encode(Sha256::digest(recipe.to_string().as_bytes()))
}

/// Copies the head in `head_dir` into the NER model directory `model_dir`, after checking that
/// it was trained on that model's encoder recipe and that its weights are the manifest's.
pub fn install(head_dir: &Path, model_dir: &Path) -> Result<HeadManifest, NlpError> {
    let head = HeadManifest::read(head_dir)?.ok_or_else(|| {
        NlpError::Model(format!("{}: no {HEAD_MANIFEST_FILE}", head_dir.display()))
    })?;
    let encoder = Manifest::read(model_dir)?.ok_or_else(|| {
        NlpError::Model(format!(
            "{}: no NER manifest; a head installs only on a model trained by `tweetlake ner train`",
            model_dir.display()
        ))
    })?;
    let recipe = encoder_recipe(&encoder);
    if recipe != head.encoder_recipe {
        return Err(NlpError::Model(format!(
            "{}: the head was trained on encoder recipe {} ({}), {} has recipe {recipe}; \
             train a head for it with `tweetlake sentiment train`",
            head_dir.display(),
            head.encoder_recipe,
            head.encoder.id,
            model_dir.display()
        )));
    }
    verify_sha256(&head_dir.join(HEAD_WEIGHTS_FILE), &head.weights_sha256)?;
    for name in [HEAD_WEIGHTS_FILE, HEAD_MANIFEST_FILE] {
        let to = model_dir.join(name);
        std::fs::copy(head_dir.join(name), &to).map_err(|e| NlpError::io(&to, e))?;
    }
    Ok(head)
}
