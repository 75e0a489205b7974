//! Everything silver stores from a text's one encoder pass: its entities (the NER model) and, when
//! a sentiment head was trained on that encoder and installed beside it, its sentiment (the head
//! reads the pass's sentence vector). The model knows nothing of the head; the head is loaded,
//! matched to the model and applied here.

use std::path::Path;

use crate::ner::labels::LabelMap;
use crate::ner::manifest::ModelInfo;
use crate::ner::precision::Precision;
use crate::ner::{Entity, NerModel};
use crate::sentiment::Sentiment;
use crate::NlpError;

/// Everything silver stores from one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub entities: Vec<Entity>,
    /// `None` when the model has no sentiment head.
    pub sentiment: Option<Sentiment>,
}

#[cfg(feature = "ner")]
pub use built::Analyzer;
#[cfg(not(feature = "ner"))]
pub use unbuilt::Analyzer;

#[cfg(feature = "ner")]
mod built {
    use super::*;
    use crate::ner::manifest::Manifest;
    use crate::ner::{distinct, TextPasses};
    use crate::sentiment::head::SentimentHead;

    /// A NER model and, when one fits it, its sentiment head.
    pub struct Analyzer {
        model: NerModel,
        head: Option<SentimentHead>,
    }

    impl Analyzer {
        /// The model in `dir` and the head installed beside it, if any (a head trained on
        /// another encoder is refused here, before any text is read).
        pub fn load(dir: &Path, labels: &LabelMap, batch_size: usize) -> Result<Self, NlpError> {
            let model = NerModel::load(dir, labels, batch_size)?;
            let manifest = Manifest::read(dir)?;
            let head = SentimentHead::load_beside(dir, manifest.as_ref(), model.info())?;
            Ok(Self { model, head })
        }

        pub fn info(&self) -> &ModelInfo {
            self.model.info()
        }

        /// The NER model alone (entities only: `ner eval`).
        pub fn model_mut(&mut self) -> &mut NerModel {
            &mut self.model
        }

        /// The NER model, its head dropped (an encoder to train a new head on).
        pub fn into_model(self) -> NerModel {
            self.model
        }

        /// The identity of the sentiment head, for silver's commits.
        pub fn sentiment_model(&self) -> Option<&ModelInfo> {
            self.head.as_ref().map(SentimentHead::info)
        }

        /// Drops the sentiment head: passes give entities only.
        pub fn without_sentiment(mut self) -> Self {
            self.head = None;
            self
        }

        pub fn set_workers(&mut self, workers: usize) -> Result<(), NlpError> {
            self.model.set_workers(workers)
        }

        pub fn set_precision(&mut self, precision: Precision) -> Result<(), NlpError> {
            self.model.set_precision(precision)
        }

        pub fn precision(&self) -> Precision {
            self.model.precision()
        }

        /// Entities and (with a head) sentiment of each text, in input order, from one encoder
        /// pass per text. Identical texts (a retweet carries its original's) are analysed once.
        pub fn analyse<S: AsRef<str>>(&mut self, texts: &[S]) -> Result<Vec<Analysis>, NlpError> {
            let (unique, index) = distinct(texts);
            let TextPasses { entities, vectors } =
                self.model.pass_texts(&unique, self.head.is_some())?;
            let sentiments: Vec<Option<Sentiment>> = match &self.head {
                Some(head) => head
                    .classify(&vectors, &unique)?
                    .into_iter()
                    .map(Some)
                    .collect(),
                None => vec![None; unique.len()],
            };
            let analyses: Vec<Analysis> = entities
                .into_iter()
                .zip(sentiments)
                .map(|(entities, sentiment)| Analysis {
                    entities,
                    sentiment,
                })
                .collect();
            // `index` holds positions in `unique`, which `analyses` matches one to one.
            Ok(index
                .into_iter()
                .filter_map(|i| analyses.get(i).cloned())
                .collect())
        }
    }
}

#[cfg(not(feature = "ner"))]
mod unbuilt {
    use super::*;

    /// Without libtorch there is no model to analyse with; loading says so.
    pub enum Analyzer {}

    impl Analyzer {
        pub fn load(dir: &Path, labels: &LabelMap, batch_size: usize) -> Result<Self, NlpError> {
            NerModel::load(dir, labels, batch_size).map(|m| match m {})
        }
        pub fn info(&self) -> &ModelInfo {
            match *self {}
        }
        pub fn model_mut(&mut self) -> &mut NerModel {
            match *self {}
        }
        pub fn into_model(self) -> NerModel {
            match self {}
        }
        pub fn sentiment_model(&self) -> Option<&ModelInfo> {
            match *self {}
        }
        pub fn without_sentiment(self) -> Self {
            match self {}
        }
        pub fn set_workers(&mut self, _workers: usize) -> Result<(), NlpError> {
            match *self {}
        }
        pub fn set_precision(&mut self, _precision: Precision) -> Result<(), NlpError> {
            match *self {}
        }
        pub fn precision(&self) -> Precision {
            match *self {}
        }
        pub fn analyse<S: AsRef<str>>(&mut self, _texts: &[S]) -> Result<Vec<Analysis>, NlpError> {
            match *self {}
        }
    }
}
