//! Tweet sentiment with VADER (Hutto & Gilbert, ICWSM-14), a lexicon and rule set tuned for
//! social media: emoji, slang, capitals, "!!!", negation. Exact parity with vaderSentiment 3.3.2.

pub mod eval;
#[cfg(feature = "ner")]
pub mod head;
pub mod head_manifest;
pub mod labelled;
#[cfg(feature = "ner")]
mod train;

#[cfg(feature = "ner")]
pub use train::train_head;

use std::path::PathBuf;

use head_manifest::HeadHyper;
use labelled::Labelled;

/// A labelled file, its texts cleaned as silver cleans tweet text.
pub struct LabelledFile {
    pub path: PathBuf,
    pub rows: Vec<Labelled>,
}

pub struct HeadTrainOptions {
    pub id: String,
    pub version: String,
    pub hyper: HeadHyper,
    pub train: Vec<LabelledFile>,
    /// Scored after every epoch (the first file picks the epoch kept) and into the manifest.
    pub dev: Vec<LabelledFile>,
    /// Where the head goes: the NER model's own directory, so it loads with the model.
    pub out: PathBuf,
    /// Sentence vectors kept here by model, file and precision, so a second run with other head
    /// settings skips the encoder pass.
    pub cache: Option<PathBuf>,
}

/// Without libtorch no head can be trained.
#[cfg(not(feature = "ner"))]
pub fn train_head(
    _model: &mut crate::ner::NerModel,
    _model_dir: &std::path::Path,
    _opts: &HeadTrainOptions,
    _progress: impl FnMut(String),
) -> Result<head_manifest::HeadManifest, crate::NlpError> {
    Err(crate::NlpError::NerNotBuilt)
}

use vader_parity::SentimentIntensityAnalyzer;

/// The method's name and version, recorded in silver's commits like the NER model's.
pub const METHOD: &str = "vader";
pub const VERSION: &str = "3.3.2";
/// VADER's published cut-offs on the compound score.
pub const THRESHOLD: f64 = 0.05;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Polarity {
    Positive,
    Negative,
    Neutral,
}

impl Polarity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Positive => "positive",
            Self::Negative => "negative",
            Self::Neutral => "neutral",
        }
    }
}

/// A polarity and VADER's compound score in [-1, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sentiment {
    pub polarity: Polarity,
    pub score: f64,
}

pub struct SentimentScorer {
    analyzer: SentimentIntensityAnalyzer,
}

impl Default for SentimentScorer {
    fn default() -> Self {
        Self {
            analyzer: SentimentIntensityAnalyzer::new(),
        }
    }
}

impl SentimentScorer {
    /// VADER's negative, neutral and positive proportions and compound score: the features a
    /// trained head may read beside the sentence vector.
    pub fn scores(&self, text: &str) -> [f32; 4] {
        let s = self.analyzer.polarity_scores(text);
        [s.neg as f32, s.neu as f32, s.pos as f32, s.compound as f32]
    }

    pub fn score(&self, text: &str) -> Sentiment {
        let compound = self.analyzer.polarity_scores(text).compound;
        let polarity = if compound >= THRESHOLD {
            Polarity::Positive
        } else if compound <= -THRESHOLD {
            Polarity::Negative
        } else {
            Polarity::Neutral
        };
        Sentiment {
            polarity,
            score: compound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_emphasis_negation_and_emoji() {
        let s = SentimentScorer::default();
        assert_eq!(
            s.score("What a GREAT win!!! 😍").polarity,
            Polarity::Positive
        );
        assert_eq!(
            s.score("The refs were not good at all, terrible call")
                .polarity,
            Polarity::Negative
        );
        assert_eq!(
            s.score("Game starts at 7pm on channel 4").polarity,
            Polarity::Neutral
        );
        let strong = s.score("VADER is VERY SMART, handsome, and FUNNY!!!").score;
        let plain = s.score("VADER is smart, handsome, and funny.").score;
        assert!(strong > plain && plain > 0.0, "{strong} {plain}");
    }
}
