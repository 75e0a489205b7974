//! NER throughput on a CoNLL file's sentences, tagged as raw text the way silver does:
//! `cargo run --release --features ner --example ner_speed -- MODEL_DIR FILE.conll|FILE.txt WORKERS
//! [ROUNDS [BATCH [float32|bfloat16 [none|vader|head]]]]` (defaults 3, 16, this CPU's native
//! precision, none). The last says what labels sentiment beside the entities: nothing, VADER over
//! every text (silver before the head), or the model's sentiment head in the same pass.
//! Prints texts/s per round, so the first round's warm-up shows apart from steady state, and
//! texts per CPU second, which stolen time on a shared machine does not disturb.

use std::path::Path;
use std::time::Instant;

use tweetlake_nlp::analysis::Analyzer;
use tweetlake_nlp::ner::conll::read_conll;
use tweetlake_nlp::ner::{LabelMap, Precision};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, file, threads, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: ner_speed MODEL_DIR FILE.conll WORKERS [ROUNDS [BATCH [PRECISION [SENTIMENT]]]]"
                .into(),
        );
    };
    let rounds: usize = rest.first().map_or(Ok(3), |r| r.parse())?;
    let batch: usize = rest.get(1).map_or(Ok(16), |b| b.parse())?;
    let precision = match rest.get(2).map(String::as_str) {
        None => Precision::native(),
        Some("float32") => Precision::Float32,
        Some("bfloat16") => Precision::BFloat16,
        Some(other) => return Err(format!("precision `{other}`: float32 or bfloat16").into()),
    };
    let sentiment = rest.get(3).map_or("none", String::as_str);
    if !matches!(sentiment, "none" | "vader" | "head") {
        return Err(format!("sentiment `{sentiment}`: none, vader or head").into());
    }
    let threads: usize = threads.parse()?;
    let labels = LabelMap::default();
    // A .txt file holds one text per line; anything else is CoNLL.
    let texts: Vec<String> = if file.ends_with(".txt") {
        std::fs::read_to_string(file)?
            .lines()
            .map(str::to_string)
            .collect()
    } else {
        read_conll(Path::new(file), &labels)?
            .into_iter()
            .map(|s| s.words.join(" "))
            .collect()
    };
    let mut model = Analyzer::load(Path::new(model), &labels, batch)?;
    if sentiment != "head" {
        model = model.without_sentiment();
    } else if model.sentiment_model().is_none() {
        return Err("the model directory has no sentiment head".into());
    }
    let vader = tweetlake_nlp::sentiment::SentimentScorer::default();
    model.set_precision(precision)?;
    model.set_workers(threads)?;
    println!("{threads} workers, batch {batch}, {precision}, sentiment {sentiment}");
    for round in 1..=rounds {
        let (started, cpu_before) = (Instant::now(), cpu_seconds());
        let analyses = model.analyse(&texts)?;
        let found: usize = analyses.iter().map(|a| a.entities.len()).sum();
        let positive = match sentiment {
            "vader" => texts
                .iter()
                .filter(|t| vader.score(t).score >= tweetlake_nlp::sentiment::THRESHOLD)
                .count(),
            _ => analyses
                .iter()
                .filter_map(|a| a.sentiment)
                .filter(|s| s.polarity == tweetlake_nlp::sentiment::Polarity::Positive)
                .count(),
        };
        let secs = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_before;
        println!(
            "round {round}: {} texts in {secs:.2} s = {:.0} texts/s, {cpu:.2} CPU s = {:.0} texts per CPU s ({found} entities, {positive} positive)",
            texts.len(),
            texts.len() as f64 / secs,
            texts.len() as f64 / cpu
        );
    }
    println!("peak RSS {}", peak_rss());
    Ok(())
}

/// The process's peak resident memory (`VmHWM` in /proc/self/status).
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map_or_else(|| "unknown".into(), |v| v.trim().to_string())
}

/// User + system CPU seconds this process has used (Linux `/proc/self/stat`), so a noisy
/// machine's stolen time shows apart from the work done.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<f64>().ok()))
        .sum();
    ticks / 100.0
}
