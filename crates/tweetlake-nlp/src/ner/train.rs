//! `tweetlake ner train`: fine-tunes a BERT encoder plus a token-classification head on
//! CoNLL data with a fixed seed, and writes a model directory with its manifest.

use std::path::Path;
use std::time::Instant;

use tch::{nn, nn::OptimizerConfig, Device, Kind, Reduction, Tensor};

use super::conll::{read_conll, Sentence};
use super::encode::pad_batch;
use super::encode::{Encoded, WordPieces};
use super::labels::{LabelMap, Tag};
use super::manifest::{sha256_file, DataFile, DevScore, Manifest, ModelInfo, WEIGHTS_FILE};
use super::model::{id2label, read_config};
use super::network::{Tagger, CASE_GROUP, CASE_KEY};
use super::{TrainOptions, TrainProgress};
use crate::NlpError;

/// How much larger the case embeddings' step is than the encoder's: they start from zero, and
/// at the encoder's rate one epoch would barely move them.
const CASE_LR_SCALE: f64 = 10.0;

/// Label id that the loss ignores (a word's later pieces, padding, [CLS]/[SEP]).
const IGNORE: i64 = -100;

/// SplitMix64: a tiny seeded generator, so the data order is the same on every machine.
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// One epoch's batches: shuffled, then sorted by length within pools of 50 batches so a batch
/// holds sentences of similar length (little padding), then the batches shuffled again.
fn batches(
    examples: &[Example],
    order: &mut [usize],
    size: usize,
    rng: &mut SplitMix,
) -> Vec<Vec<usize>> {
    rng.shuffle(order);
    let mut out = Vec::with_capacity(order.len().div_ceil(size));
    for pool in order.chunks(size * 50) {
        let mut pool = pool.to_vec();
        pool.sort_by_key(|&i| examples[i].encoded.ids.len());
        out.extend(pool.chunks(size).map(<[usize]>::to_vec));
    }
    rng.shuffle(&mut out);
    out
}

struct Example {
    encoded: Encoded,
    labels: Vec<i64>,
}

fn example(pieces: &WordPieces, s: &Sentence) -> Example {
    let encoded = pieces.encode(&s.words);
    let mut labels = vec![IGNORE; encoded.ids.len()];
    for (pos, tag) in encoded.first_piece.iter().zip(&s.tags) {
        if let Some(p) = pos {
            labels[*p] = tag.class_index();
        }
    }
    Example { encoded, labels }
}

/// Copies the base encoder's weights (saved as a bare `BertModel`) under the classifier's
/// `bert.` prefix; every encoder variable must be found.
fn load_base(vs: &nn::VarStore, base: &Path) -> Result<(), NlpError> {
    let path = base.join(WEIGHTS_FILE);
    let named = Tensor::read_safetensors(&path)
        .map_err(|e| NlpError::Model(format!("{}: {e}", path.display())))?;
    let named: std::collections::HashMap<String, Tensor> = named.into_iter().collect();
    let mut vars = vs.variables();
    for (name, var) in vars.iter_mut() {
        let Some(stripped) = name.strip_prefix("bert.") else {
            continue;
        };
        let src = named
            .get(stripped)
            .or_else(|| named.get(name.as_str()))
            .ok_or_else(|| {
                NlpError::Model(format!("{}: no tensor `{stripped}`", path.display()))
            })?;
        tch::no_grad(|| var.f_copy_(src)).map_err(|e| NlpError::Model(format!("{name}: {e}")))?;
    }
    Ok(())
}

