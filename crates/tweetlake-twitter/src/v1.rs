//! API v1.1 tweets, compat or extended mode. The full text is `extended_tweet.full_text` (compat
//! mode, truncated tweets), else `full_text` (extended mode), else `text`; a retweet takes its
//! original's full text and entities instead of the cut "RT @…" form.

use serde_json::Value;

use crate::entities::{Entities, V1_NAMES};
use crate::fields::{id, strings, time_us, ParseError};
use crate::model::{ApiVersion, Coordinates, Metrics, Place, Tweet};
use crate::place::city_region;
use crate::text::clean_text;

pub(crate) fn tweet(v: &Value) -> Result<Tweet, ParseError> {
    let tweet_id = id(&v["id_str"])
        .or_else(|| id(&v["id"]))
        .ok_or(ParseError::Missing("id"))?;
    let user = &v["user"];
    let original = v.get("retweeted_status").filter(|r| r.is_object());
    let body = original.unwrap_or(v);
    let (text, entities) = full_text(body);
    let quoted_id = id(&v["quoted_status_id_str"]).or_else(|| id(&v["quoted_status"]["id_str"]));
    let in_reply_to_id =
        id(&v["in_reply_to_status_id_str"]).or_else(|| id(&v["in_reply_to_status_id"]));
    let ents = Entities::of(entities, &text, &V1_NAMES);
    let count = |k: &str| v[k].as_i64();
    Ok(Tweet {
        id: tweet_id,
        created_at_us: time_us(&v["created_at"])?,
        author_id: id(&user["id_str"]).or_else(|| id(&user["id"])),
        author_handle: user["screen_name"].as_str().map(str::to_string),
        text: clean_text(&text),
        text_original: text,
        lang: v["lang"].as_str().map(str::to_string),
        is_retweet: original.is_some(),
        is_quote: quoted_id.is_some() || v["is_quote_status"] == true,
        is_reply: in_reply_to_id.is_some(),
        retweeted_id: original.and_then(|o| id(&o["id_str"]).or_else(|| id(&o["id"]))),
        quoted_id,
        in_reply_to_id,
        in_reply_to_user_id: id(&v["in_reply_to_user_id_str"])
            .or_else(|| id(&v["in_reply_to_user_id"])),
        hashtags: ents.hashtags,
        mentions: ents.mentions,
        urls: ents.urls,
        cashtags: ents.cashtags,
        place: place(&v["place"]),
        coordinates: coordinates(&v["coordinates"]["coordinates"]),
        metrics: Metrics {
            retweet_count: count("retweet_count"),
            reply_count: count("reply_count"),
            like_count: count("favorite_count"),
            quote_count: count("quote_count"),
        },
        matching_rules: Vec::new(),
        api_version: ApiVersion::V1,
        edit_history: v["edit_history"]["edit_tweet_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(id)
            .collect(),
        withheld: !strings(&v["withheld_in_countries"]).is_empty()
            || v["withheld_copyright"] == true,
        source: v["source"].as_str().map(strip_tags),
    })
}

/// The full text and the entities that index it.
fn full_text(t: &Value) -> (String, &Value) {
    if let Some(full) = t["extended_tweet"]["full_text"].as_str() {
        return (full.to_string(), &t["extended_tweet"]["entities"]);
    }
    let text = t["full_text"]
        .as_str()
        .or_else(|| t["text"].as_str())
        .unwrap_or_default();
    (text.to_string(), &t["entities"])
}

fn place(p: &Value) -> Option<Place> {
    let id = p["id"].as_str()?;
    Some(make_place(id, p))
}

/// A place object (the same fields in v1.1 and v2's `includes.places`).
pub(crate) fn make_place(id: &str, p: &Value) -> Place {
    let s = |k: &str| p[k].as_str().map(str::to_string);
    let (city, region) = city_region(
        p["place_type"].as_str(),
        p["name"].as_str(),
        p["full_name"].as_str(),
    );
    Place {
        id: id.to_string(),
        name: s("name"),
        full_name: s("full_name"),
        place_type: s("place_type"),
        country: s("country"),
        country_code: s("country_code"),
        city,
        region,
    }
}

/// GeoJSON `[longitude, latitude]`.
pub(crate) fn coordinates(c: &Value) -> Option<Coordinates> {
    let (longitude, latitude) = (c[0].as_f64()?, c[1].as_f64()?);
    ((-180.0..=180.0).contains(&longitude) && (-90.0..=90.0).contains(&latitude)).then_some(
        Coordinates {
            longitude,
            latitude,
        },
    )
}

/// `<a href="…">Twitter for iPhone</a>` → `Twitter for iPhone`.
fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}
