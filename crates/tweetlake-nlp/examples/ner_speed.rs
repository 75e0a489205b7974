//! NER throughput on a CoNLL file's sentences, tagged as raw text the way silver does:
//! `cargo run --release --features ner --example ner_speed -- MODEL_DIR FILE.conll|FILE.txt WORKERS
//! [ROUNDS [BATCH [float32|bfloat16]]]` (defaults 3, 16, this CPU's native precision).
//! Prints texts/s per round, so the first round's warm-up shows apart from steady state, and
//! texts per CPU second, which stolen time on a shared machine does not disturb.

use std::path::Path;
use std::time::Instant;

use tweetlake_nlp::ner::conll::read_conll;
use tweetlake_nlp::ner::{LabelMap, NerModel, Precision};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, file, threads, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: ner_speed MODEL_DIR FILE.conll WORKERS [ROUNDS [BATCH [PRECISION]]]".into(),
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
    let mut model = NerModel::load(Path::new(model), &labels, batch)?;
    model.set_precision(precision)?;
    model.set_workers(threads)?;
    println!("{threads} workers, batch {batch}, {precision}");
    for round in 1..=rounds {
        let (started, cpu_before) = (Instant::now(), cpu_seconds());
        let found: usize = model.entities(&texts)?.iter().map(Vec::len).sum();
        let secs = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_before;
        println!(
            "round {round}: {} texts in {secs:.2} s = {:.0} texts/s, {cpu:.2} CPU s = {:.0} texts per CPU s ({found} entities)",
            texts.len(),
            texts.len() as f64 / secs,
            texts.len() as f64 / cpu
        );
    }
    Ok(())
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
