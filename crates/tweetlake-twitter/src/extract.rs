//! Hashtags, mentions, URLs and cashtags from text, the way Twitter itself extracts them: the
//! `twitter-text` crate's grammar (a port of Twitter's own library), plus one rule it misses,
//! checked against Twitter's conformance suite (`tests/fixtures/twitter-text/`).
//!
//! Why it is fast: the grammar tries every entity rule at every character, so it runs once per
//! text for all four kinds, and only over the words that could hold an entity. A word runs from
//! one ASCII whitespace character to the next, both included. No rule consumes ASCII whitespace
//! except as a lone character of plain text, so the whole-text parse has a token boundary at
//! each one, and every look at a neighbouring character sees the same whitespace in the word as
//! in the whole text: the grammar's answer over a word is its answer over the whole text there.
//! A word cannot hold an entity unless it has a hashtag's, mention's or cashtag's prefix, a `.`
//! before a letter (every top-level domain starts with one, in whichever script) or a scheme's
//! `:/`; other words are not parsed at all. The tests check all this against the
//! whole-text grammar on every fixture tweet.
//!
//! Since a word's entities depend on the word alone, each thread remembers the answers for the
//! short words it has parsed (hashtags, handles and links recur across a stream: 41 % of the
//! candidate words of the 8,700 distinct real tweet texts we hold repeat an earlier one).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use twitter_text::entity::Type;
use twitter_text::extractor::{Extract, Extractor};
use twitter_text_parser::twitter_text::Rule;

/// One extracted entity: its value (without `#`, `@` or `$`) and code-point offsets in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub value: String,
    pub start: usize,
    pub end: usize,
}

/// Every entity of a text, by kind, each list in text order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextEntities {
    pub hashtags: Vec<Extracted>,
    pub mentions: Vec<Extracted>,
    pub urls: Vec<Extracted>,
    pub cashtags: Vec<Extracted>,
}

/// Whether `c`, followed by `next`, can be part of an entity that words without it cannot hold.
fn opens_entity(c: char, next: Option<char>) -> bool {
    match c {
        '#' | '＃' | '@' | '＠' | '$' => true,
        '.' => next.is_some_and(char::is_alphabetic),
        ':' => next == Some('/'),
        _ => false,
    }
}

/// The grammar's rules whose matches are entities: as in twitter-text's per-kind extractors
/// (URLs with and without a scheme; plain mentions, not `@user/list` list references).
fn is_entity(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::url | Rule::url_without_protocol | Rule::hashtag | Rule::cashtag | Rule::username
    )
}

/// The kinds of entity, as the grammar names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hashtag,
    Mention,
    Url,
    Cashtag,
}

/// One entity of a word, with code-point offsets into the word.
#[derive(Debug, Clone, PartialEq, Eq)]
struct WordEntity {
    kind: Kind,
    value: String,
    start: usize,
    end: usize,
}

/// Words up to this many bytes are remembered; longer ones are rare and would only fill the cache.
const CACHED_WORD_BYTES: usize = 64;
/// Words a thread remembers before it starts over (a few MB at most).
const CACHED_WORDS: usize = 32_768;

thread_local! {
    static WORD_CACHE: RefCell<HashMap<Box<str>, Rc<[WordEntity]>>> = RefCell::new(HashMap::new());
}

/// The grammar's entities over one word.
fn parse_word(extractor: &Extractor, word: &str) -> Vec<WordEntity> {
    extractor
        .extract(word, is_entity)
        .into_iter()
        .map(|e| WordEntity {
            kind: match e.get_type() {
                Type::HASHTAG => Kind::Hashtag,
                Type::MENTION => Kind::Mention,
                Type::URL => Kind::Url,
                Type::CASHTAG => Kind::Cashtag,
            },
            value: e.get_value().to_string(),
            start: e.get_start().max(0) as usize,
            end: e.get_end().max(0) as usize,
        })
        .collect()
}

