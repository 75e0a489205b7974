//! NER throughput on a CoNLL file's sentences, tagged as raw text the way silver does:
//! `cargo run --release --features ner --example ner_speed -- MODEL_DIR FILE.conll|FILE.txt WORKERS [ROUNDS]`.
//! Prints sentences/s per round, so the first round's warm-up shows apart from steady state.

use std::path::Path;
use std::time::Instant;

use tweetlake_nlp::ner::conll::read_conll;
use tweetlake_nlp::ner::{LabelMap, NerModel};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, file, threads, rest @ ..] = args.as_slice() else {
        return Err("usage: ner_speed MODEL_DIR FILE.conll THREADS [ROUNDS]".into());
    };
    let rounds: usize = rest.first().map_or(Ok(3), |r| r.parse())?;
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
    let mut model = NerModel::load(Path::new(model), &labels, 32)?;
    model.set_workers(threads)?;
    for round in 1..=rounds {
        let started = Instant::now();
        let found: usize = model.entities(&texts)?.iter().map(Vec::len).sum();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "round {round}: {} texts in {secs:.2} s = {:.0} texts/s ({found} entities)",
            texts.len(),
            texts.len() as f64 / secs
        );
    }
    Ok(())
}
