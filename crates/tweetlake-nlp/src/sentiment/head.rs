//! A 3-class sentiment head over the NER encoder's sentence vector (and optionally VADER's
//! scores): standardised features, an optional hidden layer, softmax over negative, neutral and
//! positive. The shipped one is linear (23 KB) and adds well under a millisecond per batch to the
//! NER pass it rides on.

use std::path::Path;

use tch::{nn, nn::Module, Device, Kind, Tensor};
use tracing::warn;

use super::head_manifest::{encoder_recipe, HeadHyper, HeadManifest, HEAD_WEIGHTS_FILE};
use super::{Polarity, Sentiment, SentimentScorer};
use crate::ner::manifest::{Manifest, ModelInfo};
use crate::NlpError;

/// The head's output classes, in logit order.
pub(crate) const CLASSES: [Polarity; 3] =
    [Polarity::Negative, Polarity::Neutral, Polarity::Positive];

pub(crate) fn class_index(p: Polarity) -> i64 {
    match p {
        Polarity::Negative => 0,
        Polarity::Neutral => 1,
        Polarity::Positive => 2,
    }
}

/// The network: its weights live in the `VarStore` it was built in.
pub(crate) struct HeadNet {
    mean: Tensor,
    std: Tensor,
    hidden: Option<nn::Linear>,
    out: nn::Linear,
}

impl HeadNet {
    pub fn new(p: nn::Path, features: i64, hidden: usize) -> Self {
        let mean = p.zeros_no_train("mean", &[features]);
        let std = p.ones_no_train("std", &[features]);
        let (hidden, width) = match hidden {
            0 => (None, features),
            h => (
                Some(nn::linear(
                    &p / "hidden",
                    features,
                    h as i64,
                    Default::default(),
                )),
                h as i64,
            ),
        };
        let out = nn::linear(&p / "out", width, CLASSES.len() as i64, Default::default());
        Self {
            mean,
            std,
            hidden,
            out,
        }
    }

    /// Sets the standardisation from the training features.
    pub fn fit_scale(&mut self, x: &Tensor) {
        tch::no_grad(|| {
            self.mean.copy_(&x.mean_dim(0, false, Kind::Float));
            self.std.copy_(&x.std_dim(0, false, false).clamp_min(1e-6));
        });
    }

    /// Class logits for features `[n, F]`.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let x = (x - &self.mean) / &self.std;
        let x = match &self.hidden {
            Some(h) => h.forward(&x).relu().dropout(0.1, train),
            None => x,
        };
        self.out.forward(&x)
    }
}

/// A trained head, loaded.
pub struct SentimentHead {
    net: HeadNet,
    _vs: nn::VarStore,
    vader: Option<SentimentScorer>,
    info: ModelInfo,
}

