//! `tweetlake sentiment eval`: scores the sentiment method silver uses (VADER) on labelled tweets.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use tweetlake_nlp::sentiment::eval::{parse_label, Confusion};
use tweetlake_nlp::sentiment::{self, Polarity, SentimentScorer};

/// How a file gives each tweet's text.
enum TextColumn {
    /// Verbatim, as SemEval's files hold it.
    Plain,
    /// A JSON string (the test fixtures', which keep newlines and tabs intact).
    Json,
}

/// (label, text) of every row of `path`, or the first problem with its line.
fn read_labelled(path: &Path) -> Result<Vec<(Polarity, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, l)| l.split('\t').collect())
        .unwrap_or_default();
    let column = match header.as_slice() {
        [_, "label", "text"] => TextColumn::Plain,
        [_, "label", "text_json"] => TextColumn::Json,
        _ => bail!(
            "{}:1: expected a header `id<TAB>label<TAB>text` (or `text_json`), found {:?}",
            path.display(),
            header.join("\t")
        ),
    };
    let mut rows = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), i + 1);
        let mut cols = line.splitn(3, '\t');
        let (Some(_id), Some(label), Some(raw)) = (cols.next(), cols.next(), cols.next()) else {
            bail!("{}: expected three tab-separated columns", at());
        };
        let Some(label) = parse_label(label) else {
            bail!(
                "{}: label {label:?} is not positive, neutral or negative",
                at()
            );
        };
        let text = match column {
            TextColumn::Plain => raw.to_string(),
            TextColumn::Json => serde_json::from_str(raw)
                .with_context(|| format!("{}: text_json is not a JSON string", at()))?,
        };
        rows.push((label, text));
    }
    Ok(rows)
}

pub fn eval(files: &[PathBuf]) -> Result<()> {
    let scorer = SentimentScorer::default();
    for file in files {
        let rows = read_labelled(file)?;
        let started = std::time::Instant::now();
        let mut confusion = Confusion::default();
        for (gold, text) in &rows {
            confusion.add(*gold, scorer.score(text).polarity);
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{} ({} {})\n{confusion}scored {} tweets in {seconds:.2} s\n",
            file.display(),
            sentiment::METHOD,
            sentiment::VERSION,
            rows.len()
        );
    }
    Ok(())
}