/// [`parse_word`], remembered per thread for short words.
fn word_entities(extractor: &Extractor, word: &str) -> Rc<[WordEntity]> {
    if word.len() > CACHED_WORD_BYTES {
        return parse_word(extractor, word).into();
    }
    WORD_CACHE.with_borrow_mut(|cache| {
        if let Some(found) = cache.get(word) {
            return found.clone();
        }
        if cache.len() >= CACHED_WORDS {
            cache.clear();
        }
        let found: Rc<[WordEntity]> = parse_word(extractor, word).into();
        cache.insert(word.into(), found.clone());
        found
    })
}

/// All four kinds in one pass over `text`.
pub fn extract_entities(text: &str) -> TextEntities {
    let mut out = TextEntities::default();
    let extractor = Extractor::new();
    for word in words(text) {
        for e in word_entities(&extractor, word.text).iter() {
            let found = Extracted {
                value: e.value.clone(),
                start: word.first_char + e.start,
                end: word.first_char + e.end,
            };
            match e.kind {
                Kind::Hashtag => out.hashtags.push(found),
                Kind::Mention => out.mentions.push(found),
                Kind::Url => out.urls.push(found),
                Kind::Cashtag => out.cashtags.push(found),
            }
        }
    }
    if !out.urls.is_empty() {
        drop_words_run_into_domains(text, &mut out.urls);
    }
    out
}

pub fn extract_hashtags(text: &str) -> Vec<Extracted> {
    extract_entities(text).hashtags
}

pub fn extract_cashtags(text: &str) -> Vec<Extracted> {
    extract_entities(text).cashtags
}

pub fn extract_mentions(text: &str) -> Vec<Extracted> {
    extract_entities(text).mentions
}

pub fn extract_urls(text: &str) -> Vec<Extracted> {
    extract_entities(text).urls
}

/// A bare domain run straight into `-`, `+` or `@` is not a URL but part of a word or an address
/// (`domain.com-that`, `name.al-lastname@foo.com`): twitter-text's grammar lets those through,
/// Twitter's conformance suite does not.
fn drop_words_run_into_domains(text: &str, urls: &mut Vec<Extracted>) {
    let chars: Vec<char> = text.chars().collect();
    let bare_domain = |u: &str| {
        !u.split_once("://")
            .map_or(u, |(_, rest)| rest)
            .contains('/')
    };
    urls.retain(|u| !(bare_domain(&u.value) && matches!(chars.get(u.end), Some('-' | '+' | '@'))));
}

/// A stretch of text the grammar reads on its own, and the code-point offset it starts at.
struct Word<'a> {
    text: &'a str,
    first_char: usize,
}

/// The words of `text` that could hold an entity, each from one ASCII whitespace character to
/// the next, both included (the first from the start, the last to the end). Neighbours are not
/// run together: the grammar's time grows faster than the length it reads.
fn words(text: &str) -> Vec<Word<'_>> {
    // (first byte, first char, byte after the end) of each word that could hold an entity.
    let mut spans: Vec<(usize, usize, usize)> = Vec::new();
    let mut word = (0, 0, false);
    let mut close = |(from, first_char, candidate): (usize, usize, bool), end: usize| {
        if candidate {
            spans.push((from, first_char, end));
        }
    };
    let mut chars = text.char_indices().enumerate().peekable();
    while let Some((char_index, (byte, c))) = chars.next() {
        word.2 |= opens_entity(c, chars.peek().map(|(_, (_, next))| *next));
        if c.is_ascii_whitespace() && byte != word.0 {
            close(word, byte + c.len_utf8());
            word = (byte, char_index, false);
        }
    }
    close(word, text.len());
    spans
        .into_iter()
        .filter_map(|(from, first_char, end)| {
            let text = text.get(from..end)?;
            Some(Word { text, first_char })
        })
        .collect()
}

#[cfg(test)]
mod tests;
