//! Realistic benchmark tweets: the bundled real tweets (API v1.1 and v2, ~4 KB on average) with
//! fresh, unique snowflake ids spliced in wherever the original id appears (id, id_str, URLs).

use anyhow::{bail, Result};

const V1: &str = include_str!("../../../tests/fixtures/v1_mixed_tweets.jsonl");
const V2: &str = include_str!("../../../tests/fixtures/v2_stream_messages.jsonl");

/// Twitter's snowflake epoch (2010-11-04T01:42:54.657Z) in milliseconds.
const SNOWFLAKE_EPOCH_MS: u64 = 1_288_834_974_657;

/// One real tweet split at every occurrence of its id.
struct Template {
    pieces: Vec<String>,
}

/// Makes the `i`-th benchmark tweet, the same for the same `i`.
pub struct TweetFactory {
    templates: Vec<Template>,
    base_ms: u64,
    unique_texts: bool,
    without_entities: bool,
}

impl TweetFactory {
    pub fn from_fixtures() -> Result<Self> {
        let mut templates = Vec::new();
        for line in V1.lines().chain(V2.lines()) {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let id = v["id_str"]
                .as_str()
                .or_else(|| v["data"]["id"].as_str())
                .filter(|id| id.len() >= 6);
            if let Some(id) = id {
                templates.push(Template {
                    pieces: line.split(id).map(str::to_string).collect(),
                });
            }
        }
        if templates.is_empty() {
            bail!("no tweet with an id in the bundled fixtures");
        }
        // 2026-01-01T00:00:00Z: ids from a fixed moment, so runs are comparable.
        Ok(Self {
            templates,
            base_ms: 1_767_225_600_000,
            unique_texts: false,
            without_entities: false,
        })
    }

    /// The `i`-th tweet: template `i mod n` with a unique snowflake id; returns (id, JSON bytes).
    pub fn tweet(&self, i: u64) -> (u64, Vec<u8>) {
        let t = &self.templates[(i % self.templates.len() as u64) as usize];
        // One tweet per millisecond per sequence slot: (ms << 22) | (worker 1 << 12) | (i mod 4096).
        let ms = self.base_ms + i / 4096 - SNOWFLAKE_EPOCH_MS;
        let id = (ms << 22) | (1 << 12) | (i % 4096);
        let id_text = id.to_string();
        let mut out = Vec::with_capacity(t.pieces.iter().map(String::len).sum::<usize>() + 64);
        for (k, piece) in t.pieces.iter().enumerate() {
            if k > 0 {
                out.extend_from_slice(id_text.as_bytes());
            }
            out.extend_from_slice(piece.as_bytes());
        }
        (id, out)
    }

    /// Every text also gets the tweet's number appended: with only a few hundred real texts
    /// repeating, silver's NER (which tags each distinct text once) would otherwise be measured
    /// on a few hundred texts.
    pub fn with_unique_texts(mut self) -> Self {
        self.unique_texts = true;
        self
    }

    /// The `i`-th tweet as [`TweetFactory::tweet`] makes it, with unique texts when asked.
    /// Tweets without any `entities` object, as an API v2 stream sends them without the
    /// entities expansion: silver then extracts them from the text.
    pub fn without_entities(mut self) -> Self {
        self.without_entities = true;
        self
    }

    pub fn tweet_for_run(&self, i: u64) -> (u64, Vec<u8>) {
        let (id, json) = self.tweet(i);
        if !self.unique_texts && !self.without_entities {
            return (id, json);
        }
        let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&json) else {
            return (id, json);
        };
        if self.unique_texts {
            mark_texts(&mut v, i);
        }
        if self.without_entities {
            drop_entities(&mut v);
        }
        (id, serde_json::to_vec(&v).unwrap_or(json))
    }

    pub fn templates(&self) -> usize {
        self.templates.len()
    }
}

/// Appends ` no. <i>` to every `text` and `full_text` string, nested ones included (a retweet's
/// original, an extended tweet).
fn drop_entities(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.remove("entities");
            map.values_mut().for_each(drop_entities);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_entities),
        _ => {}
    }
}

fn mark_texts(v: &mut serde_json::Value, i: u64) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                match child {
                    serde_json::Value::String(s) if k == "text" || k == "full_text" => {
                        s.push_str(&format!(" no. {i}"));
                    }
                    other => mark_texts(other, i),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|x| mark_texts(x, i)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fresh_unique_and_spliced_everywhere() {
        let f = TweetFactory::from_fixtures().unwrap();
        assert!(f.templates() >= 300, "{} templates", f.templates());
        let mut ids = std::collections::HashSet::new();
        let mut bytes = 0;
        for i in 0..10_000 {
            let (id, json) = f.tweet(i);
            assert!(ids.insert(id));
            let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
            let got = v["id_str"].as_str().or_else(|| v["data"]["id"].as_str());
            assert_eq!(got, Some(id.to_string().as_str()));
            // The numeric `id` is replaced too where it matched `id_str`; some client fixtures carry
            // it rounded through a double, which no longer matches, so only `id_str` is checked.
            bytes += json.len();
        }
        let mean = bytes / 10_000;
        assert!((3_000..6_000).contains(&mean), "mean size {mean}");
        assert_eq!(f.tweet(7), f.tweet(7));
    }

    #[test]
    fn unique_texts_differ_between_tweets_of_one_template() {
        let f = TweetFactory::from_fixtures().unwrap().with_unique_texts();
        let n = f.templates() as u64;
        let text = |i| {
            let v: serde_json::Value = serde_json::from_slice(&f.tweet_for_run(i).1).unwrap();
            let t = [&v["text"], &v["full_text"], &v["data"]["text"]];
            t.iter().find_map(|x| x.as_str()).unwrap().to_string()
        };
        assert_ne!(text(3), text(3 + n));
        assert!(text(3 + n).ends_with(&format!(" no. {}", 3 + n)));
    }
}
