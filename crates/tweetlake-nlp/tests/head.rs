//! `sentiment train` on the shipped NER model's encoder, with data the test writes itself (the
//! SemEval tweets the shipped head learns from may not be redistributed): the head lands beside
//! the model, loads with it, labels held-out sentences in the same pass as their entities,
//! trains to the same bytes twice, and refuses an encoder it was not trained on.

// Helpers of a test may panic on what the test itself set up (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "ner")]

use std::path::{Path, PathBuf};

use tweetlake_nlp::analysis::Analyzer;
use tweetlake_nlp::ner::manifest::Manifest;
use tweetlake_nlp::ner::{EntityLabel, LabelMap};
use tweetlake_nlp::sentiment::head_manifest::{
    encoder_recipe, install, HeadHyper, HeadManifest, HEAD_MANIFEST_FILE, HEAD_WEIGHTS_FILE,
};
use tweetlake_nlp::sentiment::labelled::Labelled;
use tweetlake_nlp::sentiment::{train_head, HeadTrainOptions, LabelledFile, Polarity};

fn shipped() -> PathBuf {
    let dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../models/tweetlake-ner");
    assert!(
        dir.join("model.safetensors").exists(),
        "no model at {}: run scripts/setup-ner.sh",
        dir.display()
    );
    dir
}

/// A model directory holding the shipped encoder (linked, not copied) and no head.
fn encoder_only(dir: &Path) -> PathBuf {
    let out = dir.join("model");
    std::fs::create_dir_all(&out).unwrap();
    for name in [
        "config.json",
        "model.safetensors",
        "vocab.txt",
        "tweetlake-ner.json",
    ] {
        std::os::unix::fs::symlink(shipped().join(name), out.join(name)).unwrap();
    }
    out
}

const SUBJECTS: [&str; 8] = [
    "the new phone",
    "this movie",
    "my flight",
    "the concert",
    "the update",
    "our hotel",
    "the game last night",
    "this album",
];
const POSITIVE: [&str; 5] = [
    "I love {}, absolutely wonderful!",
    "{} was amazing, best day ever",
    "So happy with {} :)",
    "{} is great, thank you so much",
    "Really excited about {}, awesome",
];
const NEGATIVE: [&str; 5] = [
    "I hate {}, absolutely terrible!",
    "{} was awful, worst day ever",
    "So angry about {} :(",
    "{} is horrible, what a disappointment",
    "Really sick of {}, it ruined everything",
];
const NEUTRAL: [&str; 5] = [
    "{} starts at 7pm on Tuesday",
    "Details about {} are on page 4",
    "{} moved to gate 12",
    "A report on {} comes out tomorrow",
    "{} is listed under section B",
];

/// Every template with every subject in `subjects`, labelled by its template's class.
fn rows(subjects: &[&str]) -> Vec<Labelled> {
    let mut out = Vec::new();
    for s in subjects {
        for (label, templates) in [
            (Polarity::Positive, POSITIVE),
            (Polarity::Negative, NEGATIVE),
            (Polarity::Neutral, NEUTRAL),
        ] {
            for t in templates {
                out.push(Labelled {
                    label,
                    text: t.replace("{}", s),
                });
            }
        }
    }
    out
}

fn write(dir: &Path, name: &str, rows: Vec<Labelled>) -> LabelledFile {
    let path = dir.join(name);
    let body: String = rows
        .iter()
        .map(|r| format!("x\t{}\t{}\n", r.label.as_str(), r.text))
        .collect();
    std::fs::write(&path, format!("id\tlabel\ttext\n{body}")).unwrap();
    LabelledFile { path, rows }
}

fn options(dir: &Path, out: PathBuf) -> HeadTrainOptions {
    HeadTrainOptions {
        id: "test-head".into(),
        version: "0".into(),
        hyper: HeadHyper {
            epochs: 30,
            batch_size: 16,
            ..HeadHyper::default()
        },
        train: vec![write(dir, "train.tsv", rows(&SUBJECTS[..6]))],
        dev: vec![write(dir, "dev.tsv", rows(&SUBJECTS[6..]))],
        out,
        cache: Some(dir.join("vectors")),
    }
}

fn load(dir: &Path) -> Result<Analyzer, tweetlake_nlp::NlpError> {
    Analyzer::load(dir, &LabelMap::default(), 16)
}

