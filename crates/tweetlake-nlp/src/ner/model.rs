//! Loads a token-classification model directory (config.json, model.safetensors, vocab.txt) and
//! tags texts in length-sorted batches: one encoder pass gives each text's entities and, when
//! asked, its sentence vector (what a sentiment head reads).

use std::collections::HashMap;
use std::path::Path;

use rust_bert::bert::BertConfig;
use tch::{nn, Device, Kind};

use super::encode::{pad_batch, Encoded, WordPieces};
use super::labels::{LabelMap, Tag};
use super::manifest::{self, Manifest, ModelInfo, WEIGHTS_FILE};
use super::network::{has_case_embeddings, sentence_vector, Tagger};
use super::precision::Precision;
use super::words::{split_words, Word};
use super::{entities_from_tags, Entity};
use crate::NlpError;

/// A sentence's words, each with its tag and probability.
type TaggedWords = Vec<(Tag, f32)>;

/// What one pass over a sentence gives: its words' tags and, when asked for, its sentence vector
/// (empty otherwise).
struct Pass {
    tags: TaggedWords,
    vector: Vec<f32>,
}

/// One pass over distinct texts: each one's entities and sentence vector (empty unless asked).
pub struct TextPasses {
    pub entities: Vec<Vec<Entity>>,
    pub vectors: Vec<Vec<f32>>,
}

/// One copy of the network; each worker thread runs its own (libtorch tensors are not `Sync`).
struct Replica {
    model: Tagger,
    // Owns the weights `model` points into; converting it converts the model.
    vs: nn::VarStore,
}

impl Replica {
    fn load(
        dir: &Path,
        config: &BertConfig,
        case: bool,
        device: Device,
        precision: Precision,
    ) -> Result<Self, NlpError> {
        let mut vs = nn::VarStore::new(device);
        let model = Tagger::new(vs.root(), config, case).map_err(|e| model_err(dir, e))?;
        vs.load(dir.join(WEIGHTS_FILE))
            .map_err(|e| model_err(dir, e))?;
        if precision == Precision::BFloat16 {
            vs.bfloat16();
        }
        Ok(Self { model, vs })
    }
}

/// A loaded NER model, ready to tag text.
pub struct NerModel {
    replicas: Vec<Replica>,
    config: BertConfig,
    case: bool,
    dir: std::path::PathBuf,
    pieces: WordPieces,
    tags: Vec<Tag>,
    info: ModelInfo,
    batch_size: usize,
    device: Device,
    precision: Precision,
}

fn model_err(dir: &Path, what: impl std::fmt::Display) -> NlpError {
    NlpError::Model(format!("{}: {what}", dir.display()))
}

/// Reads `config.json` as rust-bert's BERT config.
pub(crate) fn read_config(dir: &Path) -> Result<(BertConfig, serde_json::Value), NlpError> {
    let path = dir.join("config.json");
    let bytes = std::fs::read(&path).map_err(|e| NlpError::io(&path, e))?;
    let raw: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| model_err(dir, e))?;
    let config: BertConfig = serde_json::from_value(raw.clone()).map_err(|e| model_err(dir, e))?;
    Ok((config, raw))
}