impl SentimentHead {
    /// The head in a NER model's directory `dir`, if it has one. A head trained on another
    /// encoder recipe is an error (its labels would be noise); one trained on the same recipe
    /// but different weights (rebuilt on another CPU) loads with a warning.
    pub fn load_beside(
        dir: &Path,
        encoder: Option<&Manifest>,
        encoder_info: &ModelInfo,
    ) -> Result<Option<Self>, NlpError> {
        let Some(manifest) = HeadManifest::read(dir)? else {
            return Ok(None);
        };
        let recipe = encoder.map(encoder_recipe);
        if recipe.as_deref() != Some(manifest.encoder_recipe.as_str()) {
            return Err(NlpError::Model(format!(
                "{}: the sentiment head was trained on encoder {} (recipe {}), not on this model \
                 (recipe {}); retrain it with `tweetlake sentiment train` or remove {}",
                dir.display(),
                manifest.encoder.id,
                manifest.encoder_recipe,
                recipe.as_deref().unwrap_or("unknown"),
                super::head_manifest::HEAD_MANIFEST_FILE,
            )));
        }
        if manifest.encoder.weights_sha256 != encoder_info.weights_sha256 {
            warn!(
                model = %dir.display(),
                head_trained_on = %manifest.encoder.weights_sha256,
                encoder = %encoder_info.weights_sha256,
                "the sentiment head was trained on this encoder's recipe but other weights (a rebuild on another CPU rounds differently); its labels may differ slightly from its dev scores"
            );
        }
        let weights = dir.join(HEAD_WEIGHTS_FILE);
        crate::ner::manifest::verify_sha256(&weights, &manifest.weights_sha256)?;
        let mut vs = nn::VarStore::new(Device::Cpu);
        let features = feature_width(&manifest.hyper, dir)?;
        let net = HeadNet::new(vs.root(), features, manifest.hyper.hidden);
        vs.load(&weights)
            .map_err(|e| NlpError::Model(format!("{}: {e}", weights.display())))?;
        let vader = manifest.hyper.vader_features.then(SentimentScorer::default);
        Ok(Some(Self {
            net,
            _vs: vs,
            vader,
            info: manifest.info(),
        }))
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The sentiment of each text from its sentence vector.
    pub fn classify(
        &self,
        vectors: &[Vec<f32>],
        texts: &[&str],
    ) -> Result<Vec<Sentiment>, NlpError> {
        if vectors.is_empty() {
            return Ok(Vec::new());
        }
        let x = features(vectors, texts, self.vader.as_ref())?;
        let probs = tch::no_grad(|| self.net.forward_t(&x, false).softmax(-1, Kind::Float));
        let flat: Vec<f32> = Vec::try_from(probs.flatten(0, -1))
            .map_err(|e: tch::TchError| NlpError::Model(e.to_string()))?;
        Ok(flat.chunks(CLASSES.len()).map(sentiment_of).collect())
    }
}

/// The most probable class; the score is P(positive) − P(negative), in [-1, 1] like VADER's
/// compound.
fn sentiment_of(p: &[f32]) -> Sentiment {
    let best = (0..p.len())
        .max_by(|&a, &b| p[a].total_cmp(&p[b]))
        .unwrap_or(1);
    let get = |i: usize| p.get(i).copied().unwrap_or(0.0) as f64;
    Sentiment {
        polarity: CLASSES.get(best).copied().unwrap_or(Polarity::Neutral),
        score: get(2) - get(0),
    }
}

/// Features per text: the sentence vector, then VADER's scores when the head reads them.
pub(crate) fn features(
    vectors: &[Vec<f32>],
    texts: &[&str],
    vader: Option<&SentimentScorer>,
) -> Result<Tensor, NlpError> {
    let width = vectors.first().map_or(0, Vec::len);
    let extra = if vader.is_some() { VADER_FEATURES } else { 0 };
    let mut flat = Vec::with_capacity(vectors.len() * (width + extra));
    for (i, v) in vectors.iter().enumerate() {
        if v.len() != width {
            return Err(NlpError::Model(format!(
                "sentence vector {i} has {} values, not {width}",
                v.len()
            )));
        }
        flat.extend_from_slice(v);
        if let Some(scorer) = vader {
            let text = texts.get(i).copied().unwrap_or("");
            flat.extend(scorer.scores(text));
        }
    }
    Ok(Tensor::from_slice(&flat).view([vectors.len() as i64, (width + extra) as i64]))
}

pub(crate) const VADER_FEATURES: usize = 4;

/// The feature count a head on this encoder takes: the sentence vector (three times the hidden
/// size, see the network's `sentence_vector`) plus VADER's scores.
fn feature_width(hyper: &HeadHyper, dir: &Path) -> Result<i64, NlpError> {
    let (config, _) = crate::ner::read_config(dir)?;
    let extra = if hyper.vader_features {
        VADER_FEATURES
    } else {
        0
    };
    Ok(3 * config.hidden_size + extra as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_likeliest_class_wins_and_the_score_is_positive_minus_negative() {
        let s = sentiment_of(&[0.1, 0.2, 0.7]);
        assert_eq!(s.polarity, Polarity::Positive);
        assert!((s.score - 0.6).abs() < 1e-6);
        let s = sentiment_of(&[0.5, 0.4, 0.1]);
        assert_eq!(s.polarity, Polarity::Negative);
        assert!((s.score + 0.4).abs() < 1e-6);
        assert_eq!(sentiment_of(&[0.2, 0.6, 0.2]).polarity, Polarity::Neutral);
    }

    #[test]
    fn features_append_vader_and_refuse_ragged_vectors() {
        let vader = SentimentScorer::default();
        let x = features(&[vec![0.5, 1.5]], &["I love it"], Some(&vader)).unwrap();
        assert_eq!(x.size(), [1, 2 + VADER_FEATURES as i64]);
        let row: Vec<f32> = Vec::try_from(x.flatten(0, -1)).unwrap();
        assert_eq!(&row[..2], [0.5, 1.5]);
        assert!(row[5] > 0.5, "compound of a loving text: {row:?}");
        let err = features(&[vec![1.0, 2.0], vec![1.0]], &["a", "b"], None).unwrap_err();
        assert!(
            err.to_string()
                .contains("sentence vector 1 has 1 values, not 2"),
            "{err}"
        );
    }
}
