//! The text-analytics stages of a silver run: named entities and sentiment over each tweet's
//! cleaned text, and the identity of the model and method that every silver commit records.

use std::path::Path;

use tracing::info_span;
use tweetlake_core::config::{NerConfig, NerPrecision, SentimentMethod, SilverConfig};
use tweetlake_core::Progress;
use tweetlake_nlp::analysis::Analyzer;
use tweetlake_nlp::ner::hub::resolve_model;
use tweetlake_nlp::ner::{LabelMap, ModelInfo, Precision};
use tweetlake_nlp::sentiment::{self, SentimentScorer};

use crate::rows::TweetRows;
use crate::SilverError;

async fn load_ner(config: &NerConfig) -> Result<Analyzer, SilverError> {
    let fail = |e: &dyn std::fmt::Display| {
        SilverError::Ner(format!(
            "silver.ner.model `{}`: {e} (train one with scripts/setup-ner.sh, or set silver.ner.enabled = false)",
            config.model
        ))
    };
    let labels = LabelMap::from_names(&config.labels)
        .map_err(|e| SilverError::Ner(format!("silver.ner.labels: {e}")))?;
    let dir = resolve_model(&config.model, &config.hub_url, Path::new(&config.hub_cache))
        .await
        .map_err(|e| fail(&e))?;
    let mut model = Analyzer::load(&dir, &labels, config.batch_size).map_err(|e| fail(&e))?;
    model
        .set_precision(precision(config.precision))
        .map_err(|e| fail(&e))?;
    model.set_workers(config.threads).map_err(|e| fail(&e))?;
    Ok(model)
}

/// The configured number format, `auto` settled for this machine.
pub fn precision(setting: NerPrecision) -> Precision {
    match setting {
        NerPrecision::Auto => Precision::native(),
        NerPrecision::Float32 => Precision::Float32,
        NerPrecision::Bfloat16 => Precision::BFloat16,
    }
}

/// Texts handed to NER per call; each is traced as one batch.
const NER_CHUNK: usize = 512;

/// What labels each tweet's sentiment.
enum SentimentBy {
    /// The NER model's head, in the NER pass.
    Head,
    Vader(SentimentScorer),
}

/// Whether `method` has sentiment come from the model's head: `auto` when it has one, `model`
/// always (an error when it has none), `vader` never.
pub fn sentiment_from_head(
    method: SentimentMethod,
    model: Option<&Analyzer>,
) -> Result<bool, SilverError> {
    let has_head = model.is_some_and(|m| m.sentiment_model().is_some());
    match method {
        SentimentMethod::Vader => Ok(false),
        SentimentMethod::Auto => Ok(has_head),
        SentimentMethod::Model if has_head => Ok(true),
        SentimentMethod::Model => Err(SilverError::Ner(
            "silver.sentiment.method = \"model\", but the NER model has no sentiment head \
             (tweetlake-sentiment.json): install one with scripts/setup-ner.sh, train one with \
             `tweetlake sentiment train`, or set the method to auto or vader"
                .into(),
        )),
    }
}

/// What labelled sentiment, as commits record it: the head's id and version, or VADER's.
pub fn method_name(head: Option<&ModelInfo>) -> String {
    match head {
        Some(head) => format!("{} {}", head.id, head.version),
        None => format!("{} {}", sentiment::METHOD, sentiment::VERSION),
    }
}

pub struct Enricher {
    ner: Option<Analyzer>,
    sentiment: Option<SentimentBy>,
}

impl Enricher {
    /// Loads what the config switches on (fetching an `hf:` model first); a missing or unreadable
    /// model stops the run here, before any table is touched.
    pub async fn load(config: &SilverConfig) -> Result<Self, SilverError> {
        let mut ner = match config.ner.enabled {
            false => None,
            true => Some(load_ner(&config.ner).await?),
        };
        let sentiment = match config.sentiment.enabled {
            false => None,
            true => match sentiment_from_head(config.sentiment.method, ner.as_ref())? {
                true => Some(SentimentBy::Head),
                false => Some(SentimentBy::Vader(SentimentScorer::default())),
            },
        };
        if !matches!(sentiment, Some(SentimentBy::Head)) {
            // A head nobody reads would only cost time.
            ner = ner.map(Analyzer::without_sentiment);
        }
        Ok(Self { ner, sentiment })
    }

    /// What produced the entities and sentiment, for the commit metadata of every silver commit.
    pub fn commit_metadata(&self) -> Vec<(String, serde_json::Value)> {
        let mut out = Vec::new();
        if let Some(m) = &self.ner {
            let info = m.info();
            out.push(("tweetlake.ner.model".to_string(), info.id.clone().into()));
            out.push((
                "tweetlake.ner.version".to_string(),
                info.version.clone().into(),
            ));
            out.push((
                "tweetlake.ner.weights_sha256".to_string(),
                info.weights_sha256.clone().into(),
            ));
            out.push((
                "tweetlake.ner.precision".to_string(),
                m.precision().as_str().into(),
            ));
        }
        let head = match self.sentiment {
            Some(SentimentBy::Head) => self.ner.as_ref().and_then(|m| m.sentiment_model()),
            _ => None,
        };
        if self.sentiment.is_some() {
            out.push(("tweetlake.sentiment".to_string(), method_name(head).into()));
        }
        if let Some(head) = head {
            out.push((
                "tweetlake.sentiment.weights_sha256".to_string(),
                head.weights_sha256.clone().into(),
            ));
        }
        out
    }

    /// Fills every row's entities and sentiment.
    pub fn apply(&mut self, rows: &mut TweetRows, progress: &Progress) -> Result<(), SilverError> {
        if let Some(SentimentBy::Vader(scorer)) = &self.sentiment {
            progress.phase("scoring sentiment");
            let _span = info_span!("sentiment", rows = rows.len()).entered();
            let texts: Vec<&str> = rows.texts().collect();
            let scores = crate::parallel::map_in_order(&texts, |t| scorer.score(t));
            for (e, s) in rows.enrichment_mut().iter_mut().zip(scores) {
                e.sentiment = Some(s);
            }
        }
        if let Some(model) = &mut self.ner {
            let texts: Vec<String> = rows.texts().map(str::to_string).collect();
            let mut found = Vec::with_capacity(texts.len());
            progress.count("NER", texts.len() as u64, "tweets");
            for (i, chunk) in texts.chunks(NER_CHUNK).enumerate() {
                let _span = info_span!("ner_batch", batch = i, texts = chunk.len()).entered();
                found.extend(
                    model
                        .analyse(chunk)
                        .map_err(|e| SilverError::Ner(e.to_string()))?,
                );
                progress.advance(chunk.len() as u64);
            }
            for (e, f) in rows.enrichment_mut().iter_mut().zip(found) {
                e.entities = Some(f.entities);
                if f.sentiment.is_some() {
                    e.sentiment = f.sentiment;
                }
            }
        }
        Ok(())
    }
}