#[test]
fn a_trained_head_labels_in_the_entity_pass_and_retrains_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let model_dir = encoder_only(tmp.path());
    let opts = options(tmp.path(), model_dir.clone());
    let mut encoder = load(&model_dir).unwrap();
    assert!(encoder.sentiment_model().is_none());
    let manifest = train_head(encoder.model_mut(), &model_dir, &opts, |_| {}).unwrap();
    assert_eq!(manifest.train_data[0].sentences, 90);
    assert_eq!(manifest.dev_scores[0].data.sentences, 30);
    assert!(manifest.chosen_epoch >= 1 && manifest.chosen_epoch <= 30);
    assert!(
        manifest.dev_scores[0].macro_recall >= 0.9,
        "held-out subjects: {:?}",
        manifest.dev_scores
    );
    assert!(tmp.path().join("vectors").read_dir().unwrap().count() == 2);

    let mut model = load(&model_dir).unwrap();
    let info = model.sentiment_model().cloned().unwrap();
    assert_eq!(info.id, "test-head");
    assert_eq!(info.weights_sha256, manifest.weights_sha256);
    let texts = [
        "Barack Obama is great, thank you so much",
        "The flight to London is horrible, what a disappointment",
        "The flight to London starts at 7pm on Tuesday",
    ];
    let got = model.analyse(&texts).unwrap();
    let polarity: Vec<Polarity> = got.iter().map(|a| a.sentiment.unwrap().polarity).collect();
    assert_eq!(
        polarity,
        [Polarity::Positive, Polarity::Negative, Polarity::Neutral]
    );
    for a in &got {
        let s = a.sentiment.unwrap().score;
        assert!((-1.0..=1.0).contains(&s), "{s}");
    }
    assert!(got[0].sentiment.unwrap().score > 0.0 && got[1].sentiment.unwrap().score < 0.0);
    // The same pass tagged the entities, as the entity-only call does.
    assert!(got[0]
        .entities
        .iter()
        .any(|e| e.text == "Barack Obama" && e.label == EntityLabel::Per));
    assert_eq!(
        got.iter().map(|a| a.entities.clone()).collect::<Vec<_>>(),
        model.model_mut().entities(&texts).unwrap()
    );

    // Same data, seed and (cached) vectors: the same head, byte for byte.
    let again = tmp.path().join("again");
    let second = train_head(
        encoder.model_mut(),
        &model_dir,
        &options(tmp.path(), again.clone()),
        |_| {},
    )
    .unwrap();
    assert_eq!(second.weights_sha256, manifest.weights_sha256);
    assert_eq!(
        std::fs::read(again.join(HEAD_WEIGHTS_FILE)).unwrap(),
        std::fs::read(model_dir.join(HEAD_WEIGHTS_FILE)).unwrap()
    );
}

#[test]
fn a_head_for_another_encoder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let model_dir = encoder_only(tmp.path());
    let head_dir = tmp.path().join("head");
    let mut encoder = load(&model_dir).unwrap();
    // With a hidden layer this time: it saves and loads too.
    let mut opts = options(tmp.path(), head_dir.clone());
    opts.hyper.hidden = 16;
    train_head(encoder.model_mut(), &model_dir, &opts, |_| {}).unwrap();
    install(&head_dir, &model_dir).unwrap();
    assert!(load(&model_dir).unwrap().sentiment_model().is_some());

    // A head whose manifest names another encoder recipe neither installs nor loads.
    let mut other = HeadManifest::read(&head_dir).unwrap().unwrap();
    other.encoder_recipe = "0".repeat(64);
    other.write(&head_dir).unwrap();
    let err = install(&head_dir, &model_dir).unwrap_err().to_string();
    assert!(err.contains("trained on encoder recipe 0000"), "{err}");
    other.write(&model_dir).unwrap();
    let err = load(&model_dir).err().unwrap().to_string();
    assert!(
        err.contains("retrain it with `tweetlake sentiment train`"),
        "{err}"
    );

    // Weights that are not the manifest's are refused too.
    let mut tampered = other.clone();
    tampered.encoder_recipe = encoder_recipe(&Manifest::read(&model_dir).unwrap().unwrap());
    tampered.weights_sha256 = "f".repeat(64);
    tampered.write(&model_dir).unwrap();
    let err = load(&model_dir).err().unwrap().to_string();
    assert!(err.contains("is not the manifest's ffff"), "{err}");
    assert!(model_dir.join(HEAD_MANIFEST_FILE).exists());
}
