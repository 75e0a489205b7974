//! Twitter's own conformance suite (twitter-text `conformance/extract.yml`, converted to JSON
//! verbatim): every hashtag, mention, URL and cashtag case, values and indices. Its `replies`
//! and `mentions_or_lists` sections are about reply detection and list slugs, which the lake does
//! not store.

use serde_json::Value;

use super::*;

const SUITE: &str = include_str!("../../../../tests/fixtures/twitter-text/extract.json");

type Extract = fn(&str) -> Vec<Extracted>;

fn run(section: &str, extract: Extract, key: &str) -> usize {
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
