//! `tweetlake sentiment train`: fits a sentiment head on a NER model's sentence vectors, so
//! silver's one encoder pass per tweet gives entities and sentiment together. The encoder stays
//! as NER trained it; only the head (a few hundred thousand weights) learns, in seconds per
//! epoch. Deterministic: a fixed seed, a fixed data order, one libtorch thread for the head.

use std::path::Path;
use std::time::Instant;

use tch::{nn, nn::OptimizerConfig, Device, Kind, Reduction, Tensor};

use super::eval::Confusion;
use super::head::{class_index, features, HeadNet, CLASSES};
use super::head_manifest::{encoder_recipe, HeadManifest, SentimentDevScore, HEAD_WEIGHTS_FILE};
use super::SentimentScorer;
use super::{HeadTrainOptions, LabelledFile};
use crate::ner::manifest::{sha256_file, DataFile, Manifest};
use crate::ner::{NerModel, SplitMix};
use crate::NlpError;

/// Features and class ids of one file's rows.
struct Examples {
    x: Tensor,
    y: Tensor,
    data: DataFile,
}

/// Trains the head on `model` (loaded from `model_dir`, in the precision silver will run) and
/// writes it beside the model; returns its manifest.
pub fn train_head(
    model: &mut NerModel,
    model_dir: &Path,
    opts: &HeadTrainOptions,
    mut progress: impl FnMut(String),
) -> Result<HeadManifest, NlpError> {
    let started = Instant::now();
    let encoder = Manifest::read(model_dir)?.ok_or_else(|| {
        NlpError::Model(format!(
            "{}: no tweetlake-ner.json; a sentiment head needs a model trained by `tweetlake ner train`",
            model_dir.display()
        ))
    })?;
    let h = &opts.hyper;
    let vader = h.vader_features.then(SentimentScorer::default);
    let mut load = |file: &LabelledFile| -> Result<Examples, NlpError> {
        progress(format!("sentence vectors of {}", file.path.display()));
        examples(model, file, vader.as_ref(), opts.cache.as_deref())
    };
    let train: Vec<Examples> = opts.train.iter().map(&mut load).collect::<Result<_, _>>()?;
    let dev: Vec<Examples> = opts.dev.iter().map(&mut load).collect::<Result<_, _>>()?;
    let x = Tensor::cat(&train.iter().map(|e| &e.x).collect::<Vec<_>>(), 0);
    let y = Tensor::cat(&train.iter().map(|e| &e.y).collect::<Vec<_>>(), 0);
    let rows = x.size().first().copied().unwrap_or(0);
    if rows == 0 {
        return Err(NlpError::Model("no training rows".into()));
    }

    tch::set_num_threads(1);
    tch::manual_seed(h.seed as i64);
    let vs = nn::VarStore::new(Device::Cpu);
    let width = x.size().get(1).copied().unwrap_or(0);
    let mut net = HeadNet::new(vs.root(), width, h.hidden);
    net.fit_scale(&x);
    let weights = class_weights(&y);
    let mut opt = nn::AdamW {
        wd: h.weight_decay,
        ..Default::default()
    }
    .build(&vs, h.learning_rate)
    .map_err(|e| NlpError::Model(e.to_string()))?;

    let mut rng = SplitMix(h.seed);
    let mut order: Vec<i64> = (0..rows).collect();
    let (mut best, mut chosen, mut kept) = (f64::NEG_INFINITY, h.epochs, None);
    for epoch in 1..=h.epochs {
        rng.shuffle(&mut order);
        for chunk in order.chunks(h.batch_size.max(1)) {
            let idx = Tensor::from_slice(chunk);
            let logits = net.forward_t(&x.index_select(0, &idx), true);
            let loss = logits.cross_entropy_loss::<&Tensor>(
                &y.index_select(0, &idx),
                Some(&weights),
                Reduction::Mean,
                -100,
                0.0,
            );
            opt.backward_step(&loss);
        }
        let Some(first) = dev.first() else {
            continue;
        };
        let score = confusion(&net, first)?.macro_recall();
        progress(format!("epoch {epoch}: dev macro-recall {score:.4}"));
        if score > best {
            (best, chosen) = (score, epoch);
            kept = Some(snapshot(&vs));
        }
    }
    if let Some(kept) = kept {
        restore(&vs, &kept);
    }

    std::fs::create_dir_all(&opts.out).map_err(|e| NlpError::io(&opts.out, e))?;
    let path = opts.out.join(HEAD_WEIGHTS_FILE);
    vs.save(&path)
        .map_err(|e| NlpError::Model(format!("{}: {e}", path.display())))?;
    let dev_scores = dev
        .iter()
        .map(|d| {
            let c = confusion(&net, d)?;
            Ok(SentimentDevScore {
                data: d.data.clone(),
                macro_recall: c.macro_recall(),
                accuracy: c.accuracy(),
            })
        })
        .collect::<Result<Vec<_>, NlpError>>()?;
    let manifest = HeadManifest {
        id: opts.id.clone(),
        version: opts.version.clone(),
        encoder: model.info().clone(),
        encoder_recipe: encoder_recipe(&encoder),
        precision: model.precision().as_str().to_string(),
        hyper: h.clone(),
        chosen_epoch: chosen,
        train_data: train.into_iter().map(|e| e.data).collect(),
        weights_sha256: sha256_file(&path)?,
        train_seconds: started.elapsed().as_secs_f64(),
        dev_scores,
    };
    manifest.write(&opts.out)?;
    Ok(manifest)
}

