//! Named-entity recognition: a BERT token classifier (rust-bert over libtorch) tagging the
//! words of cleaned tweet text with PER / ORG / LOC / MISC, plus the training and scoring
//! that build and check the model shipped for offline machines.

pub mod as_silver;
pub mod conll;
pub mod decode;
pub mod eval;
pub mod hub;
pub mod labels;
pub mod manifest;
pub mod precision;
pub mod words;

#[cfg(feature = "ner")]
mod encode;
#[cfg(feature = "ner")]
mod model;
#[cfg(feature = "ner")]
mod network;
#[cfg(feature = "ner")]
mod train;

#[cfg(not(feature = "ner"))]
mod unbuilt;

#[cfg(feature = "ner")]
pub(crate) use model::distinct;
#[cfg(feature = "ner")]
pub(crate) use model::read_config;
#[cfg(feature = "ner")]
pub use model::{NerModel, TextPasses};
#[cfg(feature = "ner")]
pub(crate) use network::SENTENCE_VECTOR_VERSION;
#[cfg(feature = "ner")]
pub use train::train;
#[cfg(feature = "ner")]
pub(crate) use train::SplitMix;
#[cfg(not(feature = "ner"))]
pub use unbuilt::{train, NerModel};

/// What `tweetlake ner train` needs.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Base encoder directory: config.json, model.safetensors (BertModel names), vocab.txt.
    pub base: std::path::PathBuf,
    pub train: Vec<std::path::PathBuf>,
    pub out: std::path::PathBuf,
    pub id: String,
    pub version: String,
    pub hyper: manifest::Hyper,
    pub threads: usize,
    /// Held-back CoNLL files the trained model is scored on; the scores go into its manifest.
    pub dev: Vec<std::path::PathBuf>,
}

/// Reported after every optimisation step.
#[derive(Debug, Clone, Copy)]
pub struct TrainProgress {
    pub epoch: usize,
    pub step: usize,
    pub steps: usize,
    pub loss: f64,
}

pub use labels::{EntityLabel, LabelMap, Tag};
pub use manifest::ModelInfo;
pub use precision::Precision;

/// An entity found in a text; `start`/`end` count characters (Unicode scalar values), end
/// exclusive, like twitter-text's indices.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub text: String,
    pub label: EntityLabel,
    pub start: u32,
    pub end: u32,
    pub score: f32,
}

/// Tags `sentences` (already split into words) with `model` and scores it against their gold
/// tags: what `tweetlake ner eval` prints and the F1 tests check.
pub fn score(
    model: &mut NerModel,
    sentences: &[conll::Sentence],
) -> Result<eval::Scores, crate::NlpError> {
    let words: Vec<Vec<&str>> = sentences
        .iter()
        .map(|s| s.words.iter().map(String::as_str).collect())
        .collect();
    let predicted = model.tag_words(&words)?;
    let mut scores = eval::Scores::default();
    for (s, p) in sentences.iter().zip(&predicted) {
        let tags: Vec<Tag> = p.iter().map(|t| t.0).collect();
        scores.add(&s.tags, &tags);
    }
    Ok(scores)
}

/// Scores what silver would store for each sentence (see `as_silver`): the texts tagged as
/// silver tags tweets, compared by character span and type, @mentions left out.
pub fn score_as_silver(
    model: &mut NerModel,
    sentences: &[conll::Sentence],
) -> Result<eval::Scores, crate::NlpError> {
    let texts: Vec<(String, Vec<(usize, usize)>)> = sentences
        .iter()
        .map(|s| as_silver::tweet_text(&s.words))
        .collect();
    let found = model.entities(&texts.iter().map(|t| t.0.as_str()).collect::<Vec<_>>())?;
    let mut scores = eval::Scores::default();
    for ((sentence, (text, ranges)), found) in sentences.iter().zip(&texts).zip(&found) {
        as_silver::add(&mut scores, sentence, text, ranges, found);
    }
    Ok(scores)
}

/// Builds entities from word-level tags and their probabilities. A span without a letter or digit
/// (a lone `@` or `#` the tagger took for the start of a name) names nothing and is left out.
pub fn entities_from_tags(text: &str, words: &[words::Word], tagged: &[(Tag, f32)]) -> Vec<Entity> {
    let tags: Vec<Tag> = tagged.iter().map(|t| t.0).collect();
    eval::spans(&tags)
        .into_iter()
        .filter(|s| {
            let (first, last) = (words[s.start], words[s.end - 1]);
            text[first.byte_start..last.byte_end]
                .chars()
                .any(char::is_alphanumeric)
        })
        .map(|s| {
            let (first, last) = (words[s.start], words[s.end - 1]);
            let score =
                tagged[s.start..s.end].iter().map(|t| t.1).sum::<f32>() / (s.end - s.start) as f32;
            Entity {
                text: text[first.byte_start..last.byte_end].to_string(),
                label: s.label,
                start: first.char_start as u32,
                end: last.char_end as u32,
                score,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use EntityLabel::*;

    #[test]
    fn entity_text_spans_the_words_between() {
        let text = "Go Los Angeles Lakers!";
        let words = words::split_words(text);
        let tagged = [
            (Tag::Outside, 0.9),
            (Tag::Begin(Org), 0.8),
            (Tag::Inside(Org), 0.6),
            (Tag::Inside(Org), 0.7),
            (Tag::Outside, 0.99),
        ];
        let got = entities_from_tags(text, &words, &tagged);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].text, "Los Angeles Lakers");
        assert_eq!((got[0].start, got[0].end, got[0].label), (3, 21, Org));
        assert!((got[0].score - 0.7).abs() < 1e-6);
    }

    #[test]
    fn a_span_of_symbols_alone_is_no_entity() {
        let text = "# by @ X";
        let words = words::split_words(text);
        assert_eq!(words.len(), 4);
        let tagged = [
            (Tag::Begin(Misc), 0.6),
            (Tag::Outside, 0.9),
            (Tag::Begin(Per), 0.7),
            (Tag::Begin(Org), 0.8),
        ];
        let got = entities_from_tags(text, &words, &tagged);
        let texts: Vec<&str> = got.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["X"]);
    }
}
