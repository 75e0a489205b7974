//! `tweetlake ner train|eval|tag`: builds and checks the NER model that silver uses.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tweetlake_core::config::Config;
use tweetlake_nlp::analysis::Analyzer;
use tweetlake_nlp::ner::conll::read_conll;
use tweetlake_nlp::ner::hub::resolve_model;
use tweetlake_nlp::ner::manifest::Hyper;
use tweetlake_nlp::ner::{self, LabelMap, TrainOptions};

use crate::cli::{NerAction, NerTrainArgs};

pub async fn run(config: &Config, action: NerAction) -> Result<()> {
    match action {
        NerAction::Train(args) => {
            let labels = label_map(config, args.labels.as_deref())?;
            train(config, &labels, args)
        }
        NerAction::Eval {
            files,
            model,
            labels,
        } => {
            let labels = label_map(config, labels.as_deref())?;
            let model = load(config, &labels, model).await?;
            eval(model, &labels, &files)
        }
        NerAction::Tag { texts, model } => {
            let labels = label_map(config, None)?;
            let model = load(config, &labels, model).await?;
            tag(model, &texts)
        }
    }
}

/// [silver.ner.labels], with a `--labels` file's names over it (a corpus with its own types,
/// such as WNUT-16's, is scored or trained on without touching the config).
pub(crate) fn label_map(config: &Config, file: Option<&Path>) -> Result<LabelMap> {
    let mut names = config.silver.ner.labels.clone();
    if let Some(file) = file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading --labels {}", file.display()))?;
        let more: std::collections::BTreeMap<String, String> =
            toml::from_str(&text).with_context(|| {
                format!(
                    "--labels {}: expected `type = \"PER\"` lines (PER, ORG, LOC, MISC or \"\")",
                    file.display()
                )
            })?;
        names.extend(more);
    }
    LabelMap::from_names(&names).context(match file {
        Some(f) => format!("--labels {} or silver.ner.labels", f.display()),
        None => "silver.ner.labels".to_string(),
    })
}

/// The training output: `--out`, else silver.ner.model (which must then be a directory).
fn out_dir(config: &Config, flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(&config.silver.ner.model))
}

pub(crate) async fn load(
    config: &Config,
    labels: &LabelMap,
    flag: Option<String>,
) -> Result<Analyzer> {
    let ner = &config.silver.ner;
    let spec = flag.unwrap_or_else(|| ner.model.clone());
    let dir = resolve_model(&spec, &ner.hub_url, Path::new(&ner.hub_cache))
        .await
        .with_context(|| format!("resolving the NER model `{spec}`"))?;
    let mut model = Analyzer::load(&dir, labels, ner.batch_size)
        .with_context(|| format!("loading the NER model in {}", dir.display()))?;
    model.set_precision(tweetlake_silver::enrich::precision(ner.precision))?;
    model.set_workers(ner.threads)?;
    Ok(model)
}

fn train(config: &Config, labels: &LabelMap, a: NerTrainArgs) -> Result<()> {
    let out = out_dir(config, a.out.as_deref());
    let opts = TrainOptions {
        base: a.base,
        train: a.data,
        out: out.clone(),
        id: a.id,
        version: a.version,
        hyper: Hyper {
            epochs: a.epochs,
            batch_size: a.batch_size,
            learning_rate: a.learning_rate,
            warmup_fraction: a.warmup,
            weight_decay: a.weight_decay,
            max_len: a.max_len,
            seed: a.seed,
            layers: a.layers,
            mentions_as_entities: a.mentions_as_entities,
            case_embeddings: a.case_embeddings,
        },
        threads: a.threads.unwrap_or(config.silver.ner.threads),
        dev: a.dev,
    };
    let on_terminal = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let info = ner::train(&opts, labels, |p| {
        let every = if on_terminal { 1 } else { 50 };
        if p.step % every == 0 || p.step == p.steps {
            let line = format!(
                "epoch {} step {}/{} loss {:.4} ({:.0}s)",
                p.epoch + 1,
                p.step,
                p.steps,
                p.loss,
                started.elapsed().as_secs_f64()
            );
            if on_terminal {
                eprint!("\r{line}   ");
            } else {
                tracing::info!("{line}");
            }
        }
    })
    .with_context(|| format!("training into {}", out.display()))?;
    if on_terminal {
        eprintln!();
    }
    println!(
        "wrote {} ({} v{}, weights sha256 {})",
        out.display(),
        info.id,
        info.version,
        info.weights_sha256
    );
    Ok(())
}

/// Both scores of each file: what silver would store (the number users get) and, for
/// comparison with published token-level results, the CoNLL word-level score.
fn eval(model: Analyzer, labels: &LabelMap, files: &[PathBuf]) -> Result<()> {
    let mut model = model.into_model();
    for file in files {
        let sentences = read_conll(file, labels)?;
        let started = std::time::Instant::now();
        let as_silver = ner::score_as_silver(&mut model, &sentences)?;
        let seconds = started.elapsed().as_secs_f64();
        let words = ner::score(&mut model, &sentences)?;
        println!("{} ({})", file.display(), model.precision());
        println!(
            "as silver stores it (exact character span and type, @mentions left out):\n{as_silver}"
        );
        println!("word level (CoNLL, @mentions included):\n{words}");
        println!(
            "tagged {} sentences as silver in {seconds:.2} s ({:.0} sentences/s)\n",
            sentences.len(),
            sentences.len() as f64 / seconds
        );
    }
    Ok(())
}

fn tag(mut model: Analyzer, texts: &[String]) -> Result<()> {
    for (text, found) in texts.iter().zip(model.analyse(texts)?) {
        println!("{text}");
        if let Some(s) = found.sentiment {
            println!("  sentiment {} {:+.3}", s.polarity.as_str(), s.score);
        }
        for e in found.entities {
            println!(
                "  {:<5} {:>4}..{:<4} {:.3}  {}",
                e.label, e.start, e.end, e.score, e.text
            );
        }
    }
    Ok(())
}
