//! The network behind NER and the sentiment head: BERT's encoder with a classifier over every
//! word piece, its weights named as Hugging Face's `BertForTokenClassification` names them
//! (`bert.*`, `classifier.*`) so trained and foreign models load alike. Unlike rust-bert's own
//! class it hands back the encoder's last hidden states as well, so one pass feeds both heads.

use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use tch::{nn, nn::Module, Kind, Tensor};

use super::encode::Padded;
use super::encode::CASE_CLASSES;
use crate::NlpError;

/// The key in a trained model's config.json that says it has case embeddings.
pub(crate) const CASE_KEY: &str = "tweetlake_case_embeddings";

/// The optimiser group of the case embeddings, which start at zero and get a larger step.
pub(crate) const CASE_GROUP: usize = 1;

/// Whether a model's config.json (as JSON) asks for case embeddings.
pub(crate) fn has_case_embeddings(raw: &serde_json::Value) -> bool {
    raw.get(CASE_KEY).and_then(|v| v.as_bool()).unwrap_or(false)
}

/// A learned vector per [`super::encode::case_class`], added to each piece's word embedding:
/// the uncased vocabulary maps "Apple" and "apple" to one piece, and this gives the casing back
/// for the encoder to read in context. It starts at zero, so training begins from the base.
struct CaseEmbeddings {
    words: Tensor,
    case: nn::Embedding,
}

pub(crate) struct Tagger {
    bert: BertModel<BertEmbeddings>,
    classifier: nn::Linear,
    dropout: f64,
    case: Option<CaseEmbeddings>,
}

/// One forward pass: per-piece class scores and the hidden states they were read from.
pub(crate) struct TaggerOutput {
    /// `[batch, pieces, classes]`.
    pub logits: Tensor,
    /// `[batch, pieces, hidden]`: the last layer's output.
    pub hidden: Tensor,
    /// The output of the middle layer (less specialised to entities than the last), when
    /// the network was built to keep it.
    pub middle: Option<Tensor>,
}

impl Tagger {
    pub fn new(p: nn::Path, config: &BertConfig, case: bool) -> Result<Self, NlpError> {
        let classes = config
            .id2label
            .as_ref()
            .map(|m| m.len() as i64)
            .ok_or_else(|| {
                NlpError::Model("config has no id2label: not a token classifier".into())
            })?;
        let mut config = config.clone();
        // Each layer's output is kept (a copy per layer, small beside the attention itself) so
        // the sentence vector can read the middle one.
        config.output_hidden_states = Some(true);
        let bert = BertModel::new_with_optional_pooler(&p / "bert", &config, false);
        let classifier = nn::linear(
            &p / "classifier",
            config.hidden_size,
            classes,
            Default::default(),
        );
        let case = match case {
            false => None,
            true => {
                let words = (&p / "bert" / "embeddings" / "word_embeddings")
                    .get("weight")
                    .ok_or_else(|| NlpError::Model("no word embeddings to add case to".into()))?;
                let init = nn::EmbeddingConfig {
                    ws_init: nn::Init::Const(0.0),
                    ..Default::default()
                };
                let case_path = p.set_group(CASE_GROUP);
                let case = nn::embedding(
                    &case_path / "case_embeddings",
                    CASE_CLASSES,
                    config.hidden_size,
                    init,
                );
                Some(CaseEmbeddings { words, case })
            }
        };
        Ok(Self {
            bert,
            classifier,
            dropout: config.hidden_dropout_prob,
            case,
        })
    }

    pub fn forward_t(&self, batch: &Padded, train: bool) -> Result<TaggerOutput, NlpError> {
        let embeds = self.case.as_ref().map(|c| {
            Tensor::embedding(&c.words, &batch.ids, -1, false, false) + c.case.forward(&batch.case)
        });
        let ids = match embeds {
            Some(_) => None,
            None => Some(&batch.ids),
        };
        let out = self
            .bert
            .forward_t(
                ids,
                Some(&batch.mask),
                None,
                None,
                embeds.as_ref(),
                None,
                None,
                train,
            )
            .map_err(|e| NlpError::Model(e.to_string()))?;
        let logits = out
            .hidden_state
            .dropout(self.dropout, train)
            .apply(&self.classifier);
        let layers = out.all_hidden_states.unwrap_or_default();
        let middle = layers
            .len()
            .checked_sub(1)
            .and_then(|last| layers.into_iter().nth(last / 2));
        Ok(TaggerOutput {
            logits,
            hidden: out.hidden_state,
            middle,
        })
    }
}

/// Changes whenever [`sentence_vector`] computes something else (cached vectors are keyed by it).
pub(crate) const SENTENCE_VECTOR_VERSION: u32 = 2;

/// The sentence vector the sentiment head reads, as float32 `[batch, 3 × hidden]`: the last
/// layer's states averaged and max-pooled over each sequence's real pieces (`mask` 1), and the
/// middle layer's averaged.
pub(crate) fn sentence_vector(out: &TaggerOutput, mask: &Tensor) -> Tensor {
    let weight = mask.to_kind(Kind::Float).unsqueeze(-1);
    let count = weight.sum_dim_intlist(1, false, Kind::Float).clamp_min(1.0);
    let mean = |h: &Tensor| {
        (h.to_kind(Kind::Float) * &weight).sum_dim_intlist(1, false, Kind::Float) / &count
    };
    let last = out.hidden.to_kind(Kind::Float);
    // Padding can never win the max: it is pushed far below any real value first.
    let max = (&last + (&weight - 1.0) * 1e4).amax(1, false);
    let middle = out.middle.as_ref().map_or_else(|| mean(&last), mean);
    Tensor::cat(&[mean(&last), max, middle], 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_vector_reads_only_real_pieces() {
        // One sequence of three pieces, the last padding (with a value that would win any max).
        let hidden = Tensor::from_slice(&[1.0f32, -4.0, 3.0, -2.0, 99.0, 99.0]).view([1, 3, 2]);
        let middle = Tensor::from_slice(&[0.0f32, 2.0, 4.0, 6.0, 50.0, 50.0]).view([1, 3, 2]);
        let mask = Tensor::from_slice(&[1i64, 1, 0]).view([1, 3]);
        let out = TaggerOutput {
            logits: Tensor::zeros([1, 3, 1], (Kind::Float, tch::Device::Cpu)),
            hidden,
            middle: Some(middle),
        };
        let v: Vec<f32> = Vec::try_from(sentence_vector(&out, &mask).flatten(0, -1)).unwrap();
        // mean(last), max(last), mean(middle)
        assert_eq!(v, [2.0, -3.0, 3.0, -2.0, 2.0, 4.0]);
    }
}