/// Whether the model's vocabulary is lower-cased: the manifest says, else `tokenizer_config.json`.
fn lower_case(dir: &Path, manifest: Option<&Manifest>) -> bool {
    if let Some(m) = manifest {
        return m.lower_case;
    }
    std::fs::read(dir.join("tokenizer_config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("do_lower_case").and_then(|x| x.as_bool()))
        .unwrap_or(true)
}

impl NerModel {
    /// Loads the model in `dir`, mapping its labels through `labels` (an unmapped label is an
    /// error here, before any text is tagged).
    pub fn load(dir: &Path, labels: &LabelMap, batch_size: usize) -> Result<Self, NlpError> {
        let (config, raw) = read_config(dir)?;
        let case = has_case_embeddings(&raw);
        let id2label = config
            .id2label
            .clone()
            .ok_or_else(|| model_err(dir, "config.json has no id2label: not a token classifier"))?;
        let mut tags = vec![Tag::Outside; id2label.len()];
        for (i, name) in &id2label {
            let slot = tags
                .get_mut(*i as usize)
                .ok_or_else(|| model_err(dir, format!("id2label index {i} out of range")))?;
            *slot = labels.tag(name).map_err(|e| model_err(dir, e))?;
        }
        let manifest = Manifest::read(dir)?;
        let pieces = WordPieces::from_vocab(
            &dir.join("vocab.txt"),
            lower_case(dir, manifest.as_ref()),
            config.max_position_embeddings.min(512) as usize,
        )?;
        let device = Device::cuda_if_available();
        let precision = Precision::Float32;
        let replicas = vec![Replica::load(dir, &config, case, device, precision)?];
        let info = manifest::model_info(dir)?;
        Ok(Self {
            replicas,
            config,
            case,
            dir: dir.to_path_buf(),
            pieces,
            tags,
            info,
            batch_size: batch_size.max(1),
            device,
            precision,
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Runs the model in `precision` from now on. To bfloat16 the loaded weights are converted in
    /// place; back to float32 they are reloaded from disk, so the trained values return, not
    /// bf16-rounded ones.
    pub fn set_precision(&mut self, precision: Precision) -> Result<(), NlpError> {
        if precision == self.precision {
            return Ok(());
        }
        self.precision = precision;
        if precision == Precision::BFloat16 {
            for r in &mut self.replicas {
                r.vs.bfloat16();
            }
            return Ok(());
        }
        let workers = self.replicas.len().max(1);
        self.replicas.clear();
        for _ in 0..workers {
            self.replicas.push(Replica::load(
                &self.dir,
                &self.config,
                self.case,
                self.device,
                precision,
            )?);
        }
        Ok(())
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Entities in each text, in input order; identical texts (a retweet carries its
    /// original's text) are tagged once.
    pub fn entities<S: AsRef<str>>(&mut self, texts: &[S]) -> Result<Vec<Vec<Entity>>, NlpError> {
        let (unique, index) = distinct(texts);
        let found = self.pass_texts(&unique, false)?.entities;
        Ok(index.into_iter().map(|i| found[i].clone()).collect())
    }

    /// Each text's sentence vector (the mean-pooled hidden state the sentiment head reads),
    /// computed exactly as an analysis pass computes it.
    pub fn sentence_vectors<S: AsRef<str>>(
        &mut self,
        texts: &[S],
    ) -> Result<Vec<Vec<f32>>, NlpError> {
        let (unique, index) = distinct(texts);
        let vectors = self.pass_texts(&unique, true)?.vectors;
        Ok(index.into_iter().map(|i| vectors[i].clone()).collect())
    }

    /// One pass over distinct texts: their entities and, if `vectors`, their sentence vectors.
    pub fn pass_texts(&mut self, texts: &[&str], vectors: bool) -> Result<TextPasses, NlpError> {
        let words: Vec<Vec<Word>> = texts.iter().map(|t| split_words(t)).collect();
        // Links hold no entities but cost the model a dozen word pieces each: they are left out
        // and tagged O, which also keeps an entity from spanning one.
        let linked: Vec<Vec<bool>> = texts
            .iter()
            .zip(&words)
            .map(|(t, ws)| in_links(t, ws))
            .collect();
        let word_texts: Vec<Vec<&str>> = texts
            .iter()
            .zip(&words)
            .zip(&linked)
            .map(|((t, ws), link)| {
                ws.iter()
                    .zip(link)
                    .filter(|(_, l)| !**l)
                    .map(|(w, _)| w.text(t))
                    .collect()
            })
            .collect();
        let passes = self.pass_words(&word_texts, vectors)?;
        let mut vectors = Vec::with_capacity(passes.len());
        let found: Vec<Vec<Entity>> = texts
            .iter()
            .zip(&words)
            .zip(linked.iter().zip(passes))
            .map(|((t, ws), (link, pass))| {
                let mut model = pass.tags.into_iter();
                let all: Vec<(Tag, f32)> = link
                    .iter()
                    .map(|l| match l {
                        true => (Tag::Outside, 1.0),
                        false => model.next().unwrap_or((Tag::Outside, 0.0)),
                    })
                    .collect();
                vectors.push(pass.vector);
                entities_from_tags(t, ws, &all)
            })
            .collect();
        Ok(TextPasses {
            entities: found,
            vectors,
        })
    }

    /// Runs batches on this many threads at once, each with one libtorch thread: a 6-layer
    /// model's matrices on tweet-length inputs are too small for libtorch's own threading to pay
    /// (measured: 2 intra-op threads 1.3x one thread; two batches side by side ~2x).
    /// Each worker holds its own copy of the weights (~90 MB for MiniLM-L6).
    pub fn set_workers(&mut self, workers: usize) -> Result<(), NlpError> {
        let workers = workers.max(1);
        if self.device != Device::Cpu {
            return Ok(());
        }
        self.replicas.truncate(workers);
        while self.replicas.len() < workers {
            self.replicas.push(Replica::load(
                &self.dir,
                &self.config,
                self.case,
                self.device,
                self.precision,
            )?);
        }
        if workers > 1 {
            tch::set_num_threads(1);
        }
        Ok(())
    }

    /// The tag of every word and its probability. Sequences are sorted by length and batched so
    /// little time goes on padding; batches stay within `batch_size` (rust-bert's own pipeline
    /// mis-indexes larger inputs).
    pub fn tag_words<S: AsRef<str>>(
        &mut self,
        sentences: &[Vec<S>],
    ) -> Result<Vec<Vec<(Tag, f32)>>, NlpError> {
        Ok(self
            .pass_words(sentences, false)?
            .into_iter()
            .map(|p| p.tags)
            .collect())
    }

    /// One pass over sentences given as words: tags and, if `vectors`, sentence vectors (pooling
    /// costs nothing much, but NER alone need not pay it).
    fn pass_words<S: AsRef<str>>(
        &mut self,
        sentences: &[Vec<S>],
        vectors: bool,
    ) -> Result<Vec<Pass>, NlpError> {
        let encoded: Vec<Encoded> = sentences.iter().map(|s| self.pieces.encode(s)).collect();
        let mut order: Vec<usize> = (0..encoded.len()).collect();
        order.sort_by_key(|&i| encoded[i].ids.len());
        let batches: Vec<&[usize]> = order.chunks(self.batch_size).collect();
        let (pad, device, tags) = (self.pieces.pad_id(), self.device, &self.tags);
        let run = |replica: &mut Replica,
                   mine: Vec<&[usize]>|
         -> Result<Vec<(usize, Pass)>, NlpError> {
            let mut done = Vec::new();
            for chunk in mine {
                let batch: Vec<&Encoded> = chunk.iter().map(|&i| &encoded[i]).collect();
                let (probs, mut pooled) = forward(&replica.model, &batch, pad, device, vectors)?;
                for (k, &i) in chunk.iter().enumerate() {
                    let tags = read_tags(tags, &batch[k].first_piece, &probs[k]);
                    let vector = pooled.get_mut(k).map(std::mem::take).unwrap_or_default();
                    done.push((i, Pass { tags, vector }));
                }
            }
            Ok(done)
        };
        let workers = self.replicas.len().min(batches.len()).max(1);
        let shares: Vec<Vec<&[usize]>> = (0..workers)
            .map(|w| batches.iter().skip(w).step_by(workers).copied().collect())
            .collect();
        let pairs = self.replicas.iter_mut().zip(shares);
        let results: Vec<Result<_, NlpError>> = if workers == 1 {
            pairs.map(|(r, share)| run(r, share)).collect()
        } else {
            std::thread::scope(|scope| {
                let run = &run;
                let handles: Vec<_> = pairs
                    .map(|(r, share)| scope.spawn(move || run(r, share)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(NlpError::Model("a NER worker panicked".into()))
                        })
                    })
                    .collect()
            })
        };
        let mut out: Vec<Option<Pass>> = (0..encoded.len()).map(|_| None).collect();
        for r in results {
            for (i, pass) in r? {
                out[i] = Some(pass);
            }
        }
        out.into_iter()
            .map(|p| p.ok_or_else(|| NlpError::Model("a sentence was left unanalysed".into())))
            .collect()
    }
}

/// Each word's tag and its probability: the best valid BIO sequence over the probabilities of
/// each word's first piece (a word cut off by `max_len` counts as certainly outside).
fn read_tags(tags: &[Tag], first_piece: &[Option<usize>], rows: &[Vec<f32>]) -> Vec<(Tag, f32)> {
    let outside: Vec<f32> = tags
        .iter()
        .map(|t| if *t == Tag::Outside { 1.0 } else { 0.0 })
        .collect();
    let words: Vec<Vec<f32>> = first_piece
        .iter()
        .map(|p| p.and_then(|p| rows.get(p)).unwrap_or(&outside).clone())
        .collect();
    super::decode::best_tags(tags, &words)
}

/// Per sequence, per piece, per class probabilities.
type PieceProbs = Vec<Vec<Vec<f32>>>;

/// The probability of every class for every piece of every sequence, and, if `vectors`, each
/// sequence's sentence vector (else none).
fn forward(
    model: &Tagger,
    batch: &[&Encoded],
    pad: i64,
    device: Device,
    vectors: bool,
) -> Result<(PieceProbs, Vec<Vec<f32>>), NlpError> {
    let padded = pad_batch(batch, pad).to_device(device);
    let (probs, pooled) = tch::no_grad(|| -> Result<_, NlpError> {
        let out = model.forward_t(&padded, false)?;
        let probs = out
            .logits
            .to_kind(Kind::Float)
            .softmax(-1, Kind::Float)
            .to_device(Device::Cpu);
        let pooled = vectors.then(|| sentence_vector(&out, &padded.mask).to_device(Device::Cpu));
        Ok((probs, pooled))
    })?;
    let tch_err = |e: tch::TchError| NlpError::Model(e.to_string());
    let (b, t, k) = probs.size3().map_err(tch_err)?;
    let flat: Vec<f32> = Vec::try_from(probs.flatten(0, -1)).map_err(tch_err)?;
    let (t, k) = (t as usize, k as usize);
    let probs = flat
        .chunks(t * k)
        .take(b as usize)
        .map(|sequence| sequence.chunks(k).map(<[f32]>::to_vec).collect())
        .collect();
    let vectors = match pooled {
        None => Vec::new(),
        Some(pooled) => {
            let (_, h) = pooled.size2().map_err(tch_err)?;
            let flat: Vec<f32> = Vec::try_from(pooled.flatten(0, -1)).map_err(tch_err)?;
            flat.chunks(h.max(1) as usize)
                .map(<[f32]>::to_vec)
                .collect()
        }
    };
    Ok((probs, vectors))
}

/// The distinct texts in first-seen order, and each input's place among them.
/// The distinct texts, and for each input the index of its text among them.
pub(crate) fn distinct<S: AsRef<str>>(texts: &[S]) -> (Vec<&str>, Vec<usize>) {
    let mut unique: Vec<&str> = Vec::new();
    let mut slot: HashMap<&str, usize> = HashMap::new();
    let index = texts
        .iter()
        .map(|t| {
            let t = t.as_ref();
            *slot.entry(t).or_insert_with(|| {
                unique.push(t);
                unique.len() - 1
            })
        })
        .collect();
    (unique, index)
}

/// Which words lie inside a link (a whitespace-delimited token starting `http://`, `https://`
/// or `www.`).
fn in_links(text: &str, words: &[Word]) -> Vec<bool> {
    let mut links = Vec::new();
    let mut at = 0;
    for token in text.split_whitespace() {
        let start = text[at..].find(token).map_or(at, |i| at + i);
        at = start + token.len();
        let lower = token.get(..8).unwrap_or(token).to_ascii_lowercase();
        if lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("www.")
        {
            links.push(start..at);
        }
    }
    words
        .iter()
        .map(|w| links.iter().any(|l| l.contains(&w.byte_start)))
        .collect()
}

/// The id → label map written into a trained model's config.json.
pub(crate) fn id2label() -> HashMap<i64, String> {
    Tag::CLASSES
        .iter()
        .enumerate()
        .map(|(i, t)| (i as i64, t.name()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_inside_links_are_found() {
        let text = "Lakers win https://t.co/AbC12 and WWW.nba.com/x, see http:/broken";
        let words = split_words(text);
        let linked: Vec<&str> = words
            .iter()
            .zip(in_links(text, &words))
            .filter(|(_, l)| *l)
            .map(|(w, _)| w.text(text))
            .collect();
        assert_eq!(
            linked,
            [
                "https", ":", "/", "/", "t", ".", "co", "/", "AbC12", "WWW", ".", "nba", ".",
                "com", "/", "x", ","
            ]
        );
    }
}