fn examples(
    model: &mut NerModel,
    file: &LabelledFile,
    vader: Option<&SentimentScorer>,
    cache: Option<&Path>,
) -> Result<Examples, NlpError> {
    let data = DataFile::describe(&file.path, file.rows.len())?;
    let texts: Vec<&str> = file.rows.iter().map(|r| r.text.as_str()).collect();
    let vectors = cached_vectors(model, &data, &texts, cache)?;
    let x = features(&vectors, &texts, vader)?;
    let y: Vec<i64> = file.rows.iter().map(|r| class_index(r.label)).collect();
    Ok(Examples {
        x,
        y: Tensor::from_slice(&y),
        data,
    })
}

/// The sentence vectors of `texts`, from the cache when this model, file and precision were run
/// before.
fn cached_vectors(
    model: &mut NerModel,
    data: &DataFile,
    texts: &[&str],
    cache: Option<&Path>,
) -> Result<Vec<Vec<f32>>, NlpError> {
    let key = format!(
        "v{}-{}-{}-{}",
        crate::ner::SENTENCE_VECTOR_VERSION,
        model.info().weights_sha256.get(..16).unwrap_or("model"),
        data.sha256.get(..16).unwrap_or("data"),
        model.precision().as_str()
    );
    let path = cache.map(|dir| dir.join(format!("{key}.safetensors")));
    if let Some(path) = path.as_ref().filter(|p| p.exists()) {
        let named = Tensor::read_safetensors(path)
            .map_err(|e| NlpError::Model(format!("{}: {e}", path.display())))?;
        if let Some((_, t)) = named.into_iter().find(|(n, _)| n == "vectors") {
            return rows_of(&t, texts.len());
        }
    }
    let vectors = model.sentence_vectors(texts)?;
    if let (Some(path), Some(first)) = (path, vectors.first()) {
        let flat: Vec<f32> = vectors.iter().flatten().copied().collect();
        let t = Tensor::from_slice(&flat).view([vectors.len() as i64, first.len() as i64]);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| NlpError::io(dir, e))?;
        }
        Tensor::write_safetensors(&[("vectors", &t)], &path)
            .map_err(|e| NlpError::Model(format!("{}: {e}", path.display())))?;
    }
    Ok(vectors)
}

fn rows_of(t: &Tensor, expected: usize) -> Result<Vec<Vec<f32>>, NlpError> {
    let err = |e: tch::TchError| NlpError::Model(e.to_string());
    let (n, w) = t.size2().map_err(err)?;
    if n as usize != expected {
        return Err(NlpError::Model(format!(
            "cached sentence vectors hold {n} rows, the file {expected}"
        )));
    }
    let flat: Vec<f32> = Vec::try_from(t.to_kind(Kind::Float).flatten(0, -1)).map_err(err)?;
    Ok(flat
        .chunks(w.max(1) as usize)
        .map(<[f32]>::to_vec)
        .collect())
}

/// Each class weighted by the inverse of its share, so the loss, like macro-recall, counts the
/// rare negative class as much as the others.
fn class_weights(y: &Tensor) -> Tensor {
    let counts = y
        .bincount::<Tensor>(None, CLASSES.len() as i64)
        .to_kind(Kind::Float);
    let total = counts.sum(Kind::Float);
    (total / (counts.clamp_min(1.0) * CLASSES.len() as f64)).to_kind(Kind::Float)
}

fn confusion(net: &HeadNet, e: &Examples) -> Result<Confusion, NlpError> {
    let err = |e: tch::TchError| NlpError::Model(e.to_string());
    let predicted = tch::no_grad(|| net.forward_t(&e.x, false).argmax(-1, false));
    let predicted: Vec<i64> = Vec::try_from(predicted).map_err(err)?;
    let gold: Vec<i64> = Vec::try_from(&e.y).map_err(err)?;
    let mut c = Confusion::default();
    let class = |i: i64| CLASSES.get(i as usize).copied();
    for (g, p) in gold.into_iter().zip(predicted) {
        if let (Some(g), Some(p)) = (class(g), class(p)) {
            c.add(g, p);
        }
    }
    Ok(c)
}

fn snapshot(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    vs.variables()
        .into_iter()
        .map(|(n, t)| (n, t.detach().copy()))
        .collect()
}

fn restore(vs: &nn::VarStore, kept: &[(String, Tensor)]) {
    let mut vars = vs.variables();
    tch::no_grad(|| {
        for (name, value) in kept {
            if let Some(var) = vars.get_mut(name) {
                var.copy_(value);
            }
        }
    });
}
