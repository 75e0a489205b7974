//! Texts per second of entity extraction from tweet text (what silver runs on every tweet whose
//! payload carries no `entities`), over the bundled fixtures' texts, on one core, beside the
//! grammar run over the whole text once per kind (how silver extracted before):
//! `cargo run --release -p tweetlake-twitter --example extract_speed` from the repository root
//! (docs/benchmarks.md). `-- --one-pass` leaves the old way out (for a profiler).

use twitter_text::extractor::{Extract, Extractor};

fn texts() -> std::io::Result<Vec<String>> {
    let mut texts = Vec::new();
    for f in [
        "v1_mixed_tweets.jsonl",
        "v1_stream_capture.jsonl",
        "v2_stream_messages.jsonl",
    ] {
        let file = std::fs::read_to_string(format!("tests/fixtures/{f}"))?;
        for line in file.lines() {
            let Ok(message) = tweetlake_twitter::parse_message(line.as_bytes()) else {
                continue;
            };
            if let tweetlake_twitter::Message::Tweet(t) = message {
                texts.push(t.text);
            }
        }
    }
    Ok(texts)
}

/// The grammar over the whole text once per kind.
fn per_kind(text: &str) -> usize {
    let x = Extractor::new();
    x.extract_hashtags(text).len()
        + x.extract_mentioned_screennames_with_indices(text).len()
        + x.extract_urls_with_indices(text).len()
        + x.extract_cashtags(text).len()
}

fn one_pass(text: &str) -> usize {
    let e = tweetlake_twitter::extract_entities(text);
    e.hashtags.len() + e.mentions.len() + e.urls.len() + e.cashtags.len()
}

/// Times `rounds` passes over `texts` on a thread of its own: each call starts with the word cache
/// of a fresh thread, so only repeats within these real texts (and later rounds) hit it.
fn measure(name: &str, texts: &[String], rounds: usize, extract: fn(&str) -> usize) {
    let (found, seconds) = std::thread::scope(|s| {
        s.spawn(|| {
            let started = std::time::Instant::now();
            let found: usize = (0..rounds).flat_map(|_| texts).map(|t| extract(t)).sum();
            (found, started.elapsed().as_secs_f64())
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    });
    let n = texts.len() * rounds;
    println!(
        "{name}: {n} texts, {found} entities, {:.0} texts/s, {:.1} µs per text",
        n as f64 / seconds,
        seconds * 1e6 / n as f64
    );
}

fn main() -> std::io::Result<()> {
    let texts = texts()?;
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    println!(
        "{} tweet texts, {:.0} characters on average",
        texts.len(),
        chars as f64 / texts.len() as f64
    );
    let baseline = std::env::args().all(|a| a != "--one-pass");
    for round in 1..=3 {
        println!("round {round}");
        if baseline {
            measure("  whole text, once per kind", &texts, 2, per_kind);
        }
        measure(
            "  one pass over candidate words, first pass",
            &texts,
            1,
            one_pass,
        );
        measure(
            "  one pass over candidate words, 20 passes",
            &texts,
            20,
            one_pass,
        );
    }
    Ok(())
}
