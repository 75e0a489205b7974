use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::DateTime;
use serde_json::Value;

use super::*;

fn options(seed: u64, count: u64) -> SyntheticOptions {
    SyntheticOptions {
        seed,
        count,
        users: 500,
        noise: Noise::parse("deletes=0.02,limits=0.01,duplicates=0.03,late=0.02,malformed=0.01")
            .unwrap(),
        ..Default::default()
    }
}

type Message = (Option<u64>, Vec<u8>);

fn all(opts: SyntheticOptions) -> (Vec<Message>, Vec<TruthRow>) {
    let mut g = Generator::new(opts).unwrap();
    let mut out = Vec::new();
    while let Some(m) = g.next_message() {
        out.push(m);
    }
    (out, g.truth().rows())
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, ta) = all(options(42, 3_000));
    let (b, tb) = all(options(42, 3_000));
    assert_eq!(a, b);
    assert_eq!(ta, tb);
    let (c, _) = all(options(43, 3_000));
    assert_ne!(a, c);
}

/// Counts the output the way a reader of the stream would, from the bytes alone: distinct tweet
/// ids with a place, minus the deleted ones, per `place.full_name` and 5-minute window of
/// `created_at`. The generator's truth must be exactly this.
#[test]
fn truth_matches_an_independent_count_of_the_output() {
    let (messages, truth) = all(options(7, 8_000));
    let mut tweets: HashMap<String, (String, i64, bool, String)> = HashMap::new();
    let mut deleted = HashSet::new();
    let (mut malformed, mut limits, mut dupes) = (0, 0, 0);
    for (_, bytes) in &messages {
        let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
            malformed += 1;
            continue;
        };
        if let Some(id) = v["delete"]["status"]["id_str"].as_str() {
            deleted.insert(id.to_string());
            continue;
        }
        if v.get("limit").is_some() {
            limits += 1;
            continue;
        }
        let id = v["id_str"].as_str().unwrap().to_string();
        let created =
            DateTime::parse_from_str(v["created_at"].as_str().unwrap(), "%a %b %d %H:%M:%S %z %Y")
                .unwrap()
                .timestamp();
        // The snowflake id carries the creation time, to the second here.
        let id_ms = (id.parse::<u64>().unwrap() >> 22) as i64 + 1_288_834_974_657;
        assert_eq!(id_ms / 1000, created, "id {id}");
        let Some(city) = v["place"]["full_name"].as_str() else {
            continue;
        };
        let entry = (
            city.to_string(),
            created - created.rem_euclid(300),
            v.get("retweeted_status").is_some(),
            v["user"]["id_str"].as_str().unwrap().to_string(),
        );
        if let Some(before) = tweets.insert(id, entry.clone()) {
            assert_eq!(before, entry);
            dupes += 1;
        }
    }
    let noise = (malformed, limits, dupes, deleted.len());
    assert!(
        noise.0 > 40 && noise.1 > 40 && noise.2 > 30 && noise.3 > 100,
        "{noise:?}"
    );
    let mut cells: BTreeMap<(String, i64), (u64, u64, HashSet<String>)> = BTreeMap::new();
    for (id, (city, window, rt, user)) in &tweets {
        if deleted.contains(id) {
            continue;
        }
        let cell = cells.entry((city.clone(), *window)).or_default();
        cell.0 += 1;
        cell.1 += u64::from(*rt);
        cell.2.insert(user.clone());
    }
    let independent: Vec<TruthRow> = cells
        .into_iter()
        .map(|((city, window), (t, rt, users))| TruthRow {
            city,
            window_start_ms: window * 1000,
            tweets: t,
            retweets: rt,
            unique_users: users.len() as u64,
        })
        .collect();
    assert!(independent.len() > 50);
    assert_eq!(truth, independent);
}

#[test]
fn a_real_streams_mix_and_a_skewed_author_pool() {
    let (messages, _) = all(SyntheticOptions {
        count: 10_000,
        users: 2_000,
        ..Default::default()
    });
    assert_eq!(messages.len(), 10_000, "no noise asked for, none sent");
    let (mut rts, mut replies, mut quotes, mut places) = (0, 0, 0, 0);
    let mut authors: HashMap<String, u32> = HashMap::new();
    for (key, bytes) in &messages {
        let v: Value = serde_json::from_slice(bytes).unwrap();
        assert_eq!(key.map(|k| k.to_string()).as_deref(), v["id_str"].as_str());
        rts += u32::from(v.get("retweeted_status").is_some());
        replies += u32::from(v["in_reply_to_status_id_str"].is_string());
        quotes += u32::from(v.get("quoted_status").is_some());
        places += u32::from(v["place"].is_object());
        *authors
            .entry(v["user"]["id_str"].as_str().unwrap().into())
            .or_default() += 1;
        if let Some(rt) = v.get("retweeted_status") {
            let text = v["text"].as_str().unwrap();
            let name = rt["user"]["screen_name"].as_str().unwrap();
            assert!(text.starts_with(&format!("RT @{name}: ")), "{text}");
        }
    }
    let share = |n: u32| f64::from(n) / 10_000.0;
    assert!((0.57..0.63).contains(&share(rts)), "retweets {rts}");
    assert!((0.08..0.12).contains(&share(replies)), "replies {replies}");
    assert!((0.035..0.065).contains(&share(quotes)), "quotes {quotes}");
    assert!((0.27..0.33).contains(&share(places)), "places {places}");
    // Zipf: the busiest author writes far more than the median one, and not every member shows up.
    let mut counts: Vec<u32> = authors.values().copied().collect();
    counts.sort_unstable();
    assert!(counts[counts.len() - 1] > 20 * counts[counts.len() / 2]);
    assert!(authors.len() < 2_000);
}

#[test]
fn bad_noise_and_options_are_named() {
    assert!(Noise::parse("deletes=2")
        .unwrap_err()
        .contains("from 0 to 1"));
    assert!(Noise::parse("typos=0.1")
        .unwrap_err()
        .contains("unknown noise `typos`"));
    let bad = SyntheticOptions {
        retweet_share: 0.9,
        reply_share: 0.2,
        ..Default::default()
    };
    assert!(Generator::new(bad)
        .err()
        .unwrap()
        .to_string()
        .contains("exceed 1"));
}
