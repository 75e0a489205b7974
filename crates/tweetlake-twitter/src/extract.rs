//! Hashtags, mentions, URLs and cashtags from text, the way Twitter itself extracts them: the
//! `twitter-text` crate (a port of Twitter's own library), plus one rule it misses, checked
//! against Twitter's conformance suite (`tests/fixtures/twitter-text/`).

use twitter_text::extractor::{Extract, Extractor};

/// One extracted entity: its value (without `#`, `@` or `$`) and code-point offsets in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub value: String,
    pub start: usize,
    pub end: usize,
}

fn entities<'a>(
    text: &'a str,
    pick: impl Fn(&Extractor, &'a str) -> Vec<twitter_text::entity::Entity<'a>>,
) -> Vec<Extracted> {
    let extractor = Extractor::new();
    pick(&extractor, text)
        .into_iter()
        .map(|e| Extracted {
            value: e.get_value().to_string(),
            start: e.get_start().max(0) as usize,
            end: e.get_end().max(0) as usize,
        })
        .collect()
}

pub fn extract_hashtags(text: &str) -> Vec<Extracted> {
    entities(text, |x, t| x.extract_hashtags(t))
}

pub fn extract_cashtags(text: &str) -> Vec<Extracted> {
    entities(text, |x, t| x.extract_cashtags(t))
}

pub fn extract_mentions(text: &str) -> Vec<Extracted> {
    entities(text, |x, t| x.extract_mentioned_screennames_with_indices(t))
}

/// URLs, with or without a scheme. A bare domain run straight into `-`, `+` or `@` is not a URL
/// but part of a word or an address (`domain.com-that`, `name.al-lastname@foo.com`):
/// twitter-text's grammar lets those through, Twitter's conformance suite does not.
pub fn extract_urls(text: &str) -> Vec<Extracted> {
    let chars: Vec<char> = text.chars().collect();
    let bare_domain = |u: &str| {
        !u.split_once("://")
            .map_or(u, |(_, rest)| rest)
            .contains('/')
    };
    entities(text, |x, t| x.extract_urls_with_indices(t))
        .into_iter()
        .filter(|u| !(bare_domain(&u.value) && matches!(chars.get(u.end), Some('-' | '+' | '@'))))
        .collect()
}

#[cfg(test)]
mod tests;