/// Trains and writes the model directory; returns the new model's identity.
pub fn train(
    opts: &TrainOptions,
    labels: &LabelMap,
    mut progress: impl FnMut(TrainProgress),
) -> Result<ModelInfo, NlpError> {
    let started = Instant::now();
    let h = &opts.hyper;
    tch::set_num_threads(opts.threads.max(1) as i32);
    tch::manual_seed(h.seed as i64);
    let (mut config, mut raw_config) = read_config(&opts.base)?;
    config.id2label = Some(id2label());
    if let Some(layers) = h.layers {
        if layers == 0 || layers as i64 > config.num_hidden_layers {
            return Err(NlpError::Model(format!(
                "--layers {layers}: the base has {} layers",
                config.num_hidden_layers
            )));
        }
        // The first `layers` layers' weights are copied from the base; the rest are never built.
        config.num_hidden_layers = layers as i64;
        raw_config["num_hidden_layers"] = serde_json::json!(layers);
    }
    let pieces = WordPieces::from_vocab(&opts.base.join("vocab.txt"), true, h.max_len)?;

    let mut examples = Vec::new();
    let mut data = Vec::new();
    for file in &opts.train {
        let mut sentences = read_conll(file, labels)?;
        if !h.mentions_as_entities {
            sentences
                .iter_mut()
                .for_each(super::as_silver::mentions_outside);
        }
        examples.extend(sentences.iter().map(|s| example(&pieces, s)));
        data.push(DataFile::describe(file, sentences.len())?);
    }
    if examples.is_empty() {
        return Err(NlpError::Model("no training sentences".into()));
    }

    let device = Device::cuda_if_available();
    let vs = nn::VarStore::new(device);
    let model = Tagger::new(vs.root(), &config, h.case_embeddings)?;
    load_base(&vs, &opts.base)?;
    let mut opt = nn::AdamW {
        wd: h.weight_decay,
        ..Default::default()
    }
    .build(&vs, h.learning_rate)
    .map_err(|e| NlpError::Model(e.to_string()))?;

    // The word-embedding matrix is half the encoder's weights; a few thousand tweets cannot
    // teach it much, and updating it would double the cost of every step.
    for (name, var) in vs.variables().iter_mut() {
        if name.ends_with("embeddings.word_embeddings.weight") {
            let _ = var.set_requires_grad(false);
        }
    }
    let per_epoch = examples.len().div_ceil(h.batch_size.max(1));
    let steps = per_epoch * h.epochs;
    let warmup = ((steps as f64) * h.warmup_fraction).ceil().max(1.0) as usize;
    let mut rng = SplitMix(h.seed);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let (mut step, mut last_loss) = (0, f64::NAN);
    for epoch in 0..h.epochs {
        for batch_ids in batches(&examples, &mut order, h.batch_size.max(1), &mut rng) {
            let chunk = batch_ids.as_slice();
            let lr = if step < warmup {
                h.learning_rate * (step + 1) as f64 / warmup as f64
            } else {
                h.learning_rate * (steps - step) as f64 / (steps - warmup).max(1) as f64
            };
            opt.set_lr(lr);
            if h.case_embeddings {
                opt.set_lr_group(CASE_GROUP, lr * CASE_LR_SCALE);
            }
            let batch: Vec<&Example> = chunk.iter().map(|&i| &examples[i]).collect();
            let loss = step_loss(&model, &batch, pieces.pad_id(), device)?;
            opt.backward_step_clip_norm(&loss, 1.0);
            last_loss = loss.double_value(&[]);
            step += 1;
            progress(TrainProgress {
                epoch,
                step,
                steps,
                loss: last_loss,
            });
        }
    }

    std::fs::create_dir_all(&opts.out).map_err(|e| NlpError::io(&opts.out, e))?;
    let weights = opts.out.join(WEIGHTS_FILE);
    vs.save(&weights)
        .map_err(|e| NlpError::Model(format!("{}: {e}", weights.display())))?;
    raw_config["id2label"] = serde_json::json!(id2label());
    raw_config["label2id"] = serde_json::json!(Tag::CLASSES
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name(), i))
        .collect::<std::collections::BTreeMap<_, _>>());
    raw_config["architectures"] = serde_json::json!(["BertForTokenClassification"]);
    if h.case_embeddings {
        raw_config[CASE_KEY] = serde_json::json!(true);
    }
    write_json(&opts.out.join("config.json"), &raw_config)?;
    let vocab = opts.out.join("vocab.txt");
    std::fs::copy(opts.base.join("vocab.txt"), &vocab).map_err(|e| NlpError::io(&vocab, e))?;
    let weights_sha256 = sha256_file(&weights)?;
    Manifest {
        id: opts.id.clone(),
        version: opts.version.clone(),
        base_model: raw_config
            .get("_name_or_path")
            .and_then(|v| v.as_str())
            .unwrap_or("unknown")
            .to_string(),
        base_weights_sha256: sha256_file(&opts.base.join(WEIGHTS_FILE))?,
        lower_case: true,
        labels: Tag::CLASSES.iter().map(|t| t.name()).collect(),
        train_data: data,
        hyper: h.clone(),
        weights_sha256: weights_sha256.clone(),
        final_loss: last_loss,
        train_seconds: started.elapsed().as_secs_f64(),
        libtorch: "2.4.0".to_string(),
        dev_scores: Vec::new(),
    }
    .write(&opts.out)?;
    record_dev_scores(opts, labels)?;
    Ok(ModelInfo {
        id: opts.id.clone(),
        version: opts.version.clone(),
        weights_sha256,
    })
}

/// Scores the model just written on `opts.dev` as silver stores entities and adds the scores to
/// its manifest, so the model directory says what it was measured at.
fn record_dev_scores(opts: &TrainOptions, labels: &LabelMap) -> Result<(), NlpError> {
    if opts.dev.is_empty() {
        return Ok(());
    }
    let mut model = super::NerModel::load(&opts.out, labels, 16)?;
    model.set_workers(opts.threads.max(1))?;
    let mut scores = Vec::new();
    for file in &opts.dev {
        let sentences = read_conll(file, labels)?;
        let overall = super::score_as_silver(&mut model, &sentences)?.overall();
        scores.push(DevScore {
            data: DataFile::describe(file, sentences.len())?,
            precision: overall.precision(),
            recall: overall.recall(),
            f1: overall.f1(),
        });
    }
    let mut manifest = Manifest::read(&opts.out)?
        .ok_or_else(|| NlpError::Model(format!("{}: no manifest", opts.out.display())))?;
    manifest.dev_scores = scores;
    manifest.write(&opts.out)
}

fn step_loss(
    model: &Tagger,
    batch: &[&Example],
    pad: i64,
    device: Device,
) -> Result<Tensor, NlpError> {
    let encoded: Vec<&Encoded> = batch.iter().map(|e| &e.encoded).collect();
    let padded = pad_batch(&encoded, pad).to_device(device);
    let width = padded.ids.size().get(1).copied().unwrap_or(0) as usize;
    let mut labels = Vec::with_capacity(batch.len() * width);
    for e in batch {
        labels.extend(&e.labels);
        labels.extend(std::iter::repeat_n(IGNORE, width - e.labels.len()));
    }
    let labels = Tensor::from_slice(&labels).to_device(device);
    let logits = model.forward_t(&padded, true)?.logits;
    let classes = logits.size().get(2).copied().unwrap_or(1);
    Ok(logits
        .view([-1, classes])
        .to_kind(Kind::Float)
        .cross_entropy_loss::<Tensor>(&labels, None, Reduction::Mean, IGNORE, 0.0))
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), NlpError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| NlpError::Model(e.to_string()))?;
    std::fs::write(path, bytes).map_err(|e| NlpError::io(path, e))
}
