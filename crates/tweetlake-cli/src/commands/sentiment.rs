//! `tweetlake sentiment train|eval`: fits silver's sentiment head on the NER model's encoder and
//! scores a sentiment method on labelled tweets, their text cleaned as silver cleans it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tweetlake_core::config::{Config, SentimentMethod};
use tweetlake_nlp::analysis::Analyzer;
use tweetlake_nlp::sentiment::eval::Confusion;
use tweetlake_nlp::sentiment::head_manifest::HeadHyper;
use tweetlake_nlp::sentiment::labelled::{read_labelled, Labelled};
use tweetlake_nlp::sentiment::{self, HeadTrainOptions, LabelledFile, SentimentScorer};
use tweetlake_silver::enrich::{method_name, sentiment_from_head};

use crate::cli::{SentimentAction, SentimentMethodArg, SentimentTrainArgs};

pub async fn run(config: &Config, action: SentimentAction) -> Result<()> {
    match action {
        SentimentAction::Eval {
            files,
            method,
            model,
        } => {
            let method = method.map_or(config.silver.sentiment.method, |m| match m {
                SentimentMethodArg::Auto => SentimentMethod::Auto,
                SentimentMethodArg::Model => SentimentMethod::Model,
                SentimentMethodArg::Vader => SentimentMethod::Vader,
            });
            eval(config, &files, method, model).await
        }
        SentimentAction::Train(args) => train(config, args).await,
        SentimentAction::Install { head, model } => {
            let model = model.unwrap_or_else(|| PathBuf::from(&config.silver.ner.model));
            let installed = tweetlake_nlp::sentiment::head_manifest::install(&head, &model)?;
            println!(
                "installed {} v{} into {} (trained on {}, weights sha256 {})",
                installed.id,
                installed.version,
                model.display(),
                installed.encoder.id,
                installed.weights_sha256
            );
            Ok(())
        }
    }
}

/// The rows of `path` with their text cleaned as silver cleans a tweet's.
fn read_cleaned(path: &Path) -> Result<LabelledFile> {
    let rows = read_labelled(path)?
        .into_iter()
        .map(|r| Labelled {
            label: r.label,
            text: tweetlake_twitter::clean_text(&r.text),
        })
        .collect();
    Ok(LabelledFile {
        path: path.to_path_buf(),
        rows,
    })
}

async fn load_model(config: &Config, dir: Option<String>) -> Result<Analyzer> {
    let labels = super::ner::label_map(config, None)?;
    super::ner::load(config, &labels, dir).await
}

async fn eval(
    config: &Config,
    files: &[PathBuf],
    method: SentimentMethod,
    model: Option<String>,
) -> Result<()> {
    let mut model = match method {
        SentimentMethod::Vader => None,
        _ => Some(load_model(config, model).await?),
    };
    let by_head = sentiment_from_head(method, model.as_ref())?;
    let scorer = SentimentScorer::default();
    let name = method_name(
        model
            .as_ref()
            .and_then(|m| m.sentiment_model())
            .filter(|_| by_head),
    );
    for file in files {
        let file = read_cleaned(file)?;
        let started = std::time::Instant::now();
        let texts: Vec<&str> = file.rows.iter().map(|r| r.text.as_str()).collect();
        let predicted = match model.as_mut().filter(|_| by_head) {
            Some(m) => m
                .analyse(&texts)?
                .into_iter()
                .map(|a| a.sentiment.map(|s| s.polarity))
                .collect::<Option<Vec<_>>>()
                .context("the sentiment head gave no label")?,
            None => texts.iter().map(|t| scorer.score(t).polarity).collect(),
        };
        let seconds = started.elapsed().as_secs_f64();
        let mut confusion = Confusion::default();
        for (row, p) in file.rows.iter().zip(predicted) {
            confusion.add(row.label, p);
        }
        println!(
            "{} ({name})\n{confusion}scored {} tweets in {seconds:.2} s\n",
            file.path.display(),
            file.rows.len()
        );
    }
    Ok(())
}

async fn train(config: &Config, a: SentimentTrainArgs) -> Result<()> {
    let model_dir = a
        .model
        .clone()
        .unwrap_or_else(|| PathBuf::from(&config.silver.ner.model));
    let mut model = load_model(config, Some(model_dir.display().to_string()))
        .await?
        .into_model();
    let opts = HeadTrainOptions {
        id: a.id,
        version: a.version,
        hyper: HeadHyper {
            epochs: a.epochs,
            batch_size: a.batch_size,
            learning_rate: a.learning_rate,
            weight_decay: a.weight_decay,
            hidden: a.hidden,
            vader_features: !a.no_vader_features,
            seed: a.seed,
        },
        train: a
            .data
            .iter()
            .map(|p| read_cleaned(p))
            .collect::<Result<_>>()?,
        dev: a
            .dev
            .iter()
            .map(|p| read_cleaned(p))
            .collect::<Result<_>>()?,
        out: a.out.unwrap_or_else(|| model_dir.clone()),
        cache: a.cache,
    };
    let on_terminal = std::io::stderr().is_terminal();
    let manifest = sentiment::train_head(&mut model, &model_dir, &opts, |line| {
        if on_terminal {
            eprintln!("{line}");
        } else {
            tracing::info!("{line}");
        }
    })
    .with_context(|| format!("training a sentiment head into {}", opts.out.display()))?;
    for d in &manifest.dev_scores {
        println!(
            "{}: macro-recall {:.4}  accuracy {:.4}",
            d.data.file, d.macro_recall, d.accuracy
        );
    }
    println!(
        "wrote {} ({} v{}, epoch {} of {}, weights sha256 {})",
        opts.out.display(),
        manifest.id,
        manifest.version,
        manifest.chosen_epoch,
        manifest.hyper.epochs,
        manifest.weights_sha256
    );
    Ok(())
}
