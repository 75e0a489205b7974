//! Which tweets a source sends and to which topic: the `[produce.filter]` keywords, languages and
//! likes, then the first `[[produce.routes]]` entry that matches. Messages are parsed only when a
//! filter or route is configured; control messages (deletes, limits…) always pass, to `topic`.

use std::collections::HashSet;

use serde_json::Value;
use tweetlake_core::config::{FilterConfig, ProduceConfig, RouteConfig, KEYWORD_SETS};

/// Keywords, compiled: phrases are matched on the text's words, `#tags` on its hashtags.
#[derive(Debug, Default, Clone)]
struct Keywords {
    phrases: Vec<String>,
    hashtags: HashSet<String>,
}

impl Keywords {
    fn new(keywords: &[String], sets: &[String]) -> Self {
        let mut k = Self::default();
        let from_sets = KEYWORD_SETS
            .iter()
            .filter(|(name, _)| sets.iter().any(|s| s == name))
            .flat_map(|(_, words)| words.iter().map(|w| w.to_string()));
        for word in keywords.iter().cloned().chain(from_sets) {
            let word = word.trim().to_lowercase();
            if let Some(tag) = word.strip_prefix('#') {
                k.hashtags.insert(tag.to_string());
            } else if !word.is_empty() {
                // " big data " matches whole words only, wherever they sit in the text.
                k.phrases.push(format!(" {} ", words(&word).join(" ")));
            }
        }
        k
    }

    fn is_empty(&self) -> bool {
        self.phrases.is_empty() && self.hashtags.is_empty()
    }

    fn matches(&self, tweet: &TweetFacts) -> bool {
        tweet.hashtags.iter().any(|h| self.hashtags.contains(h))
            || self
                .phrases
                .iter()
                .any(|p| tweet.words.contains(p.as_str()))
    }
}

/// Lower-case words of a text: letters, digits and `_`; a hashtag's `#` and other marks split.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// What the filters look at, from a v1.1 tweet or a v2 stream message.
#[derive(Debug, Default)]
struct TweetFacts {
    /// ` word word … ` of the text (the full text of an extended or retweeted tweet).
    words: String,
    hashtags: Vec<String>,
    lang: Option<String>,
    likes: u64,
    rule_tags: Vec<String>,
}

impl TweetFacts {
    /// `None` for anything that is not a tweet (control messages, errors, malformed lines).
    fn of(msg: &Value) -> Option<Self> {
        if let Some(data) = msg.get("data").filter(|d| d.is_object()) {
            return Some(Self::v2(msg, data));
        }
        if msg.get("id_str").is_some() && msg.get("user").is_some() {
            return Some(Self::v1(msg));
        }
        None
    }

    fn v1(t: &Value) -> Self {
        // A retweet's own text is cut at 140 characters; the original carries the whole text.
        let rt = t.get("retweeted_status").filter(|r| r.is_object());
        let body = rt.unwrap_or(t);
        let ext = &body["extended_tweet"];
        let text = ext["full_text"]
            .as_str()
            .or_else(|| body["full_text"].as_str())
            .or_else(|| body["text"].as_str())
            .unwrap_or("");
        let entities = if ext.is_object() {
            &ext["entities"]
        } else {
            &body["entities"]
        };
        let likes = |v: &Value| v["favorite_count"].as_u64().unwrap_or(0);
        Self {
            words: spaced(text),
            hashtags: tags(&entities["hashtags"], "text"),
            lang: t["lang"].as_str().map(str::to_string),
            likes: likes(t).max(rt.map_or(0, likes)),
            rule_tags: Vec::new(),
        }
    }

    fn v2(msg: &Value, data: &Value) -> Self {
        let likes = |v: &Value| v["public_metrics"]["like_count"].as_u64().unwrap_or(0);
        let retweeted = data["referenced_tweets"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["type"] == "retweeted")
            .and_then(|r| r["id"].as_str());
        let original = retweeted.and_then(|id| {
            msg["includes"]["tweets"]
                .as_array()?
                .iter()
                .find(|t| t["id"] == id)
        });
        let body = original.unwrap_or(data);
        Self {
            words: spaced(body["text"].as_str().unwrap_or("")),
            hashtags: tags(&body["entities"]["hashtags"], "tag"),
            lang: data["lang"].as_str().map(str::to_string),
            likes: likes(data).max(original.map_or(0, likes)),
            rule_tags: msg["matching_rules"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["tag"].as_str().map(str::to_string))
                .collect(),
        }
    }
}

fn spaced(text: &str) -> String {
    format!(" {} ", words(text).join(" "))
}

fn tags(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h[field].as_str().map(str::to_lowercase))
        .collect()
}

/// One compiled route.
#[derive(Debug, Clone)]
struct Route {
    topic: String,
    keywords: Keywords,
    rule_tags: Vec<String>,
}

/// What to do with one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<'a> {
    Send(&'a str),
    Filtered,
}

/// The filters and routes of one run.
#[derive(Debug, Clone)]
pub struct Selector {
    topic: String,
    keywords: Keywords,
    lang: Vec<String>,
    min_likes: u64,
    routes: Vec<Route>,
}

impl Selector {
    /// From `[produce]`, sending to `topic` when no route matches.
    pub fn new(produce: &ProduceConfig, topic: &str) -> Self {
        let FilterConfig {
            keywords,
            keyword_sets,
            lang,
            min_likes,
        } = &produce.filter;
        Self {
            topic: topic.to_string(),
            keywords: Keywords::new(keywords, keyword_sets),
            lang: lang.iter().map(|l| l.to_lowercase()).collect(),
            min_likes: *min_likes,
            routes: produce.routes.iter().map(Route::new).collect(),
        }
    }

    /// True when every message goes to the default topic unread.
    pub fn passes_everything(&self) -> bool {
        self.keywords.is_empty()
            && self.lang.is_empty()
            && self.min_likes == 0
            && self.routes.is_empty()
    }

    /// The topic for a message, or `Filtered`.
    pub fn select(&self, value: &[u8]) -> Verdict<'_> {
        if self.passes_everything() {
            return Verdict::Send(&self.topic);
        }
        let facts = serde_json::from_slice::<Value>(value)
            .ok()
            .and_then(|v| TweetFacts::of(&v));
        // Control messages and unparsable lines are not tweets to judge: they always go on.
        let Some(tweet) = facts else {
            return Verdict::Send(&self.topic);
        };
        if !self.keywords.is_empty() && !self.keywords.matches(&tweet) {
            return Verdict::Filtered;
        }
        let lang_ok = |l: &String| self.lang.iter().any(|want| *want == l.to_lowercase());
        if !self.lang.is_empty() && !tweet.lang.as_ref().is_some_and(lang_ok) {
            return Verdict::Filtered;
        }
        if tweet.likes < self.min_likes {
            return Verdict::Filtered;
        }
        let route = self.routes.iter().find(|r| r.matches(&tweet));
        Verdict::Send(route.map_or(&self.topic, |r| &r.topic))
    }
}

impl Route {
    fn new(c: &RouteConfig) -> Self {
        Self {
            topic: c.topic.clone(),
            keywords: Keywords::new(&c.keywords, &c.keyword_sets),
            rule_tags: c.rule_tags.clone(),
        }
    }

    fn matches(&self, tweet: &TweetFacts) -> bool {
        self.keywords.matches(tweet) || tweet.rule_tags.iter().any(|t| self.rule_tags.contains(t))
    }
}

#[cfg(test)]
mod tests;
