//! Builds API v1.1 stream messages from real parts: a tweet template gets a fresh id, time, author
//! and place; a retweet wraps an earlier tweet the way the stream does (`RT @name: …` plus the
//! whole original in `retweeted_status`); a reply and a quote point at one.

use chrono::DateTime;
use serde_json::{json, Map, Value};

use super::Target;

/// Fields of a template that belong to its original context, not to a new tweet.
const CONTEXT_FIELDS: &[&str] = &[
    "retweeted_status",
    "quoted_status",
    "quoted_status_id",
    "quoted_status_id_str",
    "quoted_status_permalink",
    "in_reply_to_status_id",
    "in_reply_to_status_id_str",
    "in_reply_to_user_id",
    "in_reply_to_user_id_str",
    "in_reply_to_screen_name",
    "place",
    "coordinates",
    "geo",
    "current_user_retweet",
    "scopes",
    "withheld_in_countries",
];

/// `Wed Oct 10 20:19:24 +0000 2018`, the v1.1 `created_at`.
pub fn v1_time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%a %b %d %H:%M:%S +0000 %Y").to_string())
        .unwrap_or_default()
}

/// The template as a tweet of its own: context removed, identity and time set.
pub fn base(template: &Value, id: u64, created_ms: i64, user: &Value) -> Map<String, Value> {
    let mut t = template.as_object().cloned().unwrap_or_default();
    for f in CONTEXT_FIELDS {
        t.remove(*f);
    }
    t.insert("id".into(), json!(id));
    t.insert("id_str".into(), json!(id.to_string()));
    t.insert("created_at".into(), json!(v1_time(created_ms)));
    t.insert("timestamp_ms".into(), json!(created_ms.to_string()));
    t.insert("user".into(), user.clone());
    t.insert("is_quote_status".into(), json!(false));
    t.insert("retweeted".into(), json!(false));
    t.insert("favorited".into(), json!(false));
    t
}

/// An author: a real user object with the pool member's id and a screen name of its own.
pub fn author(real: &Value, member: usize) -> Value {
    let mut u = real.clone();
    let id = 1_000_000_000u64 + member as u64;
    let base: String = u["screen_name"]
        .as_str()
        .unwrap_or("user")
        .chars()
        .take(8)
        .collect();
    u["id"] = json!(id);
    u["id_str"] = json!(id.to_string());
    u["screen_name"] = json!(format!("{base}{member}"));
    u
}

pub fn reply_to(t: &mut Map<String, Value>, target: &Target) {
    t.insert("in_reply_to_status_id".into(), json!(target.id));
    t.insert(
        "in_reply_to_status_id_str".into(),
        json!(target.id.to_string()),
    );
    t.insert("in_reply_to_user_id".into(), json!(target.user_id));
    t.insert(
        "in_reply_to_user_id_str".into(),
        json!(target.user_id.to_string()),
    );
    t.insert("in_reply_to_screen_name".into(), json!(target.screen_name));
    if let Some(text) = t.get("text").and_then(Value::as_str) {
        let text = format!("@{} {text}", target.screen_name);
        t.insert("text".into(), json!(text));
    }
}

pub fn quote(t: &mut Map<String, Value>, target: &Target) {
    t.insert("is_quote_status".into(), json!(true));
    t.insert("quoted_status_id".into(), json!(target.id));
    t.insert("quoted_status_id_str".into(), json!(target.id.to_string()));
    t.insert("quoted_status".into(), target.tweet.clone());
}

/// A retweet of `target` by `user`, shaped like the stream's.
pub fn retweet(target: &Target, id: u64, created_ms: i64, user: &Value) -> Map<String, Value> {
    let original = &target.tweet;
    let full = original["extended_tweet"]["full_text"]
        .as_str()
        .or_else(|| original["text"].as_str())
        .unwrap_or("");
    let prefix = format!("RT @{}: ", target.screen_name);
    let text: String = prefix.chars().chain(full.chars()).take(140).collect();
    let name_end = 3 + target.screen_name.chars().count() + 1;
    let mention = json!({
        "screen_name": target.screen_name,
        "name": original["user"]["name"],
        "id": target.user_id,
        "id_str": target.user_id.to_string(),
        "indices": [3, name_end],
    });
    let mut t = Map::new();
    t.insert("created_at".into(), json!(v1_time(created_ms)));
    t.insert("id".into(), json!(id));
    t.insert("id_str".into(), json!(id.to_string()));
    t.insert("text".into(), json!(text));
    t.insert("source".into(), original["source"].clone());
    t.insert("truncated".into(), json!(false));
    t.insert("user".into(), user.clone());
    t.insert("retweeted_status".into(), original.clone());
    t.insert("is_quote_status".into(), json!(false));
    t.insert("retweet_count".into(), json!(0));
    t.insert("favorite_count".into(), json!(0));
    t.insert(
        "entities".into(),
        json!({"hashtags": [], "urls": [], "user_mentions": [mention], "symbols": []}),
    );
    t.insert("favorited".into(), json!(false));
    t.insert("retweeted".into(), json!(false));
    t.insert("filter_level".into(), json!("low"));
    t.insert("lang".into(), original["lang"].clone());
    t.insert("timestamp_ms".into(), json!(created_ms.to_string()));
    t
}

/// `{"delete": …}` as the v1.1 stream sends it.
pub fn delete_notice(id: u64, user_id: u64, at_ms: i64) -> Value {
    json!({"delete": {"status": {"id": id, "id_str": id.to_string(),
        "user_id": user_id, "user_id_str": user_id.to_string()},
        "timestamp_ms": at_ms.to_string()}})
}

/// `{"limit": …}`: `track` tweets the stream held back so far.
pub fn limit_notice(track: u64, at_ms: i64) -> Value {
    json!({"limit": {"track": track, "timestamp_ms": at_ms.to_string()}})
}
