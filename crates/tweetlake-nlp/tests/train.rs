//! `ner train` on a small slice of real data: the options reach the model directory. Uses the
//! base encoder scripts/setup-libtorch.sh unpacks under $TWEETLAKE_HOME.

// Helpers of a test may panic on what the test itself set up (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "ner")]

use std::path::PathBuf;

use tweetlake_nlp::ner::conll::read_conll;
use tweetlake_nlp::ner::manifest::{Hyper, Manifest};
use tweetlake_nlp::ner::{self, LabelMap, NerModel, TrainOptions};

fn base() -> PathBuf {
    let home = std::env::var_os("TWEETLAKE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/tweetlake"));
    let dir = home.join("models/all-minilm-l6-v2");
    assert!(
        dir.join("model.safetensors").exists(),
        "no base encoder at {}: run scripts/setup-libtorch.sh",
        dir.display()
    );
    dir
}

/// The first `n` sentences of WNUT-17 train, as a CoNLL file.
fn slice(dir: &std::path::Path, n: usize) -> PathBuf {
    let repo = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..");
    let text = std::fs::read_to_string(repo.join("tests/fixtures/ner/wnut17-train.conll")).unwrap();
    // Sentences end at a blank line (WNUT-17's hold a lone tab).
    let mut out = String::new();
    let mut sentences = 0;
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        if line.trim().is_empty() {
            sentences += 1;
            if sentences == n {
                break;
            }
        }
    }
    let path = dir.join("slice.conll");
    std::fs::write(&path, out).unwrap();
    path
}

fn options(dir: &std::path::Path, layers: Option<usize>) -> TrainOptions {
    let data = slice(dir, 48);
    TrainOptions {
        base: base(),
        train: vec![data.clone()],
        out: dir.join("model"),
        id: "tiny".into(),
        version: "0".into(),
        hyper: Hyper {
            epochs: 1,
            batch_size: 16,
            learning_rate: 1e-4,
            warmup_fraction: 0.1,
            weight_decay: 0.01,
            max_len: 64,
            seed: 3,
            layers,
            mentions_as_entities: false,
            case_embeddings: false,
        },
        threads: 2,
        dev: vec![data],
    }
}

#[test]
fn a_model_with_fewer_layers_is_written_and_loads() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), Some(2));
    let mut steps = 0;
    let info = ner::train(&opts, &LabelMap::default(), |_| steps += 1).unwrap();
    assert_eq!(steps, 3, "48 sentences in batches of 16");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(opts.out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["num_hidden_layers"], 2);
    let manifest = Manifest::read(&opts.out).unwrap().unwrap();
    assert_eq!(manifest.hyper.layers, Some(2));
    assert_eq!(manifest.weights_sha256, info.weights_sha256);
    assert_eq!(manifest.train_data[0].sentences, 48);
    // It loads as a 2-layer model (a 6-layer config would not match the saved weights) and tags.
    let mut model = NerModel::load(&opts.out, &LabelMap::default(), 16).unwrap();
    let tagged = model.tag_words(&[vec!["LeBron", "scored", "40"]]).unwrap();
    assert_eq!(tagged[0].len(), 3);
    // The manifest records the model's score on the dev file, as `ner eval` computes it.
    let [dev] = manifest.dev_scores.as_slice() else {
        panic!("{:?}", manifest.dev_scores)
    };
    assert_eq!(
        (dev.data.file.as_str(), dev.data.sentences),
        ("slice.conll", 48)
    );
    model.set_workers(2).unwrap();
    let sentences = read_conll(&opts.dev[0], &LabelMap::default()).unwrap();
    let now = ner::score_as_silver(&mut model, &sentences)
        .unwrap()
        .overall();
    assert!((now.f1() - dev.f1).abs() < 1e-9, "{} vs {dev:?}", now.f1());
    assert_eq!(dev.data, manifest.train_data[0], "the same file");
}

#[test]
fn more_layers_than_the_base_has_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = ner::train(&options(dir.path(), Some(7)), &LabelMap::default(), |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("--layers 7: the base has 6 layers"), "{err}");
    assert!(!dir.path().join("model").exists());
}
