//! Twitter's own conformance suite (twitter-text `conformance/extract.yml`, converted to JSON
//! verbatim): every hashtag, mention, URL and cashtag case, values and indices. Its `replies`
//! and `mentions_or_lists` sections are about reply detection and list slugs, which the lake does
//! not store.

use serde_json::Value;
use twitter_text::extractor::Extract as _;

use super::*;

const SUITE: &str = include_str!("../../../../tests/fixtures/twitter-text/extract.json");

type KindExtractor = fn(&str) -> Vec<Extracted>;

fn run(section: &str, extract: KindExtractor, key: &str) -> usize {
    let suite: Value = serde_json::from_str(SUITE).unwrap();
    let cases = suite[section]
        .as_array()
        .unwrap_or_else(|| panic!("no section {section}"));
    let mut failures = Vec::new();
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let got = extract(text);
        let ok = match case["expected"].as_array().unwrap().first() {
            Some(Value::Object(_)) => {
                let want: Vec<(String, usize, usize)> = case["expected"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        let at = |i: usize| e["indices"][i].as_u64().unwrap() as usize;
                        (e[key].as_str().unwrap().to_string(), at(0), at(1))
                    })
                    .collect();
                let got: Vec<_> = got
                    .iter()
                    .map(|e| (e.value.clone(), e.start, e.end))
                    .collect();
                got == want
            }
            _ => {
                let want: Vec<&str> = case["expected"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect();
                got.iter().map(|e| e.value.as_str()).collect::<Vec<_>>() == want
            }
        };
        if !ok {
            failures.push(format!("{}: {text:?} -> {got:?}", case["description"]));
        }
    }
    assert!(
        failures.is_empty(),
        "{section}: {} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    cases.len()
}

#[test]
fn hashtags() {
    let n = run("hashtags", extract_hashtags, "hashtag")
        + run("hashtags_from_astral", extract_hashtags, "hashtag")
        + run("hashtags_with_indices", extract_hashtags, "hashtag");
    assert_eq!(n, 76);
}

#[test]
fn mentions() {
    let n = run("mentions", extract_mentions, "screen_name")
        + run("mentions_with_indices", extract_mentions, "screen_name");
    assert_eq!(n, 26);
}

#[test]
fn urls() {
    let n = run("urls", extract_urls, "url")
        + run("urls_with_indices", extract_urls, "url")
        + run("urls_with_directional_markers", extract_urls, "url")
        + run("tco_urls_with_params", extract_urls, "url");
    assert_eq!(n, 108);
}

#[test]
fn cashtags() {
    let n = run("cashtags", extract_cashtags, "cashtag")
        + run("cashtags_with_indices", extract_cashtags, "cashtag");
    assert_eq!(n, 10);
}

/// The per-word parse against the grammar over the whole text, kind by kind: what the lake did
/// before it parsed per word, and what twitter-text itself answers.
fn whole_text(text: &str) -> TextEntities {
    let kind = |t: Type| -> Vec<Extracted> {
        Extractor::new()
            .extract(text, is_entity)
            .into_iter()
            .filter(|e| e.get_type() == t)
            .map(|e| Extracted {
                value: e.get_value().to_string(),
                start: e.get_start().max(0) as usize,
                end: e.get_end().max(0) as usize,
            })
            .collect()
    };
    let mut urls = kind(Type::URL);
    drop_words_run_into_domains(text, &mut urls);
    TextEntities {
        hashtags: kind(Type::HASHTAG),
        mentions: kind(Type::MENTION),
        urls,
        cashtags: kind(Type::CASHTAG),
    }
}

/// Every string under a `text` or `full_text` key, at any depth.
fn texts(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("text" | "full_text", Value::String(s)) => out.push(s.clone()),
                    _ => texts(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| texts(v, out)),
        _ => {}
    }
}

#[test]
fn per_word_parsing_answers_as_the_whole_text_does() {
    let fixtures = [
        include_str!("../../../../tests/fixtures/v1_mixed_tweets.jsonl"),
        include_str!("../../../../tests/fixtures/v1_stream_capture.jsonl"),
        include_str!("../../../../tests/fixtures/v2_stream_messages.jsonl"),
        include_str!("../../../../tests/fixtures/places_v1.jsonl"),
    ];
    let mut all = Vec::new();
    for line in fixtures.iter().flat_map(|f| f.lines()) {
        if let Ok(value) = serde_json::from_str::<Value>(line) {
            texts(&value, &mut all);
        }
    }
    texts(&serde_json::from_str(SUITE).unwrap(), &mut all);
    // Whitespace of every ASCII kind beside each entity kind, at the start and the end.
    let edges = [
        "RT:@jack hi",
        "rt @jack",
        // After whitespace, not at the start: no reply-style mention.
        "x rt@jack a\nRT:@b",
        " RT @jack: x",
        "\t#tag\n#tag2\r\n$AAPL\x0b@a\x0cx.com",
        "a.com\u{3000}b.com c.co\u{a0}#d",
        "#tag",
        "@",
        "  ",
        "x@y.com y.com-z @a@b $A.b\t http://[2001:db8::1]/p",
        "ñ#tag ü@user",
        "#\u{fe0f}\u{20e3} 1\u{fe0f}\u{20e3}#tag",
    ];
    all.extend(edges.iter().map(|s| s.to_string()));
    let mut with_entities = 0;
    for text in &all {
        let got = extract_entities(text);
        assert_eq!(got, whole_text(text), "{text:?}");
        with_entities += usize::from(got != TextEntities::default());
    }
    // The comparison covers texts with entities of every kind, not only empty answers.
    assert!(all.len() > 1_000, "{} texts", all.len());
    assert!(with_entities > 500, "{with_entities} texts with entities");
}

#[test]
fn remembered_words_answer_at_their_new_offsets() {
    let text = "RT @jack: #rust and $AAPL at https://t.co/abc123 ok";
    let first = extract_entities(text);
    // The same words again, later in another text: answers come from the cache, shifted.
    let shifted = format!("ñü {text}");
    let again = extract_entities(&shifted);
    assert_eq!(again, whole_text(&shifted));
    let starts = |e: &TextEntities| -> Vec<usize> {
        [&e.mentions, &e.hashtags, &e.cashtags, &e.urls]
            .into_iter()
            .flatten()
            .map(|x| x.start)
            .collect()
    };
    let moved: Vec<usize> = starts(&first).iter().map(|s| s + 3).collect();
    assert_eq!(starts(&again), moved);
    assert_eq!(first.urls[0].value, "https://t.co/abc123");
    // A word past the cache's length limit is parsed every time, with the same answer.
    let long = format!("#{} x", "a".repeat(100));
    assert_eq!(extract_entities(&long), whole_text(&long));
    assert_eq!(extract_entities(&long), whole_text(&long));
}
