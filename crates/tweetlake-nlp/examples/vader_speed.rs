//! Texts per second of VADER sentiment (what `promote silver` runs on every new tweet when the
//! NER model has no sentiment head or NER is off) over the bundled fixtures' tweet texts, on one
//! core: `cargo run --release -p tweetlake-nlp --example vader_speed` from the repository root.

use tweetlake_nlp::sentiment::SentimentScorer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut texts = Vec::new();
    for f in ["v1_mixed_tweets.jsonl", "v2_stream_messages.jsonl"] {
        for line in std::fs::read_to_string(format!("tests/fixtures/{f}"))?.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let text = v["text"].as_str().or(v["data"]["text"].as_str());
            texts.extend(text.map(str::to_string));
        }
    }
    let scorer = SentimentScorer::default();
    const ROUNDS: usize = 20;
    for round in 1..=3 {
        let started = std::time::Instant::now();
        let positive = (0..ROUNDS)
            .flat_map(|_| &texts)
            .filter(|t| scorer.score(t).score > 0.0)
            .count();
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "round {round}: {} texts ({positive} positive), {:.0} texts/s",
            texts.len() * ROUNDS,
            (texts.len() * ROUNDS) as f64 / seconds
        );
    }
    Ok(())
}
