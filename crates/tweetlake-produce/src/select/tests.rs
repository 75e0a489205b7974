use serde_json::json;
use tweetlake_core::config::{ProduceConfig, RouteConfig};

use super::{Selector, Verdict};

const V1: &str = include_str!("../../../../tests/fixtures/v1_mixed_tweets.jsonl");
const V2: &str = include_str!("../../../../tests/fixtures/v2_control_messages.jsonl");

fn selector(edit: impl FnOnce(&mut ProduceConfig)) -> Selector {
    let mut c = ProduceConfig::default();
    edit(&mut c);
    Selector::new(&c, "tweets.generic")
}

fn verdict(s: &Selector, v: serde_json::Value) -> Verdict<'_> {
    s.select(v.to_string().as_bytes())
}

fn v1(text: &str, lang: &str, likes: u64) -> serde_json::Value {
    json!({"id_str": "1", "user": {"id_str": "2"}, "text": text, "lang": lang,
           "favorite_count": likes, "entities": {"hashtags": []}})
}

#[test]
fn keywords_match_whole_words_and_phrases() {
    let s = selector(|c| c.filter.keywords = vec!["superbowl".into(), "Big Data".into()]);
    let send = Verdict::Send("tweets.generic");
    assert_eq!(verdict(&s, v1("Who wins the #SuperBowl?", "en", 0)), send);
    assert_eq!(verdict(&s, v1("BIG data, big plans", "en", 0)), send);
    assert_eq!(
        verdict(&s, v1("superbowls are long", "en", 0)),
        Verdict::Filtered
    );
    assert_eq!(verdict(&s, v1("big-data", "en", 0)), send);
    assert_eq!(verdict(&s, v1("data is big", "en", 0)), Verdict::Filtered);
}

#[test]
fn hashtag_keywords_match_only_hashtags() {
    let s = selector(|c| c.filter.keywords = vec!["#NBA".into()]);
    let mut t = v1("nba tonight", "en", 0);
    assert_eq!(verdict(&s, t.clone()), Verdict::Filtered);
    t["entities"]["hashtags"] = json!([{"text": "NBA", "indices": [0, 4]}]);
    assert_eq!(verdict(&s, t), Verdict::Send("tweets.generic"));
}

#[test]
fn retweets_are_judged_by_their_original() {
    let s = selector(|c| {
        c.filter.keyword_sets = vec!["ai".into()];
        c.filter.min_likes = 10;
    });
    let mut rt = v1("RT @a: a long text cut at 140 charact…", "en", 0);
    rt["retweeted_status"] = json!({"id_str": "9", "text": "x",
        "extended_tweet": {"full_text": "why machine learning needs data", "entities": {"hashtags": []}},
        "favorite_count": 12});
    assert_eq!(verdict(&s, rt.clone()), Verdict::Send("tweets.generic"));
    rt["retweeted_status"]["favorite_count"] = json!(3);
    assert_eq!(verdict(&s, rt), Verdict::Filtered);
}

#[test]
fn language_filter_and_control_messages() {
    let s = selector(|c| c.filter.lang = vec!["es".into()]);
    assert_eq!(
        verdict(&s, v1("hola", "es", 0)),
        Verdict::Send("tweets.generic")
    );
    assert_eq!(verdict(&s, v1("hello", "en", 0)), Verdict::Filtered);
    // A delete must reach the lake whatever the filters say; so must a line that does not parse.
    let delete = json!({"delete": {"status": {"id_str": "1"}, "timestamp_ms": "1"}});
    assert_eq!(verdict(&s, delete), Verdict::Send("tweets.generic"));
    assert_eq!(
        s.select(b"{\"data\": {\"id\""),
        Verdict::Send("tweets.generic")
    );
}

#[test]
fn routes_by_keyword_set_and_rule_tag() {
    let s = selector(|c| {
        c.routes = vec![
            RouteConfig {
                topic: "tweets.ai".into(),
                keyword_sets: vec!["ai".into()],
                ..Default::default()
            },
            RouteConfig {
                topic: "tweets.dogs".into(),
                rule_tags: vec!["dogs".into()],
                ..Default::default()
            },
        ]
    });
    let v2 = |text: &str, tag: &str| {
        json!({"data": {"id": "1", "text": text, "lang": "en"},
               "matching_rules": [{"id": "7", "tag": tag}]})
    };
    assert_eq!(
        verdict(&s, v2("ChatGPT wrote this", "x")),
        Verdict::Send("tweets.ai")
    );
    assert_eq!(
        verdict(&s, v2("a good boy", "dogs")),
        Verdict::Send("tweets.dogs")
    );
    assert_eq!(
        verdict(&s, v2("a good boy", "cats")),
        Verdict::Send("tweets.generic")
    );
}

/// Over the real fixtures: the filter keeps exactly the tweets whose language is `en`, and every
/// line that is not a tweet passes.
#[test]
fn real_tweets_by_language() {
    let s = selector(|c| c.filter.lang = vec!["en".into()]);
    let (mut kept, mut expected) = (0, 0);
    for line in V1.lines().chain(V2.lines()) {
        let v: Option<serde_json::Value> = serde_json::from_str(line).ok();
        let tweet_lang = v.as_ref().and_then(|v| {
            let lang = v.get("data").map_or(&v["lang"], |d| &d["lang"]);
            (v.get("data").is_some() || v.get("user").is_some()).then(|| lang.as_str())
        });
        if tweet_lang.is_none_or(|l| l == Some("en")) {
            expected += 1;
        }
        if s.select(line.as_bytes()) != Verdict::Filtered {
            kept += 1;
        }
    }
    assert!(expected > 100 && expected < V1.lines().count() + V2.lines().count());
    assert_eq!(kept, expected);
}
