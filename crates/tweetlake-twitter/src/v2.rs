//! API v2 stream messages: `data` with the `includes` it refers to. A retweet's text is its
//! original's from `includes.tweets` (the `data.text` of a retweet is cut); a long tweet's is its
//! `note_tweet.text`; author handle and place come from `includes.users` and `includes.places`.

use serde_json::Value;

use crate::entities::{Entities, V2_NAMES};
use crate::fields::{id, time_us, ParseError};
use crate::model::{ApiVersion, Metrics, Rule, Tweet};
use crate::text::clean_text;
use crate::v1::{coordinates, make_place};

pub(crate) fn tweet(msg: &Value, data: &Value) -> Result<Tweet, ParseError> {
    let tweet_id = id(&data["id"]).ok_or(ParseError::Missing("data.id"))?;
    let includes = &msg["includes"];
    let find = |kind: &str, key: &str, want: &Value| -> Option<&Value> {
        includes[kind]
            .as_array()?
            .iter()
            .find(|x| !want.is_null() && x[key] == *want)
    };
    let referenced = |kind: &str| -> Option<&Value> {
        data["referenced_tweets"]
            .as_array()?
            .iter()
            .find(|r| r["type"] == kind)
            .map(|r| &r["id"])
    };
    let retweeted = referenced("retweeted");
    let original = retweeted.and_then(|rid| find("tweets", "id", rid));
    let body = original.unwrap_or(data);
    let text = body["note_tweet"]["text"]
        .as_str()
        .or_else(|| body["text"].as_str())
        .unwrap_or_default()
        .to_string();
    let entities = if body["note_tweet"]["entities"].is_object() {
        &body["note_tweet"]["entities"]
    } else {
        &body["entities"]
    };
    let ents = Entities::of(entities, &text, &V2_NAMES);
    let metric = |k: &str| data["public_metrics"][k].as_i64();
    let place_id = &data["geo"]["place_id"];
    Ok(Tweet {
        id: tweet_id,
        created_at_us: time_us(&data["created_at"])?,
        author_id: id(&data["author_id"]),
        author_handle: find("users", "id", &data["author_id"])
            .and_then(|u| u["username"].as_str())
            .map(str::to_string),
        text: clean_text(&text),
        text_original: text,
        lang: data["lang"].as_str().map(str::to_string),
        is_retweet: retweeted.is_some(),
        is_quote: referenced("quoted").is_some(),
        is_reply: referenced("replied_to").is_some(),
        retweeted_id: retweeted.and_then(id),
        quoted_id: referenced("quoted").and_then(id),
        in_reply_to_id: referenced("replied_to").and_then(id),
        in_reply_to_user_id: id(&data["in_reply_to_user_id"]),
        hashtags: ents.hashtags,
        mentions: ents.mentions,
        urls: ents.urls,
        cashtags: ents.cashtags,
        place: place_id
            .as_str()
            .map(|pid| make_place(pid, find("places", "id", place_id).unwrap_or(&Value::Null))),
        coordinates: coordinates(&data["geo"]["coordinates"]["coordinates"]),
        metrics: Metrics {
            retweet_count: metric("retweet_count"),
            reply_count: metric("reply_count"),
            like_count: metric("like_count"),
            quote_count: metric("quote_count"),
        },
        matching_rules: msg["matching_rules"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| Rule {
                id: match &r["id"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
                tag: r["tag"].as_str().map(str::to_string),
            })
            .collect(),
        api_version: ApiVersion::V2,
        edit_history: data["edit_history_tweet_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(id)
            .collect(),
        withheld: data.get("withheld").is_some_and(|w| !w.is_null()),
        source: data["source"].as_str().map(str::to_string),
    })
}
