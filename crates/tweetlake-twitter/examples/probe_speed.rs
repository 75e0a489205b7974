//! Messages per second of the envelope probe (what `ingest` and `produce` run on every message)
//! over the bundled fixtures, on one core: `cargo run --release -p tweetlake-twitter --example
//! probe_speed` from the repository root (docs/benchmarks.md). `-- --parse` times the full parse
//! instead (what `promote silver` runs on every bronze row: typed tweet, cleaned text, entities).

fn main() -> std::io::Result<()> {
    let mut lines = Vec::new();
    for f in [
        "v1_mixed_tweets.jsonl",
        "v1_stream_capture.jsonl",
        "v2_stream_messages.jsonl",
    ] {
        let text = std::fs::read_to_string(format!("tests/fixtures/{f}"))?;
        lines.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string),
        );
    }
    let parse = std::env::args().any(|a| a == "--parse");
    let read: fn(&str) -> bool = match parse {
        true => |l| tweetlake_twitter::parse_message(l.as_bytes()).is_ok(),
        false => |l| tweetlake_twitter::probe_str(l).is_ok(),
    };
    let bytes: usize = lines.iter().map(String::len).sum();
    const ROUNDS: usize = 50;
    for round in 1..=3 {
        let started = std::time::Instant::now();
        let read_ok = (0..ROUNDS).flat_map(|_| &lines).filter(|l| read(l)).count();
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "round {round}: {read_ok} messages, {:.0} messages/s, {:.0} MB/s",
            read_ok as f64 / seconds,
            (bytes * ROUNDS) as f64 / seconds / 1e6
        );
    }
    Ok(())
}
