//! `[silver]`: named entities, sentiment and the data-quality expectations of bronze → silver.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::KeyError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SilverConfig {
    /// Bronze rows per silver commit: a run over a larger backlog (a first run, a
    /// `--full-refresh`) reads bronze in slices of whole bronze commits of about this many rows
    /// and commits each, so memory stays bounded and a crash loses at most one slice of work.
    pub max_rows_per_commit: u64,
    pub ner: NerConfig,
    pub sentiment: SentimentConfig,
    /// Checks every parsed tweet must pass; see [`ExpectationConfig`]. Default: [`default_expectations`].
    pub expectations: Vec<ExpectationConfig>,
    /// Use no expectations at all, not even the defaults.
    pub no_default_expectations: bool,
}

impl Default for SilverConfig {
    fn default() -> Self {
        Self {
            max_rows_per_commit: 200_000,
            ner: NerConfig::default(),
            sentiment: SentimentConfig::default(),
            expectations: Vec::new(),
            no_default_expectations: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NerConfig {
    pub enabled: bool,
    /// A model directory (config.json, model.safetensors, vocab.txt), relative to the working
    /// directory (`tweetlake ner train` writes one), or `hf:owner/name` to fetch one from the hub
    /// once into `hub_cache`.
    pub model: String,
    /// Base URL of the model hub for `hf:` models.
    pub hub_url: String,
    /// Where `hf:` models are kept once fetched.
    pub hub_cache: String,
    /// NER worker threads, each running its own copy of the model on one libtorch thread (two
    /// side by side measured ~1.3x faster than one copy on two libtorch threads).
    pub threads: usize,
    /// Texts per forward pass (16 measured fastest on tweets: larger batches pad more).
    pub batch_size: usize,
    /// Number format of the model's arithmetic: `auto` (bfloat16 where the CPU has native bf16,
    /// else float32), `float32` or `bfloat16`.
    pub precision: NerPrecision,
    /// Extra label names the model emits → PER, ORG, LOC, MISC, or "" to ignore the type.
    pub labels: BTreeMap<String, String>,
}

impl Default for NerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            model: "models/tweetlake-ner".into(),
            hub_url: "https://huggingface.co".into(),
            hub_cache: "models/hub".into(),
            threads: 2,
            batch_size: 16,
            precision: NerPrecision::Auto,
            labels: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NerPrecision {
    #[default]
    Auto,
    Float32,
    Bfloat16,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SentimentConfig {
    pub enabled: bool,
    /// What labels sentiment: `auto` (the NER model's sentiment head when its directory has one,
    /// else VADER), `model` (the head; a model without one stops the run before any data
    /// moves), or `vader` (the lexicon, always).
    pub method: SentimentMethod,
}

impl Default for SentimentConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            method: SentimentMethod::Auto,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentimentMethod {
    #[default]
    Auto,
    Model,
    Vader,
}

/// What happens to a tweet that fails an expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpectationAction {
    /// Keep the tweet; count the failure.
    Warn,
    /// Move the tweet to silver/tweets_quarantine with the rule's name.
    Drop,
    /// Stop the run before anything is committed.
    Fail,
}

impl ExpectationAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warn => "warn",
            Self::Drop => "drop",
            Self::Fail => "fail",
        }
    }
}

/// A named check: a SQL boolean expression over silver/tweets' columns (DataFusion syntax);
/// a tweet for which it is false or NULL fails it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectationConfig {
    pub name: String,
    pub check: String,
    pub action: ExpectationAction,
}

/// The checks silver applies unless told otherwise.
pub fn default_expectations() -> Vec<ExpectationConfig> {
    let e = |name: &str, check: &str, action| ExpectationConfig {
        name: name.into(),
        check: check.into(),
        action,
    };
    vec![
        e("tweet_id_present", "tweet_id IS NOT NULL AND tweet_id > 0", ExpectationAction::Drop),
        e(
            "created_at_sane",
            // Twitter's first tweet, and no more than a day ahead of the clock.
            "created_at >= TIMESTAMP '2006-03-21 00:00:00' AND created_at <= now() + INTERVAL '1 day'",
            ExpectationAction::Drop,
        ),
        e("text_not_empty", "length(trim(text)) > 0", ExpectationAction::Warn),
        e(
            "lang_known",
            "lang IS NULL OR lang = 'und' OR regexp_like(lang, '^[a-z]{2,3}(-[a-zA-Z]{2,4})?$')",
            ExpectationAction::Warn,
        ),
    ]
}

impl SilverConfig {
    /// The expectations in force: the defaults (unless switched off) followed by the configured
    /// ones; a configured rule with a default's name replaces it.
    pub fn effective_expectations(&self) -> Vec<ExpectationConfig> {
        let mut out = if self.no_default_expectations {
            Vec::new()
        } else {
            default_expectations()
        };
        for e in &self.expectations {
            match out.iter_mut().find(|d| d.name == e.name) {
                Some(d) => *d = e.clone(),
                None => out.push(e.clone()),
            }
        }
        out
    }

    /// The first invalid key and why.
    pub fn validate(&self) -> Result<(), KeyError> {
        if self.max_rows_per_commit == 0 {
            return Err(KeyError::of(
                "silver.max_rows_per_commit",
                "must be above 0",
            ));
        }
        if self.ner.enabled && self.ner.model.trim().is_empty() {
            return Err(KeyError::of(
                "silver.ner.model",
                "must name a model directory",
            ));
        }
        if self.sentiment.enabled
            && self.sentiment.method == SentimentMethod::Model
            && !self.ner.enabled
        {
            return Err(KeyError::of(
                "silver.sentiment.method",
                "`model` reads the NER model's sentiment head: needs silver.ner.enabled = true",
            ));
        }
        if self.ner.threads == 0 {
            return Err(KeyError::of("silver.ner.threads", "must be above 0"));
        }
        if self.ner.batch_size == 0 {
            return Err(KeyError::of("silver.ner.batch_size", "must be above 0"));
        }
        for (name, label) in &self.ner.labels {
            if !matches!(label.as_str(), "PER" | "ORG" | "LOC" | "MISC" | "") {
                return Err(KeyError::of(
                    "silver.ner.labels",
                    format!("`{name}` = `{label}`: must be PER, ORG, LOC, MISC or \"\""),
                ));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for e in &self.expectations {
            if e.name.trim().is_empty() || e.check.trim().is_empty() {
                return Err(KeyError::of(
                    "silver.expectations",
                    "every rule needs a name and a check",
                ));
            }
            if !seen.insert(e.name.as_str()) {
                return Err(KeyError::of(
                    "silver.expectations",
                    format!("rule `{}` appears twice", e.name),
                ));
            }
        }
        Ok(())
    }
}
